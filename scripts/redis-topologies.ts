/**
 * A real Redis Cluster and a real Sentinel group on loopback, for the tests that prove the rotator on
 * those topologies: `redis-server` in cluster mode joined by `redis-cli --cluster create`, and a
 * master, a replica and three sentinels (`redis-server --sentinel`). Every server requires a
 * password, so the credentials' path is exercised too. Free loopback ports; only the processes
 * started here are stopped here, by their own pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { commandExists, freePort, managed, MissingServiceError, waitFor, type ManagedProcess } from './local-services.ts';

const REDIS_SERVER = () => process.env.ROTATOR_REDIS_SERVER ?? 'redis-server';
const REDIS_CLI = () => process.env.ROTATOR_REDIS_CLI ?? 'redis-cli';

function requireBinaries(): void {
  if (!commandExists(REDIS_SERVER(), ['--version']) || !commandExists(REDIS_CLI(), ['--version'])) {
    throw new MissingServiceError('redis-server and redis-cli are needed for the Cluster and Sentinel tests (Debian/Ubuntu: apt-get install -y redis-server)');
  }
}

/** One command to one server, authenticated; undefined when it does not answer. */
async function ask(port: number, password: string, ...command: string[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** A redis-server with a data directory of its own (cluster and replica state files), requiring `password`. */
function server(name: string, port: number, dir: string, password: string, extra: string[]): ManagedProcess & { start(): Promise<void> } {
  const dataDir = join(dir, `${name.replace(/\W+/g, '-')}-${port}`);
  mkdirSync(dataDir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--requirepass',
    password,
    '--masterauth',
    password,
    ...extra,
  ];
  return managed(
    name,
    port,
    () => spawn(REDIS_SERVER(), args, { stdio: ['ignore', 'pipe', 'pipe'] }),
    (child) => waitFor(async () => (await ask(port, password, 'PING')) === 'PONG', name, child, 10_000),
  );
}

export interface LocalRedisCluster {
  /** `redis://default:<password>@127.0.0.1:<port>` per master, for REDIS_CLUSTER_NODES. */
  readonly urls: string[];
  readonly nodes: ManagedProcess[];
  readonly password: string;
  stop(): Promise<void>;
}

/** Three (or `masters`) cluster-mode servers joined into one cluster, each master of a third of the slots. */
export async function startRedisCluster(dir: string, options: { masters?: number; password: string }): Promise<LocalRedisCluster> {
  requireBinaries();
  const { password } = options;
  const nodes: Array<ManagedProcess & { start(): Promise<void> }> = [];
  const stop = async () => {
    for (const node of nodes) await node.stop();
  };
  try {
    for (let i = 0; i < (options.masters ?? 3); i += 1) {
      const port = await freePort();
      const node = server(`cluster node ${i + 1}`, port, dir, password, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        // Its own bus port: the default (port + 10000) may be taken, or past 65535.
        '--cluster-port',
        String(await freePort()),
        '--cluster-node-timeout',
        '2000',
      ]);
      nodes.push(node);
      await node.start();
    }
    const create = spawnSync(
      REDIS_CLI(),
      ['-a', password, '--no-auth-warning', '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    // Every node must agree the cluster is ok (slots all assigned and gossiped) before it is used.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (!String(await ask(node.port, password, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`the cluster did not reach state ok at 127.0.0.1:${node.port}`);
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: nodes.map((n) => `redis://default:${password}@127.0.0.1:${n.port}`), nodes, password, stop };
}

export interface LocalSentinelGroup {
  /** The master group's name. */
  readonly name: string;
  /** `127.0.0.1:<port>` per sentinel, for REDIS_SENTINELS. */
  readonly sentinelAddresses: string;
  readonly password: string;
  readonly sentinelPassword: string;
  readonly servers: ManagedProcess[];
  readonly sentinels: ManagedProcess[];
  /** The port of the server the sentinels name as master now. */
  masterPort(): Promise<number | undefined>;
  /** `SENTINEL FAILOVER`, then waits until the sentinels name the other server and it is master. */
  failover(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

/** A master, one replica and three sentinels (quorum 2) monitoring them, each knowing the replica. */
export async function startRedisSentinel(dir: string, options: { name?: string; password: string; sentinelPassword: string }): Promise<LocalSentinelGroup> {
  requireBinaries();
  const name = options.name ?? 'rotator-master';
  const { password, sentinelPassword } = options;
  const started: Array<ManagedProcess & { start(): Promise<void> }> = [];
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop();
  };
  const sentinels: ManagedProcess[] = [];
  try {
    const masterPort = await freePort();
    const master = server('master', masterPort, dir, password, []);
    started.push(master);
    await master.start();
    const replicaPort = await freePort();
    const replica = server('replica', replicaPort, dir, password, ['--replicaof', '127.0.0.1', String(masterPort)]);
    started.push(replica);
    await replica.start();
    // The replica must be in sync before the sentinels look, or they may find no replica to promote.
    await waitForCondition(
      async () => String(await ask(replicaPort, password, 'INFO', 'replication')).includes('master_link_status:up'),
      'the replica to sync',
      10_000,
    );
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort();
      const sentinelDir = join(dir, `sentinel-${port}`);
      mkdirSync(sentinelDir, { recursive: true });
      const config = join(sentinelDir, 'sentinel.conf');
      // Sentinel rewrites its configuration file as it learns the group: it must be its own, writable.
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${sentinelDir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel auth-pass ${name} ${password}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `requirepass ${sentinelPassword}`,
          `sentinel sentinel-pass ${sentinelPassword}`,
          '',
        ].join('\n'),
      );
      const sentinel = managed(
        `redis-sentinel ${i + 1}`,
        port,
        () => spawn(REDIS_SERVER(), [config, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] }),
        (child) =>
          waitFor(async () => Array.isArray(await ask(port, sentinelPassword, 'SENTINEL', 'get-master-addr-by-name', name)), 'redis-sentinel', child, 10_000),
      );
      started.push(sentinel);
      sentinels.push(sentinel);
      await sentinel.start();
    }
    // Each sentinel must know the replica (from the master's INFO) before a failover can promote it.
    await waitForCondition(
      async () => {
        for (const s of sentinels) {
          const replicas = await ask(s.port, sentinelPassword, 'SENTINEL', 'replicas', name);
          if (!Array.isArray(replicas) || replicas.length !== 1) return false;
        }
        return true;
      },
      'the sentinels to discover the replica',
      20_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const masterPort = async () => {
    const addr = await ask(sentinels[0]!.port, sentinelPassword, 'SENTINEL', 'get-master-addr-by-name', name);
    return Array.isArray(addr) ? Number(addr[1]) : undefined;
  };
  return {
    name,
    sentinelAddresses: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    password,
    sentinelPassword,
    servers: started.slice(0, 2),
    sentinels,
    masterPort,
    async failover() {
      const from = await masterPort();
      if (from === undefined) throw new Error('no master known to the sentinels');
      const answer = await ask(sentinels[0]!.port, sentinelPassword, 'SENTINEL', 'FAILOVER', name);
      if (answer !== 'OK') throw new Error(`SENTINEL FAILOVER was refused: ${String(answer)}`);
      let to: number | undefined;
      await waitForCondition(
        async () => {
          to = await masterPort();
          if (to === undefined || to === from) return false;
          const role = await ask(to, password, 'ROLE');
          return Array.isArray(role) && role[0] === 'master';
        },
        'the failover to promote the replica',
        20_000,
      );
      return { from, to: to! };
    },
    stop,
  };
}

async function waitForCondition(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
