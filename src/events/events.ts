import { Queue, Worker, type Job } from 'bullmq';
import type { JobOutcome } from '../../jobs/index.ts';
import { webhookSignature } from '../alerts/sinks.ts';
import type { CredentialBase } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { RedisClient } from '../redis/connection.ts';
import { previousStateClass } from '../rotation/previous-state.ts';
import type { RotationStateStore } from '../state/rotation-state.ts';

/**
 * Events that tell a secret's consumers to reload: `credential.rotated` once a rotation promoted
 * its new credential (AWSCURRENT holds it), `credential.revoked` once the credential it replaced
 * no longer works at the provider. Ids only, never a value: the consumer reads the secret again.
 *
 * Delivery: one BullMQ job per receiver and fact, on a queue of its own (`rotator-events`), under a
 * job id made of the receiver and the event's stable id — so a fact published twice (a job run
 * again after a crash) is delivered once while its job is kept (7 days). The job POSTs the event
 * signed as the webhook alert sink signs (`X-Rotator-Timestamp`, `X-Rotator-Signature: sha256=` the
 * hex HMAC-SHA256 of `<timestamp>.<body>`), and is retried with backoff until the receiver answers
 * 2xx: at least once, deduplicable by `id`.
 */
export type RotatorEvent =
  | {
      type: 'credential.rotated';
      id: string;
      credentialId: string;
      secretId: string;
      /** The new AWSCURRENT version (the rotation id). */
      versionId: string;
      rotatedAt: string;
      /** When the replaced credential is revoked at the earliest (the rotation plus `revokePreviousAfter`). */
      previousRevokeAfter: string;
    }
  | { type: 'credential.revoked'; id: string; credentialId: string; secretId: string; revokedAt: string };

export const EVENTS_QUEUE = 'rotator-events';

export interface EventReceiver {
  id: string;
  url: string;
  signingSecret: string;
  /** Only these credentials' events; undefined: all. */
  credentials?: readonly string[] | undefined;
}

interface Delivery {
  receiverId: string;
  event: RotatorEvent;
}

/** The id a receiver deduplicates by: the same for the same fact, whichever job or replica publishes it. */
export const eventId = (type: RotatorEvent['type'], credentialId: string, rotationId: string) => `${type}.${credentialId}.${rotationId}`;

/** A rotation credential of the inventory, as much as the events need of it. */
type EventCredential = Pick<CredentialBase, 'id' | 'secretId'> & { revokePreviousAfterMs?: number };

/**
 * The facts a job's outcome establishes. `rotated` and `already-done` (the same rotation, a job run
 * again) say a rotation was promoted; a replaced credential `revoked` or `already gone` at the
 * provider is revoked — in the rotation's own job (no overlap) or in its delayed revoke.
 */
export async function factsOf(
  outcome: JobOutcome,
  options: { credentials: readonly EventCredential[]; state: Pick<RotationStateStore, 'readStatus'>; now: () => Date },
): Promise<RotatorEvent[]> {
  const credential = options.credentials.find((c) => c.id === outcome.credentialId);
  if (!credential || !('rotationId' in outcome) || !outcome.rotationId) return [];
  const { rotationId } = outcome;
  const base = { credentialId: credential.id, secretId: credential.secretId };
  const now = options.now().toISOString();
  const revoked = (state: string | undefined): RotatorEvent[] =>
    state !== undefined && ['revoked', 'already-gone'].includes(previousStateClass(state))
      ? [{ type: 'credential.revoked', id: eventId('credential.revoked', credential.id, rotationId), ...base, revokedAt: now }]
      : [];
  if (outcome.action === 'revoke-handled') return revoked(outcome.previousState);
  if (outcome.action !== 'rotated' && outcome.action !== 'already-done') return [];
  const status = await options.state.readStatus(credential.id);
  const recorded = status.lastRotationId === rotationId;
  const rotatedAt = recorded && status.lastRotatedAt ? status.lastRotatedAt : now;
  const rotated: RotatorEvent = {
    type: 'credential.rotated',
    id: eventId('credential.rotated', credential.id, rotationId),
    ...base,
    versionId: rotationId,
    rotatedAt,
    previousRevokeAfter: new Date(Date.parse(rotatedAt) + (credential.revokePreviousAfterMs ?? 0)).toISOString(),
  };
  return [rotated, ...revoked(outcome.action === 'rotated' ? outcome.previousState : recorded ? status.previousState : undefined)];
}

export interface EventsOptions {
  connection: RedisClient;
  prefix: string;
  receivers: readonly EventReceiver[];
  logger: Logger;
  /** Deliveries of one event to one receiver, the first included. Default 10. */
  attempts?: number;
  /** The first retry's delay, in ms, doubling each time. Default 5000. */
  backoffMs?: number;
  /** Deadline of one delivery, in ms. Default 10000. */
  timeoutMs?: number;
  /** Told of each delivery's end: `delivered`, or `failed` once every attempt was refused. */
  onDelivery?: (receiverId: string, outcome: 'delivered' | 'failed') => void;
}

export interface Events {
  /** Queues one delivery per receiver of the event's credential; rejects when Redis does not take it (the job that found the fact then fails and runs again). */
  publish(event: RotatorEvent): Promise<void>;
  /** Stops taking deliveries; one in flight ends first. */
  close(): Promise<void>;
}

/** How long a delivered event's job is kept: a fact published again within it is not delivered again. */
const KEEP_DELIVERED_S = 7 * 86_400;

async function post(receiver: EventReceiver, event: RotatorEvent, timeoutMs: number): Promise<void> {
  const body = JSON.stringify(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-rotator-event': event.type,
        'x-rotator-timestamp': timestamp,
        'x-rotator-signature': `sha256=${webhookSignature(receiver.signingSecret, timestamp, body)}`,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    // Neither the URL nor fetch's own text: a receiver's URL may carry a token.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `event receiver "${receiver.id}": ${(error as Error).name === 'TimeoutError' ? 'no answer in time' : `network error${code ? ` (${code})` : ''}`}`,
    );
  }
  await response.body?.cancel();
  if (!response.ok) throw new Error(`event receiver "${receiver.id}": answered ${response.status}`);
}

export function startEvents(options: EventsOptions): Events {
  const { connection, prefix, logger } = options;
  const attempts = options.attempts ?? 10;
  const backoffMs = options.backoffMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const byId = new Map(options.receivers.map((r) => [r.id, r]));
  const queue = new Queue<Delivery>(EVENTS_QUEUE, { connection, prefix });
  queue.on('error', (error) => logger.warn({ err: { type: error.name, message: error.message } }, 'events: queue error'));
  const worker = new Worker<Delivery>(
    EVENTS_QUEUE,
    async (job: Job<Delivery>) => {
      const receiver = byId.get(job.data.receiverId);
      // A receiver removed from the inventory since: nothing to deliver to.
      if (!receiver) return 'no such receiver';
      await post(receiver, job.data.event, timeoutMs);
      return 'delivered';
    },
    { connection, prefix, concurrency: 4, autorun: true },
  );
  worker.on('error', (error) => logger.warn({ err: { type: error.name, message: error.message } }, 'events: worker error'));
  worker.on('completed', (job: Job<Delivery>) => {
    logger.info({ receiver: job.data.receiverId, eventId: job.data.event.id, type: job.data.event.type, attempt: job.attemptsMade }, 'event: delivered');
    options.onDelivery?.(job.data.receiverId, 'delivered');
  });
  worker.on('failed', (job: Job<Delivery> | undefined, error: Error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    const fields = {
      receiver: job.data.receiverId,
      eventId: job.data.event.id,
      type: job.data.event.type,
      attempt: job.attemptsMade,
      err: { type: error.name, message: error.message },
    };
    if (!final) {
      logger.warn(fields, 'event: delivery failed; retrying');
      return;
    }
    logger.error(fields, 'event: delivery failed for good');
    options.onDelivery?.(job.data.receiverId, 'failed');
  });
  return {
    async publish(event) {
      const receivers = options.receivers.filter((r) => !r.credentials || r.credentials.includes(event.credentialId));
      await Promise.all(
        receivers.map((r) =>
          queue.add(
            'deliver-event',
            { receiverId: r.id, event },
            {
              jobId: `${r.id}.${event.id}`,
              attempts,
              backoff: { type: 'exponential', delay: backoffMs },
              removeOnComplete: { age: KEEP_DELIVERED_S },
              removeOnFail: { age: 4 * KEEP_DELIVERED_S },
            },
          ),
        ),
      );
      if (receivers.length) logger.info({ eventId: event.id, type: event.type, receivers: receivers.length }, 'event: queued');
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
