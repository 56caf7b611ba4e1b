import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { DASHBOARD_PATH } from './ops-server.ts';

export interface DashboardOptions {
  queue: Queue;
  user: string;
  password: string;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
  const expected = `${options.user}:${options.password}`;
  return (req, res) => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
    if (!same(given, expected)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="credential-rotator dashboard", charset="UTF-8"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    // As if mounted at /dashboard: the board routes on the rest of the path.
    const rest = (req.url ?? '/').slice(DASHBOARD_PATH.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    app(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
  };
}
