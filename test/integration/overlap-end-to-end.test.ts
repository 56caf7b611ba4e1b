/**
 * The three cases of issue 13 that were confirmed by hand against the running worker, end to end:
 * a worker in its own process, `rotator trigger` as a user runs it, real Redis, moto and the Credly
 * fake over HTTP. Each asserts the invariant: no credential is revoked or deleted while a stage of
 * its secret holds it, or before the overlap window of the rotation that replaced it has ended.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { operatorWrite } from '../support/operator.ts';
import { credlyApplication, credlyToken, runId, store, useScenarios, type DeclaredCredential } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true }, { clearAfterEach: false });
const scenarios = useScenarios('overlap');

/** A deployment of its own: inventory file, queue prefix, and the rotator commands run against it. */
async function deployment(credentials: DeclaredCredential[], env: Record<string, string> = {}) {
  const d = await scenarios.build({ credentials, env: { LOG_LEVEL: 'debug', ...env } });
  return {
    ...d,
    startWorker: () => d.startWorker(30_000),
    /** `rotator trigger <id> [--force] --wait`; its exit code and output. */
    trigger: (credentialId: string, force: boolean) => d.command(['trigger', credentialId, ...(force ? ['--force'] : []), '--wait', '--timeout', '60']),
  };
}

describe('issue 13, end to end against a worker process', () => {
  it('three forced rotations inside a one-hour overlap window: no token is revoked before its window ends', async () => {
    const c = credlyToken(hosts.credly, { folder: 'overlap', description: 'made by hand', ageDays: 100, extra: 'revokePreviousAfter: 1h' });
    const { id: credentialId, org, token: t0 } = c;
    const d = await deployment([c]);
    await d.startWorker();

    const generations = [t0.token];
    for (let i = 1; i <= 3; i += 1) {
      const result = await d.trigger(credentialId, true);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('rotated');
      generations.push((await c.current()).token);
    }
    expect(new Set(generations).size).toBe(4);
    // Each rotation replaced its predecessor minutes (here: seconds) ago: every window is still open,
    // so every generation still works, the first rotation's token included.
    generations.forEach((token, i) => expect(hosts.credly.state.isTokenValid(token), `generation ${i} was revoked inside its window`).toBe(true));
    const made = hosts.credly.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === credentialId);
    expect(made.filter((t) => hosts.credly.state.isTokenLive(t))).toHaveLength(3);
  }, 120_000);

  it('a token written back by hand as {"token": "…"} is not revoked by the delayed revoke while AWSCURRENT holds it', async () => {
    // A short window, so that it really ends during the test.
    const c = credlyToken(hosts.credly, { folder: 'overlap', description: 'made by hand', ageDays: 170, extra: 'revokePreviousAfter: 6s' });
    const { id: credentialId, secretId, token: t0 } = c;
    const d = await deployment([c]);
    await d.startWorker();

    const rotated = await d.trigger(credentialId, false);
    expect(rotated.code, rotated.output).toBe(0);
    expect(rotated.output).toContain('revoke scheduled for');
    const t1 = await c.current();
    expect(t1.token).not.toBe(t0.token);

    // The operator rolls back, in the form docs/operations.md gives ("When the stored token is dead").
    await operatorWrite(store, secretId, JSON.stringify({ token: t0.token }));
    const { queue } = await d.queue();
    // The window ends and the delayed revoke runs (whatever it decides, it finishes).
    await expect
      .poll(async () => (await queue.getJobs(['completed', 'failed'])).filter((j) => j.name === 'revoke-previous').length, { timeout: 40_000, interval: 500 })
      .toBeGreaterThan(0);
    expect((await c.current()).token).toBe(t0.token);
    expect(hosts.credly.state.isTokenValid(t0.token), 'the token AWSCURRENT holds was revoked').toBe(true);
  }, 120_000);

  it("after an OAuth application's secretId changes in the inventory, the application still in use under the old secret is not deleted", async () => {
    const run = runId();
    const manager = credlyToken(hosts.credly, { id: `token-${run}`, secretId: `test/overlap/${run}/token`, description: 'management token (by hand)' });
    const ids = { oldApp: `test/overlap/${run}/app`, newApp: `test/overlap/${run}/app-renamed` };
    const app = credlyApplication(hosts.credly, manager, { id: `app-${run}`, secretId: ids.oldApp, extra: 'revokePreviousAfter: 1h' });
    const [appId, org] = [app.id, manager.organizationId];
    // The same application under another secret, which does not exist yet: only its entry differs.
    const renamed = { id: appId, secretId: ids.newApp, yaml: app.yamlFor(ids.newApp) };
    const d = await deployment([manager, app]);
    const first = await d.startWorker();
    // The rotator recreates the application once: the one now in use is its own (it carries the marker).
    const recreated = await d.trigger(appId, true);
    expect(recreated.code, recreated.output).toBe(0);
    const inUse = await app.current();
    expect(parseMarker(hosts.credly.state.findApplication(org, inUse.applicationId)?.description ?? null)?.credentialId).toBe(appId);
    first.child.kill('SIGTERM');
    await first.exited;

    // The inventory now names another secret, which does not exist yet; consumers still read the old one.
    d.writeInventory([manager, renamed]);
    await d.startWorker();
    const afterRename = await d.trigger(appId, false);
    expect(afterRename.code, afterRename.output).toBe(0);
    const now = await app.current(ids.newApp);
    expect(hosts.credly.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    expect(hosts.credly.state.isClientValid(inUse.clientId, inUse.clientSecret), 'the application in use under the old secret was deleted').toBe(true);
  }, 120_000);

  it('a rotation promoted well after it created its token: the generation before stays valid for the full window counted from that promotion', async () => {
    const WINDOW_MS = 12_000;
    const HOLD_MS = 6_000;
    const c = credlyToken(hosts.credly, { folder: 'overlap', description: 'made by hand', ageDays: 100, extra: 'revokePreviousAfter: 12s' });
    const { id: credentialId, token: t0 } = c;
    // Secrets Manager through the proxy, so that the promotion can be held; a failed promote is retried soon.
    const d = await deployment([c], { AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url, ROTATOR_JOB_ATTEMPTS: '30', ROTATOR_JOB_BACKOFF: '200ms' });
    await d.startWorker();

    const first = await d.trigger(credentialId, true);
    expect(first.code, first.output).toBe(0);
    const t1 = await c.current();
    // The second rotation creates and stores its token, then Secrets Manager refuses the promotion for a while.
    const promotions = hosts.sm.seen.filter((o) => o === 'UpdateSecretVersionStage').length;
    hosts.sm.add({ operation: 'UpdateSecretVersionStage', times: Infinity, fault: { kind: 'status', status: 503, type: 'ServiceUnavailableException' } });
    const second = d.spawn(['trigger', credentialId, '--force', '--wait', '--timeout', '90']);
    await expect.poll(() => hosts.sm.seen.filter((o) => o === 'UpdateSecretVersionStage').length, { timeout: 30_000 }).toBeGreaterThan(promotions);
    const t2 = c.created().find((t) => t.id !== t1.tokenId);
    expect(t2, 'the second rotation created no token').toBeDefined();
    // The outage this scenario is about: the promotion held for HOLD_MS after the token was made.
    await delay(Math.max(0, t2!.createdAt.getTime() + HOLD_MS - Date.now()));
    const released = Date.now();
    hosts.sm.clear();
    expect((await second.exited).code, second.output()).toBe(0);
    expect((await c.current()).tokenId).toBe(t2!.id);

    // The first rotation's delayed revoke of t0 runs once every window protecting it has ended: the
    // latest replacement (t2) was promoted after `released`, so not before released + window.
    const deleteOf = (id: string) => hosts.credly.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(`/authorization_tokens/${id}`));
    await expect.poll(() => deleteOf(t0.id), { timeout: 60_000, interval: 250 }).toBeDefined();
    expect(hosts.credly.state.isTokenValid(t0.token)).toBe(false);
    expect(deleteOf(t0.id)!.at.getTime(), 'revoked before the window counted from the promotion ended').toBeGreaterThanOrEqual(released + WINDOW_MS);
    // Counted from the creation instead, it would have gone HOLD_MS earlier.
    expect(t2!.createdAt.getTime() + WINDOW_MS).toBeLessThan(released + WINDOW_MS);
  }, 120_000);
});
