import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';

/** `throttled`: the client's turn is too far away; its attempt was not even compared. */
export type AuthVerdict = 'ok' | 'none' | 'refused' | 'throttled';

export interface BasicAuth {
  /**
   * `none` when the request carries no Basic credentials, `ok` when they are the configured ones,
   * `refused` otherwise. A client with recent failures waits before its answer; one whose turn
   * is more than `maxQueueMs` away is `throttled` at once (no attempt held open for long).
   */
  check(req: IncomingMessage): Promise<AuthVerdict>;
}

export interface BasicAuthOptions {
  user: string;
  password: string;
  /** Wait after a client's first failure, in ms; it doubles with each further failure. Default 250. */
  baseDelayMs?: number;
  /** Longest wait, in ms. Default 8000. */
  maxDelayMs?: number;
  /** Furthest turn an attempt waits for, in ms; beyond it the attempt is throttled. Default 30000. */
  maxQueueMs?: number;
  /** Failed and throttled attempts are logged here (the client's address, never what it sent), at most `logPerMinute` lines a minute. */
  logger?: Logger;
  /** Default 30. */
  logPerMinute?: number;
  /** Injected in tests. */
  now?: () => number;
  /** Injected in tests: waits `ms`. */
  sleep?: (ms: number) => Promise<unknown>;
}

/** Clients remembered at most; past it the oldest are forgotten (a flood of addresses cannot grow memory). */
const MAX_CLIENTS = 10_000;
/** A client's failures are forgotten this long after its last one. */
const FORGET_AFTER_MS = 15 * 60_000;

/**
 * HTTP Basic auth for the ops server (the dashboard, status messages). The given credentials are
 * compared as HMAC-SHA256 digests under a key made at start: equal-length values, compared with
 * timingSafeEqual, so neither the time taken nor an early length check says anything about the
 * password or its length. Each client (by address) that fails waits before every further answer,
 * twice as long after each failure, its attempts taking turns. Attempts still in flight (waiting
 * for their turn) count as failures for the turns after them, so attempts sent in parallel slow
 * down exactly as fast as attempts sent one after the other: guessing gains nothing by parallelism.
 * Failed and throttled attempts are logged, rate-limited.
 */
export function createBasicAuth(options: BasicAuthOptions): BasicAuth {
  const key = randomBytes(32);
  const digest = (text: string) => createHmac('sha256', key).update(text).digest();
  const expected = digest(`${options.user}:${options.password}`);
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 8_000;
  const maxQueue = options.maxQueueMs ?? 30_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  const log = failureLog(options.logger, options.logPerMinute ?? 30, now);
  const clients = new Map<string, { failures: number; inFlight: number; next: number }>();

  function forgetOld(at: number) {
    if (clients.size < MAX_CLIENTS) return;
    for (const [address, record] of clients) {
      if ((record.inFlight === 0 && record.next < at - FORGET_AFTER_MS) || clients.size >= MAX_CLIENTS) clients.delete(address);
      if (clients.size < MAX_CLIENTS / 2) break;
    }
  }

  return {
    async check(req) {
      const header = req.headers.authorization ?? '';
      if (!/^Basic /i.test(header)) return 'none';
      const given = Buffer.from(header.slice(6).trim(), 'base64').toString();
      const address = req.socket.remoteAddress ?? 'unknown';
      const record = clients.get(address);
      if (record && record.failures + record.inFlight > 0) {
        // Takes the next turn of this client: parallel attempts wait one after the other, and each
        // one ahead still in flight doubles the wait as a failure would.
        const at = now();
        const turn = Math.max(at, record.next);
        // Parallel attempts would otherwise hold sockets and timers for hours: past the queue's end, none is compared.
        if (turn - at > maxQueue) {
          log(address, 'throttled');
          return 'throttled';
        }
        record.next = turn + Math.min(max, base * 2 ** Math.min(30, record.failures + record.inFlight - 1));
        record.inFlight += 1;
        try {
          if (turn > at) await sleep(turn - at);
        } finally {
          record.inFlight -= 1;
        }
      }
      if (timingSafeEqual(digest(given), expected)) {
        clients.delete(address);
        return 'ok';
      }
      const at = now();
      const current = clients.get(address);
      if (current) current.failures += 1;
      else {
        forgetOld(at);
        clients.set(address, { failures: 1, inFlight: 0, next: at + base });
      }
      log(address, 'refused');
      return 'refused';
    },
  };
}

/**
 * One log line per failed or throttled attempt, at most `perMinute` a minute: a guessing client
 * must not become a flood of log lines. The count of those left out goes with the next line.
 */
function failureLog(logger: Logger | undefined, perMinute: number, now: () => number): (address: string, verdict: 'refused' | 'throttled') => void {
  let windowStart = Number.NEGATIVE_INFINITY;
  let written = 0;
  let skipped = 0;
  return (address, verdict) => {
    if (!logger) return;
    const at = now();
    if (at - windowStart >= 60_000) {
      windowStart = at;
      written = 0;
    }
    if (written >= perMinute) {
      skipped += 1;
      return;
    }
    written += 1;
    logger.warn({ client: address.slice(0, 64), verdict, ...(skipped ? { notLogged: skipped } : {}) }, 'ops: authentication failed');
    skipped = 0;
  };
}

/** Seconds a throttled client is told to wait (Retry-After). */
export const THROTTLED_RETRY_AFTER_S = 30;

export const BASIC_CHALLENGE = 'Basic realm="credential-rotator", charset="UTF-8"';
