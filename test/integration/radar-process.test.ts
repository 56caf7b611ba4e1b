// The expiry radar end to end: `rotator radar` and the worker, each in its own process, against the
// Credly fake over HTTP, Secrets Manager (the emulator) and Redis. An organization with a managed
// token and application, a replaced token awaiting its revoke, and tokens made by hand (one expiring
// within the window); a second organization whose stored token Credly refuses.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyApplication, credlyToken, logLines, runId, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, alerts: true });
const scenarios = useScenarios('radar');
const DAY = 86_400_000;

interface RadarJson {
  within: string;
  unmanagedExpiring: Array<{ organizationId: string; tokenId: string; expiresAt: string }>;
  unlistedOrganizations: string[];
  organizations: Array<{
    organizationId: string;
    listedWith: string | null;
    tokens: Array<{ id: string; description: string | null; expiresAt: string; managedBy: string | null; madeFor?: string }> | null;
    applications: Array<{ id: string; managedBy: string | null }> | null;
    error?: string;
  }>;
}

function organizationWithHandMadeTokens(run: string) {
  const state = hosts.credly.state;
  const hr = credlyToken(hosts.credly, { id: `hr-${run}`, secretId: `test/radar/${run}/hr`, description: 'HR sync (by hand, now in the rotator)' });
  const manager = { ...hr, seed: JSON.stringify({ token: hr.token.token, tokenId: hr.token.id }) };
  const app = credlyApplication(hosts.credly, manager, { id: `lms-${run}`, secretId: `test/radar/${run}/app` });
  const org = hr.organizationId;
  const replaced = state.addToken(org, {
    description: rotatorDescription(randomUUID(), hr.id, { scope: `{radar-${run}}`, secretId: hr.secretId, replaces: 'older' }),
  });
  const exportToken = state.addToken(org, { description: 'payroll export (by hand)', expiresAt: new Date(Date.now() + 10 * DAY) });
  const later = state.addToken(org, { description: 'BI dashboard (by hand)', expiresAt: new Date(Date.now() + 100 * DAY) });
  const handApp = state.createApplication(org, { name: 'Old LMS', description: 'made by hand' });
  // Every secret value of the organization, for the leak searches.
  const values = [hr.token.token, replaced.token, exportToken.token, later.token, app.application.secret, handApp.secret];
  return { hr: manager, app, org, replaced, exportToken, later, handApp, values };
}

describe('the expiry radar, in its own processes', () => {
  it('rotator radar names who manages each token and application, the unmanaged token expiring soon, and the organization it cannot list', async () => {
    const run = runId();
    const one = organizationWithHandMadeTokens(run);
    const dead = credlyToken(hosts.credly, { id: `dead-${run}`, secretId: `test/radar/${run}/dead` });
    hosts.credly.state.killToken(dead.token.id);
    const t = await scenarios.build({ credentials: [one.hr, one.app, { ...dead, seed: dead.seed }], prefix: `{radar-${run}}` });

    const radar = await t.command(['radar', '--json']);
    expect(radar.code, radar.output).toBe(1);
    const report = JSON.parse(radar.output) as RadarJson;
    expect(report.within).toBe('30d');
    expect(report.unmanagedExpiring).toEqual([{ organizationId: one.org, tokenId: one.exportToken.id, expiresAt: one.exportToken.expiresAt.toISOString() }]);
    expect(report.unlistedOrganizations).toEqual([dead.organizationId]);
    const org = report.organizations.find((o) => o.organizationId === one.org)!;
    expect(org.listedWith).toBe(one.hr.id);
    expect(Object.fromEntries(org.tokens!.map((x) => [x.id, x.managedBy]))).toEqual({
      [one.hr.token.id]: one.hr.id,
      [one.replaced.id]: one.hr.id,
      [one.exportToken.id]: null,
      [one.later.id]: null,
    });
    expect(org.tokens!.find((x) => x.id === one.exportToken.id)?.description).toBe('payroll export (by hand)');
    expect(Object.fromEntries(org.applications!.map((a) => [a.id, a.managedBy]))).toEqual({
      [String(one.app.application.id)]: one.app.id,
      [String(one.handApp.id)]: null,
    });
    const deadOrg = report.organizations.find((o) => o.organizationId === dead.organizationId)!;
    expect(deadOrg).toMatchObject({ tokens: null, applications: null, listedWith: null });
    expect(deadOrg.error).toContain(`${dead.id}:`);
    expect(deadOrg.error).toContain('401');

    // The table says the same; a window that reaches no hand-made token still exits 1 for the organization it cannot list.
    const table = await t.command(['radar', '--within', '5d']);
    expect(table.code, table.output).toBe(1);
    expect(table.output).toContain(`organization ${dead.organizationId}`);
    expect(table.output).toContain('NOT LISTED');
    expect(table.output).toContain('radar: 0 unmanaged token(s) expire within 5d; 1 organization(s) could not be listed');
    const bad = await t.command(['radar', '--within', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--within "soon" is not a duration above zero');

    // Without the dead organization: exit 0 inside a short window, 1 once the window reaches the export token.
    t.writeInventory([one.hr, one.app]);
    expect((await t.command(['radar', '--within', '5d'])).code).toBe(0);
    const wide = await t.command(['radar', '--within', '11d']);
    expect(wide.code, wide.output).toBe(1);
    expect(wide.output).toMatch(new RegExp(`${one.exportToken.id}\\s+payroll export \\(by hand\\).*EXPIRES SOON\\s+rwd\\s+NOBODY`));

    const outputs = [radar.output, table.output, wide.output].join('\n');
    for (const value of [...one.values, dead.token.token]) expect(outputs.includes(value), 'a secret value in the output').toBe(false);
  }, 60_000);

  it('the worker runs it at start: metrics for every token, one warning per unmanaged token expiring soon across replicas, no secret anywhere', async () => {
    const run = runId();
    const one = organizationWithHandMadeTokens(run);
    const dead = credlyToken(hosts.credly, { id: `dead-${run}`, secretId: `test/radar/${run}/dead` });
    hosts.credly.state.killToken(dead.token.id);
    const hookSecret = `hook-${randomUUID()}`;
    const t = await scenarios.build({
      credentials: [one.hr, one.app, dead],
      more: alertsYaml(hosts.alerts.url, ['webhook']),
      prefix: `{radar-${run}}`,
      env: { ROTATOR_RADAR: 'on', TEST_HOOK_SECRET: hookSecret },
    });
    const warnings = () => hosts.alerts.on('/webhook').filter((r) => r.json.topic === 'radar-expiring' && String(r.json.message).includes(one.org));
    const ran = (w: Awaited<ReturnType<typeof t.startWorker>>) => logLines(w).filter((l) => l.msg === 'radar: ran');

    const first = await t.startWorker();
    await expect.poll(() => ran(first).length, { timeout: 20_000 }).toBe(1);
    expect(ran(first)[0]).toMatchObject({ organizations: 2, unlisted: 1, tokens: 4, unmanagedExpiring: 1, within: '30d' });
    await expect.poll(() => warnings().length, { timeout: 15_000 }).toBe(1);
    const [warning] = warnings();
    expect(warning!.json).toMatchObject({ type: 'warning', topic: 'radar-expiring', credentialId: one.hr.id, critical: false, daysToExpiry: 9 });
    const message = String(warning!.json.message);
    expect(message).toContain(`token ${one.exportToken.id} of organization ${one.org}`);
    expect(message).toContain('described "payroll export (by hand)"');
    expect(message).toContain(one.exportToken.expiresAt.toISOString());
    expect(logLines(first).some((l) => l.msg === 'radar: an organization could not be listed' && l.organizationId === dead.organizationId)).toBe(true);

    const metrics = await (await fetch(`http://127.0.0.1:${await first.port()}/metrics`)).text();
    const series = (token: string, managed: boolean) =>
      `rotator_radar_token_expiry_timestamp_seconds{organization_id="${one.org}",token_id="${token}",managed="${managed}"} ${one.exportToken.id === token ? one.exportToken.expiresAt.getTime() / 1000 : ''}`;
    expect(metrics).toContain(series(one.exportToken.id, false));
    expect(metrics).toContain(`token_id="${one.later.id}",managed="false"}`);
    expect(metrics).toContain(`token_id="${one.hr.token.id}",managed="true"}`);
    expect(metrics).toContain(`token_id="${one.replaced.id}",managed="true"}`);
    expect(metrics).toContain(`rotator_radar_organization_listed{organization_id="${one.org}"} 1`);
    expect(metrics).toContain(`rotator_radar_organization_listed{organization_id="${dead.organizationId}"} 0`);
    expect(metrics).toMatch(/rotator_radar_last_run_timestamp_seconds \d+/);

    // A second replica runs its own radar at start: the same token is not warned of again that day.
    const second = await t.startWorker();
    await expect.poll(() => ran(second).length, { timeout: 20_000 }).toBe(1);
    // The alerter's key is set before any send: give a second send every chance to arrive, then count.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(warnings()).toHaveLength(1);

    const outputs = [first.output(), second.output(), JSON.stringify(hosts.alerts.on('/webhook')), metrics, await t.redisText()].join('\n');
    for (const value of [...one.values, dead.token.token])
      expect(outputs.includes(value), 'a secret value in a log, an alert, the metrics or Redis').toBe(false);
  }, 90_000);

  it('ROTATOR_RADAR=off: the worker runs none, and lists nothing at start', async () => {
    const run = runId();
    const one = organizationWithHandMadeTokens(run);
    const t = await scenarios.build({ credentials: [one.hr, one.app], prefix: `{radar-${run}}`, env: { ROTATOR_RADAR: 'off' } });
    const listings = () => hosts.credly.requests.filter((r) => r.method === 'GET' && r.path.includes(one.org)).length;
    const before = listings();
    const worker = await t.startWorker();
    // A radar would have started with the worker; give its listing time to reach the fake.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const metrics = await (await fetch(`http://127.0.0.1:${await worker.port()}/metrics`)).text();
    expect(metrics).not.toContain(`organization_id="${one.org}"`);
    expect(logLines(worker).some((l) => String(l.msg).startsWith('radar:'))).toBe(false);
    expect(listings()).toBe(before);
  }, 60_000);
});
