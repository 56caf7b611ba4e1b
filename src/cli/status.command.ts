import { createQueue } from '../queue/producer.ts';
import { connectRedis } from './connect-redis.ts';
import { createRotationStateStore } from '../state/rotation-state.ts';
import { collectStatus } from '../status/collect.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { printTable } from './table.ts';

/** `rotator status`: per credential its state, last result, expiry and next run; queue counts. Read-only. */
export async function statusCommand(options: { configPath?: string | undefined; ids: string[]; json: boolean }): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const unknown = options.ids.filter((id) => !inventory.credentials.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`unknown credential id(s): ${unknown.join(', ')}`);
  const credentials = options.ids.length ? inventory.credentials.filter((c) => options.ids.includes(c.id)) : inventory.credentials;
  const redis = await connectRedis(env.redis, env.queuePrefix, { allowPlaintext: env.allowPlaintextRedis });
  const queue = createQueue(redis, env.queuePrefix);
  // The reads below fail with Redis's error, which the CLI reports; without a listener BullMQ would also print it raw.
  queue.on('error', () => undefined);
  try {
    const status = await collectStatus({ credentials, state: createRotationStateStore(redis, env.queuePrefix), queue });
    if (options.json) {
      console.log(JSON.stringify(status, null, 2));
    } else {
      printTable(
        ['CREDENTIAL', 'KIND', 'STATE', 'LAST RESULT', 'LAST CHECK', 'EXPIRES IN', 'NEXT RUN'],
        status.credentials.map((c) => [
          c.id,
          c.kind,
          c.state,
          c.lastResult ?? '-',
          c.lastCheckAt ?? 'never',
          c.daysToExpiry === null ? '-' : `${c.daysToExpiry} days`,
          c.nextRunAt ?? '-',
        ]),
      );
      for (const c of status.credentials.filter((x) => x.unrevoked.length)) {
        console.log(`${c.id}: NOT revoked, still valid at the provider: ${c.unrevoked.join(', ')} — revoke by hand`);
      }
      for (const c of status.credentials.filter((x) => x.leftAlone.length)) {
        console.log(`${c.id}: left alone for a person, never reaped: ${c.leftAlone.join(', ')} — delete by hand once nothing uses it`);
      }
      for (const c of status.credentials.filter((x) => x.unproven.length)) {
        console.log(`${c.id}: not provably this secret's, never deleted: ${c.unproven.join(', ')} — check whether anything uses it, delete by hand if not`);
      }
      const q = status.queue;
      console.log(`queue: ${q.waiting ?? 0} waiting, ${q.active ?? 0} active, ${q.delayed ?? 0} delayed, ${q.failed ?? 0} failed`);
    }
    return EXIT.ok;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
