import { describe, expect, it } from 'vitest';
import { missed, runScenario } from './context.ts';
import { crashMatrix } from './crash-matrix.ts';

describe('soak, short form: crash matrix', () => {
  it('every sampled kill point of both rotating flows converges to exactly one rotation under a new worker', async () => {
    const rows = await runScenario(crashMatrix, 'short');
    expect(missed(rows)).toEqual([]);
    expect(rows.map((r) => r.figure)).toEqual([
      'credly token: kill points converged',
      'credly token: time to converge after the kill',
      'oauth application: kill points converged',
      'oauth application: time to converge after the kill',
    ]);
  }, 600_000);
});
