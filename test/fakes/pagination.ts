export interface CredlyPageMetadata {
  count: number;
  current_page: number;
  total_count: number;
  total_pages: number;
  per: number;
  previous_page_url: string | null;
  next_page_url: string | null;
}

/**
 * Credly-style pages: `{ data, metadata }`, `page` from 1 and `per` (default 50, at most `maxPer`,
 * default 100), with absolute previous/next URLs on `absoluteUrl` (the pages' own links sit on the
 * web host, not the API host: see the Credly fake's `pageLinks`).
 */
export function paginate<T>(items: T[], query: Record<string, string>, absoluteUrl: string, maxPer = 100): { data: T[]; metadata: CredlyPageMetadata } {
  const per = Math.max(1, Math.min(maxPer, Math.trunc(Number(query.per ?? 50)) || 50));
  const page = Math.max(1, Math.trunc(Number(query.page ?? 1)) || 1);
  const totalPages = Math.max(1, Math.ceil(items.length / per));
  const data = items.slice((page - 1) * per, page * per);
  const link = (p: number) => `${absoluteUrl}?page=${p}&per=${per}`;
  return {
    data,
    metadata: {
      count: data.length,
      current_page: page,
      total_count: items.length,
      total_pages: totalPages,
      per,
      previous_page_url: page > 1 ? link(Math.min(page - 1, totalPages)) : null,
      next_page_url: page < totalPages ? link(page + 1) : null,
    },
  };
}
