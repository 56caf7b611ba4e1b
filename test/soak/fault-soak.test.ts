import { describe, expect, it } from 'vitest';
import { missed, runScenario } from './context.ts';
import { faultSoak } from './fault-soak.ts';

describe('soak, short form: faults on a fifth of all calls', () => {
  it('loses no credential, rotates none twice, leaves no orphan, alerts once per job failed for good, leaks nothing', async () => {
    const rows = await runScenario(faultSoak, 'short');
    expect(missed(rows)).toEqual([]);
    expect(rows.map((r) => r.figure)).toContain('credentials lost (AWSCURRENT refused at the fake)');
    expect(rows).toHaveLength(10);
  }, 600_000);
});
