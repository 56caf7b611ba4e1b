import { z } from 'zod';
import { createProviderHttp } from '../../provider-http/http.ts';
import { probeHttp, type ProbeOptions } from '../../probe/common.ts';
import { why, type FindingsBuilder } from '../../probe/findings.ts';
import type { Wire } from '../../probe/wire.ts';

const basicToken = (token: string) => ({ authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` });

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
  const call = await wire.call(() =>
    http.request({
      operation: 'probe-pages',
      method: 'GET',
      url: `${request.url}?per=1`,
      headers: basicToken(request.token),
      secrets: [request.token],
      parse: anyPage,
    }),
  );
  if (!call.ok) {
    f.fails('pagination', assumption, true, why(call.error));
    return;
  }
  const page = call.record?.page;
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
