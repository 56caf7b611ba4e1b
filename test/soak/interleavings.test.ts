import { describe, expect, it } from 'vitest';
import { missed, runScenario } from './context.ts';
import { interleavings } from './interleavings.ts';

describe('soak, short form: interleavings', () => {
  it('two holders of a Credly token, the first losing its lock at every call: every pair keeps the invariant', async () => {
    const rows = await runScenario(interleavings, 'short');
    expect(missed(rows)).toEqual([]);
    expect(rows.map((r) => r.figure)).toEqual([
      'credly token, revoked at once: pairs (call of A, call of B) that keep the invariant',
      'credly token, revoked at once: most live credentials made by the rotator after a pair',
      'credly token, 1 h window: pairs (call of A, call of B) that keep the invariant',
      'credly token, 1 h window: most live credentials made by the rotator after a pair',
      'credly token, 1 h window, lease lapsed: pairs (call of A, call of B) that keep the invariant',
      'credly token, 1 h window, lease lapsed: most live credentials made by the rotator after a pair',
    ]);
  }, 600_000);
});
