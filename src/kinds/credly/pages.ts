import { ProviderUnavailableError } from '../../errors/provider-errors.ts';

/** What a listing page says about paging (`metadata`); every field may be missing. */
export interface PageInfo {
  next?: string | null | undefined;
  currentPage?: number | undefined;
  totalPages?: number | undefined;
  per?: number | undefined;
}

/**
 * Reads a Credly listing to its end. `metadata.next_page_url` is followed only when it is on the
 * API's own origin (resolved against the page it came on: it may be relative), because the
 * credential goes wherever it points. The vendor pages' own links sit on the web host
 * (`https://www.credly.com/api/v1/…`), not on the API base: a link elsewhere is never followed —
 * the next page is asked on `first` with `page`/`per` instead, up to `metadata.total_pages`. A link
 * elsewhere without `total_pages` leaves no safe way on, so it is refused. Never a page twice and
 * at most `maxPages` pages (a listing that does not end would keep the job busy forever).
 */
export async function readAllPages<T>(options: {
  first: string;
  origin: string;
  maxPages: number;
  operation: string;
  read: (url: string) => Promise<{ items: T[] } & PageInfo>;
}): Promise<T[]> {
  const refuse = (message: string) => new ProviderUnavailableError(message, { provider: 'credly', operation: options.operation });
  const items: T[] = [];
  const seen = new Set<string>();
  let url: string | null = options.first;
  let pageNumber = 1;
  /** The page number this rotator put into the URL itself, when it did. */
  let asked: number | undefined;
  while (url) {
    if (seen.has(url) || seen.size >= options.maxPages) throw refuse(`the listing does not end (page ${seen.size + 1})`);
    seen.add(url);
    const page = await options.read(url);
    const current = positive(page.currentPage) ?? pageNumber;
    // `page` as the query parameter is not in the vendor pages: a server that ignores it would hand
    // back page 1 again, and the listing would silently miss tokens.
    if (asked !== undefined && current !== asked) throw refuse(`asked for page ${asked} by number and got page ${current}; refused`);
    items.push(...page.items);
    const next = nextPage(page, url, current, options, refuse);
    url = next?.url ?? null;
    asked = next?.byNumber ? current + 1 : undefined;
    pageNumber = current + 1;
  }
  return items;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}

function nextPage(
  page: PageInfo,
  current: string,
  currentPage: number,
  options: { first: string; origin: string },
  refuse: (message: string) => Error,
): { url: string; byNumber: boolean } | null {
  const totalPages = positive(page.totalPages);
  const link = page.next === null || page.next === undefined || page.next === '' ? undefined : resolve(page.next, current, refuse);
  if (link && link.origin === options.origin) return { url: link.href, byNumber: false };
  // No usable link: the page count decides (a null link with pages left would silently cut the list short).
  if (totalPages !== undefined && currentPage < totalPages) return { url: onApiBase(options.first, currentPage + 1, positive(page.per)), byNumber: true };
  if (link) throw refuse('next_page_url points to another host; refused (and without metadata.total_pages the next page cannot be asked on the API base)');
  return null;
}

function resolve(next: string, current: string, refuse: (message: string) => Error): URL {
  try {
    return new URL(next, current);
  } catch {
    throw refuse('next_page_url is not a URL; refused');
  }
}

/** `first` with `page` (and `per`, when the page said which it used) set. */
function onApiBase(first: string, page: number, per: number | undefined): string {
  const url = new URL(first);
  url.searchParams.set('page', String(page));
  if (per !== undefined) url.searchParams.set('per', String(per));
  return url.href;
}
