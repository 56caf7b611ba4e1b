import { describe, expect, it } from 'vitest';
import { missed, runScenario } from './context.ts';
import { smOutage } from './sm-outage.ts';

describe('soak: Secrets Manager outage (short scale)', () => {
  it('rotations past create keep the old credential and finish after the outage; validations say the store is unavailable, never invalid', async () => {
    const rows = await runScenario(smOutage, 'short');
    expect(missed(rows)).toEqual([]);
    const row = (figure: string) => rows.find((r) => r.figure === figure);
    expect(row('old credential valid throughout')?.value).toBe('yes');
    const finished = row('rotations finished after the outage');
    expect(finished && Number(finished.value)).toBeGreaterThan(0);
    expect(finished?.value).toBe(finished?.target);
    expect(row('validations called invalid during outage')?.value).toBe('0');
    const unavailable = row('validations reported store unavailable');
    expect(unavailable && Number(unavailable.value)).toBeGreaterThan(0);
    expect(unavailable?.value).toBe(unavailable?.target);
  }, 180_000);
});
