import { describe, expect, it } from 'vitest';
import { SecretFormatError } from '../../src/secrets/secret-values.ts';
import { CREDENTIAL_KINDS, type CredentialKind } from '../../src/kinds/registry.ts';
import { parseSecretValue, serializeSecretValue } from '../../src/kinds/registry.ts';
import { serializeCredlyToken } from '../../src/kinds/credly/authorization-token/schema.ts';

const SECRET = 'sk_live_7f3a9c2e4b1d8f6a0c5e3b9d7a1f4c2e';

function formatError(run: () => unknown): SecretFormatError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SecretFormatError);
  return error as SecretFormatError;
}

describe('parseSecretValue', () => {
  it('reads a Credly token stored as JSON with its bookkeeping fields', () => {
    const stored = {
      token: SECRET,
      tokenId: 't-1',
      organizationId: 'org-1',
      expiresAt: '2027-05-01T00:00:00.000-04:00',
      rotatedAt: '2026-11-02T10:00:00Z',
    };
    expect(parseSecretValue('credly-authorization-token', JSON.stringify(stored))).toEqual(stored);
  });

  it('reads a Credly token stored as a bare string, ignoring surrounding whitespace', () => {
    expect(parseSecretValue('credly-authorization-token', SECRET)).toEqual({ token: SECRET });
    expect(parseSecretValue('credly-authorization-token', `  ${SECRET}\n`)).toEqual({ token: SECRET });
  });

  it('reads the OAuth application, Degreed and Learn.link shapes', () => {
    expect(parseSecretValue('credly-oauth-application', JSON.stringify({ clientId: 'uid', clientSecret: SECRET, applicationId: 42 }))).toEqual({
      clientId: 'uid',
      clientSecret: SECRET,
      applicationId: 42,
    });
    expect(parseSecretValue('degreed-client-credentials', JSON.stringify({ clientId: 'c', clientSecret: SECRET }))).toEqual({
      clientId: 'c',
      clientSecret: SECRET,
    });
    expect(parseSecretValue('learnlink-client-credentials', JSON.stringify({ clientSecret: SECRET, tenantId: 'eu-west-2_AbcdEfghI' }))).toEqual({
      clientSecret: SECRET,
      tenantId: 'eu-west-2_AbcdEfghI',
    });
    expect(parseSecretValue('learnlink-client-credentials', JSON.stringify({ clientSecret: SECRET }))).toEqual({ clientSecret: SECRET });
  });

  it('treats null optional fields as absent and drops fields it does not know', () => {
    const stored = JSON.stringify({ token: SECRET, tokenId: null, note: 'saved by hand' });
    expect(parseSecretValue('credly-authorization-token', stored)).toEqual({ token: SECRET });
  });

  it('trims whitespace pasted around field values', () => {
    const stored = JSON.stringify({ clientId: ' c ', clientSecret: `${SECRET}\n` });
    expect(parseSecretValue('degreed-client-credentials', stored)).toEqual({ clientId: 'c', clientSecret: SECRET });
  });

  it.each([
    ['credly-authorization-token', '', /: empty$/],
    ['credly-authorization-token', `${SECRET} ${SECRET}`, /not JSON and not a bare token/],
    ['credly-authorization-token', `{"token": "${SECRET}"`, /not JSON and not a bare token/],
    ['credly-authorization-token', `"${SECRET}"`, /not a JSON object/],
    ['credly-authorization-token', JSON.stringify({ tokn: SECRET }), /field "token" is missing/],
    ['credly-authorization-token', JSON.stringify({ token: null }), /field "token" is missing/],
    ['credly-authorization-token', JSON.stringify({ token: 12345 }), /field "token" must be a string/],
    ['credly-authorization-token', JSON.stringify({ token: SECRET, expiresAt: `x${SECRET}` }), /field "expiresAt" is not a date/],
    ['credly-oauth-application', JSON.stringify({ clientId: 'u', clientSecret: SECRET }), /field "applicationId" is missing/],
    ['credly-oauth-application', JSON.stringify({ clientId: 'u', clientSecret: SECRET, applicationId: '42' }), /field "applicationId" must be a number/],
    ['credly-oauth-application', JSON.stringify({ clientId: 'u', clientSecret: SECRET, applicationId: 4.5 }), /field "applicationId" must be an integer/],
    ['credly-oauth-application', JSON.stringify({ clientId: 'u', clientSecret: SECRET, applicationId: 0 }), /field "applicationId" must be a positive integer/],
    ['credly-oauth-application', JSON.stringify({ clientId: 'u', applicationId: 4 }), /field "clientSecret" is missing/],
    ['degreed-client-credentials', JSON.stringify({ clientId: 'c', clientSecret: '  ' }), /field "clientSecret" is empty/],
    ['degreed-client-credentials', JSON.stringify({ clientId: 'c', clientSecret: [SECRET] }), /field "clientSecret" must be a string/],
    ['degreed-client-credentials', SECRET, /: not JSON$/],
    ['degreed-client-credentials', JSON.stringify([SECRET]), /not a JSON object/],
    ['learnlink-client-credentials', JSON.stringify({ secret: SECRET }), /field "clientSecret" is missing/],
    ['learnlink-client-credentials', JSON.stringify({ clientSecret: SECRET, tenantId: 7 }), /field "tenantId" must be a string/],
  ] as const)('refuses a malformed %s value (case %#) naming the problem but never the value', (kind, text, message) => {
    const error = formatError(() => parseSecretValue(kind, text));
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(SECRET.slice(0, 10));
    expect(error.cause).toBeUndefined();
    expect(error.permanent).toBe(true);
    expect(error.kind).toBe(kind);
  });

  it('lists every problem of a value at once', () => {
    const error = formatError(() => parseSecretValue('degreed-client-credentials', JSON.stringify({ clientId: 5 })));
    expect(error.problems).toEqual(['field "clientId" must be a string', 'field "clientSecret" is missing']);
    expect(error.message).toBe(
      'stored secret is not a valid degreed-client-credentials value: field "clientId" must be a string; field "clientSecret" is missing',
    );
  });

  it('names the secret id when it is given', () => {
    const error = formatError(() => parseSecretValue('learnlink-client-credentials', JSON.stringify({ clientId: SECRET }), { secretId: 'prod/learnlink' }));
    expect(error.secretId).toBe('prod/learnlink');
    expect(error.message).toBe('secret "prod/learnlink" is not a valid learnlink-client-credentials value: field "clientSecret" is missing');
  });

  it('never echoes a value, whatever the kind and however the value is broken', () => {
    const broken = [
      SECRET,
      `${SECRET} trailing`,
      `{"clientSecret": "${SECRET}`,
      JSON.stringify({ clientSecret: { nested: SECRET } }),
      JSON.stringify({ token: [SECRET], clientId: [SECRET], applicationId: SECRET, tenantId: [SECRET] }),
      JSON.stringify(SECRET),
    ];
    const kinds: readonly CredentialKind[] = CREDENTIAL_KINDS;
    let refused = 0;
    for (const kind of kinds) {
      for (const text of broken) {
        try {
          parseSecretValue(kind, text);
        } catch (error) {
          refused += 1;
          expect(error).toBeInstanceOf(SecretFormatError);
          expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(SECRET);
        }
      }
    }
    // A bare token is valid for Credly tokens only; every other pair is refused.
    expect(refused).toBe(kinds.length * broken.length - 1);
  });
});

describe('serializeCredlyToken and serializeSecretValue', () => {
  it('writes a Credly token with its bookkeeping fields in a fixed order, leaving unset ones out', () => {
    const text = serializeCredlyToken({ rotatedAt: '2026-11-02T10:00:00Z', tokenId: 't-2', token: SECRET, organizationId: 'org-1' });
    expect(text).toBe(`{"token":"${SECRET}","tokenId":"t-2","organizationId":"org-1","rotatedAt":"2026-11-02T10:00:00Z"}`);
    expect(parseSecretValue('credly-authorization-token', text)).toEqual({
      token: SECRET,
      tokenId: 't-2',
      organizationId: 'org-1',
      rotatedAt: '2026-11-02T10:00:00Z',
    });
  });

  it('round-trips every kind through parse', () => {
    const app = { clientId: 'uid', clientSecret: SECRET, applicationId: 42 };
    expect(parseSecretValue('credly-oauth-application', serializeSecretValue('credly-oauth-application', app))).toEqual(app);
    const learnlink = { clientSecret: SECRET, tenantId: 'eu-west-2_AbcdEfghI' };
    expect(parseSecretValue('learnlink-client-credentials', serializeSecretValue('learnlink-client-credentials', learnlink))).toEqual(learnlink);
  });

  it('refuses to write a value it could not read back, without echoing it', () => {
    const error = formatError(() => serializeCredlyToken({ token: '  ', expiresAt: SECRET }, { secretId: 'prod/credly' }));
    expect(error.problems).toEqual(['field "token" is empty', 'field "expiresAt" is not a date']);
    expect(error.message).toContain('secret "prod/credly"');
    expect(error.message).not.toContain(SECRET);
  });
});
