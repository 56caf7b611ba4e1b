import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';

const dir = fileURLToPath(new URL('../fixtures/inventories/bad/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

interface Case {
  /** Every problem the file must produce, `[path, part of the message]`; no other problem may appear. */
  problems: Array<[path: string, message: string]>;
  /** Text of the file that no problem may repeat (secrets written where they do not belong). */
  neverEcho?: string[];
}

const KINDS = 'expected one of credly-authorization-token, credly-oauth-application, degreed-client-credentials, learnlink-client-credentials';

const CASES: Record<string, Case> = {
  '01-unknown-kind.yaml': { problems: [['credentials[0].kind', `unknown kind "credly-token"; ${KINDS}`]] },
  '02-missing-kind.yaml': { problems: [['credentials[0].kind', `field "kind" is missing; ${KINDS}`]] },
  '03-unknown-field-typo.yaml': { problems: [['credentials[0].shedule', 'unknown field']] },
  '04-duplicate-id.yaml': { problems: [['credentials[1].id', 'duplicate id "credly-main" (first at credentials[0])']] },
  '05-duplicate-secret-id.yaml': { problems: [['credentials[1].secretId', 'duplicate secretId "prod/credly/main" (first at credentials[0])']] },
  '06-managed-by-missing.yaml': { problems: [['credentials[1].managedBy', 'no credential with id "credly-nope"']] },
  '07-managed-by-wrong-kind.yaml': {
    problems: [['credentials[1].managedBy', '"dg" is a degreed-client-credentials; it must be a credly-authorization-token']],
  },
  '08-managed-by-other-organization.yaml': { problems: [['credentials[1].managedBy', 'another Credly organization']] },
  '09-bad-cron.yaml': { problems: [['credentials[0].schedule', 'invalid cron expression "61 3 * * *" (minute:']] },
  '10-cron-wrong-field-count.yaml': { problems: [['credentials[0].schedule', 'expected 5 fields']] },
  '11-bad-duration.yaml': { problems: [['credentials[0].rotateWhenExpiresWithin', 'invalid duration "30 days"']] },
  '12-http-to-remote-host.yaml': { problems: [['credentials[0].endpoints.apiBase', 'only allowed to a loopback host, not "api.credly.com"']] },
  '13-endpoint-not-url.yaml': { problems: [['credentials[0].endpoints.apiBase', 'not an absolute URL']] },
  '14-bad-credly-environment.yaml': { problems: [['credentials[0].environment', 'must be one of production, sandbox; got "staging"']] },
  '15-bad-degreed-data-center.yaml': { problems: [['credentials[0].dataCenter', 'must be one of US, EU, CA; got "AU"']] },
  '16-bad-learnlink-audience.yaml': { problems: [['credentials[0].audience', 'must be one of api, webhooks; got "admin"']] },
  '17-empty-scopes.yaml': { problems: [['credentials[0].scopes', 'must list at least one scope']] },
  '18-unknown-credly-scope.yaml': {
    problems: [
      [
        'credentials[1].scopes[1]',
        'must be one of authorization_tokens, badge_templates, events, invitations, issued_badges, memberships, oauth_applications, pathways, recommendations, workforce; got "badges"',
      ],
    ],
  },
  '19-bad-degreed-scope.yaml': { problems: [['credentials[0].scopes[1]', 'must be a Degreed scope like users:read']] },
  '20-learnlink-scope-for-other-audience.yaml': {
    problems: [['credentials[0].scopes[0]', 'scope "api/read" is not valid for audience webhooks; expected one of api/webhooks, api/all']],
  },
  '21-bad-id-pattern.yaml': { problems: [['credentials[0].id', 'must be 1–63 characters of a-z, 0-9']] },
  '22-version-2.yaml': { problems: [['version', 'must be 1; got 2']] },
  '23-empty-credentials.yaml': { problems: [['credentials', 'must list at least one credential']] },
  '24-yaml-syntax-error.yaml': { problems: [['(root)', 'YAML syntax error at line 5, column 1: Flow sequence']] },
  '25-sink-unknown-credential.yaml': { problems: [['alerts[0].credentials[1]', 'no credential with id "credly-gone"']] },
  '26-sink-inline-secret.yaml': { problems: [['alerts[0].webhookUrl', 'secrets are never written inline']], neverEcho: ['hooks.slack.com', 'B000/XXXX'] },
  '27-unknown-sink-kind.yaml': { problems: [['alerts[0].kind', 'unknown kind "email"; expected one of slack, pagerduty, webhook']] },
  '28-duplicate-sink-id.yaml': { problems: [['alerts[1].id', 'duplicate sink id "ops" (first at alerts[0])']] },
  '29-missing-required-field.yaml': { problems: [['credentials[0].organizationId', 'is required']] },
  '30-bad-tenant-id.yaml': { problems: [['credentials[0].tenantId', 'must look like eu-west-2_AbcdEfghI']] },
  '31-duplicate-yaml-key.yaml': { problems: [['(root)', 'YAML syntax error at line 2, column 1: Map keys must be unique']] },
  '32-not-a-mapping.yaml': { problems: [['(root)', 'must be a YAML mapping']] },
  '33-several-problems.yaml': {
    problems: [
      ['defaults.schedule', 'invalid cron expression "* * *": expected 5 fields'],
      ['credentials[0].probe', 'must be true or false; got a string'],
      ['credentials[1].organizationId', 'must be the Credly organization id (a UUID)'],
      ['credentials[1].revokePreviousAfter', 'invalid duration "soon"'],
      ['credentials[1].id', 'duplicate id "a" (first at credentials[0])'],
    ],
  },
  '34-managed-by-other-environment.yaml': { problems: [['credentials[1].managedBy', 'another Credly environment']] },
  '35-sink-http-to-remote-host.yaml': { problems: [['alerts[0].url', 'only allowed to a loopback host, not "hooks.example.com"']] },
  '36-learnlink-scope-beside-other-problems.yaml': {
    problems: [
      ['credentials[0].environment', 'got "prod"'],
      ['credentials[0].scopes[1]', 'scope "api/webhooks" is not valid for audience api'],
    ],
  },
  '37-secret-in-unknown-field.yaml': { problems: [['credentials[0].token', 'unknown field']], neverEcho: ['tok-live-5f1e2d3c4b5a69788796a5b4c3d2e1f0'] },
  '38-sink-ref-both-env-and-secret-id.yaml': { problems: [['alerts[0].routingKey', 'exactly one of env or secretId']] },
  '39-zero-threshold.yaml': { problems: [['defaults.rotateWhenExpiresWithin', 'must be longer than 0']] },
  '40-logout-path-to-other-host.yaml': { problems: [['credentials[0].logoutPath', 'starting with a single "/"']] },
  '41-duplicate-scope.yaml': { problems: [['credentials[0].scopes[2]', 'duplicate scope "users:read"']] },
  '42-bad-secret-id.yaml': { problems: [['credentials[0].secretId', 'must be a Secrets Manager secret name']] },
  '43-endpoint-with-credentials.yaml': { problems: [['credentials[0].endpoints.apiBase', 'must not carry credentials']], neverEcho: ['pr0xy-pa55', 'admin:'] },
  '44-unknown-defaults-field.yaml': { problems: [['defaults.revokeAfter', 'unknown field']] },
  '45-duration-as-number.yaml': { problems: [['credentials[0].revokePreviousAfter', 'must be a duration; write it like 30d']] },
  '46-missing-version.yaml': { problems: [['version', 'is required; must be 1']] },
  '47-empty-file.yaml': { problems: [['(root)', 'must be a YAML mapping']] },
  '48-sink-inline-routing-key.yaml': { problems: [['alerts[0].routingKey', 'never written inline']], neverEcho: ['R0UT1NGKEY0123456789abcdef012345'] },
  '49-yaml-bad-indentation.yaml': {
    problems: [
      ['(root)', 'YAML syntax error at line 5, column 15: Nested mappings are not allowed'],
      ['(root)', 'YAML syntax error at line 5, column 15: Implicit keys need to be on a single line'],
    ],
    neverEcho: ['prod/credly/main'],
  },
  '51-managed-by-other-api.yaml': {
    problems: [
      ['credentials[1].endpoints.apiBase', 'differs from the apiBase of its managing credential "credly-main"; the managing token is only sent to its own API'],
    ],
    neverEcho: ['attacker.example'],
  },
  '50-rotate-endpoint-not-offered.yaml': {
    problems: [['credentials[0].useRotateEndpoint', "is not offered: Credly's rotate endpoint kills the calling token at once"]],
  },
};

function refusal(file: string): ConfigError {
  try {
    parseInventory(readFileSync(join(dir, file), 'utf8'), file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${file} was accepted`);
}

describe('malformed inventories', () => {
  it('has a corpus of at least 24 cases, each with its expectations in the table', () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
    expect(files).toEqual(Object.keys(CASES).sort());
  });

  it.each(files)('refuses %s with exactly its expected problems, by path', (file) => {
    const error = refusal(file);
    const { problems: expected, neverEcho = [] } = CASES[file]!;
    for (const [path, message] of expected) {
      const match = error.problems.find((p) => p.path === path && p.message.includes(message));
      expect(match, `a problem at ${path} containing "${message}" in ${JSON.stringify(error.problems)}`).toBeDefined();
    }
    expect(error.problems).toHaveLength(expected.length);

    // The formatted report names the source and the path of every problem, one line each.
    const lines = error.format().split('\n');
    expect(lines).toEqual(error.problems.map((p) => `${file}: ${p.path}: ${p.message}`));
    for (const text of neverEcho) {
      expect(error.format()).not.toContain(text);
      expect(error.message).not.toContain(text);
    }
  });
});
