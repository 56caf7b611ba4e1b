import type { CredentialBase } from '../config/index.ts';
import { createKinds } from '../composition-root.ts';
import { asKindConfig, type KindRuntimes } from '../kinds/kind.ts';
import { kindOf } from '../kinds/registry.ts';
import { parseSecret } from '../secrets/secret-values.ts';
import type { RedisTopology } from '../config/redis-topology.ts';
import { describeRedis } from '../redis/connection.ts';
import { connectRedis } from './connect-redis.ts';
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
 * One credential, read-only: the secret is readable and well-formed; a kind with a check of its own
 * says more (a token looked up at its provider, with its days to expiry); a validated kind must
 * obtain a token with its scopes.
 */
export async function checkSecret(store: Pick<SecretStore, 'readCurrent'>, credential: CredentialBase, kinds?: KindRuntimes): Promise<CredentialCheck> {
  const row = { id: credential.id, kind: credential.kind, secretId: credential.secretId };
  try {
    const stored = await store.readCurrent(credential.secretId);
    const runtime = kinds?.get(credential.kind);
    if (runtime?.mode === 'rotate' && runtime.definition.check) {
      return { ...row, ok: true, detail: await runtime.definition.check(runtime.rotator, asKindConfig(credential), stored.secretString, new Date()) };
    }
    if (runtime?.mode === 'validate') {
      const secret = parseSecret(runtime.definition.secret, stored.secretString, { secretId: credential.secretId });
      return { ...row, ok: true, detail: (await runtime.validator.validate(credential, secret)).summary };
    }
    const kind = kindOf(credential.kind);
    if (kind) parseSecret(kind.secret, stored.secretString, { secretId: credential.secretId });
    return { ...row, ok: true, detail: 'secret readable and well-formed' };
  } catch (error) {
    return { ...row, ok: false, detail: errorText(error) };
  }
}

/** Redis (whichever topology) reachable and usable: the line `rotator check` prints for it. */
async function pingRedis(topology: RedisTopology, prefix: string, allowPlaintext: boolean): Promise<{ ok: boolean; detail: string }> {
  try {
    (await connectRedis(topology, prefix, { allowPlaintext })).disconnect();
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
  const redis = await pingRedis(env.redis, env.queuePrefix, env.allowPlaintextRedis);
  const store = createSecretStore(createSecretsManagerClient());
  const kinds = createKinds({ inventory, secrets: store });
  const rows = await Promise.all(credentials.map((c) => checkSecret(store, c, kinds)));
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
