import { describe, expect, it } from 'vitest';
import { cronProblem, normalizeCron } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';

describe('cron schedules', () => {
  it.each(['0 3 * * *', '*/15 * * * *', '0 3 * * mon-fri', '0 4 1,15 * *', '30 0 3 * * *', '0 3 * jan,jul *'])('accepts "%s"', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['daily', 'expected 5 fields'],
    ['@daily', 'expected 5 fields'],
    ['* * *', 'expected 5 fields'],
    ['0 0 3 * * * *', 'expected 5 fields'],
    ['61 3 * * *', 'minute'],
    ['0 24 * * *', 'hour'],
    ['0 3 * * 8', 'dayOfWeek'],
    ['0 0 31 2 *', 'impossible day of month'],
    ['0 3 */0 * *', 'dayOfMonth'],
  ])('refuses "%s", saying which part is wrong', (expression, reason) => {
    const problem = cronProblem(expression);
    expect(problem).toContain(`invalid cron expression "${expression}"`);
    expect(problem).toContain(reason);
  });

  it('refuses a schedule whose day-of-month and day-of-week are both restricted, naming the credential, the field and the reason', () => {
    const load = () =>
      parseInventory(`version: 1
credentials:
  - id: c
    kind: credly-authorization-token
    secretId: s
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: production
    schedule: "0 0 1 * 1"
`);
    expect(load).toThrow(
      /credentials\[0\]\.schedule: ambiguous cron expression "0 0 1 \* 1": day-of-month \(1\) and day-of-week \(1\) are both restricted; crontab runs such a schedule on days that match either, node-cron only on days that match both/,
    );
  });

  it('stores schedules with single spaces, as they are shown', () => {
    expect(normalizeCron('  0   3 * *\t* ')).toBe('0 3 * * *');
    const inventory = parseInventory(`version: 1
defaults: { schedule: " 0  2 * * * " }
credentials:
  - id: c
    kind: credly-authorization-token
    secretId: s
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: production
`);
    expect(inventory.credentials[0]!.schedule).toBe('0 2 * * *');
  });
});
