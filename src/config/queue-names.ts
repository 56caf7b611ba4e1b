/** The one queue every job of the rotator goes through; job names tell the kinds apart. */
export const QUEUE_NAME = 'credentials';

/**
 * Default key prefix. The braces are a Redis Cluster hash tag: every BullMQ key of the queue
 * lands in one slot, which BullMQ's multi-key scripts require.
 */
export const DEFAULT_QUEUE_PREFIX = '{rotator}';
