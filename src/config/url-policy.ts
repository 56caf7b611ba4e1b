import type { ConfigProblem } from './errors.ts';

/**
 * Which endpoint URLs the inventory accepts. Provider calls carry credentials, so plain http is
 * only allowed where the traffic cannot leave the machine (the local fakes, a sidecar proxy).
 */

/** 127.0.0.0/8, ::1 and localhost, as WHATWG URL parsing normalizes them (`127.1` → `127.0.0.1`). */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]' || hostname === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Undefined when `value` is an acceptable endpoint: an absolute https URL, or plain http to a
 * loopback host. The value itself is not repeated in the message: a URL may carry a token.
 */
export function endpointProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not an absolute URL; write it like https://host/path';
  }
  if (url.username || url.password) return 'must not carry credentials in the URL';
  if (url.search || url.hash) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? undefined : `plain http:// is only allowed to a loopback host, not "${url.hostname}"; use https://`;
  }
  return `unsupported scheme "${url.protocol}"; use https://`;
}

/**
 * Undefined when a Redis address may be used: `rediss://` (TLS) anywhere, `redis://` to a loopback
 * host, or `redis://` anywhere when plain text was allowed on purpose (ROTATOR_ALLOW_PLAINTEXT_REDIS).
 * Redis holds the job queue, the rotation records and the locks: in plain text on a network, anyone
 * on the path reads and forges them, and reads the password of the URL. Takes a URL; for
 * addresses given as `host:port` (cluster nodes, sentinels) pass them with the scheme they will be
 * reached by (`redis://host:port` without TLS). The message names the host, never the URL (it may
 * carry a password).
 */
export function redisTransportProblem(value: string, allowPlaintext: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined; // the format is judged elsewhere
  }
  if (url.protocol !== 'redis:' || allowPlaintext) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(url.hostname) || isLoopbackHost(host)) return undefined;
  return `plain redis:// to "${url.hostname}" sends the queue and the Redis password unencrypted; use rediss:// (TLS), or set ROTATOR_ALLOW_PLAINTEXT_REDIS=true to accept it`;
}

/** A Redis node as a cluster or sentinel list gives it. */
interface RedisHostPort {
  host: string;
  port: number;
}

/**
 * The transport rule of redisTransportProblem for each way of reaching Redis: one URL, the nodes of
 * a cluster, or the sentinels of a Sentinel group (whose masters are reached the same way, with or
 * without TLS). Each problem is named by the variable it comes from.
 */
export function redisTopologyProblems(
  topology:
    | { kind: 'standalone'; url: string }
    | { kind: 'cluster'; nodes: RedisHostPort[]; tls: boolean }
    | { kind: 'sentinel'; sentinels: RedisHostPort[]; tls: boolean },
  allowPlaintext: boolean,
): ConfigProblem[] {
  if (topology.kind === 'standalone') {
    const problem = redisTransportProblem(topology.url, allowPlaintext);
    return problem ? [{ path: 'REDIS_URL', message: problem }] : [];
  }
  const [path, nodes] = topology.kind === 'cluster' ? ['REDIS_CLUSTER_NODES', topology.nodes] : ['REDIS_SENTINELS', topology.sentinels];
  const scheme = topology.tls ? 'rediss' : 'redis';
  return nodes.flatMap(({ host, port }) => {
    const problem = redisTransportProblem(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, allowPlaintext);
    return problem ? [{ path, message: problem }] : [];
  });
}

/** A URL without its trailing slashes, so callers append `/path`. */
export function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
