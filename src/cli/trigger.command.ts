import { hostname, userInfo } from 'node:os';
import { QueueEvents } from 'bullmq';
import type { JobOutcome } from '../../jobs/index.ts';
import { QUEUE_NAME } from '../config/queue-names.ts';
import { createQueue, enqueue, jobOptions } from '../queue/producer.ts';
import { createRedisConnection } from '../redis/connection.ts';
import { ACTOR_MAX, actorField, REASON_MAX, reasonField } from '../rotation/facts.ts';
import { connectRedis } from './connect-redis.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { selectCredential } from './select.ts';

export interface TriggerOptions {
  configPath?: string | undefined;
  credentialId: string;
  force: boolean;
  /** Who asks; default ROTATOR_ACTOR, else `<os user>@<host name>`. */
  actor?: string | undefined;
  /** Why. */
  reason?: string | undefined;
  wait: boolean;
  /** Seconds `--wait` waits for the job's end. */
  timeoutSeconds: number;
  json: boolean;
}

/**
 * `rotator trigger <id>`: enqueues a manual check-credential job (rotating when due, or at once
 * with --force). With --wait, waits for its end and exits with its outcome: 0 done or skipped,
 * 1 failed, or a forced rotation refused inside the credential's cooldown (the message says when
 * it becomes possible); EXIT.timedOut (5) still running at the timeout (the job goes on).
 */
export async function triggerCommand(options: TriggerOptions): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  selectCredential(inventory, options.credentialId);
  const actor = checked('--actor', actorField, ACTOR_MAX, options.actor ?? env.actor ?? defaultActor());
  const reason = options.reason === undefined ? undefined : checked('--reason', reasonField, REASON_MAX, options.reason);
  const redis = await connectRedis(env.redis, env.queuePrefix, { allowPlaintext: env.allowPlaintextRedis });
  const queue = createQueue(redis, env.queuePrefix, jobOptions(env));
  // Listening starts before the job exists, so its end cannot be missed. BullMQ closes only its
  // own copy of a connection it is given, so this one is closed here too.
  const eventsConnection = options.wait ? createRedisConnection(env.redis, 'worker', { allowPlaintext: env.allowPlaintextRedis }) : undefined;
  eventsConnection?.on('error', () => undefined);
  const events = eventsConnection ? new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: env.queuePrefix }) : undefined;
  // The calls below fail with Redis's error, which the CLI reports; without listeners BullMQ would also print it raw.
  queue.on('error', () => undefined);
  events?.on('error', () => undefined);
  try {
    await events?.waitUntilReady();
    const job = await enqueue(queue, 'check-credential', {
      credentialId: options.credentialId,
      trigger: 'manual',
      force: options.force,
      actor,
      ...(reason === undefined ? {} : { reason }),
    });
    const jobId = job.id ?? '';
    if (!events) {
      print(options.json, { jobId, credentialId: options.credentialId, state: 'queued' }, `${options.credentialId}: queued as job ${jobId}`);
      return EXIT.ok;
    }
    try {
      const outcome = (await job.waitUntilFinished(events, options.timeoutSeconds * 1000)) as JobOutcome;
      if (outcome.action === 'force-refused') {
        // Not done: the forced rotation waits for the cooldown; the summary says when it becomes possible.
        print(
          options.json,
          { jobId, credentialId: options.credentialId, state: 'refused', possibleAt: outcome.possibleAt, outcome },
          `${options.credentialId}: REFUSED — ${outcome.summary} (job ${jobId})`,
          true,
        );
        return EXIT.failure;
      }
      print(
        options.json,
        { jobId, credentialId: options.credentialId, state: 'completed', outcome },
        `${options.credentialId}: ${outcome.status} — ${outcome.summary} (job ${jobId})`,
      );
      return EXIT.ok;
    } catch (error) {
      const message = (error as Error).message;
      const timedOut = /timed out/i.test(message);
      const state = timedOut ? 'running' : 'failed';
      const detail = timedOut ? `still running after ${options.timeoutSeconds}s; follow it with rotator status` : message;
      print(
        options.json,
        { jobId, credentialId: options.credentialId, state, error: detail },
        `${options.credentialId}: ${state.toUpperCase()} — ${detail} (job ${jobId})`,
        true,
      );
      return timedOut ? EXIT.timedOut : EXIT.failure;
    }
  } finally {
    await events?.close();
    await queue.close();
    eventsConnection?.disconnect();
    redis.disconnect();
  }
}

/** `<os user>@<host name>`; the host alone where the process has no user name (a container's numeric user). */
export function defaultActor(): string {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for the uid.
  }
  return user ? `${user}@${hostname()}` : `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
}

function checked(option: string, field: typeof actorField, max: number, value: string): string {
  const parsed = field.safeParse(value);
  if (!parsed.success)
    throw new UsageError(`${option}: ${parsed.error.issues[0]?.message ?? 'invalid'} (one line of printable text, at most ${max} characters)`);
  return parsed.data;
}

function print(json: boolean, value: unknown, text: string, toStderr = false): void {
  if (json) console.log(JSON.stringify(value));
  else if (toStderr) console.error(text);
  else console.log(text);
}
