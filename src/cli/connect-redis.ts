import { connect } from 'node:net';
import type { RedisNode, RedisTopology } from '../config/redis-topology.ts';
import { assertRedisUsable, createRedisConnection, describeRedis, type ConnectionOptions, type RedisClient } from '../redis/connection.ts';

/** Redis could not be reached by a CLI command: exit 1, printed by the CLI (as JSON with --json). */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * How long a command waits for a usable connection, whatever the topology: a server that accepts
 * the connection but never answers, a Sentinel group that never names a master.
 */
export const CONNECT_DEADLINE_MS = 10_000;

/** How long the look at each server's port may take when the client's error does not say why. */
const PORT_CHECK_MS = 2_000;

/**
 * A fail-fast producer connection for a CLI command, to whichever topology is configured, usable
 * (a cluster in state ok, the Sentinel group's master). Throws RedisUnreachableError when it cannot
 * be had: one line naming the servers and the cause (ECONNREFUSED, ENOTFOUND, a TLS or an
 * authentication error), never a password.
 */
export async function connectRedis(topology: RedisTopology, prefix: string, options: ConnectionOptions): Promise<RedisClient> {
  const redis = createRedisConnection(topology, 'producer', options);
  // The client's own rejection is often only "Connection is closed."; the cause comes as an event.
  const events: Error[] = [];
  // A Sentinel client retries for ever: once it has found every sentinel unreachable, it is over.
  let giveUp: (error: Error) => void = () => undefined;
  const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
  gaveUp.catch(() => undefined);
  redis.on('error', (error: Error) => {
    events.push(error);
    if (error.message.startsWith('All sentinels are unreachable')) giveUp(error);
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no usable connection within ${CONNECT_DEADLINE_MS / 1000} s`)), CONNECT_DEADLINE_MS);
  });
  try {
    await Promise.race([redis.connect().then(() => assertRedisUsable(redis, prefix)), deadline, gaveUp]);
    return redis;
  } catch (error) {
    redis.disconnect();
    const cause = await redisFailureCause(topology, [...events, error as Error]);
    throw new RedisUnreachableError(`Redis unreachable at ${describeRedis(topology)}: ${cause}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The servers a topology names first: the URL's host and port, the cluster's seed nodes, the sentinels. */
export function redisNodes(topology: RedisTopology): RedisNode[] {
  switch (topology.kind) {
    case 'standalone': {
      const url = new URL(topology.url);
      return [{ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) }];
    }
    case 'cluster':
      return topology.nodes;
    case 'sentinel':
      return topology.sentinels;
  }
}

/** The passwords a topology holds, which must never be printed (the URL's as written and decoded). */
function secretsOf(topology: RedisTopology): string[] {
  const values: (string | undefined)[] = [];
  if (topology.kind === 'standalone') {
    const url = new URL(topology.url);
    values.push(url.password, decodeURIComponent(url.password));
  } else {
    values.push(topology.password, topology.kind === 'sentinel' ? topology.sentinelPassword : undefined);
  }
  return values.filter((v): v is string => typeof v === 'string' && v.length > 0).sort((a, b) => b.length - a.length);
}

/** One line of an error: its first line, with the code when the text does not hold it, and a cluster's last node error. */
function errorLine(error: Error): string {
  const nested = (error as { lastNodeError?: unknown }).lastNodeError;
  const inner = nested instanceof Error && !isBareClose(nested) ? ` (last node error: ${errorLine(nested)})` : '';
  const first = (error.message.split('\n')[0] ?? '').trim() || error.name;
  const code = (error as NodeJS.ErrnoException).code;
  return `${code && !first.includes(code) ? `${first} (${code})` : first}${inner}`;
}

/** ioredis's words for a connection that ended, without a cause. */
function isBareClose(error: Error): boolean {
  const nested = (error as { lastNodeError?: unknown }).lastNodeError;
  if (nested instanceof Error) return isBareClose(nested);
  return /^Connection is closed\.?$|Last error: Connection is closed\.?$|^None of startup nodes is available$|^no usable connection within/.test(error.message);
}

/**
 * Why the connection failed, in one line: the first error that says why (a socket error with its
 * code, a TLS error, Redis refusing the credentials). When the client only says the connection
 * closed (Sentinel and Cluster keep their nodes' errors to themselves), each server's port is
 * tried once to name the refusal. Credentials in the text are masked.
 */
export async function redisFailureCause(topology: RedisTopology, errors: readonly Error[]): Promise<string> {
  const telling = errors.find((e) => (e as NodeJS.ErrnoException).code !== undefined || e.name === 'ReplyError') ?? errors.find((e) => !isBareClose(e));
  let line = telling ? errorLine(telling) : undefined;
  if (telling && (telling as NodeJS.ErrnoException).code === 'ETIMEDOUT' && tls(topology)) {
    const ports = await Promise.all(redisNodes(topology).map(portCheck));
    if (ports.every((p) => p === undefined)) line = `${line} (the port accepts connections but no TLS handshake completed: is the server plain redis://?)`;
  }
  if (!telling || isBareClose(telling)) {
    const ports = await Promise.all(redisNodes(topology).map(portCheck));
    const refused = ports.filter((p) => p !== undefined);
    const last = errors.at(-1);
    line = refused.length ? refused.join(', ') : `${last ? errorLine(last) : 'no answer'} (every server's port accepts connections)`;
  }
  return mask(line ?? 'no answer', topology);
}

function tls(topology: RedisTopology): boolean {
  return topology.kind === 'standalone' ? topology.url.startsWith('rediss:') : topology.tls;
}

/** `host:port CODE` when the port cannot be connected to, undefined when it can. */
function portCheck(node: RedisNode): Promise<string | undefined> {
  const address = node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
  return new Promise((resolve) => {
    const socket = connect({ host: node.host, port: node.port, timeout: PORT_CHECK_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`${address} ETIMEDOUT`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(`${address} ${error.code ?? error.message}`);
    });
  });
}

/** The line with any credential replaced by `***`, and any `scheme://user:password@` reduced to `scheme://`. */
function mask(line: string, topology: RedisTopology): string {
  let masked = line.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1');
  for (const secret of secretsOf(topology)) masked = masked.split(secret).join('***');
  return masked;
}
