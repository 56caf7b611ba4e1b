import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBasicAuth } from '../../src/http/basic-auth.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.ts';
import type { CredentialView, StatusView } from '../../src/status/collect.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { rawRequest } from '../support/raw-http.ts';

const USER = 'ops';
const PASSWORD = 'a-long-dashboard-password';
const MESSAGE = 'arn:aws:iam::123456789012:role/rotator is not authorized';
const servers: OpsServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await server.close();
});

function credential(i: number, summary: string): CredentialView {
  return {
    id: `dg-${i}`,
    kind: 'degreed-client-credentials',
    state: 'failing',
    lastResult: 'failed',
    lastSummary: summary,
    errorClass: 'SecretAccessDeniedError',
    lastCheckAt: '2026-12-03T03:00:00.000Z',
    lastSuccessAt: null,
    expiresAt: null,
    daysToExpiry: null,
    lastRotatedAt: null,
    previousState: null,
    previousStateClass: null,
    unrevoked: [],
    unproven: [],
    leftAlone: [],
    nextRunAt: null,
  };
}

/** A status view that counts how often it is rendered: every rendering (HTML, JSON, without messages) reads `credentials`. */
function countedView(summary: string, count = 3): { view: StatusView; reads: () => number } {
  const list = Array.from({ length: count }, (_, i) => credential(i, summary));
  let reads = 0;
  const view = { generatedAt: new Date().toISOString(), queue: { waiting: 0 } } as unknown as StatusView;
  Object.defineProperty(view, 'credentials', {
    enumerable: true,
    get: () => {
      reads += 1;
      return list;
    },
  });
  return { view, reads: () => reads };
}

async function serve(status: () => Promise<StatusView>, limits: { maxConnections?: number } = {}) {
  const { logger, lines } = captureLogger();
  const server = await startOpsServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    limits,
    metrics: createMetrics(status),
    runtime: { redis: { ping: async () => 'PONG' }, status, auth: createBasicAuth({ user: USER, password: PASSWORD }) },
  });
  servers.push(server);
  return { base: `http://127.0.0.1:${server.port}`, port: server.port, lines };
}

const authorized = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

describe('the ops server under load', () => {
  it('renders /status and /status.json once per status view and variant, and afresh when the view changes', async () => {
    let current = countedView('first read');
    const { base } = await serve(async () => current.view);
    const paths = ['/status', '/status.json'];
    const bodies = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${base}${paths[i % 2]}`).then((r) => r.text())));
    // Two renderings (HTML and JSON, both without messages; each reads the list twice at most), whatever the number of requests.
    const rendered = current.reads();
    expect(rendered).toBeGreaterThanOrEqual(2);
    expect(rendered).toBeLessThanOrEqual(4);
    const again = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${base}${paths[i % 2]}`).then((r) => r.text())));
    expect(current.reads()).toBe(rendered);
    expect(again).toEqual(bodies);
    expect(bodies.join('')).not.toContain('first read');

    // The dashboard's users get their own rendering, with the messages; the public one stays without them.
    const full = await (await fetch(`${base}/status.json`, { headers: authorized })).text();
    expect(full).toContain('first read');
    const withFull = current.reads();
    expect(withFull).toBeGreaterThan(rendered);
    expect(await (await fetch(`${base}/status.json`, { headers: authorized })).text()).toBe(full);
    expect(await (await fetch(`${base}/status.json`)).text()).not.toContain('first read');
    expect(current.reads()).toBe(withFull);

    // New data (the status read's next period): rendered afresh, never the old body.
    current = countedView(MESSAGE, 4);
    const json = (await (await fetch(`${base}/status.json`)).json()) as StatusView;
    expect(json.credentials).toHaveLength(4);
    expect(JSON.stringify(json)).not.toContain(MESSAGE);
    expect(await (await fetch(`${base}/status`, { headers: authorized })).text()).toContain('data-credential="dg-3"');
  });

  it('closes connections past maxConnections at once, says so in the log, and serves again when they go', async () => {
    const { view } = countedView('x');
    const { base, port, lines } = await serve(async () => view, { maxConnections: 4 });
    // Four idle connections, each seen by the server (a keep-alive request answered on it).
    for (let i = 0; i < 4; i += 1) {
      const socket = connect({ port, host: '127.0.0.1' });
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    }
    // The fifth is closed without an answer.
    const refused = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 5_000 });
    expect(refused).toMatchObject({ status: 'closed', closed: true });
    await expect.poll(() => lines.some((l) => l.includes('"reason":"too many connections"')), { timeout: 5_000, interval: 20 }).toBe(true);
    // When they go, the server takes new ones.
    for (const socket of sockets.splice(0)) socket.destroy();
    await expect.poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: 5_000, interval: 20 }).toBe(200);
  });
});
