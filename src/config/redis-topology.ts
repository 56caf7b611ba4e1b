import type { ConfigProblem } from './errors.ts';

/**
 * Which Redis the rotator uses, from the environment:
 * - `REDIS_CLUSTER_NODES` (comma-separated `redis://` or `rediss://` URLs, credentials in them): a Redis Cluster;
 * - `REDIS_SENTINELS` (comma-separated `host:port`) with `REDIS_SENTINEL_NAME`: the master a Sentinel group names;
 * - otherwise `REDIS_URL` (one server).
 * No message repeats a value: URLs and passwords may hold secrets.
 */
export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTopology =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      /** The master group's name (`sentinel monitor <name> …`). */
      name: string;
      /** The data nodes' ACL user and password. */
      username?: string;
      password?: string;
      /** The sentinels' own password (`requirepass` on the sentinels), when they have one. */
      sentinelPassword?: string;
      /** TLS to the sentinels and to the master. */
      tls: boolean;
    };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Variables read only with REDIS_SENTINELS. */
const SENTINEL_ONLY = ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const;

/**
 * The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first `}`
 * after it, when not empty. Every key that starts with a prefix having one lands in that tag's slot.
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function isRedisUrl(value: string): boolean {
  try {
    return ['redis:', 'rediss:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseClusterNodes(value: string, problems: ConfigProblem[]): Extract<RedisTopology, { kind: 'cluster' }> | undefined {
  const path = 'REDIS_CLUSTER_NODES';
  const entries = list(value);
  const urls: URL[] = [];
  entries.forEach((entry, i) => {
    if (!isRedisUrl(entry)) problems.push({ path, message: `entry ${i + 1} must be a redis:// or rediss:// URL` });
    else if (!/^\/?(0)?$/.test(new URL(entry).pathname)) problems.push({ path, message: `entry ${i + 1} names a database: a cluster has only database 0` });
    else urls.push(new URL(entry));
  });
  if (entries.length === 0) problems.push({ path, message: 'must list at least one redis:// or rediss:// URL' });
  if (urls.length !== entries.length || urls.length === 0) return undefined;
  if (new Set(urls.map((u) => u.protocol)).size > 1) {
    problems.push({ path, message: 'mixes redis:// and rediss://: every node of a cluster is reached the same way' });
    return undefined;
  }
  const credentials = new Set(urls.filter((u) => u.username || u.password).map((u) => `${u.username}\n${u.password}`));
  if (credentials.size > 1) {
    problems.push({ path, message: 'the URLs carry different credentials: a cluster has one user and password for every node' });
    return undefined;
  }
  const withCredentials = urls.find((u) => u.username || u.password);
  return {
    kind: 'cluster',
    nodes: urls.map((u) => ({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : 6379 })),
    ...(withCredentials?.username ? { username: decodeURIComponent(withCredentials.username) } : {}),
    ...(withCredentials?.password ? { password: decodeURIComponent(withCredentials.password) } : {}),
    tls: urls[0]!.protocol === 'rediss:',
  };
}

function parseSentinels(value: string, problems: ConfigProblem[]): RedisNode[] | undefined {
  const nodes: RedisNode[] = [];
  const entries = list(value);
  entries.forEach((entry, i) => {
    // host:port, [v6]:port, or a bare host (port 26379, Sentinel's own).
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+))(?::(\d{1,5}))?$/.exec(entry);
    const port = m?.[3] === undefined ? 26379 : Number(m[3]);
    if (!m || port < 1 || port > 65535) problems.push({ path: 'REDIS_SENTINELS', message: `entry ${i + 1} must be host:port` });
    else nodes.push({ host: m[1] ?? m[2]!, port });
  });
  if (entries.length === 0) problems.push({ path: 'REDIS_SENTINELS', message: 'must list at least one sentinel as host:port' });
  return nodes.length === entries.length && nodes.length > 0 ? nodes : undefined;
}

/** The topology the variables select, or the problems with them (by variable name). */
export function readRedisTopology(vars: Record<string, string | undefined>, prefix: string): { topology?: RedisTopology; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => vars[name] !== undefined);
  if (chosen.length > 1) {
    problems.push({ path: chosen[1]!, message: `set only one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS (got ${chosen.join(', ')})` });
    return { problems };
  }
  if (vars.REDIS_SENTINELS === undefined) {
    for (const name of SENTINEL_ONLY) if (vars[name] !== undefined) problems.push({ path: name, message: 'is read only with REDIS_SENTINELS' });
  }
  if (vars.REDIS_CLUSTER_NODES !== undefined) {
    const topology = parseClusterNodes(vars.REDIS_CLUSTER_NODES, problems);
    if (!hashTag(prefix)) {
      problems.push({
        path: 'ROTATOR_QUEUE_PREFIX',
        message:
          "must carry a Redis Cluster hash tag, like {rotator}, with REDIS_CLUSTER_NODES: BullMQ's scripts and the rotator's keys must share one hash slot",
      });
    }
    return problems.length || !topology ? { problems } : { topology, problems };
  }
  if (vars.REDIS_SENTINELS !== undefined) {
    const sentinels = parseSentinels(vars.REDIS_SENTINELS, problems);
    const name = vars.REDIS_SENTINEL_NAME;
    if (name === undefined) problems.push({ path: 'REDIS_SENTINEL_NAME', message: 'is required with REDIS_SENTINELS: the master group sentinels monitor' });
    const tls = vars.REDIS_TLS ?? 'off';
    if (!['on', 'off'].includes(tls)) problems.push({ path: 'REDIS_TLS', message: 'must be on or off' });
    if (problems.length || !sentinels || name === undefined) return { problems };
    return {
      topology: {
        kind: 'sentinel',
        sentinels,
        name,
        ...(vars.REDIS_USERNAME === undefined ? {} : { username: vars.REDIS_USERNAME }),
        ...(vars.REDIS_PASSWORD === undefined ? {} : { password: vars.REDIS_PASSWORD }),
        ...(vars.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: vars.REDIS_SENTINEL_PASSWORD }),
        tls: tls === 'on',
      },
      problems,
    };
  }
  const url = vars.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (!isRedisUrl(url)) problems.push({ path: 'REDIS_URL', message: 'must be a redis:// or rediss:// URL' });
  return problems.length ? { problems } : { topology: { kind: 'standalone', url }, problems };
}

/** The topology for logs and errors: hosts and ports, never a password. */
export function describeRedis(topology: RedisTopology): string {
  const hosts = (nodes: RedisNode[]) => nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  switch (topology.kind) {
    case 'standalone':
      return describeRedisUrl(topology.url);
    case 'cluster':
      return `cluster ${topology.tls ? 'rediss' : 'redis'}://${hosts(topology.nodes)}`;
    case 'sentinel':
      return `sentinel master "${topology.name}" via ${hosts(topology.sentinels)}${topology.tls ? ' (TLS)' : ''}`;
  }
}

/** Describes a Redis URL for logs and errors without its password. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparseable Redis URL)';
  }
}
