import { QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createQueue } from '../../src/queue/producer.ts';

/**
 * The queue of one prefix and its events, on a Redis connection of their own (the events on a
 * copy: BullMQ closes only the copies it makes itself), as the in-process worker harnesses use
 * them. `close` stops the given worker first, then removes every job of the prefix.
 */
export function openJobQueue(prefix: string) {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const eventsConnection = redis.duplicate();
  const queue = createQueue(redis, prefix);
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix });
  return {
    redis,
    queue,
    events,
    async close(worker?: Pick<Worker, 'close'>): Promise<void> {
      await worker?.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      eventsConnection.disconnect();
      redis.disconnect();
    },
  };
}
