import { ProviderUnavailableError } from '../errors.ts';

/**
 * Reads a Credly listing to its end by following `metadata.next_page_url`: resolved against the
 * page it came on (it may be relative), only on the API's own origin (the credential goes wherever
 * it points), never a page twice and at most `maxPages` pages (a listing that does not end would
 * keep the job busy forever).
 */
export async function readAllPages<T>(options: {
  first: string;
  origin: string;
  maxPages: number;
  operation: string;
  read: (url: string) => Promise<{ items: T[]; next: string | null | undefined }>;
}): Promise<T[]> {
  const refuse = (message: string) => new ProviderUnavailableError(message, { provider: 'credly', operation: options.operation });
  const items: T[] = [];
  const seen = new Set<string>();
  let url: string | null = options.first;
  while (url) {
    if (seen.has(url) || seen.size >= options.maxPages) throw refuse(`the listing does not end (page ${seen.size + 1})`);
    seen.add(url);
    const page = await options.read(url);
    items.push(...page.items);
    url = nextPage(page.next, url, options.origin, refuse);
  }
  return items;
}

function nextPage(next: string | null | undefined, current: string, origin: string, refuse: (message: string) => Error): string | null {
  if (next === null || next === undefined || next === '') return null;
  let url: URL;
  try {
    url = new URL(next, current);
  } catch {
    throw refuse('next_page_url is not a URL; refused');
  }
  if (url.origin !== origin) throw refuse('next_page_url points to another host; refused');
  return url.href;
}
