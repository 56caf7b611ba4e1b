import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedRequest } from './http.ts';

/** What a fake does instead of (or, for latency, before) answering normally. */
export type Fault =
  /** Wait `ms`, then answer normally. */
  | { kind: 'latency'; ms: number }
  /** Answer `status` (429, 500, 503, an HTML error page…); body defaults to `{"message": "injected <status>"}`. */
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: string; contentType?: string }
  /** Destroy the socket without answering. */
  | { kind: 'reset' }
  /** 200 with a JSON content type and a body that does not parse (truncated by default). */
  | { kind: 'malformed'; body?: string }
  /** Answer nothing for `ms`, then destroy the socket: for client timeouts. */
  | { kind: 'hang'; ms: number }
  /** 200 with `text/html` and an HTML page, as a proxy or WAF in front of the provider answers. */
  | { kind: 'wrong-content-type' }
  /** A redirect (302 by default) to `location`, e.g. another host, with an empty body. */
  | { kind: 'redirect'; status?: 301 | 302 | 303 | 307 | 308; location: string }
  /** Exactly this status, these headers (none by default, not even a content type) and this body (empty by default). */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** The route runs (a create creates), then the socket is destroyed before its answer: a lost answer. */
  | { kind: 'lose-answer' };

export type FaultKind = Fault['kind'];

export interface FaultMatch<S extends string = string> {
  method?: string;
  /** A string matches when the path contains it; a RegExp is tested against the path. */
  path?: string | RegExp;
  /** Which of the fake's hosts (`api` / `web` for Credly, `token` / `api` for Degreed, `public` / `user` for Learn.link). */
  server?: S;
}

export interface FaultRule<S extends string = string> {
  /** Which requests the rule hits; default every request. */
  match?: FaultMatch<S>;
  /** How many matching requests the rule hits; default 1 (Infinity allowed). */
  times?: number;
  /** Matching requests to let through before the rule starts hitting; default 0. */
  skip?: number;
  fault: Fault;
}

export interface RandomFaults<S extends string = string> {
  /** Share of eligible requests that get a fault, 0–1. */
  rate: number;
  /** Same seed, same sequence of requests → same faults. */
  seed: number;
  /** Faults to choose from, uniformly; a bare kind stands for its default (see DEFAULT_FAULTS). Default RANDOM_FAULTS. */
  kinds?: Array<Fault | FaultKind>;
  /** Which requests are eligible; default every request. */
  match?: FaultMatch<S>;
}

/** What a bare kind in `setRandom({ kinds })` stands for. */
export const DEFAULT_FAULTS: Record<FaultKind, Fault> = {
  latency: { kind: 'latency', ms: 100 },
  status: { kind: 'status', status: 503, retryAfter: 1 },
  reset: { kind: 'reset' },
  malformed: { kind: 'malformed' },
  hang: { kind: 'hang', ms: 1_000 },
  'wrong-content-type': { kind: 'wrong-content-type' },
  redirect: { kind: 'redirect', status: 302, location: 'http://127.0.0.1:9/elsewhere' },
  respond: { kind: 'respond', status: 200 },
  'lose-answer': { kind: 'lose-answer' },
};

/** The default random mix: what a flaky provider answers, without the slow kinds. */
export const RANDOM_FAULTS: Fault[] = [
  { kind: 'status', status: 429, retryAfter: 1 },
  { kind: 'status', status: 429 },
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503, retryAfter: 1 },
  { kind: 'reset' },
  { kind: 'malformed' },
  { kind: 'wrong-content-type' },
];

/** mulberry32: a tiny seeded PRNG in [0, 1), so a soak run's faults can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AppliedFault<S extends string = string> {
  server: S;
  method: string;
  path: string;
  fault: Fault;
}

/**
 * Fault injection shared by the fakes (one injector per fake, across its hosts). Rules are consumed
 * in the order they were added; when none matches, the random mode (if set) may pick one.
 * `latencyMs` delays every request before anything else.
 */
export class FaultInjector<S extends string = string> {
  /** Delay before every request; starts at the fake's `latencyMs` option and returns to it on `clear()`. */
  latencyMs: number;
  /** Faults actually applied, in order (tests and soak reports read it). */
  readonly applied: Array<AppliedFault<S>> = [];
  private readonly baseLatencyMs: number;
  private rules: Array<{ rule: FaultRule<S>; left: number; skip: number }> = [];
  private random: { rate: number; next: () => number; faults: Fault[]; match: FaultMatch<S> | undefined } | undefined;

  constructor(options: { latencyMs?: number } = {}) {
    this.baseLatencyMs = options.latencyMs ?? 0;
    this.latencyMs = this.baseLatencyMs;
  }

  add(rule: FaultRule<S>): this {
    const left = rule.times ?? 1;
    if (!(left > 0)) throw new RangeError(`fault rule times must be positive, got ${left}`);
    this.rules.push({ rule, left, skip: rule.skip ?? 0 });
    return this;
  }

  setRandom(options: RandomFaults<S>): this {
    if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`random fault rate must be within 0–1, got ${options.rate}`);
    const faults = (options.kinds ?? RANDOM_FAULTS).map((k) => (typeof k === 'string' ? DEFAULT_FAULTS[k] : k));
    if (faults.length === 0) throw new RangeError('random faults need at least one kind');
    this.random = { rate: options.rate, next: seededRandom(options.seed), faults, match: options.match };
    return this;
  }

  /** Drops every rule, the random mode and the applied log; latency returns to the fake's option. */
  clear(): void {
    this.rules = [];
    this.random = undefined;
    this.latencyMs = this.baseLatencyMs;
    this.applied.length = 0;
  }

  /** Rule hits not yet consumed (Infinity when a rule is unlimited); 0 means every injected fault fired. */
  pending(): number {
    return this.rules.reduce((sum, r) => sum + r.left, 0);
  }

  private pick(req: RecordedRequest<S>): Fault | undefined {
    const index = this.rules.findIndex((r) => matches(r.rule.match, req));
    const entry = this.rules[index];
    if (entry && entry.skip > 0) {
      // Let this one through untouched (no random fault either): the rule waits for a later match.
      entry.skip -= 1;
      return undefined;
    }
    if (entry) {
      entry.left -= 1;
      if (entry.left <= 0) this.rules.splice(index, 1);
      return entry.rule.fault;
    }
    const random = this.random;
    if (random && matches(random.match, req) && random.next() < random.rate) {
      return random.faults[Math.floor(random.next() * random.faults.length)];
    }
    return undefined;
  }

  /**
   * Applies the fault due for this request: `answered` when the response is already dealt with,
   * `route` when the route answers, `route-then-lose` when the route runs but its answer is lost.
   */
  async apply(req: RecordedRequest<S>, res: ServerResponse, signal: AbortSignal): Promise<'answered' | 'route' | 'route-then-lose'> {
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { signal });
      const fault = this.pick(req);
      if (!fault) return 'route';
      this.applied.push({ server: req.server, method: req.method, path: req.path, fault });
      if (fault.kind === 'lose-answer') return 'route-then-lose';
      return (await answer(fault, res, signal)) ? 'answered' : 'route';
    } catch (error) {
      // The fake is closing while the request waits: drop the connection like a dying server would.
      if (!signal.aborted) throw error;
      res.socket?.destroy();
      return 'answered';
    }
  }
}

async function answer(fault: Fault, res: ServerResponse, signal: AbortSignal): Promise<boolean> {
  if (res.destroyed) return true; // the client gave up while the global latency ran
  switch (fault.kind) {
    case 'latency':
      await sleep(fault.ms, undefined, { signal });
      return false;
    case 'status': {
      const headers: Record<string, string> = { 'content-type': fault.contentType ?? 'application/json; charset=utf-8' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      res.writeHead(fault.status, headers);
      res.end(fault.body ?? JSON.stringify({ message: `injected ${fault.status}` }));
      return true;
    }
    case 'reset':
      res.socket?.destroy();
      return true;
    case 'hang':
      await sleep(fault.ms, undefined, { signal });
      res.socket?.destroy();
      return true;
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(fault.body ?? '{"data": {"id": "7f3c2a9e-');
      return true;
    case 'wrong-content-type':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>');
      return true;
    case 'redirect':
      res.writeHead(fault.status ?? 302, { location: fault.location, 'content-length': '0' });
      res.end();
      return true;
    case 'respond':
      res.writeHead(fault.status, fault.headers ?? {});
      res.end(fault.body ?? '');
      return true;
    case 'lose-answer':
      // Played by the server after its route ran (FaultInjector.apply).
      return false;
  }
}

function matches<S extends string>(m: FaultMatch<S> | undefined, req: RecordedRequest<S>): boolean {
  if (!m) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== req.method) return false;
  if (m.server !== undefined && m.server !== req.server) return false;
  if (m.path === undefined) return true;
  if (typeof m.path === 'string') return req.path.includes(m.path);
  m.path.lastIndex = 0; // a /g or /y pattern keeps state between tests
  return m.path.test(req.path);
}
