import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKinds } from '../../src/composition-root.ts';
import { ProviderAnswerError } from '../../src/errors/provider-errors.ts';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import type { RotatableConfig, SkippedRecord } from '../../src/kinds/kind.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyAppInventory, credlyTokenInventory, runId, store } from '../support/probe-harness.ts';

/**
 * Listings of the real kinds' rotation providers against the Credly fake over HTTP: which records
 * that do not fit the documented shape are skipped (and reported) and which fail for good — by
 * whose they are: the stored credential's, or one carrying this credential's marker (this
 * deployment's, or one written before markers carried a scope), fails; any other is skipped.
 */

const hosts = useFakeHosts({ credly: {} });
const SCOPE = 'deployment-a';

function kinds(inventoryText: string) {
  const inventory = parseInventory(inventoryText);
  const skipped: SkippedRecord[] = [];
  const runtimes = createKinds({ inventory, secrets: store, requestTimeoutMs: 2_000, scope: SCOPE, onRecordSkipped: (s) => skipped.push(s) });
  return { inventory, skipped, runtimes };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(ProviderAnswerError);
  expect(isPermanent(error)).toBe(true);
  return error!;
}

describe('Credly tokens listed in a shape the documentation does not give', () => {
  it("skips another credential's, another deployment's and a person's; fails for the stored token and for one marked for this credential", async () => {
    const state = hosts.credly.state;
    const run = runId();
    const org = state.addOrganization(`Org ${run}`);
    const stored = state.addToken(org, { description: 'made by hand' });
    const id = `credly-${run}`;
    const secretId = `test/listed-records/${run}`;
    await store.putCurrent(secretId, JSON.stringify({ token: stored.token, tokenId: stored.id }));
    const { inventory, skipped, runtimes } = kinds(credlyTokenInventory({ id, secretId, org, apiBase: hosts.credly.apiBase }));
    const runtime = runtimes.get('credly-authorization-token');
    if (runtime?.mode !== 'rotate') throw new Error('no rotator');
    const credential = inventory.credentials[0] as RotatableConfig;
    const acting = runtime.rotator.parseSecret((await store.readCurrent(secretId)).secretString, secretId);
    const odd = { expires_at: null };
    const foreign = [
      state.addToken(org, { description: 'made in the web UI', listedAs: odd }),
      state.addToken(org, { description: rotatorDescription(randomUUID(), 'another-credential', { scope: SCOPE, secretId, replaces: '' }), listedAs: odd }),
      state.addToken(org, { description: rotatorDescription(randomUUID(), id, { scope: 'deployment-b', secretId, replaces: '' }), listedAs: odd }),
    ];

    const listed = await runtime.rotator.list(credential, acting);
    expect(listed.map((l) => l.ref)).toEqual([stored.id]);
    expect(skipped).toEqual(
      foreign.map((t) => ({ provider: 'credly', kind: 'credly-authorization-token', credentialId: id, recordId: t.id, fields: ['expires_at: invalid_type'] })),
    );
    // The inspection reads the same listing: the organization's rotation goes on.
    expect((await runtime.rotator.inspect(credential, acting, new Date())).ref).toBe(stored.id);

    const ours = state.addToken(org, { description: rotatorDescription(randomUUID(), id, { scope: SCOPE, secretId, replaces: stored.id }), listedAs: odd });
    const error = await failure(runtime.rotator.list(credential, acting));
    expect(error.message).toContain(
      `token ${ours.id} of credential "${id}" is listed in a shape the documentation does not give (at expires_at: invalid_type)`,
    );
    state.killToken(ours.id);

    // Written before markers carried a scope: this credential's too.
    const legacy = state.addToken(org, { description: rotatorDescription(randomUUID(), id), listedAs: { created_at: 'yesterday' } });
    expect((await failure(runtime.rotator.list(credential, acting))).message).toContain(`token ${legacy.id} of credential "${id}"`);
    state.killToken(legacy.id);

    // The stored token itself, unmarked.
    stored.listedAs = odd;
    const own = await failure(runtime.rotator.inspect(credential, acting, new Date()));
    expect(own.message).toContain(
      `token ${stored.id} of credential "${id}" is listed in a shape the documentation does not give (at expires_at: invalid_type)`,
    );
    expect(own.message).not.toContain(stored.token);
  });
});

describe('Credly OAuth applications listed in a shape the documentation does not give', () => {
  it("skips another integration's application; fails for the stored one", async () => {
    const state = hosts.credly.state;
    const run = runId();
    const org = state.addOrganization(`Org ${run}`);
    const manager = state.addToken(org, { description: 'manages applications' });
    const app = state.addApplication(org, { name: 'LMS', scopes: ['issued_badges'] });
    const other = state.addApplication(org, { name: 'another one' });
    state.findApplication(org, other.id)!.listedAs = { created_at: null };
    await store.putCurrent(`test/probe/${run}/manager`, JSON.stringify({ token: manager.token }));
    await store.putCurrent(`test/probe/${run}/app`, JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id }));
    const id = `app-${run}`;
    const { inventory, skipped, runtimes } = kinds(
      credlyAppInventory({ id, managerId: `manager-${run}`, run, org, apiBase: hosts.credly.apiBase, tokenUrl: hosts.credly.tokenUrl }),
    );
    const runtime = runtimes.get('credly-oauth-application');
    if (runtime?.mode !== 'rotate') throw new Error('no rotator');
    const credential = inventory.credentials.find((c) => c.id === id) as RotatableConfig;
    const acting = runtime.rotator.parseSecret((await store.readCurrent(`test/probe/${run}/app`)).secretString, `test/probe/${run}/app`);

    expect((await runtime.rotator.list(credential, acting)).map((l) => l.ref)).toEqual([String(app.id)]);
    expect(skipped).toEqual([
      { provider: 'credly', kind: 'credly-oauth-application', credentialId: id, recordId: String(other.id), fields: ['created_at: invalid_type'] },
    ]);

    state.findApplication(org, app.id)!.listedAs = { uid: null };
    const error = await failure(runtime.rotator.list(credential, acting));
    expect(error.message).toContain(`application ${app.id} of credential "${id}" is listed in a shape the documentation does not give (at uid: invalid_type)`);
  });
});
