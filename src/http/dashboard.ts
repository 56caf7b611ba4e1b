import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { BASIC_CHALLENGE, THROTTLED_RETRY_AFTER_S, type BasicAuth } from './basic-auth.ts';
import { DASHBOARD_PATH } from './ops-server.ts';

export interface DashboardOptions {
  queue: Queue;
  /** The dashboard's credentials (shared with the status page's messages, failures counted once). */
  auth: BasicAuth;
}

/**
 * The BullMQ dashboard (bull-board), read-only, behind HTTP Basic auth. Off unless configured:
 * it shows job data and failure reasons, which hold ids and messages only, but no one else needs them.
 */
export function createDashboard(options: DashboardOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(options.queue, { readOnlyMode: true })], serverAdapter: adapter });
  const app = adapter.getRouter() as (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    // As if mounted at /dashboard: the board routes on the rest of the path.
    const rest = (req.url ?? '/').slice(DASHBOARD_PATH.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    app(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
  };
  return (req, res) => {
    options.auth
      .check(req)
      .then((verdict) => {
        if (verdict === 'ok') return serve(req, res);
        if (verdict === 'throttled') {
          res.writeHead(429, { 'retry-after': String(THROTTLED_RETRY_AFTER_S), 'content-type': 'text/plain', 'cache-control': 'no-store' });
          res.end('too many failed attempts\n');
          return;
        }
        res.writeHead(401, { 'www-authenticate': BASIC_CHALLENGE, 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end('authentication required\n');
      })
      // Whatever the board throws ends here, never as an unhandled rejection.
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('error\n');
      });
  };
}
