import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/kinds/registry.ts';
import { type CredlyTokenConfig } from '../../src/kinds/credly/authorization-token/schema.ts';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import type { CredlyClient, CredlyToken } from '../../src/kinds/credly/token-client.ts';
import { createCredlyTokenProvider } from '../../src/kinds/credly/authorization-token/provider.ts';
import { parseMarker, rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { secretDigest } from '../../src/rotation/rotation-provider.ts';
import { WeakerCredentialError } from '../../src/rotation/errors.ts';
import { ProviderAuthError } from '../../src/errors/provider-errors.ts';
import { NewTokenRightsError } from '../../src/kinds/credly/authorization-token/new-token-check.ts';
import { CredentialNotListedError } from '../../src/rotation/errors.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');
const ORG = '7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6';

function config(extra = ''): CredlyTokenConfig {
  const inventory = parseInventory(`version: 1
credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: prod/credly/main
    organizationId: ${ORG}
    environment: production
${extra}`);
  return inventory.credentials[0] as CredlyTokenConfig;
}

function token(init: Partial<CredlyToken> & { expiresInDays?: number } = {}): CredlyToken {
  return {
    id: randomUUID(),
    token: `credlytoken_${randomUUID().replaceAll('-', '')}`,
    description: null,
    writeEnabled: true,
    readEnabled: true,
    deleteEnabled: true,
    createdAt: new Date(NOW.getTime() - DAY),
    expiresAt: new Date(NOW.getTime() + (init.expiresInDays ?? 179) * DAY),
    ...init,
  };
}

/** A strict in-memory client: lists what it is given, records deletes (which take the token off the list) and creates, fails on anything else. */
function stubClient(tokens: CredlyToken[], overrides: Partial<CredlyClient> = {}) {
  const deleted: string[] = [];
  const created: string[] = [];
  const client: CredlyClient = {
    listTokens: async () => tokens,
    createToken: async (_auth, _org, description) => {
      created.push(description);
      const fresh = token({ description });
      tokens.push(fresh);
      return fresh;
    },
    getOrganization: () => Promise.reject(new Error('unexpected getOrganization')),
    deleteToken: async (_auth, _org, id) => {
      deleted.push(id);
      const at = tokens.findIndex((t) => t.id === id);
      if (at < 0) return 'not-found';
      tokens.splice(at, 1);
      return 'deleted';
    },
    ...overrides,
  };
  return { provider: createCredlyTokenProvider(() => client, { relistDelayMs: 1 }), deleted, created };
}

/** A test step whose create already compared the rights (the capability check has its own test). */
const CHECKED = { current: { token: 'credlytoken_current' }, previousRef: '', capabilitiesChecked: true };

describe('Credly token provider', () => {
  it('is due within the threshold and not before, saying why', async () => {
    const current = token({ expiresInDays: 45 });
    const { provider } = stubClient([current]);
    const secret = { token: current.token, tokenId: current.id };
    expect(await provider.inspect(config(), secret, NOW)).toEqual({
      ref: current.id,
      expiresAt: current.expiresAt,
      due: false,
      reason: 'expires in 45 day(s) (rotate within 30d)',
      capabilities: ['read', 'write', 'delete'],
    });
    expect((await provider.inspect(config('    rotateWhenExpiresWithin: 45d'), secret, NOW)).due).toBe(true);
    const expired = token({ expiresInDays: -3 });
    expect(await stubClient([expired]).provider.inspect(config(), { token: expired.token }, NOW)).toMatchObject({ due: true, reason: 'expired 3 day(s) ago' });
  });

  it('finds the current token by value when the stored tokenId is stale', async () => {
    const current = token();
    const { provider } = stubClient([token(), current]);
    expect((await provider.inspect(config(), { token: current.token, tokenId: randomUUID() }, NOW)).ref).toBe(current.id);
  });

  it('fails for good when the provider no longer lists the stored token, in three readings of the listing', async () => {
    let readings = 0;
    const tokens = [token(), token()];
    const { provider } = stubClient(tokens, { listTokens: async () => ((readings += 1), tokens) });
    const error = await provider.inspect(config(), { token: 'credlytoken_gone', tokenId: 'a-gone-id' }, NOW).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(CredentialNotListedError);
    expect(isPermanent(error)).toBe(true);
    expect(readings).toBe(3);
    expect((error as Error).message).toBe(
      'credential "credly-main": the provider no longer lists token a-gone-id (in 3 readings of the listing); it was deleted or the secret holds a stale value',
    );
  });

  it('explains a refused stored token: what happened and where to put a new one, without the token', async () => {
    const dead = token();
    const refusal = new ProviderAuthError('401 — Unauthorized', { provider: 'credly', operation: 'list-tokens', status: 401 });
    const { provider } = stubClient([], { listTokens: () => Promise.reject(refusal) });
    const error = (await provider.inspect(config(), { token: dead.token }, NOW).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain('the stored token of "credly-main" is refused by Credly (401)');
    expect(error.message).toContain('secret "prod/credly/main"');
    expect(error.message).not.toContain(dead.token);
  });

  it('returns the token its rotation created before a crash instead of creating a second', async () => {
    const current = token();
    const rotationId = randomUUID();
    const earlier = token({ description: rotatorDescription(rotationId, 'credly-main') });
    const { provider, created } = stubClient([current, earlier]);
    const issued = await provider.issue(
      config(),
      { token: current.token },
      { rotationId, startedAt: NOW.toISOString(), firstAttempt: false, scope: '{rotator}', previousRef: current.id },
    );
    expect(created).toEqual([]);
    expect(issued).toEqual({
      capabilitiesChecked: true,
      ref: earlier.id,
      expiresAt: earlier.expiresAt,
      secret: { token: earlier.token, tokenId: earlier.id, organizationId: ORG, expiresAt: earlier.expiresAt.toISOString(), rotatedAt: NOW.toISOString() },
    });
    const other = randomUUID();
    await provider.issue(
      config(),
      { token: current.token },
      { rotationId: other, startedAt: NOW.toISOString(), firstAttempt: false, scope: '{rotator}', previousRef: current.id },
    );
    const digest = secretDigest('prod/credly/main');
    expect(digest).toMatch(/^[0-9a-f]{12}$/);
    expect(created).toEqual([`credential-rotator ${other} credential=credly-main scope={rotator} secret=${digest} replaces=${current.id}`]);
    expect(parseMarker(created[0]!)).toEqual({ rotationId: other, credentialId: 'credly-main', scope: '{rotator}', secret: digest, replaces: current.id });
    // Descriptions written before markers carried a scope, or a scope but no secret digest, still parse without those parts.
    expect(parseMarker(`credential-rotator ${other} credential=credly-main`)).toEqual({ rotationId: other, credentialId: 'credly-main' });
    expect(parseMarker(`credential-rotator ${other} credential=credly-main scope={rotator} replaces=-`)).toEqual({
      rotationId: other,
      credentialId: 'credly-main',
      scope: '{rotator}',
      replaces: '',
    });
  });

  it('on the first attempt of a rotation creates at once, without listing the tokens first', async () => {
    const current = token();
    let listed = 0;
    const { provider, created } = stubClient([current], { listTokens: async () => ((listed += 1), [current]) });
    const rotationId = randomUUID();
    await provider.issue(
      config(),
      { token: current.token },
      { rotationId, startedAt: NOW.toISOString(), firstAttempt: true, scope: '{rotator}', previousRef: '' },
    );
    expect(listed).toBe(0);
    expect(created).toEqual([`credential-rotator ${rotationId} credential=credly-main scope={rotator} secret=${secretDigest('prod/credly/main')} replaces=-`]);
  });

  it('refuses a created token with fewer rights than the one it replaces, and leaves its delete to the protocol (through the revoke guard)', async () => {
    const current = token();
    const weaker = token({ writeEnabled: false, deleteEnabled: false });
    const { provider, deleted } = stubClient([current], { createToken: async () => weaker });
    const inspection = await provider.inspect(config(), { token: current.token }, NOW);
    const rotation = { rotationId: randomUUID(), startedAt: NOW.toISOString(), firstAttempt: true, scope: '{rotator}', previousRef: current.id, inspection };
    const error = (await provider.issue(config(), { token: current.token }, rotation).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(WeakerCredentialError);
    expect(error.message).toContain(`the new credential ${weaker.id} lacks write_enabled, delete_enabled`);
    expect(deleted).toEqual([]);
  });

  it('lists every token with its parsed marker and the value that identifies it in a secret', async () => {
    const ours = token({ description: rotatorDescription(randomUUID(), 'credly-main', { scope: '{rotator}', secretId: 'prod/credly/main', replaces: '' }) });
    const handMade = token({ description: 'credential-rotator (by hand)' });
    const { provider } = stubClient([ours, handMade]);
    const listed = await provider.list(config(), { token: ours.token });
    expect(listed.map((t) => [t.ref, t.marker?.scope, t.values])).toEqual([
      [ours.id, '{rotator}', [ours.token]],
      [handMade.id, undefined, [handMade.token]],
    ]);
  });

  it('tests a new token with the documented listing: it must find itself there, with its expiry', async () => {
    const fresh = token();
    const calls: string[] = [];
    const { provider } = stubClient([token(), fresh], { listTokens: async (auth) => (calls.push(auth), [token(), fresh]) });
    await provider.test(config(), { token: fresh.token, tokenId: fresh.id }, CHECKED);
    expect(calls).toEqual([fresh.token]);
    const missing = stubClient([token()]).provider;
    const error = await missing.test(config(), { token: fresh.token, tokenId: fresh.id }, CHECKED).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(`credly list-tokens: the new token ${fresh.id} does not find itself in the token listing it made`);
    expect(isPermanent(error)).toBe(false);
  });

  it('refuses for good a new token without the rights the next rotation needs, naming them', async () => {
    const readOnly = token({ writeEnabled: false, deleteEnabled: false });
    const { provider } = stubClient([readOnly]);
    const error = await provider.test(config(), { token: readOnly.token, tokenId: readOnly.id }, CHECKED).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(NewTokenRightsError);
    expect(isPermanent(error)).toBe(true);
    expect(error?.message).toContain(`the new token ${readOnly.id} is not write-enabled, delete-enabled`);
    expect(error?.message).not.toContain(readOnly.token);
    // Without DELETE the rotator needs no delete right.
    const noDelete = token({ deleteEnabled: false });
    await stubClient([noDelete]).provider.test(config('    deleteSupported: false'), { token: noDelete.token, tokenId: noDelete.id }, CHECKED);
  });

  it('asks GET /organizations/{id} only as an extra, when testWithOrganizationEndpoint is set', async () => {
    const fresh = token();
    const asked: string[] = [];
    const { provider } = stubClient([fresh], { getOrganization: async (auth, org) => (asked.push(auth), { id: org, name: 'Demo' }) });
    await provider.test(config(), { token: fresh.token, tokenId: fresh.id }, CHECKED);
    expect(asked).toEqual([]);
    await provider.test(config('    testWithOrganizationEndpoint: true'), { token: fresh.token, tokenId: fresh.id }, CHECKED);
    expect(asked).toEqual([fresh.token]);
  });

  it('revokes by DELETE and confirms by listing: gone is revoked (or already gone after a 404)', async () => {
    const previous = token({ expiresInDays: 12 });
    const acting = token();
    const { provider } = stubClient([acting, previous]);
    expect(await provider.revoke(config(), { token: acting.token }, previous.id)).toEqual({ state: 'revoked' });
    const gone = stubClient([acting], { deleteToken: async () => 'not-found' }).provider;
    expect(await gone.revoke(config(), { token: acting.token }, previous.id)).toEqual({ state: 'already-gone' });
  });

  it('takes a token still listed after DELETE as not revoked, whatever DELETE answered, and says so without DELETE', async () => {
    const previous = token({ expiresInDays: 12 });
    const acting = token();
    for (const [answer, said] of [
      ['deleted', 'success'],
      ['not-found', '404'],
      ['unsupported', '405/501'],
    ] as const) {
      const { provider } = stubClient([acting, previous], { deleteToken: async () => answer });
      expect(await provider.revoke(config(), { token: acting.token }, previous.id)).toEqual({
        state: 'not-revoked',
        reason: `still listed after DELETE answered ${said}`,
        expiresAt: previous.expiresAt,
      });
    }
    const { provider, deleted } = stubClient([acting, previous]);
    expect(await provider.revoke(config('    deleteSupported: false'), { token: acting.token }, previous.id)).toEqual({
      state: 'not-revoked',
      reason: 'no DELETE tried (deleteSupported: false)',
      expiresAt: previous.expiresAt,
    });
    expect(deleted).toEqual([]);
    expect(await provider.stillListed!(config(), { token: acting.token }, [previous.id, 'gone-id'], NOW)).toEqual([previous.id]);
    // Listed, but expired: Credly refuses it anyway, so nothing is left to revoke.
    expect(await provider.stillListed!(config(), { token: acting.token }, [previous.id], new Date(previous.expiresAt.getTime() + 1))).toEqual([]);
  });
});
