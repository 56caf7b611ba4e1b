import { formatDuration, parseDuration, radarSettings } from '../config/index.ts';
import { providerLimiter } from '../composition-root.ts';
import { organizationsOf, radarClients, runRadar, unlisted, unmanagedExpiring, type RadarReport } from '../kinds/registry.ts';
import { createSecretStore, createSecretsManagerClient } from '../secrets/secret-store.ts';
import { connectRedis } from './connect-redis.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { printTable } from './table.ts';

/** `--within`: a duration above zero, as the inventory writes one. */
function windowOf(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--within ${JSON.stringify(text)} is not a duration above zero (like 30d, 12h or 90m)`);
  return ms;
}

/** The report as `--json` prints it: the window, and what the exit code says. */
export function radarJson(report: RadarReport, withinMs: number) {
  const expiring = unmanagedExpiring(report, withinMs);
  return {
    at: report.at,
    within: formatDuration(withinMs),
    unmanagedExpiring: expiring.map((e) => ({ organizationId: e.organizationId, tokenId: e.token.id, expiresAt: e.token.expiresAt })),
    unlistedOrganizations: unlisted(report).map((o) => o.organizationId),
    organizations: report.organizations,
  };
}

/** A description as a table column shows it: `--json` has it whole. */
const short = (text: string | null) => (text === null ? '-' : text.length > 40 ? `${text.slice(0, 39)}…` : text);

function printReport(report: RadarReport, withinMs: number): void {
  const expiring = new Set(unmanagedExpiring(report, withinMs).map((e) => `${e.organizationId}\n${e.token.id}`));
  for (const org of report.organizations) {
    console.log(`organization ${org.organizationId} (${org.apiBase})${org.listedWith ? `, listed with ${org.listedWith}` : ''}`);
    if (org.tokens === null) {
      console.log(`  NOT LISTED: ${org.error ?? 'unknown'} — nothing can be said of its tokens`);
      continue;
    }
    if (org.readOnlyListing) console.log('  listed with a read-only token: Credly shows it only the read-only tokens');
    printTable(
      ['  TOKEN', 'DESCRIPTION', 'CREATED', 'EXPIRES', 'RIGHTS', 'MANAGED BY'],
      org.tokens.map((t) => [
        `  ${t.id}`,
        short(t.description),
        t.createdAt.slice(0, 10),
        `${t.expiresAt.slice(0, 10)}${expiring.has(`${org.organizationId}\n${t.id}`) ? ' EXPIRES SOON' : ''}`,
        [t.rights.read ? 'r' : '-', t.rights.write ? 'w' : '-', t.rights.delete ? 'd' : '-'].join(''),
        t.managedBy ?? (t.madeFor ? `nobody here (rotator marker for ${t.madeFor})` : 'NOBODY'),
      ]),
    );
    if (org.applications === null) console.log(`  applications NOT LISTED: ${org.error ?? 'unknown'}`);
    else if (org.applications.length)
      printTable(
        ['  APPLICATION', 'NAME', 'CREATED', 'MANAGED BY'],
        org.applications.map((a) => [
          `  ${a.id}`,
          a.name,
          a.createdAt.slice(0, 10),
          a.managedBy ?? (a.madeFor ? `nobody here (rotator marker for ${a.madeFor})` : 'NOBODY'),
        ]),
      );
  }
  const missing = unlisted(report);
  console.log(
    `radar: ${expiring.size} unmanaged token(s) expire within ${formatDuration(withinMs)}` +
      (missing.length ? `; ${missing.length} organization(s) could not be listed: ${missing.map((o) => o.organizationId).join(', ')}` : ''),
  );
}

/**
 * `rotator radar`: every token and OAuth application of each Credly organization the inventory
 * reaches, listed with the credentials it holds. Read-only. Exit 1 when an unmanaged token expires
 * within the window or an organization could not be listed (nothing can be said of it).
 */
export async function radarCommand(options: { configPath?: string | undefined; within?: string | undefined; json: boolean }): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const withinMs = windowOf(options.within, radarSettings(inventory).warnWithin);
  // The listings spend the organizations' budgets, shared through Redis with the workers when a limit is set.
  const limited = organizationsOf(inventory.credentials).length > 0 && Object.values(env.rateLimits).some((rate) => rate !== 'off');
  const redis = limited ? await connectRedis(env.redis, env.queuePrefix, { allowPlaintext: env.allowPlaintextRedis }) : undefined;
  try {
    const limiter = redis ? providerLimiter(redis, env.queuePrefix, inventory.credentials, env.rateLimits) : undefined;
    const report = await runRadar({
      credentials: inventory.credentials,
      secrets: createSecretStore(createSecretsManagerClient()),
      ...radarClients({ requestTimeoutMs: env.requestTimeoutMs, limiter }),
    });
    if (options.json) console.log(JSON.stringify(radarJson(report, withinMs), null, 2));
    else printReport(report, withinMs);
    return unmanagedExpiring(report, withinMs).length || unlisted(report).length ? EXIT.failure : EXIT.ok;
  } finally {
    redis?.disconnect();
  }
}
