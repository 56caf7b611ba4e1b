import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';
import { withoutMessages } from '../status/public-view.ts';
import type { StatusView } from '../status/collect.ts';
import { BASIC_CHALLENGE, THROTTLED_RETRY_AFTER_S, type BasicAuth } from './basic-auth.ts';
import type { RotatorMetrics } from './metrics.ts';
import { DEFAULT_OPS_LIMITS, guardServer, refusalLog, targetPath, type OpsLimits } from './ops-guard.ts';
import { renderStatusJson, renderStatusPage } from './status-page.ts';

/** Where the dashboard is mounted (kept here so the server does not load bull-board when it is off). */
export const DASHBOARD_PATH = '/dashboard';

/** What the routes beyond /healthz need: attached once the worker has started. */
export interface OpsRuntime {
  /** Resolves when Redis is usable, rejects when not: `/readyz` (an error's `state`, a RedisState, names why). */
  redis: { ping(): Promise<unknown> };
  /**
   * The status view with its messages; the server hides them from whoever may not see them. It
   * answers within a second whatever Redis does (`lastKnownStatus`); `undefined`: none read yet.
   */
  status: () => Promise<StatusView | undefined>;
  /** The dashboard's handler, mounted at /dashboard. Default: none (off). */
  dashboard?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The dashboard's credentials; a /status request carrying them sees the messages. */
  auth?: BasicAuth;
  /** ROTATOR_STATUS_PUBLIC_MESSAGES: messages shown to anyone. Default false. */
  publicMessages?: boolean;
}

export interface OpsServer {
  readonly port: number;
  /** Serves readiness, metrics, status and the dashboard from now on. */
  attach(runtime: OpsRuntime): void;
  close(): Promise<void>;
}

type Send = (status: number, type: string, body: string | Buffer, headers?: Record<string, string>) => void;

/**
 * What `/readyz` says of Redis: a state, never an error's text (which may name hosts, users or
 * keys). `reachable`; `connecting` (the worker has not reached it yet); `unreachable` (refused,
 * reset, unknown host…); `no-answer` (nothing within 1 s); `cluster-not-ok` (a cluster whose state
 * is not ok); `not-master` (under Sentinel, connected to a replica).
 */
export type RedisState = 'reachable' | 'connecting' | 'unreachable' | 'no-answer' | 'cluster-not-ok' | 'not-master';

const NOT_READY_STATES: ReadonlySet<string> = new Set(['cluster-not-ok', 'not-master']);

/** The state an error of `redis.ping()` stands for: its own `state` when it names one, else `unreachable`. */
function stateOf(error: unknown): RedisState {
  const state = (error as { state?: unknown } | undefined)?.state;
  return typeof state === 'string' && NOT_READY_STATES.has(state) ? (state as RedisState) : 'unreachable';
}

/** Which rendering of the status view a request gets: with or without messages, as HTML or JSON. */
type StatusVariant = `${'full' | 'public'} ${'/status' | '/status.json'}`;

/**
 * The rendered status bodies, kept with the view they were rendered from: the status read is itself
 * cached (one read of Redis per few seconds, `cachedStatus`), and each of its views is rendered at
 * most once per variant, whatever the number of requests. A new view (new data, or the read's
 * period over) is rendered afresh; an old one and its bodies go with it (a WeakMap).
 */
function statusBodies(): (view: StatusView, variant: StatusVariant, render: () => Promise<string>) => Promise<Buffer> {
  const cache = new WeakMap<StatusView, Map<StatusVariant, Promise<Buffer>>>();
  return (view, variant, render) => {
    let bodies = cache.get(view);
    if (!bodies) cache.set(view, (bodies = new Map<StatusVariant, Promise<Buffer>>()));
    let body = bodies.get(variant);
    // Requests that come while it is rendered wait for that one rendering.
    if (!body) bodies.set(variant, (body = render().then((text) => Buffer.from(text))));
    return body;
  };
}

async function route(
  path: string,
  req: IncomingMessage,
  runtime: OpsRuntime | undefined,
  metrics: RotatorMetrics | undefined,
  send: Send,
  bodies: ReturnType<typeof statusBodies>,
): Promise<void> {
  if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}\n');
  // Process and Node metrics from the start; the per-credential series once Redis was read (metrics.ts).
  if (path === '/metrics' && metrics) return send(200, metrics.registry.contentType, await metrics.registry.metrics());
  if (!runtime) {
    // Started, configuration loaded, Redis not reached yet: alive, not ready.
    if (path === '/readyz') return send(503, 'application/json', '{"status":"not ready","configuration":"loaded","redis":"connecting"}\n');
    if (['/metrics', '/status', '/status.json'].includes(path)) return send(503, 'text/plain', 'starting\n');
    return send(404, 'text/plain', 'not found\n');
  }
  switch (path) {
    case '/readyz': {
      const state = await Promise.race([
        runtime.redis.ping().then(() => 'reachable' as const, stateOf),
        new Promise<RedisState>((resolve) => setTimeout(() => resolve('no-answer'), 1_000).unref()),
      ]);
      const body = { status: state === 'reachable' ? 'ready' : 'not ready', configuration: 'loaded', redis: state };
      return send(state === 'reachable' ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
    }
    case '/status':
    case '/status.json': {
      // Messages (provider and AWS text) only for the dashboard's users, or when shown on purpose.
      const verdict = runtime.auth ? await runtime.auth.check(req) : 'none';
      if (verdict === 'refused') return send(401, 'text/plain', 'authentication required\n', { 'www-authenticate': BASIC_CHALLENGE });
      if (verdict === 'throttled') return send(429, 'text/plain', 'too many failed attempts\n', { 'retry-after': String(THROTTLED_RETRY_AFTER_S) });
      const full = await runtime.status();
      // Redis never answered since the start: a state, not an error's text.
      if (!full) return send(503, 'application/json', '{"status":"not read yet","redis":"unreachable"}\n');
      const shown = verdict === 'ok' || runtime.publicMessages ? 'full' : 'public';
      const view = () => (shown === 'full' ? full : withoutMessages(full));
      return path === '/status'
        ? send(200, 'text/html; charset=utf-8', await bodies(full, `${shown} /status`, () => renderStatusPage(view())))
        : send(200, 'application/json', await bodies(full, `${shown} /status.json`, () => renderStatusJson(view())));
    }
    default:
      return send(404, 'text/plain', 'not found\n');
  }
}

/**
 * The worker's ops endpoints: `/healthz` (the process answers), `/readyz` (configuration loaded and
 * Redis reachable), `/metrics` (Prometheus), `/status` (read-only page) and `/status.json`.
 *
 * Started before anything else so a pod is alive (and stoppable) while Redis is still being
 * reached; the rest is attached when the worker runs. Whoever reaches the port may send anything:
 * every request is handled inside one guard and gets 400, 404, 405, 408 or 431 when it is not
 * one of these, with one short log line; the process never falls over.
 */
export async function startOpsServer(options: {
  port: number;
  logger: Logger;
  /** Interface to listen on. Default `0.0.0.0`: in a pod the kubelet probes the pod's IP. */
  host?: string;
  limits?: Partial<OpsLimits>;
  /** Served at `/metrics` from the start, whatever Redis does. Default: none (`/metrics` answers 503 until attached). */
  metrics?: RotatorMetrics;
  /** Attach at once (tests of the routes). */
  runtime?: OpsRuntime;
}): Promise<OpsServer> {
  const { logger } = options;
  const limits = { ...DEFAULT_OPS_LIMITS, ...options.limits };
  const refused = refusalLog(logger);
  const bodies = statusBodies();
  let runtime = options.runtime;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const send: Send = (status, type, body, headers = {}) => {
      if (res.headersSent || res.destroyed) return;
      if (status === 404) refused({ status, reason: 'not found', ...(req.method ? { method: req.method } : {}) });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(body);
    };
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}) => {
      refused({ status, reason, ...(req.method ? { method: req.method } : {}) });
      // A client that sends what no one here serves gets its answer and the connection closed.
      send(status, 'text/plain', `${reason}\n`, { ...headers, connection: 'close' });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, 'method not allowed', { allow: 'GET, HEAD' });
    const path = targetPath(req.url);
    if (path === undefined) return refuse(400, 'bad request target');
    if (runtime?.dashboard && (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`))) {
      // The board routes on an origin-form target: an absolute-form one is reduced to its path.
      if (!req.url?.startsWith('/')) req.url = path;
      return runtime.dashboard(req, res);
    }
    route(path, req, runtime, options.metrics, send, bodies).catch((error: unknown) => {
      logger.warn({ path: path.slice(0, 64), err: { type: (error as Error).name, message: (error as Error).message } }, 'ops: request failed');
      if (!res.headersSent) send(503, 'text/plain', 'unavailable\n');
      else res.destroy();
    });
  };

  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      // The one guard: whatever a handler throws synchronously ends as a 400 here, not in the process.
      try {
        handle(req, res);
      } catch (error) {
        refused({ status: 400, reason: (error as Error).name || 'error', ...(req.method ? { method: req.method } : {}) });
        if (!res.headersSent) {
          res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
          res.end('bad request\n');
        } else res.destroy();
      }
    },
  );
  server.keepAliveTimeout = 5_000;
  server.maxConnections = limits.maxConnections;
  // Past maxConnections Node closes the new socket at once; that is said in the (rate-limited) log.
  server.on('drop', () => refused({ status: 503, reason: 'too many connections' }));
  guardServer(server, logger, refused);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'ops: listening');
  return {
    port,
    attach(next) {
      runtime = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
