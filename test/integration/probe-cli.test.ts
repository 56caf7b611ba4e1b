import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/kinds/registry.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyTokenInventory, expectNoSecrets, runId, store } from '../support/probe-harness.ts';
import { useScenarios } from '../support/scenario.ts';

/** `rotator probe` as its own process: exit codes, text and --json, read-only without --allow-writes, no value in the output. */

const hosts = useFakeHosts({ credly: { deleteSupported: false, pageLinks: 'web' } }, { clearAfterEach: false });
const scenarios = useScenarios('probe');

async function setup(extra = '') {
  const run = runId();
  const org = hosts.credly.state.addOrganization(`Org ${run}`);
  hosts.credly.state.addToken(org, { description: 'another integration' });
  const stored = hosts.credly.state.addToken(org, { description: 'made by hand' });
  const secretId = `test/probe-cli/${run}`;
  await store.putCurrent(secretId, JSON.stringify({ token: stored.token, tokenId: stored.id }));
  const id = `credly-${run}`;
  const config = join(scenarios.dir, `${run}.yaml`);
  const inventory = credlyTokenInventory({ id, secretId, org, apiBase: hosts.credly.apiBase, extra });
  writeFileSync(config, inventory);
  const run$ = async (args: string[]) => {
    const p = scenarios.spawn(['probe', ...args], { ROTATOR_CONFIG: config });
    const { code } = await p.exited;
    return { code, output: p.output() };
  };
  return { id, org, secretId, inventory, run: run$, secrets: () => hosts.credly.state.tokens().map((t) => t.token) };
}

describe('rotator probe (process)', () => {
  it('read-only: exit 3, incomplete, never FAILED, with the writes unchecked; only GETs reach Credly, nothing is written to Secrets Manager, no value is printed', async () => {
    const t = await setup();
    const before = hosts.credly.requests.length;
    const { code, output } = await t.run([t.id]);
    expect(code, output).toBe(3);
    expect(output).not.toContain('FAILED');
    expect(output).toMatch(/holds\s+listing\s+2 token\(s\) listed/);
    expect(output).toMatch(/unchecked\s+delete-token\s+not tried: needs --allow-writes/);
    expect(output).toContain('another origin');
    expect(output).toContain('inventory settings to use:\n    deleteSupported: true\n    testWithOrganizationEndpoint: false');
    expect(output).toContain(
      '=> incomplete: nothing failed, but the inventory relies on 4 assumption(s) not checked: create-token, created-token-rights, new-token-test, delete-token',
    );
    expect(output).toContain(`probe: incomplete for ${t.id}: nothing failed, but not everything the inventory relies on was checked; run with --allow-writes`);
    expect(hosts.credly.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
    expect(hosts.credly.webApiRequests()).toEqual([]);
    expect((await store.listVersions(t.secretId)).length).toBe(1);
    expectNoSecrets(t.secrets(), output);

    const json = await t.run([t.id, '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.output)).toMatchObject({ ok: false, outcome: 'incomplete', credentials: [{ id: t.id, outcome: 'incomplete' }] });
  });

  it('--allow-writes --json on a Credly without DELETE: exit 1, the throwaway token named by id; with the printed deleteSupported: false, --allow-writes is refused (exit 2) and creates nothing', async () => {
    const t = await setup();
    const { code, output } = await t.run([t.id, '--allow-writes', '--json']);
    expect(code, output).toBe(1);
    const report = JSON.parse(output) as {
      ok: boolean;
      outcome: string;
      allowWrites: boolean;
      credentials: Array<{ id: string; settings: Record<string, unknown>; leftovers: Array<{ id: string }> }>;
    };
    expect(report).toMatchObject({ ok: false, outcome: 'failed', allowWrites: true });
    const [probe] = report.credentials;
    expect(probe!.settings).toEqual({ deleteSupported: false, testWithOrganizationEndpoint: false });
    const made = hosts.credly.state.tokens(t.org).filter((x) => x.description?.includes(`credential=${t.id}`));
    expect(made).toHaveLength(1);
    expect(probe!.leftovers).toEqual([expect.objectContaining({ id: made[0]!.id })]);
    expectNoSecrets(t.secrets(), output);

    // The text output names the leftover by its id in the last line too.
    const text = await t.run([t.id, '--allow-writes']);
    expect(text.code).toBe(1);
    const left = hosts.credly.state.tokens(t.org).filter((x) => x.description?.includes(`credential=${t.id}`) && x.id !== made[0]!.id);
    expect(text.output).toContain(`probe: FAILED for ${t.id}; left at the provider, to remove by hand: authorization-token ${left[0]!.id} (${t.id})`);

    // The operator applies the settings: the inventory takes them; a write probe is then refused before anything is sent.
    const settings = Object.entries(probe!.settings)
      .map(([k, v]) => `    ${k}: ${String(v)}\n`)
      .join('');
    expect(() => parseInventory(`${t.inventory}${settings}`)).not.toThrow();
    writeFileSync(join(scenarios.dir, 'applied.yaml'), `${t.inventory}${settings}`);
    const before = hosts.credly.requests.length;
    const again = scenarios.spawn(['probe', t.id, '--allow-writes'], { ROTATOR_CONFIG: join(scenarios.dir, 'applied.yaml') });
    expect((await again.exited).code, again.output()).toBe(2);
    expect(again.output()).toContain(`--allow-writes refused, nothing was probed: ${t.id}: deleteSupported: false`);
    expect(hosts.credly.requests.length).toBe(before);
    // Read-only, the applied inventory probes with nothing failed: incomplete, exit 3.
    const readOnly = scenarios.spawn(['probe', t.id], { ROTATOR_CONFIG: join(scenarios.dir, 'applied.yaml') });
    expect((await readOnly.exited).code, readOnly.output()).toBe(3);
    expectNoSecrets(t.secrets(), again.output(), readOnly.output());
  });

  it('bad usage exits 2: no credential id, or an unknown one', async () => {
    const t = await setup();
    expect((await t.run([])).code).toBe(2);
    const unknown = await t.run(['no-such-credential']);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('unknown credential id(s): no-such-credential');
  });
});
