/**
 * What crossed the wire during a probe, kept without a single value: the probe runs the rotator's
 * own provider clients (so it tests what the rotator does) with this fetch underneath, and reads
 * statuses, field names, error codes and page metadata from it. Response bodies are read from a
 * clone, through the reader the wire is given (the provider clients' 1 MiB cap: an endless or huge
 * answer is never buffered whole), and reduced at once: the values (tokens, secrets, access
 * tokens) are never kept.
 */
export interface WireRecord {
  method: string;
  /** Origin and path only: the query (page, per) is dropped. */
  target: string;
  /** null: no answer came (a refused or reset connection, a timeout). */
  status: number | null;
  /** Top-level field names of a JSON body, sorted. */
  keys: string[];
  /** OAuth's `error` when it is a code (`invalid_client`), else undefined. */
  errorCode: string | undefined;
  /** Of a paged listing: where `next_page_url` points and what `metadata` says. */
  page?: PageRecord;
}

export interface PageRecord {
  /** `none` (null or missing), `same` (the request's origin, relative links included), `other`. */
  link: 'none' | 'same' | 'other';
  /** The other origin, only when `link` is `other`. */
  linkOrigin?: string;
  currentPage?: number;
  totalPages?: number;
  totalCount?: number;
  per?: number;
  count: number;
}

/**
 * One call of a client through the wire: what it returned or threw, and the record of the last
 * request it made (undefined when it made none). A call that failed without an answer has a record
 * with `status: null`, never the answer to an earlier request.
 */
export type Exchange<T> = ({ ok: true; value: T } | { ok: false; error: unknown }) & { record: WireRecord | undefined };

export interface Wire {
  fetch: typeof fetch;
  records: WireRecord[];
  /**
   * Runs one client call and hands back its own answer's record with its outcome. The calls of one
   * wire are made one after the other (a probe waits for each), so the records a call adds are its own.
   */
  call<T>(request: () => Promise<T>): Promise<Exchange<T>>;
}

const CODE = /^[a-z_]{1,64}$/;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function pageOf(body: Record<string, unknown>, requestUrl: URL): PageRecord | undefined {
  const meta = body.metadata;
  if (!Array.isArray(body.data) || typeof meta !== 'object' || meta === null) return undefined;
  const m = meta as Record<string, unknown>;
  const record: PageRecord = { link: 'none', count: body.data.length };
  const next = m.next_page_url;
  if (typeof next === 'string' && next !== '') {
    let origin: string | undefined;
    try {
      origin = new URL(next, requestUrl).origin;
    } catch {
      origin = 'unparsable';
    }
    record.link = origin === requestUrl.origin ? 'same' : 'other';
    if (record.link === 'other') record.linkOrigin = origin;
  }
  for (const [key, field] of [
    ['currentPage', 'current_page'],
    ['totalPages', 'total_pages'],
    ['totalCount', 'total_count'],
    ['per', 'per'],
  ] as const) {
    const value = num(m[field]);
    if (value !== undefined) record[key] = value;
  }
  return record;
}

/** Reads a response body as text, within a size cap (provider-http's readCapped). */
export type BodyReader = (response: Response) => Promise<string>;

async function reduce(response: Response, url: URL, method: string, readBody: BodyReader): Promise<WireRecord> {
  const record: WireRecord = { method, target: `${url.origin}${url.pathname}`, status: response.status, keys: [], errorCode: undefined };
  if (!/[/+]json\b/i.test(response.headers.get('content-type') ?? '')) return record;
  try {
    const body: unknown = JSON.parse(await readBody(response.clone()));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return record;
    const fields = body as Record<string, unknown>;
    record.keys = Object.keys(fields).sort();
    if (typeof fields.error === 'string' && CODE.test(fields.error)) record.errorCode = fields.error;
    const page = pageOf(fields, url);
    if (page) record.page = page;
  } catch {
    // Not JSON after all, or larger than the cap: the client says so in its own error.
  }
  return record;
}

export function createWire(readBody: BodyReader, base: typeof fetch = fetch): Wire {
  const records: WireRecord[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    let response: Response;
    try {
      response = await base(input, init);
    } catch (error) {
      // No answer: recorded as such, so that no check reads an earlier request's answer for this one.
      records.push({ method, target: `${url.origin}${url.pathname}`, status: null, keys: [], errorCode: undefined });
      throw error;
    }
    records.push(await reduce(response, url, method, readBody));
    return response;
  };
  return {
    fetch: wrapped,
    records,
    async call(request) {
      const from = records.length;
      const own = () => records.slice(from).at(-1);
      try {
        const value = await request();
        return { ok: true, value, record: own() };
      } catch (error) {
        return { ok: false, error, record: own() };
      }
    },
  };
}
