import type { CredentialBase } from '../config/index.ts';
import { asKindConfig } from '../kinds/kind.ts';
import { kindOf } from '../kinds/registry.ts';
import { NEEDS_WRITES } from '../probe/common.ts';
import type { CredentialProbe, Finding, ProbeOutcome } from '../probe/findings.ts';
import { probeCredential } from './probe-run.ts';
import { createSecretStore, createSecretsManagerClient } from '../secrets/secret-store.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { selectCredentials } from './select.ts';
import { formatTable } from './table.ts';

export interface ProbeCommandOptions {
  configPath?: string | undefined;
  ids: string[];
  allowWrites: boolean;
  json: boolean;
}

const STATUS: Record<Finding['status'], string> = { holds: 'holds', 'does-not-hold': 'DOES NOT HOLD', unchecked: 'unchecked' };

/** What a person reads: each assumption with what the provider did, the settings to use, what is left to remove. */
export function formatProbe(probe: CredentialProbe, allowWrites: boolean): string {
  const rows = probe.findings.map((f) => [STATUS[f.status], f.check, `${f.relied ? '' : '(not relied on) '}${f.observed}`]);
  const failing = probe.findings.filter((f) => f.relied && f.status === 'does-not-hold').map((f) => f.check);
  const unchecked = probe.findings.filter((f) => f.relied && f.status === 'unchecked').map((f) => f.check);
  const lines = [
    `${probe.id} (${probe.kind})${allowWrites ? '' : ', read-only'}`,
    ...formatTable(['RESULT', 'ASSUMPTION', 'OBSERVED'], rows)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
  for (const f of probe.findings.filter((x) => x.status !== 'holds' && x.relied)) lines.push(`  ${f.check}: ${f.assumption}`);
  const settings = Object.entries(probe.settings);
  if (settings.length) lines.push('  inventory settings to use:', ...settings.map(([k, v]) => `    ${k}: ${String(v)}`));
  for (const l of probe.leftovers) lines.push(`  LEFT AT THE PROVIDER: ${l.what} ${l.id} ("${l.description}"): ${l.advice}`);
  const notChecked = unchecked.length ? `; ${unchecked.length} not checked: ${unchecked.join(', ')}` : '';
  const left = probe.leftovers.length ? `; ${probe.leftovers.length} thing(s) left at the provider: ${probe.leftovers.map((l) => l.id).join(', ')}` : '';
  const verdict = {
    holds: 'every assumption the inventory relies on holds',
    incomplete: `incomplete: nothing failed, but the inventory relies on ${unchecked.length} assumption(s) not checked: ${unchecked.join(', ')}`,
    failed: `FAILED: ${failing.length ? `the inventory relies on ${failing.length} assumption(s) that do not hold: ${failing.join(', ')}` : 'nothing it relies on failed'}${notChecked}${left}`,
  }[probe.outcome];
  lines.push(`  => ${verdict}`);
  return lines.join('\n');
}

/**
 * Why `--allow-writes` is refused for these credentials: their kinds say the throwaway they would
 * create could not be deleted (a Credly token with `deleteSupported: false`). Nothing is created
 * that the probe cannot remove.
 */
function writesRefused(credentials: readonly CredentialBase[]): string[] {
  return credentials.flatMap((c) => {
    const why = kindOf(c.kind)?.writesLeaveBehind?.(asKindConfig(c));
    return why ? [`${c.id}: ${why}`] : [];
  });
}

/** The last line of the text output: what the run as a whole says. */
function summaryLine(probes: readonly CredentialProbe[], allowWrites: boolean): string {
  const failed = probes.filter((p) => p.outcome === 'failed');
  if (failed.length) {
    const left = probes.flatMap((p) => p.leftovers.map((l) => `${l.what} ${l.id} (${p.id})`));
    return `probe: FAILED for ${failed.map((p) => p.id).join(', ')}${left.length ? `; left at the provider, to remove by hand: ${left.join(', ')}` : ''}`;
  }
  const incomplete = probes.filter((p) => p.outcome === 'incomplete');
  if (incomplete.length === 0) return 'probe: every assumption the inventory relies on holds';
  const needWrites = incomplete.some((p) => p.findings.some((f) => f.relied && f.status === 'unchecked' && f.observed === NEEDS_WRITES));
  return `probe: incomplete for ${incomplete.map((p) => p.id).join(', ')}: nothing failed, but not everything the inventory relies on was checked${
    !allowWrites && needWrites
      ? "; run with --allow-writes (it creates one throwaway token or application carrying the rotator's marker, deletes it and confirms by listing; against a sandbox first, if you have one)"
      : ''
  }`;
}

/**
 * `rotator probe <credential-id>…`: calls each credential's provider and reports, assumption by
 * assumption, what holds. Read-only unless `--allow-writes`. Exit 0 when every assumption the
 * inventory relies on was checked and holds; 1 when one does not hold or the probe left something
 * at the provider; 3 when nothing failed but some were not checked (a read-only probe); 2 for bad
 * usage, and for `--allow-writes` on a credential whose throwaway could not be deleted. Credentials
 * are probed one after the other: providers limit their rates, and a person reads the report in order.
 */
export async function probeCommand(options: ProbeCommandOptions): Promise<number> {
  if (options.ids.length === 0) throw new UsageError('probe takes one or more credential ids');
  const { env, inventory } = loadConfiguration(options);
  const credentials = selectCredentials(inventory, options.ids);
  const refused = options.allowWrites ? writesRefused(credentials) : [];
  if (refused.length) throw new UsageError(`--allow-writes refused, nothing was probed: ${refused.join('; ')}`);
  const store = createSecretStore(createSecretsManagerClient());
  const deps = {
    inventory,
    allowWrites: options.allowWrites,
    requestTimeoutMs: env.requestTimeoutMs,
    readSecret: async (secretId: string) => (await store.readCurrent(secretId)).secretString,
  };
  const probes: CredentialProbe[] = [];
  for (const credential of credentials) {
    const probe = await probeCredential(credential, deps);
    probes.push(probe);
    if (!options.json) console.log(`${formatProbe(probe, options.allowWrites)}\n`);
  }
  const outcome = outcomeOfRun(probes);
  if (options.json) console.log(JSON.stringify({ ok: outcome === 'holds', outcome, allowWrites: options.allowWrites, credentials: probes }, null, 2));
  else console.log(summaryLine(probes, options.allowWrites));
  return { holds: EXIT.ok, failed: EXIT.failure, incomplete: EXIT.incomplete }[outcome];
}

function outcomeOfRun(probes: readonly CredentialProbe[]): ProbeOutcome {
  if (probes.some((p) => p.outcome === 'failed')) return 'failed';
  return probes.some((p) => p.outcome === 'incomplete') ? 'incomplete' : 'holds';
}
