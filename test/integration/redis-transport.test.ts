import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, managed, waitFor, type ManagedProcess } from '../../scripts/local-services.ts';
import { loadEnv } from '../../src/config/index.ts';
import { createRedisConnection, usesTls } from '../../src/redis/connection.ts';

/** An address of TEST-NET-1 (RFC 5737): a node announcing it is remote; nothing is ever sent there. */
const REMOTE = '192.0.2.10';
const dir = mkdtempSync(join(tmpdir(), 'rotator-redis-transport-'));
const servers: Server[] = [];
let announcing: (ManagedProcess & { start(): Promise<void> }) | undefined;

afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await announcing?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback listener that keeps the first bytes of each connection and answers `reply` to each RESP command it reads. */
async function listener(reply: (command: string[]) => string = () => '-ERR not a redis server\r\n') {
  const firstBytes: Buffer[] = [];
  const server = createServer((socket: Socket) => {
    let pending = Buffer.alloc(0);
    let first = true;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (first) firstBytes.push(chunk);
      first = false;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseCommand(pending);
        if (!parsed) break;
        pending = pending.subarray(parsed.used);
        socket.write(reply(parsed.command));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, firstBytes };
}

/** One RESP array of bulk strings from the start of `buffer`, or undefined while incomplete (or not RESP). */
function parseCommand(buffer: Buffer): { command: string[]; used: number } | undefined {
  const text = buffer.toString('latin1');
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return undefined;
  let at = head[0].length;
  const command: string[] = [];
  for (let i = 0; i < Number(head[1]); i += 1) {
    const size = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!size) return undefined;
    at += size[0].length;
    if (text.length < at + Number(size[1]) + 2) return undefined;
    command.push(text.slice(at, at + Number(size[1])));
    at += Number(size[1]) + 2;
  }
  return { command, used: at };
}

const bulk = (value: string) => `$${Buffer.byteLength(value)}\r\n${value}\r\n`;

describe('TLS is chosen by the parsed scheme of REDIS_URL', () => {
  it('reads rediss:// in any case as TLS, and redis:// in any case as plain text', () => {
    for (const url of ['rediss://h:6380', 'REDISS://h:6380', 'Rediss://user:pw@h:6380/0']) expect(usesTls(url), url).toBe(true);
    for (const url of ['redis://h:6379', 'REDIS://h:6379', 'redis://rediss.example.com:6379', 'not a url']) expect(usesTls(url), url).toBe(false);
  });

  it('opens a TLS handshake for REDISS:// and plain RESP for REDIS:// (the first bytes on the wire)', async () => {
    const tls = await listener();
    const client = createRedisConnection({ kind: 'standalone', url: `REDISS://127.0.0.1:${tls.port}` }, 'producer');
    client.on('error', () => undefined);
    void client.connect().catch(() => undefined);
    await expect.poll(() => tls.firstBytes.length, { timeout: 5_000, interval: 20 }).toBe(1);
    client.disconnect();
    // 0x16: a TLS record of type handshake (the ClientHello), version 3.x.
    expect(tls.firstBytes[0]?.[0]).toBe(0x16);
    expect(tls.firstBytes[0]?.[1]).toBe(0x03);

    const plain = await listener(() => '+OK\r\n');
    const other = createRedisConnection({ kind: 'standalone', url: `REDIS://127.0.0.1:${plain.port}` }, 'producer');
    other.on('error', () => undefined);
    void other.connect().catch(() => undefined);
    await expect.poll(() => plain.firstBytes.length, { timeout: 5_000, interval: 20 }).toBe(1);
    other.disconnect();
    expect(plain.firstBytes[0]?.toString('latin1')).toMatch(/^\*\d+\r\n\$/);
  });

  it('accepts REDISS:// to a remote host and refuses REDIS:// to one, naming the host and not the password', () => {
    expect(loadEnv({ REDIS_URL: 'REDISS://default:pw-of-the-test@redis.example.com:6380' }).redis).toEqual({
      kind: 'standalone',
      url: 'REDISS://default:pw-of-the-test@redis.example.com:6380',
    });
    let message = '';
    try {
      loadEnv({ REDIS_URL: 'REDIS://default:pw-of-the-test@redis.example.com:6379' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('plain redis:// to "redis.example.com"');
    expect(message).not.toContain('pw-of-the-test');
  });
});

describe('plain text to nodes discovered at run time', () => {
  beforeAll(async () => {
    // A one-node cluster on loopback that announces itself at a remote address (cluster-announce-ip):
    // what a cluster configured through a loopback tunnel, or a misconfigured one, tells a client.
    const port = await freePort();
    announcing = managed(
      'announcing cluster node',
      port,
      () =>
        spawn(
          process.env.ROTATOR_REDIS_SERVER ?? 'redis-server',
          [
            ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
            ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', '0', '--cluster-announce-ip', REMOTE],
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      async (child) => {
        const admin = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        admin.on('error', () => undefined);
        try {
          await waitFor(
            () =>
              admin.connect().then(
                () => true,
                () => false,
              ),
            'the cluster node to listen',
            child,
            10_000,
          );
          await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
          await waitFor(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 'cluster state ok', child, 10_000);
        } finally {
          admin.disconnect();
        }
      },
    );
    await announcing.start();
  }, 30_000);

  it('refuses a cluster node announced at a remote address, before connecting, when TLS is off', async () => {
    const direct = new Redis({ port: announcing!.port });
    const slots = (await direct.call('CLUSTER', 'SLOTS').finally(() => direct.disconnect())) as Array<[number, number, [string, number]]>;
    expect(slots[0]?.[2]?.[0]).toBe(REMOTE);
    const cluster = createRedisConnection({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: announcing!.port }], tls: false }, 'worker') as Cluster;
    const errors: string[] = [];
    cluster.on('node error', (error: Error) => errors.push(`node error: ${error.message}`));
    cluster.on('error', (error: Error) => errors.push(`error: ${error.message}`));
    try {
      // Never ready: the only node of every slot is refused; the worker's connection keeps trying.
      let written = false;
      void cluster.set('{transport}:probe', '1').then(
        () => (written = true),
        () => undefined,
      );
      const refusal = `refused the discovered node ${REMOTE}:${announcing!.port}: plain redis:// to "${REMOTE}"`;
      await expect.poll(() => errors.join('\n'), { timeout: 10_000, interval: 50 }).toContain(refusal);
      expect(written).toBe(false);
    } finally {
      cluster.disconnect();
    }
  });

  it('refuses a master a sentinel names at a remote address, and says why, when TLS is off', async () => {
    const asked: string[][] = [];
    const sentinel = await listener((command) => {
      asked.push(command);
      const [name, sub] = [command[0]?.toUpperCase(), command[1]?.toLowerCase()];
      if (name === 'SENTINEL' && sub === 'get-master-addr-by-name') return `*2\r\n${bulk(REMOTE)}${bulk('6379')}`;
      if (name === 'SENTINEL' && sub === 'sentinels') return '*0\r\n';
      return `-ERR unknown command '${command[0] ?? ''}'\r\n`;
    });
    const client = createRedisConnection(
      { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'rotator-master', tls: false },
      'producer',
    );
    const errors: string[] = [];
    client.on('error', (error: Error) => errors.push(error.message));
    const connected = client.connect().then(
      () => 'connected',
      (error: Error) => error.message,
    );
    try {
      // The sentinel is asked, its answer refused, and asked again (from scratch, by the retry strategy): never connected.
      await expect
        .poll(() => errors.join('\n'), { timeout: 10_000, interval: 50 })
        .toContain(`refused the discovered node ${REMOTE}:6379: plain redis:// to "${REMOTE}"`);
      expect(asked.some((c) => c[1]?.toLowerCase() === 'get-master-addr-by-name')).toBe(true);
      client.disconnect();
      expect(await connected).not.toBe('connected');
    } finally {
      client.disconnect();
    }
  });
});
