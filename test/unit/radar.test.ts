// The expiry radar's judgement, over in-memory listings and secrets: which listed token or
// application is managed and by which credential, what expires within the window, and an
// organization whose listing fails reported as such. The same code over real HTTP, Secrets Manager
// and a worker process: test/integration/radar-process.test.ts.
import { describe, expect, it } from 'vitest';
import type { CredlyApplication } from '../../src/kinds/credly/application-client.ts';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import type { CredlyToken } from '../../src/kinds/credly/token-client.ts';
import { parseInventory, runRadar, unlisted, unmanagedExpiring, type RadarDependencies } from '../../src/kinds/registry.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T00:00:00Z');
const API = 'https://api.credly.test/v1';
const ORG = '5c1e7a52-3f8b-4e2d-9a61-0d4b7c2e8f13';

function inventory(extra = '') {
  return parseInventory(`version: 1
credentials:
  - id: hr-token
    kind: credly-authorization-token
    secretId: s/hr
    organizationId: ${ORG}
    environment: production
    endpoints: { apiBase: "${API}" }
  - id: lms-app
    kind: credly-oauth-application
    secretId: s/app
    organizationId: ${ORG}
    environment: production
    managedBy: hr-token
    applicationName: LMS
    scopes: [issued_badges]
    endpoints: { apiBase: "${API}" }
  - id: degreed
    kind: degreed-client-credentials
    secretId: s/degreed
    environment: production
    dataCenter: US
    scopes: [users:read]
${extra}`);
}

const token = (id: string, value: string, expiresInDays: number, description: string | null, rights = { read: true, write: true, del: true }): CredlyToken => ({
  id,
  token: value,
  description,
  readEnabled: rights.read,
  writeEnabled: rights.write,
  deleteEnabled: rights.del,
  createdAt: new Date(NOW.getTime() - 10 * DAY),
  expiresAt: new Date(NOW.getTime() + expiresInDays * DAY),
});
const app = (id: number, uid: string, description: string | null): CredlyApplication => ({
  id,
  name: `app ${id}`,
  description,
  uid,
  createdAt: new Date(NOW.getTime() - DAY),
});

const ROTATION = '0b1f4c2e-8a77-4d6a-9c1e-2f3a4b5c6d7e';

function world(options: { listTokens?: (auth: string) => CredlyToken[]; secrets?: Record<string, string> } = {}) {
  const tokens = [
    token('t-current', 'value-current', 170, 'HR sync (by hand, now in the rotator)'),
    token('t-replaced', 'value-replaced', 120, rotatorDescription(ROTATION, 'hr-token', { scope: '{rotator}', secretId: 's/hr', replaces: 't-older' })),
    token('t-export', 'value-export', 12, 'export for payroll\u0007 (by hand)'),
    token('t-later', 'value-later', 60, null),
    token('t-dead', 'value-dead', -1, 'expired yesterday'),
    token('t-other', 'value-other', 5, rotatorDescription(ROTATION, 'someone-else', { scope: '{other}', secretId: 's/x', replaces: '-' })),
  ];
  const apps = [app(7, 'client-7', 'made by hand'), app(8, 'client-8', null), app(9, 'client-9', rotatorDescription(ROTATION, 'lms-app'))];
  const secrets: Record<string, string> = options.secrets ?? {
    's/hr': JSON.stringify({ token: 'value-current', tokenId: 't-current' }),
    's/app': JSON.stringify({ clientId: 'client-8', clientSecret: 'app-secret', applicationId: 8 }),
  };
  const calls: string[] = [];
  const deps: RadarDependencies = {
    credentials: inventory().credentials,
    secrets: {
      readCurrent: async (id) => {
        const value = secrets[id];
        if (value === undefined) throw new Error(`${id} not found`);
        return { secretString: value, versionId: 'v1' };
      },
    },
    tokens: (apiBase) => ({
      listTokens: async (auth, org) => {
        calls.push(`tokens ${apiBase} ${org}`);
        return options.listTokens ? options.listTokens(auth) : tokens;
      },
    }),
    applications: () => ({ listApplications: async () => apps }),
    now: () => NOW,
  };
  return { deps, calls };
}

describe('the expiry radar', () => {
  it('names the credential managing each token and application, by the secret or by the marker, and nobody for the rest', async () => {
    const { deps, calls } = world();
    const report = await runRadar(deps);
    expect(calls).toEqual([`tokens ${API} ${ORG}`]);
    expect(report.organizations).toHaveLength(1);
    const [org] = report.organizations;
    expect(org).toMatchObject({ organizationId: ORG, apiBase: API, listedWith: 'hr-token', readOnlyListing: false });
    const managed = Object.fromEntries(org!.tokens!.map((t) => [t.id, t.managedBy]));
    expect(managed).toEqual({ 't-current': 'hr-token', 't-replaced': 'hr-token', 't-export': null, 't-later': null, 't-dead': null, 't-other': null });
    expect(org!.tokens!.find((t) => t.id === 't-other')?.madeFor).toBe('someone-else');
    // Control characters never reach a report, a log line or an alert.
    expect(org!.tokens!.find((t) => t.id === 't-export')?.description).toBe('export for payroll (by hand)');
    expect(Object.fromEntries(org!.applications!.map((a) => [a.id, a.managedBy]))).toEqual({ '7': null, '8': 'lms-app', '9': 'lms-app' });
    // No secret value anywhere in the report.
    const text = JSON.stringify(report);
    for (const value of ['value-current', 'value-replaced', 'value-export', 'app-secret']) expect(text).not.toContain(value);
  });

  it('warns of the unmanaged tokens still valid that expire within the window, and of no other', async () => {
    const report = await runRadar(world().deps);
    const ids = (days: number) => unmanagedExpiring(report, days * DAY).map((e) => e.token.id);
    expect(ids(30)).toEqual(['t-export', 't-other']);
    expect(ids(12)).toEqual(['t-export', 't-other']);
    expect(ids(11)).toEqual(['t-other']);
    expect(ids(60)).toEqual(['t-export', 't-later', 't-other']);
    expect(ids(4)).toEqual([]);
    expect(unlisted(report)).toEqual([]);
  });

  it('reports an organization it cannot list as such, never as one without tokens', async () => {
    const { deps } = world({
      listTokens: () => {
        throw new Error('refused by Credly (401)');
      },
    });
    const report = await runRadar(deps);
    expect(report.organizations[0]).toMatchObject({ listedWith: null, tokens: null, applications: null });
    expect(report.organizations[0]!.error).toContain('hr-token: Error: refused by Credly (401)');
    expect(unlisted(report).map((o) => o.organizationId)).toEqual([ORG]);
    expect(unmanagedExpiring(report, 365 * DAY)).toEqual([]);
  });

  it('says so when no token of the organization can be read from its secret', async () => {
    const { deps } = world({ secrets: {} });
    const report = await runRadar(deps);
    expect(report.organizations[0]).toMatchObject({ tokens: null, listedWith: null });
    expect(report.organizations[0]!.error).toBe('no token credential of the organization has a readable token (hr-token)');
  });

  it('lists with the next token credential of the organization when the first is refused, and flags a read-only listing', async () => {
    const extra = `  - id: reader-token
    kind: credly-authorization-token
    secretId: s/reader
    organizationId: ${ORG}
    environment: production
    endpoints: { apiBase: "${API}" }
`;
    const { deps } = world({
      secrets: {
        's/hr': JSON.stringify({ token: 'value-current', tokenId: 't-current' }),
        's/reader': JSON.stringify({ token: 'value-reader', tokenId: 't-reader' }),
      },
      listTokens: (auth) => {
        if (auth === 'value-current') throw new Error('refused by Credly (401)');
        return [
          token('t-reader', 'value-reader', 100, 'reader', { read: true, write: false, del: false }),
          token('t-x', 'value-x', 3, 'by hand', { read: true, write: false, del: false }),
        ];
      },
    });
    const report = await runRadar({ ...deps, credentials: inventory(extra).credentials });
    const [org] = report.organizations;
    expect(org).toMatchObject({ listedWith: 'reader-token', readOnlyListing: true });
    expect(org!.tokens!.map((t) => [t.id, t.managedBy])).toEqual([
      ['t-reader', 'reader-token'],
      ['t-x', null],
    ]);
  });

  it('reaches no organization without a Credly credential', async () => {
    const { deps } = world();
    const report = await runRadar({ ...deps, credentials: deps.credentials.filter((c) => c.kind.startsWith('degreed')) });
    expect(report.organizations).toEqual([]);
  });
});
