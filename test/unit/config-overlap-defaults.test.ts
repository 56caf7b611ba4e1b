/**
 * The overlap before a replaced Credly credential is revoked (`revokePreviousAfter`, default 1h)
 * and the cooldown on forced rotations (`forceCooldown`, default 10m), for both Credly kinds:
 * their defaults, `0s` written on purpose (accepted; `revokePreviousAfter: 0s` warned about at
 * load, one JSON line per credential naming it), and bad values refused by field and credential.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { warnAboutInventory } from '../../src/composition-root.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { captureLogger } from '../support/capture-logger.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ORG = '7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6';

/** A token, an application it manages, and a Degreed client; `token`/`app` lines are added to their entries, `head` before `credentials:`. */
function inventory(options: { token?: string; app?: string; head?: string } = {}): string {
  const indent = (lines = '') =>
    lines
      .split('\n')
      .filter(Boolean)
      .map((l) => `    ${l}\n`)
      .join('');
  return `version: 1
${options.head ?? ''}credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: prod/credly/main
    organizationId: ${ORG}
    environment: production
${indent(options.token)}  - id: credly-app
    kind: credly-oauth-application
    secretId: prod/credly/app
    organizationId: ${ORG}
    environment: production
    managedBy: credly-main
    applicationName: LMS badge sync
    scopes: [issued_badges]
${indent(options.app)}  - id: degreed-eu
    kind: degreed-client-credentials
    secretId: prod/degreed
    environment: production
    dataCenter: EU
    scopes: [users:read]
`;
}

function problems(text: string): Array<{ path: string; message: string }> {
  try {
    parseInventory(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the inventory was accepted');
}

/** The warning lines warnAboutInventory writes for an inventory, parsed. */
function loadWarnings(text: string): Array<Record<string, unknown>> {
  const { logger, lines } = captureLogger();
  warnAboutInventory(parseInventory(text), logger);
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('revokePreviousAfter and forceCooldown of the Credly kinds', () => {
  it('default to an hour of overlap and ten minutes of cooldown, for both kinds, with no warning', () => {
    const { credentials } = parseInventory(inventory());
    for (const id of ['credly-main', 'credly-app']) {
      expect(credentials.find((c) => c.id === id)).toMatchObject({ revokePreviousAfterMs: HOUR, forceCooldownMs: 10 * MINUTE });
    }
    // A validated kind is never rotated: it has neither field.
    expect(credentials.find((c) => c.id === 'degreed-eu')).not.toHaveProperty('forceCooldownMs');
    expect(loadWarnings(inventory())).toEqual([]);
  });

  it('take the file defaults, and a credential’s own value over them', () => {
    const text = inventory({ head: 'defaults:\n  revokePreviousAfter: 2h\n  forceCooldown: 30m\n', app: 'revokePreviousAfter: 5m\nforceCooldown: 1h' });
    const { credentials } = parseInventory(text);
    expect(credentials.find((c) => c.id === 'credly-main')).toMatchObject({ revokePreviousAfterMs: 2 * HOUR, forceCooldownMs: 30 * MINUTE });
    expect(credentials.find((c) => c.id === 'credly-app')).toMatchObject({ revokePreviousAfterMs: 5 * MINUTE, forceCooldownMs: HOUR });
  });

  it('accept 0s written explicitly; revokePreviousAfter 0s is warned about once per credential, naming it, as one JSON line', () => {
    const text = inventory({ token: 'revokePreviousAfter: 0s\nforceCooldown: 0s', app: 'forceCooldown: 0s' });
    const { credentials } = parseInventory(text);
    expect(credentials.find((c) => c.id === 'credly-main')).toMatchObject({ revokePreviousAfterMs: 0, forceCooldownMs: 0 });
    expect(credentials.find((c) => c.id === 'credly-app')).toMatchObject({ revokePreviousAfterMs: HOUR, forceCooldownMs: 0 });
    const warnings = loadWarnings(text);
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'warn', credentialId: 'credly-main', kind: 'credly-authorization-token', field: 'revokePreviousAfter', value: '0s' }),
    ]);
    expect(warnings[0]!.msg).toMatch(/^inventory: credential "credly-main" has revokePreviousAfter 0s: .*caching clients keep a value for an hour/);
  });

  it('warn about every credential that takes 0s from the file defaults', () => {
    const warnings = loadWarnings(inventory({ head: 'defaults:\n  revokePreviousAfter: 0s\n', app: 'revokePreviousAfter: 1m' }));
    expect(warnings.map((w) => [w.credentialId, w.kind])).toEqual([['credly-main', 'credly-authorization-token']]);
    const both = loadWarnings(inventory({ head: 'defaults:\n  revokePreviousAfter: 0s\n' }));
    expect(both.map((w) => w.credentialId)).toEqual(['credly-main', 'credly-app']);
  });

  it('refuse a bad value, naming the field and the credential by its path', () => {
    expect(problems(inventory({ token: 'forceCooldown: soon' }))).toEqual([
      { path: 'credentials[0].forceCooldown', message: expect.stringMatching(/^invalid duration "soon": write it like 30d/) },
    ]);
    expect(problems(inventory({ app: 'forceCooldown: 600' }))).toEqual([
      { path: 'credentials[1].forceCooldown', message: expect.stringMatching(/^must be a duration; write it like/) },
    ]);
    expect(problems(inventory({ app: 'revokePreviousAfter: -1h' }))).toEqual([
      { path: 'credentials[1].revokePreviousAfter', message: expect.stringMatching(/^invalid duration "-1h"/) },
    ]);
    expect(problems(inventory({ head: 'defaults:\n  forceCooldown: 10 minutes\n' }))).toEqual([
      { path: 'defaults.forceCooldown', message: expect.stringMatching(/^invalid duration "10 minutes"/) },
    ]);
    // A validated kind has no such field.
    expect(problems(inventory().replace('dataCenter: EU', 'dataCenter: EU\n    forceCooldown: 1m'))).toEqual([
      { path: 'credentials[2].forceCooldown', message: 'unknown field (check the spelling)' },
    ]);
  });
});
