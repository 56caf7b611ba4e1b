import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';
import type { StatusView } from '../status/collect.ts';
import type { RotatorMetrics } from './metrics.ts';
import { renderStatusPage } from './status-page.ts';

/** Where the dashboard is mounted (kept here so the server does not load bull-board when it is off). */
export const DASHBOARD_PATH = '/dashboard';

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The worker's ops endpoints: `/healthz` (the process answers), `/readyz` (configuration loaded and
 * Redis reachable), `/metrics` (Prometheus), `/status` (read-only page) and `/status.json`.
 */
export async function startOpsServer(options: {
  port: number;
  /** Resolves when Redis is usable, rejects (saying why) when not: `/readyz`. */
  redis: { ping(): Promise<unknown> };
  metrics: RotatorMetrics;
  status: () => Promise<StatusView>;
  logger: Logger;
  /** Interface to listen on. Default `0.0.0.0`: in a pod the kubelet probes the pod's IP. */
  host?: string;
  /** The dashboard's handler, mounted at /dashboard. Default: none (off). */
  dashboard?: (req: IncomingMessage, res: ServerResponse) => void;
}): Promise<OpsServer> {
  const { logger } = options;
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (options.dashboard && (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`))) return options.dashboard(req, res);
    const handle = async () => {
      switch (path) {
        case '/healthz':
          return send(res, 200, 'application/json', '{"status":"ok"}\n');
        case '/readyz': {
          // Why not, when not: "cluster state is fail", "connected to a slave, not the master", a timeout.
          const problem = await Promise.race([
            options.redis.ping().then(() => undefined, (error: unknown) => (error instanceof Error ? error.message : String(error))),
            new Promise<string>((resolve) => setTimeout(() => resolve('no answer within 1 s'), 1_000).unref()),
          ]);
          const body = problem === undefined ? { status: 'ready', configuration: 'loaded', redis: 'reachable' } : { status: 'not ready', configuration: 'loaded', redis: 'unreachable', reason: problem };
          return send(res, problem === undefined ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
        }
        case '/metrics':
          return send(res, 200, options.metrics.registry.contentType, await options.metrics.registry.metrics());
        case '/status':
          return send(res, 200, 'text/html; charset=utf-8', renderStatusPage(await options.status()));
        case '/status.json':
          return send(res, 200, 'application/json', `${JSON.stringify(await options.status(), null, 2)}\n`);
        default:
          return send(res, 404, 'text/plain', 'not found\n');
      }
    };
    handle().catch((error: unknown) => {
      logger.warn({ path, err: { type: (error as Error).name, message: (error as Error).message } }, 'ops: request failed');
      if (!res.headersSent) send(res, 503, 'text/plain', 'unavailable\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'ops: listening');
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
