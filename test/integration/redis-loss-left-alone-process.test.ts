/**
 * What the reaper leaves alone after Redis is lost comes from durable facts: the provider's
 * listing, the markers and the secret's versions. An OAuth application made for this credential
 * before its secret was lost may still be in use (under the old secretId, or as a copy of a
 * deleted secret). Once the application recreated from the lost secret has itself been rotated
 * away and deleted, and Redis is emptied, no record in Redis says to leave the earlier one alone:
 * it must still never be deleted, and status must name it.
 */
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyApplication, credlyToken, logLines, runId, useScenarios, type ProcessScenario } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true });
const scenarios = useScenarios('redis-loss-app');

/** A database of the suite's Redis server for this file alone: emptied as a whole, as a lost Redis is. */
const DATABASE = 5;
const url = new URL(process.env.REDIS_URL!);
url.pathname = `/${DATABASE}`;
const redis = new Redis(url.toString(), { maxRetriesPerRequest: null });
afterEach(() => redis.flushdb());
afterAll(() => redis.disconnect());

async function trigger(t: ProcessScenario, id: string, force: boolean): Promise<string> {
  const p = t.spawn(['trigger', id, ...(force ? ['--force'] : []), '--wait', '--timeout', '60']);
  const { code } = await p.exited;
  expect(code, p.output()).toBe(0);
  return p.output();
}

async function deleteSecret(secretId: string): Promise<void> {
  const client = createSecretsManagerClient();
  try {
    await client.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
  } finally {
    client.destroy();
  }
}

describe('an OAuth application made before its secret was lost, after the recreation was rotated away and Redis emptied, with the worker in its own process', () => {
  // renamed: the inventory names a new secret, consumers still read the old one (its marker names the old secret).
  // deleted: the secret is deleted (a copy of its value lives on elsewhere) and made again under the same name.
  for (const loss of ['renamed', 'deleted'] as const)
    it(`is never deleted, and status names it from the listing, the markers and the secret's versions (secret ${loss})`, async () => {
      const run = runId();
      const token = credlyToken(hosts.credly, { id: `token-${run}`, secretId: `test/redis-loss-app/${run}/token`, description: 'management token (by hand)' });
      const manager = { ...token, seed: JSON.stringify({ token: token.token.token }) };
      const oldSecret = `test/redis-loss-app/${run}/app`;
      const newSecret = loss === 'renamed' ? `test/redis-loss-app/${run}/app-renamed` : oldSecret;
      const app = credlyApplication(hosts.credly, manager, { id: `app-${run}`, secretId: oldSecret, extra: 'revokePreviousAfter: 0s' });
      const t = await scenarios.build({
        credentials: [manager, app],
        env: { REDIS_URL: url.toString(), ROTATOR_LOCK_DURATION: '5s', AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url, LOG_LEVEL: 'debug' },
      });
      let worker = await t.startWorker(60_000);
      const org = manager.organizationId;
      const markerOf = (applicationId: number) => parseMarker(hosts.credly.state.findApplication(org, applicationId)?.description ?? null);

      // A rotation: the application in use from now on.
      await trigger(t, app.id, true);
      const inUse = await app.current(oldSecret);
      expect(markerOf(inUse.applicationId)?.replaces).toBe(String(app.application.id));

      // The secret is lost; the worker restarts on the inventory. A check recreates into the secret, a rotation replaces that.
      worker.child.kill('SIGTERM');
      await worker.exited;
      if (loss === 'renamed') t.writeInventory([manager, { ...app, yaml: app.yamlFor(newSecret) }]);
      else await deleteSecret(oldSecret);
      worker = await t.startWorker(60_000);
      await trigger(t, app.id, false);
      const recreated = await app.current(newSecret);
      expect(markerOf(recreated.applicationId)?.replaces).toBe('');
      await trigger(t, app.id, true);
      const current = await app.current(newSecret);
      expect(current.applicationId).not.toBe(recreated.applicationId);
      // The recreation itself is gone (revoked at once, the window being 0 s): the listing no longer shows it.
      expect(hosts.credly.state.findApplication(org, recreated.applicationId)).toBeUndefined();

      // Redis is lost; the next check reaps from what Credly and Secrets Manager show.
      worker.child.kill('SIGKILL');
      await worker.exited;
      await redis.flushdb();
      worker = await t.startWorker(60_000);
      await trigger(t, app.id, false);

      expect(hosts.credly.state.isClientValid(inUse.clientId, inUse.clientSecret), 'the application made before the loss was deleted').toBe(true);
      expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/oauth_applications/${inUse.applicationId}`))).toEqual([]);
      expect(hosts.credly.state.isClientValid(current.clientId, current.clientSecret)).toBe(true);

      // Named for a person in status, derived again after the loss.
      const status = await t.command(['status', app.id, '--json']);
      expect(status.code, status.output).toBe(0);
      const view = JSON.parse(status.output) as { credentials: Array<{ id: string; leftAlone: string[] }> };
      expect(view.credentials.find((c) => c.id === app.id)?.leftAlone).toEqual([String(inUse.applicationId)]);
      const table = await t.command(['status', app.id]);
      expect(table.output).toContain(`${app.id}: left alone for a person, never reaped: ${inUse.applicationId}`);
      expect(logLines(worker).find((l) => l.msg?.toString().startsWith('rotation: earlier credentials left alone'))?.refs).toEqual([
        String(inUse.applicationId),
      ]);

      // No secret in the log, the outputs or Redis.
      const text = [worker.output(), status.output, table.output, await t.redisText()].join('\n');
      for (const value of [inUse.clientSecret, recreated.clientSecret, current.clientSecret, app.application.secret, token.token.token])
        expect(text.includes(value)).toBe(false);
    }, 120_000);
});
