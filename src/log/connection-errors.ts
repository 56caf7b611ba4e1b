import type { Logger } from './logger.ts';

/** How often one source may log a connection error: one line per this many ms at most. */
export const CONNECTION_ERROR_INTERVAL_MS = 10_000;

export interface ConnectionErrorLog {
  /** Logs `error` of `source` (a connection, a queue, the worker), or counts it when that source logged within the interval. */
  error(source: string, error: Error): void;
  /** The source answers again: one line saying so, with how many errors were held back since its last error line. */
  restored(source: string): void;
  /** Writes what is still held back (at a stop), and clears the timers. */
  flush(): void;
}

/**
 * Connection errors, rate-limited per source: while Redis is down every reconnect attempt fails
 * (several a second at first), and each BullMQ object re-emits its connection's errors. The first
 * error of a source is logged at once; later ones within `intervalMs` are counted, and the next line
 * of that source (or the line written when the interval ends) carries `suppressed`, the count held
 * back, with the latest error's class and message. Never more than one line per source per interval.
 */
export function connectionErrorLog(logger: Logger, options: { intervalMs?: number; now?: () => number } = {}): ConnectionErrorLog {
  const intervalMs = options.intervalMs ?? CONNECTION_ERROR_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const sources = new Map<string, { loggedAt: number; suppressed: number; latest?: Error; timer?: NodeJS.Timeout; failing: boolean }>();
  const write = (source: string, error: Error, suppressed: number) =>
    logger.warn({ source, err: { type: error.name, message: error.message }, ...(suppressed ? { suppressed } : {}) }, 'redis: connection error');
  const flushOne = (source: string) => {
    const entry = sources.get(source);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.suppressed > 0 && entry.latest) {
      write(source, entry.latest, entry.suppressed);
      entry.loggedAt = now();
      entry.suppressed = 0;
    }
  };
  return {
    error(source, error) {
      const entry = sources.get(source) ?? { loggedAt: -Infinity, suppressed: 0, failing: false };
      sources.set(source, entry);
      entry.failing = true;
      const since = now() - entry.loggedAt;
      if (since >= intervalMs && entry.timer === undefined) {
        write(source, error, entry.suppressed);
        entry.loggedAt = now();
        entry.suppressed = 0;
        return;
      }
      entry.suppressed += 1;
      entry.latest = error;
      // The held-back count is written when the interval ends, even if no error follows.
      entry.timer ??= setTimeout(() => flushOne(source), Math.max(intervalMs - since, 0)).unref();
    },
    restored(source) {
      const entry = sources.get(source);
      if (!entry?.failing) return;
      clearTimeout(entry.timer);
      entry.timer = undefined;
      logger.info({ source, ...(entry.suppressed ? { suppressed: entry.suppressed } : {}) }, 'redis: connection restored');
      // The interval still runs from the last error line: a flapping connection writes no more of them.
      sources.set(source, { loggedAt: entry.loggedAt, suppressed: 0, failing: false });
    },
    flush() {
      for (const source of sources.keys()) flushOne(source);
    },
  };
}
