import { describe, expect, it } from 'vitest';
import { missed, runScenario } from './context.ts';
import { redisRestart } from './redis-restart.ts';

describe('soak: redis restart (short scale)', () => {
  it('workers outlive a Redis restart: nothing lost or run twice, readiness reports the outage, no hand restart', async () => {
    const rows = await runScenario(redisRestart, 'short');
    expect(missed(rows)).toEqual([]);
    expect(rows.map((r) => r.figure)).toEqual(
      expect.arrayContaining([
        'jobs lost',
        'jobs run twice',
        'duplicate rotations',
        'workers restarted by hand',
        'readyz reported the outage',
        expect.stringMatching(/^time to recover/),
      ]),
    );
    const row = (figure: string) => rows.find((r) => r.figure === figure);
    expect(row('jobs lost')?.value).toBe('0');
    expect(row('jobs run twice')?.value).toBe('0');
    expect(row('duplicate rotations')?.value).toBe('0');
    expect(row('workers restarted by hand')?.value).toBe('0');
    expect(row('readyz reported the outage')?.value).toBe('yes');
  }, 180_000);
});
