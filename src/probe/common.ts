import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createProviderHttp } from '../provider-http/http.ts';
import type { FindingsBuilder } from './findings.ts';
import { why } from './findings.ts';
import type { Wire } from './wire.ts';

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

export const basicToken = (token: string) => ({ authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` });

/** A value no provider has issued: for the calls that show how a refusal looks. Not a secret. */
export const bogus = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

const anyPage = z.object({ data: z.array(z.unknown()) });

/**
 * Where a Credly listing's page links point. One page of one item (`per=1`) is asked, so that a
 * listing of two or more items has a next page; the link is only looked at, never followed. The
 * rotator's page walker (pages.ts) follows a link on the API origin and otherwise asks `page`/`per`
 * on the API base up to `total_pages`: the listing holds when either is given, and when the full
 * listing (read by the rotator's client, `listed`) has as many items as `total_count` says.
 */
export async function probePagination(
  f: FindingsBuilder,
  wire: Wire,
  options: ProbeOptions,
  request: { url: string; token: string; what: string; listed: number },
): Promise<void> {
  const assumption = `the ${request.what} listing reads to its end without sending the token to another origin`;
  const http = createProviderHttp({ provider: 'credly', ...probeHttp(wire, options) });
  try {
    await http.request({ operation: 'probe-pages', method: 'GET', url: `${request.url}?per=1`, headers: basicToken(request.token), secrets: [request.token], parse: anyPage });
  } catch (error) {
    f.fails('pagination', assumption, true, why(error));
    return;
  }
  const page = wire.last('GET', /./)?.page;
  if (!page) {
    f.fails('pagination', assumption, true, 'the page came without metadata', { link: 'none' });
    return;
  }
  const facts = {
    link: page.link,
    linkOrigin: page.linkOrigin ?? null,
    totalPages: page.totalPages ?? null,
    totalCount: page.totalCount ?? null,
    perHonoured: page.per === 1 && page.count <= 1,
    listed: request.listed,
  };
  const where =
    page.link === 'same'
      ? 'next_page_url is on the API origin: followed'
      : page.link === 'other'
        ? `next_page_url points to another origin (${page.linkOrigin}): never followed; the rotator asks page/per on the API base up to total_pages`
        : page.count < (page.totalCount ?? 0)
          ? 'no next_page_url although items are left: the rotator asks page/per up to total_pages'
          : 'one page only (fewer than two items): no page link seen';
  const complete = page.totalCount === undefined || page.totalCount === request.listed;
  const reachable = page.link !== 'other' || page.totalPages !== undefined;
  const counts = `${request.listed} listed, total_count ${page.totalCount ?? 'absent'}, total_pages ${page.totalPages ?? 'absent'} at per=1`;
  if (complete && reachable) f.holds('pagination', assumption, true, `${where}; ${counts}`, facts);
  else f.fails('pagination', assumption, true, `${where}; ${counts}${reachable ? '' : '; without total_pages there is no safe way to the next page'}`, facts);
}

/** How a refusal looks on the wire: status, error code and field names (never the text). */
export function refusalFacts(wire: Wire, method: string, path: RegExp) {
  const r = wire.last(method, path);
  return { status: r?.status ?? null, errorCode: r?.errorCode ?? null, keys: r?.keys ?? [] };
}

export function describeRefusal(facts: { status: number | null; errorCode: string | null; keys: string[] }): string {
  const code = facts.errorCode ? ` ${facts.errorCode}` : '';
  return `answered ${facts.status ?? 'nothing'}${code}, body fields {${facts.keys.join(', ')}}`;
}
