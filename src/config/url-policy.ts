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
