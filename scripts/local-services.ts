/**
 * Local stand-ins for the services the rotator talks to: a real `redis-server` and the `moto`
 * Secrets Manager emulator, each on a free loopback port. Used by the test suite, the demo, the
 * benchmark and the soak. A service given through the environment (REDIS_URL,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER) is used as it is and never started or stopped here.
 *
 * Only processes started here are stopped here, by their own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalServices {
  /** Which services were given by the environment and which were started here. */
  choice: ServiceChoice;
  redisUrl: string;
  secretsManagerEndpoint: string;
  /** The redis-server process started here, if any (tests that restart Redis need it). */
  redis?: ManagedProcess;
  /** The moto process started here, if any. */
  moto?: ManagedProcess;
  stop(): Promise<void>;
}

export interface ManagedProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Starts the process again on the same port (after stop). */
  restart(): Promise<void>;
}

export class MissingServiceError extends Error {
  override readonly name = 'MissingServiceError';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort when the owner crashed before calling stop(): never leave our children behind.
  for (const child of started) child.kill('SIGKILL');
});

export function commandExists(cmd: string, args: string[]): boolean {
  const result = spawnSync(cmd, args, { stdio: 'ignore' });
  return result.status === 0;
}

function python(): string {
  return process.env.ROTATOR_PYTHON ?? 'python3';
}

export async function waitFor(check: () => Promise<boolean>, what: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early with code ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

async function redisPing(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (buf) => done(buf.toString().startsWith('+PONG')));
    socket.on('connect', () => socket.write('PING\r\n'));
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status < 500;
}

export function managed(
  name: string,
  port: number,
  launch: () => ChildProcess,
  ready: (child: ChildProcess) => Promise<void>,
): ManagedProcess & { start(): Promise<void> } {
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async () => {
    stderr = '';
    child = launch();
    started.add(child);
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    child.stdout?.resume();
    try {
      await ready(child);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${name}: ${(error as Error).message}${stderr ? `\n${stderr}` : ''}`, { cause: error });
    }
  };
  const stop = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    started.delete(current);
  };
  return {
    name,
    port,
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    restart: start,
  };
}

export interface RedisServerOptions {
  /**
   * Whether the data outlives a restart: `none` (the default: nothing is written, a restart starts
   * empty), `aof` (append-only file, fsync every second, as BullMQ's production guide advises) or
   * `rdb` (a snapshot every second with at least one change, and at shutdown).
   */
  persistence?: 'none' | 'aof' | 'rdb';
}

function persistenceArgs(persistence: RedisServerOptions['persistence']): string[] {
  switch (persistence ?? 'none') {
    case 'aof':
      return ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    case 'rdb':
      return ['--save', '1 1', '--appendonly', 'no', '--dbfilename', 'dump.rdb'];
    case 'none':
      return ['--save', '', '--appendonly', 'no'];
  }
}

export async function startRedis(dataDir: string, options: RedisServerOptions = {}): Promise<ManagedProcess> {
  const bin = process.env.ROTATOR_REDIS_SERVER ?? 'redis-server';
  if (!commandExists(bin, ['--version'])) {
    throw new MissingServiceError(`redis-server not found: install it (Debian/Ubuntu: apt-get install -y redis-server) or set REDIS_URL to a running Redis`);
  }
  const port = await freePort();
  const proc = managed(
    'redis-server',
    port,
    () =>
      spawn(
        bin,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          ...persistenceArgs(options.persistence),
          '--dir',
          dataDir,
          '--pidfile',
          join(dataDir, `redis-${port}.pid`),
          // BullMQ requires that Redis never evicts its keys.
          '--maxmemory-policy',
          'noeviction',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    (child) => waitFor(() => redisPing(port), 'redis-server', child, 10_000),
  );
  await proc.start();
  return proc;
}

const MOTO_LAUNCHER = fileURLToPath(new URL('./moto-server.py', import.meta.url));

export async function startMoto(): Promise<ManagedProcess> {
  const py = python();
  if (!commandExists(py, ['-c', 'import moto.server'])) {
    throw new MissingServiceError(
      `the Secrets Manager emulator is missing: install moto with its server extra (pip install "moto[server]") for ${py}, ` +
        `or set AWS_ENDPOINT_URL_SECRETS_MANAGER to a running emulator`,
    );
  }
  const port = await freePort();
  const proc = managed(
    'moto_server',
    port,
    // scripts/moto-server.py is `python -m moto.server` with its per-request directory listing and access log taken away.
    () => spawn(py, [MOTO_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    (child) => waitFor(() => httpOk(`http://127.0.0.1:${port}/moto-api/`), 'moto_server', child, 30_000),
  );
  await proc.start();
  return proc;
}

/** Fake AWS credentials and region for the emulator; real AWS is never reached from here. */
export function emulatorAwsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
  };
}

/** Where each stand-in comes from: a running one named by the environment, or a process started here. */
export interface ServiceChoice {
  redis: 'environment' | 'local process';
  secretsManager: 'environment' | 'local process';
}

/**
 * The choice `startLocalServices` makes, from the environment alone. Local processes are the only
 * other source: the suite does not start containers (docs/decisions.md, "Test services").
 */
export function chooseServices(env: NodeJS.ProcessEnv): ServiceChoice {
  return {
    redis: env.REDIS_URL ? 'environment' : 'local process',
    secretsManager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ? 'environment' : 'local process',
  };
}

/** One line saying where each service came from, for the suite's and the demo's output. */
export function describeServices(services: Pick<LocalServices, 'choice' | 'redisUrl' | 'secretsManagerEndpoint'>): string {
  const redis = services.choice.redis === 'environment' ? 'Redis from REDIS_URL' : `redis-server started on ${new URL(services.redisUrl).host}`;
  const sm =
    services.choice.secretsManager === 'environment'
      ? 'Secrets Manager from AWS_ENDPOINT_URL_SECRETS_MANAGER'
      : `moto_server started on ${new URL(services.secretsManagerEndpoint).host}`;
  return `services: ${redis}; ${sm} (local processes, no containers)`;
}

export async function startLocalServices(options: { dir?: string } = {}): Promise<LocalServices> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rotator-services-'));
  mkdirSync(dir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const result: LocalServices = {
    choice: chooseServices(process.env),
    redisUrl: process.env.REDIS_URL ?? '',
    secretsManagerEndpoint: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    if (!result.redisUrl) {
      const redis = await startRedis(dir);
      stops.push(() => redis.stop());
      result.redis = redis;
      result.redisUrl = `redis://127.0.0.1:${redis.port}`;
    }
    if (!result.secretsManagerEndpoint) {
      const moto = await startMoto();
      stops.push(() => moto.stop());
      result.moto = moto;
      result.secretsManagerEndpoint = `http://127.0.0.1:${moto.port}`;
    }
  } catch (error) {
    await result.stop();
    throw error;
  }
  return result;
}
