import { randomBytes } from 'node:crypto';
import type { Wire, WireRecord } from './wire.ts';

/** What every probe module is given besides its credential. */
export interface ProbeOptions {
  /** Create and delete throwaway tokens and applications (never without the operator's --allow-writes). */
  allowWrites: boolean;
  requestTimeoutMs?: number;
}

export const DAY_MS = 86_400_000;
export const NEEDS_WRITES = 'not tried: needs --allow-writes (only a write shows it)';

/** The http options every client of a probe gets: the recording fetch, few retries (a person is waiting). */
export function probeHttp(wire: Wire, options: ProbeOptions) {
  return { fetch: wire.fetch, maxAttempts: 2, ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }) };
}

/** A value no provider has issued: for the calls that show how a refusal looks. Not a secret. */
export const bogus = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/** How a refusal looks on the wire, from the record of its own request: status, error code and field names (never the text). */
export function refusalFacts(record: WireRecord | undefined) {
  return { status: record?.status ?? null, errorCode: record?.errorCode ?? null, keys: record?.keys ?? [] };
}

export function describeRefusal(facts: { status: number | null; errorCode: string | null; keys: string[] }): string {
  const code = facts.errorCode ? ` ${facts.errorCode}` : '';
  return `answered ${facts.status ?? 'nothing'}${code}, body fields {${facts.keys.join(', ')}}`;
}
