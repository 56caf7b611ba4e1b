import { expect } from 'vitest';
import { type Inventory } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import type { CredentialProbe, Finding } from '../../src/probe/findings.ts';
import { probeCredential } from '../../src/cli/probe-run.ts';
import { entryYaml, inventoryYaml, store } from './credentials.ts';
import type { Endpoints } from './fake-hosts.ts';

export { runId, store } from './credentials.ts';

/** Probes `id` of the inventory text, in process, over real HTTP and the real Secrets Manager emulator. */
export async function probe(inventoryText: string, id: string, allowWrites: boolean): Promise<{ result: CredentialProbe; inventory: Inventory }> {
  const inventory = parseInventory(inventoryText);
  const credential = inventory.credentials.find((c) => c.id === id);
  if (!credential) throw new Error(`no credential ${id}`);
  const result = await probeCredential(credential, {
    inventory,
    allowWrites,
    readSecret: async (secretId) => (await store.readCurrent(secretId)).secretString,
  });
  return { result, inventory };
}

export function finding(result: CredentialProbe, check: string): Finding {
  const found = result.findings.find((f) => f.check === check);
  if (!found) throw new Error(`no finding "${check}" in ${JSON.stringify(result.findings.map((f) => f.check))}`);
  return found;
}

/** No value of `secrets` appears anywhere in `texts` (the probe's output, its JSON). */
export function expectNoSecrets(secrets: string[], ...texts: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const secret of secrets) for (const text of texts) expect(text.includes(secret), `a secret value (${secret.slice(0, 6)}…) is in the output`).toBe(false);
}

/**
 * The inventory with the probe's settings applied to its last credential (the probed one in these
 * tests): a key the credential already sets is replaced.
 */
export function withSettings(inventoryText: string, settings: Record<string, string | boolean>): string {
  const keys = new Set(Object.keys(settings));
  const kept = inventoryText
    .split('\n')
    .filter((line) => !keys.has(/^ {4}(\w+):/.exec(line)?.[1] ?? ''))
    .join('\n');
  return `${kept}${Object.entries(settings)
    .map(([k, v]) => `    ${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`)
    .join('')}`;
}

const inventory = (fields: Record<string, string>, endpoints: Endpoints, extra = '', before = '') =>
  inventoryYaml([{ yaml: `${before}${entryYaml(fields, endpoints, extra)}` }]);

/** One credly-authorization-token credential (the last in the inventory, so `withSettings` applies to it). */
export function credlyTokenInventory(c: { id: string; secretId: string; org: string; apiBase: string; extra?: string }): string {
  return inventory(
    { id: c.id, kind: 'credly-authorization-token', secretId: c.secretId, organizationId: c.org, environment: 'production' },
    { apiBase: c.apiBase },
    c.extra,
  );
}

/** A managing token and the OAuth application it manages (last), with `scopes: [issued_badges]`. */
export function credlyAppInventory(c: { id: string; managerId: string; run: string; org: string; apiBase: string; tokenUrl: string; extra?: string }): string {
  // The manager on one line: `withSettings` changes only the application's settings.
  const manager = `  - { id: ${c.managerId}, kind: credly-authorization-token, secretId: test/probe/${c.run}/manager, organizationId: ${c.org}, environment: production, endpoints: { apiBase: "${c.apiBase}" } }\n`;
  const fields = {
    id: c.id,
    kind: 'credly-oauth-application',
    secretId: `test/probe/${c.run}/app`,
    organizationId: c.org,
    environment: 'production',
    managedBy: c.managerId,
    applicationName: 'LMS',
    scopes: '[issued_badges]',
  };
  return inventory(fields, { apiBase: c.apiBase, tokenUrl: c.tokenUrl }, c.extra, manager);
}

/** A Degreed credential (last) over the fake's endpoints; `logoutUrl` only when the fake has one. */
export function degreedInventory(c: {
  id: string;
  secretId: string;
  scopes: string[];
  tokenUrl: string;
  apiBase: string;
  logoutUrl?: string | undefined;
  extra?: string;
}): string {
  const fields = {
    id: c.id,
    kind: 'degreed-client-credentials',
    secretId: c.secretId,
    environment: 'betatest',
    dataCenter: 'EU',
    scopes: `[${c.scopes.join(', ')}]`,
  };
  return inventory(fields, { tokenUrl: c.tokenUrl, apiBase: c.apiBase, ...(c.logoutUrl ? { logoutUrl: c.logoutUrl } : {}) }, c.extra);
}

/** A Learn.link API-audience credential with `scopes: [api/read]` (last) over the fake's endpoints. */
export function learnlinkInventory(c: { id: string; secretId: string; tokenUrl: string; apiBase: string; extra?: string }): string {
  const fields = { id: c.id, kind: 'learnlink-client-credentials', secretId: c.secretId, environment: 'staging', audience: 'api', scopes: '[api/read]' };
  return inventory(fields, { tokenUrl: c.tokenUrl, apiBase: c.apiBase }, c.extra);
}
