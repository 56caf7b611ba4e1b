import type { CredentialProbe, Finding } from '../probe/findings.ts';
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
  const failing = probe.findings.filter((f) => f.relied && f.status !== 'holds').map((f) => f.check);
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
  lines.push(
    probe.ok
      ? `  => every assumption the inventory relies on holds`
      : `  => the inventory relies on ${failing.length} assumption(s) that do not hold or were not checked: ${failing.join(', ')}`,
  );
  return lines.join('\n');
}

/**
 * `rotator probe <credential-id>…`: calls each credential's provider and reports, assumption by
 * assumption, what holds. Read-only unless `--allow-writes`. Exit 0 when every assumption the
 * inventory relies on holds, 1 otherwise. Credentials are probed one after the other: providers
 * limit their rates, and a person reads the report in order.
 */
export async function probeCommand(options: ProbeCommandOptions): Promise<number> {
  if (options.ids.length === 0) throw new UsageError('probe takes one or more credential ids');
  const { env, inventory } = loadConfiguration(options);
  const credentials = selectCredentials(inventory, options.ids);
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
  const ok = probes.every((p) => p.ok);
  if (options.json) {
    console.log(JSON.stringify({ ok, allowWrites: options.allowWrites, credentials: probes }, null, 2));
  } else {
    console.log(
      ok
        ? 'probe: every assumption the inventory relies on holds'
        : `probe: FAILED for ${probes
            .filter((p) => !p.ok)
            .map((p) => p.id)
            .join(', ')}`,
    );
    if (!options.allowWrites && probes.some((p) => p.findings.some((f) => f.status === 'unchecked' && f.relied))) {
      console.log(
        "some assumptions only a write shows: run again with --allow-writes (it creates one throwaway token or application carrying the rotator's marker, deletes it and confirms by listing; against a sandbox first, if you have one)",
      );
    }
  }
  return ok ? EXIT.ok : EXIT.failure;
}
