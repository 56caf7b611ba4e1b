import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FaultInjector } from './faults.ts';

/** The fakes' clock; tests pass their own to move time without waiting. */
export type Clock = () => Date;
export const realClock: Clock = () => new Date();

/** One request as a fake saw it; tests read these to check how a client called (Basic vs body auth…). */
export interface RecordedRequest<S extends string = string> {
  /** Which of the fake's hosts it hit (`api`, `web`, `token`, `public`, `user`). */
  server: S;
  /** That host's origin, `http://127.0.0.1:<port>`. */
  origin: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Form fields as an object, parsed JSON, the raw text when it does not parse, or undefined. */
  body: unknown;
  contentType: string;
  at: Date;
}

export interface FakeRequest<S extends string = string> extends RecordedRequest<S> {
  raw: string;
  /** String fields of a form body or of a JSON object body. */
  fields: Record<string, string>;
  /** The body claimed to be JSON and did not parse. */
  badJson: boolean;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler<S extends string = string> = (req: FakeRequest<S>, match: RegExpMatchArray) => FakeResponse;

export interface Route<S extends string = string> {
  method: string;
  pattern: RegExp;
  handler: Handler<S>;
}

export interface FakeServer {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * A random value no test could mistake for anything else: a readable prefix and 48 hex characters
 * by default, so a test can search logs, Redis and alert payloads for it.
 */
export function secretValue(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { status, body, headers };
}

/** `Basic` credentials; `password` is undefined when the decoded value has no colon at all. */
export function basicAuth(req: Pick<RecordedRequest, 'headers'>): { user: string; password: string | undefined } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { user: decoded, password: undefined } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function bearer(req: Pick<RecordedRequest, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

export const isForm = (req: Pick<RecordedRequest, 'contentType'>) => req.contentType.includes('application/x-www-form-urlencoded');
export const isJson = (req: Pick<RecordedRequest, 'contentType'>) => /[/+]json\b/.test(req.contentType);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function stringFields(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const entries = Object.entries(value).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]));
}

function parseBody(raw: string, req: Pick<RecordedRequest, 'contentType'>): Pick<FakeRequest, 'body' | 'fields' | 'badJson'> {
  if (!raw) return { body: undefined, fields: {}, badJson: false };
  if (isForm(req)) {
    const fields = Object.fromEntries(new URLSearchParams(raw));
    return { body: fields, fields, badJson: false };
  }
  if (isJson(req)) {
    try {
      const body: unknown = JSON.parse(raw);
      return { body, fields: stringFields(body), badJson: false };
    } catch {
      return { body: raw, fields: {}, badJson: true };
    }
  }
  return { body: raw, fields: {}, badJson: false };
}

export interface FakeServerOptions<S extends string> {
  name: S;
  routes: Array<Route<S>>;
  faults: FaultInjector<S>;
  log: Array<RecordedRequest<S>>;
  now: Clock;
}

/**
 * Starts one fake host on 127.0.0.1 with a port of its own. Every request is logged first (faulted
 * ones too), then passes the fault injector, then the first route matching method and path answers.
 * No route → 404 `{ message }`. A handler that throws answers 500 and says so on stderr, because a
 * bug in a fake must not look like a provider outage.
 */
export async function startFakeServer<S extends string>(options: FakeServerOptions<S>): Promise<FakeServer> {
  // Aborts pending latency/hang timers on close so a closed fake never holds the process open.
  const closing = new AbortController();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const contentType = String(req.headers['content-type'] ?? '');
    const request: FakeRequest<S> = {
      server: options.name,
      origin,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      contentType,
      at: options.now(),
      raw,
      ...parseBody(raw, { contentType }),
    };
    const { server, method, path, query, headers, body, at } = request;
    options.log.push({ server, origin, method, path, query, headers, body, contentType, at });
    const fate = await options.faults.apply(request, res, closing.signal);
    if (fate === 'answered') return;
    const response = route(request);
    if (res.destroyed) return;
    if (fate === 'route-then-lose') {
      res.socket?.destroy();
      return;
    }
    const type: Record<string, string> = response.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' };
    res.writeHead(response.status, { ...type, ...response.headers });
    res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
  }

  function route(request: FakeRequest<S>): FakeResponse {
    try {
      for (const r of options.routes) {
        const match = r.method === request.method ? request.path.match(r.pattern) : null;
        if (match) return r.handler(request, match);
      }
      return json(404, { message: `no route for ${request.method} ${request.path}` });
    } catch (error) {
      console.error(`fake ${options.name}: handler for ${request.method} ${request.path} threw`, error);
      return json(500, { message: 'fake server error' });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`fake ${options.name}: request failed`, error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`fake ${options.name}: no TCP address`);
  origin = `http://127.0.0.1:${address.port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
