import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { credlyEndpoints, useFakeHosts } from '../support/fake-hosts.ts';
import { rawRequest, type RawAnswer } from '../support/raw-http.ts';
import { credlyToken, entryYaml, useScenarios, type WorkerProcess } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} }, { clearAfterEach: false });
const scenarios = useScenarios('hostile');

const H = 'Host: rotator\r\n';
const long = (n: number) => 'a'.repeat(n);

/** Each hostile request, as bytes, and the answers that are acceptable for it (`closed`: no answer, connection closed). */
const HOSTILE: Array<{ name: string; send: string | Buffer | string[]; expect: Array<number | 'closed'>; halfClose?: boolean; waitMs?: number }> = [
  { name: 'target //[ (crashed the old server)', send: `GET //[ HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'target //', send: `GET // HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'absolute-form target with a bad host', send: `GET http://[ HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'absolute-form target', send: `GET http://rotator/nope HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [404] },
  { name: 'asterisk target', send: `GET * HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'target without a slash', send: `GET healthz HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'percent garbage in the path', send: `GET /%ZZ%%/..%2f HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [404] },
  { name: 'path traversal', send: `GET /../../etc/passwd HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [404] },
  { name: 'dashboard while it is off', send: `GET /dashboard/api/queues HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [404] },
  { name: 'unknown method', send: `BREW /healthz HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  { name: 'DELETE', send: `DELETE /status HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [405] },
  { name: 'POST with a body', send: `POST /healthz HTTP/1.1\r\n${H}Content-Length: 5\r\nConnection: close\r\n\r\nhello`, expect: [405] },
  { name: 'PUT', send: `PUT /metrics HTTP/1.1\r\n${H}Content-Length: 0\r\nConnection: close\r\n\r\n`, expect: [405] },
  { name: 'OPTIONS', send: `OPTIONS / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [405] },
  { name: 'TRACE', send: `TRACE / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [405] },
  { name: 'CONNECT', send: `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`, expect: [405] },
  { name: 'protocol upgrade', send: `GET /healthz HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, expect: [405] },
  { name: 'one 20 kB header', send: `GET /healthz HTTP/1.1\r\n${H}X-Big: ${long(20_000)}\r\n\r\n`, expect: [431] },
  { name: '2,000 small headers', send: `GET /healthz HTTP/1.1\r\n${H}${Array.from({ length: 2_000 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, expect: [431] },
  { name: '100 kB target', send: `GET /${long(100_000)} HTTP/1.1\r\n${H}\r\n`, expect: [431] },
  { name: 'header name with a space', send: `GET /healthz HTTP/1.1\r\n${H}Bad Header: x\r\n\r\n`, expect: [400] },
  { name: 'NUL in a header value', send: `GET /healthz HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, expect: [400] },
  { name: 'NUL in the target', send: `GET /status\u0000 HTTP/1.1\r\n${H}\r\n`, expect: [400] },
  {
    name: 'non-ASCII bytes in the target',
    send: Buffer.concat([Buffer.from('GET /'), Buffer.from([0xc3, 0xbc, 0xff]), Buffer.from(` HTTP/1.1\r\n${H}\r\n`)]),
    expect: [400],
  },
  { name: 'HTTP/9.9', send: `GET /healthz HTTP/9.9\r\n${H}\r\n`, expect: [400, 505] },
  { name: 'HTTP/0.9 request line', send: 'GET /\r\n\r\n', expect: [400, 404] },
  { name: 'no Host header', send: 'GET /healthz HTTP/1.1\r\n\r\n', expect: [400] },
  {
    name: 'Content-Length and Transfer-Encoding both',
    send: `POST /healthz HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    expect: [400],
  },
  { name: 'negative Content-Length', send: `GET /healthz HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, expect: [400] },
  { name: 'broken chunk size', send: `POST /healthz HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nZZZ\r\nxx\r\n`, expect: [405, 400] },
  { name: 'binary garbage', send: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)), expect: [400] },
  {
    name: 'a TLS ClientHello on the plain port',
    send: Buffer.from('160301020001000200030300000000000000000000000000000000000000000000000000', 'hex'),
    expect: [400],
  },
  // Blank lines before a request are allowed: the server waits for one, then the headers timeout closes it.
  { name: 'only blank lines', send: '\r\n\r\n\r\n\r\n', expect: [400, 408, 'closed'], waitMs: 15_000 },
  {
    name: 'half-open: headers cut off, then the client closes its side',
    send: `GET /healthz HTTP/1.1\r\n${H}X-Part`,
    halfClose: true,
    expect: [400, 'closed'],
  },
  { name: 'a 4 kB query (within limits)', send: `GET /healthz?${long(4_000)} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [200] },
  { name: 'HEAD', send: `HEAD /healthz HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [200] },
];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the ops server of a worker process against hostile clients', () => {
  it(`answers ${HOSTILE.length} hostile requests, cuts off slow and silent clients, and keeps serving and rotating`, async () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(30);
    const c = credlyToken(hosts.credly, { folder: 'hostile', ageDays: 170 });
    const { org, token } = c;
    const t = await scenarios.build({ credentials: [c], workers: 1 });
    const [worker] = t.workers as [WorkerProcess];
    const port = await worker.port();

    // Slow clients first, left hanging while the rest goes on: one trickles its headers, one sends nothing.
    const slowloris = rawRequest(port, `GET /healthz HTTP/1.1\r\n${H}X-Slow: `, { waitMs: 20_000 });
    const silent = rawRequest(port, '', { waitMs: 20_000 });

    const answers: Array<{ name: string; answer: RawAnswer }> = [];
    // Every hostile connection is closed by the server after its answer: the waits are only ceilings.
    const options = (c: (typeof HOSTILE)[number]) => ({ waitMs: c.waitMs ?? 10_000, ...(c.halfClose ? { halfClose: true } : {}) });
    for (const c of HOSTILE) answers.push({ name: c.name, answer: await rawRequest(port, c.send, options(c)) });
    // The same requests at once, as a flood would send them.
    const flood = await Promise.all(HOSTILE.map((c) => rawRequest(port, c.send, options(c))));
    // 100 pipelined requests on one connection: each answered in turn.
    const pipelined = await rawRequest(port, `${`GET /healthz HTTP/1.1\r\n${H}\r\n`.repeat(99)}GET /healthz HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, {
      waitMs: 5_000,
    });

    const wrong = HOSTILE.flatMap((c, i) => [
      ...(c.expect.includes(answers[i]!.answer.status) ? [] : [`${c.name}: ${answers[i]!.answer.status}`]),
      ...(c.expect.includes(flood[i]!.status) ? [] : [`${c.name} (flood): ${flood[i]!.status}`]),
      ...(answers[i]!.answer.closed && flood[i]!.closed ? [] : [`${c.name}: connection left open`]),
    ]);
    expect(wrong).toEqual([]);
    expect(pipelined.statuses).toEqual(Array.from({ length: 100 }, () => 200));

    // The slow clients are cut off by the server (headers timeout: 5 s), long before their own 20 s wait.
    const [slow, quiet] = await Promise.all([slowloris, silent]);
    expect(slow.closed).toBe(true);
    expect([408, 'closed']).toContain(slow.status);
    expect(quiet.closed).toBe(true);

    // Alive, healthy, ready, and rotating.
    expect(worker.child.exitCode).toBeNull();
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const trigger = t.spawn(['trigger', c.id, '--wait']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);
    expect(trigger.output()).toContain('rotated');
    expect(hosts.credly.state.tokens(org).filter((t) => t.id !== token.id)).toHaveLength(1);

    // Each refusal left one short line (at most 30 a minute, the rest counted), never the request itself.
    const refusals = worker.lines.filter((l) => l.includes('"msg":"ops: refused"'));
    expect(refusals.length).toBeGreaterThanOrEqual(20);
    expect(refusals.length).toBeLessThanOrEqual(31);
    for (const line of refusals) expect(line.length).toBeLessThan(300);
    const logged = new Set(refusals.map((l) => (JSON.parse(l) as { status: number }).status));
    for (const status of [400, 404, 405, 431]) expect(logged).toContain(status);
    expect(worker.output()).not.toContain(long(1_000));
  }, 90_000);

  it('answers /healthz and stops cleanly on SIGTERM while Redis cannot be reached', async () => {
    const c = {
      id: 'credly-no-redis',
      kind: 'credly-authorization-token',
      secretId: 'test/hostile/no-redis',
      organizationId: '00000000-0000-0000-0000-000000000000',
      environment: 'production',
    };
    const yaml = entryYaml(c, credlyEndpoints(hosts.credly));
    // A port nothing listens on: every connection attempt is refused, for as long as the test runs.
    const t = await scenarios.build({ credentials: [{ ...c, yaml }], env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    const worker = t.spawn(['worker']);
    const { port } = (await worker.waitForLog('ops: listening')) as { port: number };
    await worker.waitForLog('redis: connection error');
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', configuration: 'loaded', redis: 'connecting' });
    expect((await fetch(`${base}/status.json`)).status).toBe(503);
    expect(worker.output()).not.toContain('worker: started');

    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(worker.output()).toContain('worker: signal received while starting; stopped before taking any job');
  }, 30_000);
});
