import type { CredentialConfig } from '../config/index.ts';
import { createRotators, createValidators } from '../composition-root.ts';
import type { RedisTopology } from '../config/redis-topology.ts';
import { describeRedis } from '../redis/connection.ts';
import { connectRedis } from './connect-redis.ts';
import { daysUntil } from '../rotation/rotate.ts';
import type { RotatorRegistry } from '../rotation/registry.ts';
import type { ValidatorRegistry } from '../validation/validate.ts';
import { parseSecretValue } from '../secrets/secret-values.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from '../secrets/secret-store.ts';
import { EXIT } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { selectCredentials } from './select.ts';
import { printTable } from './table.ts';

export interface CheckOptions {
  configPath?: string | undefined;
  ids: string[];
  configOnly: boolean;
  json: boolean;
}

export interface CredentialCheck {
  id: string;
  kind: string;
  secretId: string;
  ok: boolean;
  detail: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * One credential, read-only: the secret is readable and well-formed; a Credly token is also looked
 * up at Credly (it must be listed and accepted) with its days to expiry; Degreed and Learn.link
 * credentials must obtain a token with their scopes.
 */
export async function checkSecret(
  store: Pick<SecretStore, 'readCurrent'>,
  credential: CredentialConfig,
  rotators?: RotatorRegistry,
  validators?: ValidatorRegistry,
): Promise<CredentialCheck> {
  const row = { id: credential.id, kind: credential.kind, secretId: credential.secretId };
  try {
    const stored = await store.readCurrent(credential.secretId);
    if (credential.kind === 'credly-authorization-token' && rotators) {
      const provider = rotators[credential.kind];
      const now = new Date();
      const inspection = await provider.inspect(credential, provider.parseSecret(stored.secretString, credential.secretId), now);
      const days = inspection.expiresAt ? `, ${daysUntil(inspection.expiresAt, now)} days to expiry` : '';
      return { ...row, ok: true, detail: `token accepted by Credly${days}; ${inspection.due ? 'due for rotation' : 'not due'}: ${inspection.reason}` };
    }
    if (credential.kind === 'degreed-client-credentials' && validators) {
      const secret = parseSecretValue(credential.kind, stored.secretString, { secretId: credential.secretId });
      return { ...row, ok: true, detail: (await validators[credential.kind].validate(credential, secret)).summary };
    }
    if (credential.kind === 'learnlink-client-credentials' && validators) {
      const secret = parseSecretValue(credential.kind, stored.secretString, { secretId: credential.secretId });
      return { ...row, ok: true, detail: (await validators[credential.kind].validate(credential, secret)).summary };
    }
    parseSecretValue(credential.kind, stored.secretString, { secretId: credential.secretId });
    return { ...row, ok: true, detail: 'secret readable and well-formed' };
  } catch (error) {
    return { ...row, ok: false, detail: errorText(error) };
  }
}

/** Redis (whichever topology) reachable and usable: the line `rotator check` prints for it. */
async function pingRedis(topology: RedisTopology, prefix: string): Promise<{ ok: boolean; detail: string }> {
  try {
    (await connectRedis(topology, prefix)).disconnect();
    return { ok: true, detail: `reachable at ${describeRedis(topology)}` };
  } catch (error) {
    // RedisUnreachableError already names the servers, never a password.
    return { ok: false, detail: (error as Error).message };
  }
}

/** `rotator check`: read-only preflight. Touches nothing; exit 1 when any check fails. */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const credentials = selectCredentials(inventory, options.ids);
  if (options.configOnly) {
    if (options.json) console.log(JSON.stringify({ ok: true, credentials: credentials.length, alerts: inventory.alerts.length }));
    else console.log(`configuration valid: ${credentials.length} credential(s), ${inventory.alerts.length} alert sink(s)`);
    return EXIT.ok;
  }
  const redis = await pingRedis(env.redis, env.queuePrefix);
  const store = createSecretStore(createSecretsManagerClient());
  const rotators = createRotators({ inventory, secrets: store });
  const validators = createValidators();
  const rows = await Promise.all(credentials.map((c) => checkSecret(store, c, rotators, validators)));
  const ok = redis.ok && rows.every((r) => r.ok);
  if (options.json) {
    console.log(JSON.stringify({ ok, redis, credentials: rows }, null, 2));
  } else {
    console.log(`redis: ${redis.ok ? 'ok' : 'FAILED'} — ${redis.detail}`);
    printTable(
      ['CREDENTIAL', 'KIND', 'SECRET', 'RESULT', 'DETAIL'],
      rows.map((r) => [r.id, r.kind, r.secretId, r.ok ? 'ok' : 'FAILED', r.detail]),
    );
  }
  return ok ? EXIT.ok : EXIT.failure;
}
