import { createRequire } from 'node:module';
import { Cluster, Redis, type AbstractConnector, type ClusterOptions, type RedisOptions, type StandaloneConnectionOptions } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.ts';
import { redisTransportProblem } from '../config/url-policy.ts';

export { describeRedis, describeRedisUrl } from '../config/redis-topology.ts';

/**
 * The two kinds of Redis connection BullMQ needs, as its production guide advises:
 * - `worker`: blocking commands and long outages: `maxRetriesPerRequest: null` so a Redis restart
 *   (or a failover) is waited out instead of failing the worker.
 * - `producer`: used by the CLI and enqueuers: fail fast (no offline queue, one retry) so a user
 *   learns at once that Redis is unreachable.
 *
 * Each topology (one server, a Redis Cluster, a Sentinel group) gets the same two roles; the rest of
 * the code takes either client, since every key it builds shares the prefix's hash slot.
 */
export type ConnectionRole = 'worker' | 'producer';

/** A connection to whichever topology is configured: ioredis's Redis (one server or Sentinel) or Cluster client. */
export type RedisClient = Redis | Cluster;

// Reconnect with a capped backoff; never give up (the worker must outlive a Redis restart).
const backoff = (times: number) => Math.min(200 * 2 ** Math.min(times, 6), 5_000);

export function redisOptions(role: ConnectionRole): RedisOptions {
  const base: RedisOptions = { retryStrategy: backoff, connectionName: `credential-rotator-${role}` };
  return role === 'worker'
    ? { ...base, maxRetriesPerRequest: null, enableReadyCheck: true }
    : // Auto-pipelining: a command fanning out over every credential (status) makes one round trip, not thousands.
      { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000, enableAutoPipelining: true };
}

// After a Sentinel failover the old master turns replica and answers writes with READONLY until the
// client asks the sentinels again: reconnect (and resend) on that answer.
const reconnectOnReadonly = (error: Error) => (error.message.startsWith('READONLY') ? 2 : false);

/** How a connection treats plain text to the nodes it discovers (cluster nodes, a Sentinel group's master and sentinels). */
export interface ConnectionOptions {
  /** ROTATOR_ALLOW_PLAINTEXT_REDIS: a remote node is reached without TLS when TLS is off. Default false. */
  allowPlaintext?: boolean;
}

/** Whether a topology's URL asks for TLS: by its parsed scheme (`rediss:`, in any case), not by a prefix of the text. */
export function usesTls(url: string): boolean {
  try {
    return new URL(url).protocol === 'rediss:';
  } catch {
    return false;
  }
}

/**
 * Why a node found at run time may not be reached in plain text, or undefined when it may: the
 * rule the configuration applies to configured addresses (docs/security.md), for the addresses a
 * cluster announces (CLUSTER SLOTS, MOVED, ASK) and a Sentinel group names (its master, its sentinels).
 */
export function discoveredNodeProblem(host: string, port: number, allowPlaintext: boolean): string | undefined {
  const problem = redisTransportProblem(`redis://${host.includes(':') ? `[${host}]` : host}:${port}`, allowPlaintext);
  return problem && `refused the discovered node ${host.includes(':') ? `[${host}]` : host}:${port}: ${problem}`;
}

// ioredis's connector for one server, which its index does not export: a cluster's nodes are
// connected through a subclass that checks each address (the configured ones and every one the
// cluster announces) before a byte is sent. An ioredis upgrade that moves it fails at start-up here.
interface StandaloneConnectorClass {
  new (options: StandaloneConnectionOptions): AbstractConnector & { options: StandaloneConnectionOptions };
  prototype: AbstractConnector;
}
const StandaloneConnector = (createRequire(import.meta.url)('ioredis/built/connectors/StandaloneConnector.js') as { default: StandaloneConnectorClass })
  .default;

/** A cluster node's connector that refuses, before connecting, a remote address reached without TLS. */
class PlaintextGuardConnector extends StandaloneConnector {
  // ioredis hands a connector the node's whole options (typed unknown by its ConnectorConstructor).
  constructor(options: unknown) {
    super(options as StandaloneConnectionOptions);
  }
  override connect(emit: Parameters<AbstractConnector['connect']>[0]): ReturnType<AbstractConnector['connect']> {
    const { host = 'localhost', port = 6379, tls } = this.options;
    const problem = tls ? undefined : discoveredNodeProblem(host, port, false);
    return problem ? Promise.reject(new Error(problem)) : StandaloneConnector.prototype.connect.call(this, emit);
  }
}

function clusterConnection(topology: Extract<RedisTopology, { kind: 'cluster' }>, role: ConnectionRole, allowPlaintext: boolean): Cluster {
  const { retryStrategy: _retry, enableOfflineQueue, lazyConnect: _lazy, enableAutoPipelining, ...node } = redisOptions(role);
  const options: ClusterOptions = {
    redisOptions: {
      ...node,
      ...(topology.username ? { username: topology.username } : {}),
      ...(topology.password ? { password: topology.password } : {}),
      // With TLS every node, announced ones included, is reached by TLS; without it, a remote one is refused.
      ...(topology.tls ? { tls: {} } : allowPlaintext ? {} : { Connector: PlaintextGuardConnector }),
    },
    clusterRetryStrategy: backoff,
    // Every key of the rotator is in the prefix's slot: reads go to its master, like writes.
    scaleReads: 'master',
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    // TLS certificates name the configuration endpoint, not the nodes' addresses (ElastiCache):
    // connect by the names the cluster announces instead of resolving them to IPs first.
    ...(topology.tls ? { dnsLookup: (address: string, callback: (error: Error | null, address: string) => void) => callback(null, address) } : {}),
    lazyConnect: role === 'producer',
  };
  return new Cluster(topology.nodes, options);
}

export function createRedisConnection(topology: RedisTopology, role: ConnectionRole, connection: ConnectionOptions = {}): RedisClient {
  const options = redisOptions(role);
  const allowPlaintext = connection.allowPlaintext ?? false;
  // Producers connect lazily so the caller can await connect() and report a clean error.
  const lazyConnect = role === 'producer';
  switch (topology.kind) {
    case 'standalone':
      return new Redis(topology.url, { ...options, ...(usesTls(topology.url) ? { tls: {} } : {}), lazyConnect });
    case 'cluster':
      return clusterConnection(topology, role, allowPlaintext);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: topology.sentinels,
        name: topology.name,
        ...(topology.username ? { username: topology.username } : {}),
        ...(topology.password ? { password: topology.password } : {}),
        ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
        // With TLS the master and every sentinel, discovered ones included, are reached by TLS. Without
        // it, an address the sentinels name (the master after a failover, another sentinel) that is
        // not loopback is refused: the error ends that sentinel's answer, and no byte goes there.
        ...(topology.tls
          ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }
          : allowPlaintext
            ? {}
            : { natMap: (key: string) => refuseRemotePlaintext(key) }),
        // Subscribes to the sentinels' +switch-master, so a failover is followed at once, not at the next error.
        failoverDetector: true,
        reconnectOnError: reconnectOnReadonly,
        sentinelRetryStrategy: backoff,
        lazyConnect,
      });
  }
}

/** Redis answers but cannot take the rotator's work: `state` says why, in the words `/readyz` shows. */
export class RedisNotUsableError extends Error {
  override readonly name = 'RedisNotUsableError';
  readonly state: 'cluster-not-ok' | 'not-master';
  constructor(state: 'cluster-not-ok' | 'not-master', message: string) {
    super(message);
    this.state = state;
  }
}

/** A Sentinel natMap that maps nothing and throws for a remote `host:port` (the last colon splits an IPv6 address from its port). */
function refuseRemotePlaintext(key: string): null {
  const split = key.lastIndexOf(':');
  const problem = discoveredNodeProblem(key.slice(0, split).replace(/^\[|\]$/g, ''), Number(key.slice(split + 1)), false);
  if (problem) throw new Error(problem);
  return null;
}

/**
 * Whether the topology can take the rotator's work now; throws saying why not. One server answers
 * PING; a cluster reports `cluster_state:ok` and the master of the prefix's slot answers; under
 * Sentinel the connection reaches the master (not a replica left behind by a failover).
 */
export async function assertRedisUsable(client: RedisClient, prefix: string): Promise<void> {
  if (client instanceof Cluster) {
    const info = await client.cluster('INFO');
    const state = /cluster_state:(\w+)/.exec(String(info))?.[1];
    if (state !== 'ok') throw new RedisNotUsableError('cluster-not-ok', `cluster state is ${state ?? 'unknown'}`);
    // Routed to the master of the prefix's hash slot: every key of the rotator lives there.
    await client.exists(`${prefix}:ready`);
    return;
  }
  if (client.options.sentinels?.length) {
    const [role] = (await client.role()) as [string, ...unknown[]];
    if (role !== 'master') throw new RedisNotUsableError('not-master', `connected to a ${role}, not the master`);
    return;
  }
  await client.ping();
}
