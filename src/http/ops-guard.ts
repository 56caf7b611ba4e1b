import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';

/**
 * Limits of the ops server against slow, half-open and oversized clients. Anything in the cluster
 * may reach the port: none of them may hold a connection or memory for long.
 */
export interface OpsLimits {
  /** Longest total size of the request line and headers, in bytes (Node's `maxHeaderSize`). Default 8 KiB. */
  maxHeaderBytes: number;
  /** How long a client may take to send its headers, in ms. Default 5000. */
  headersTimeoutMs: number;
  /** How long a client may take to send a whole request, in ms. Default 10000. */
  requestTimeoutMs: number;
  /**
   * Connections open at once (Node's `server.maxConnections`); past it a new one is closed at once,
   * so a flood of clients cannot exhaust file descriptors or memory. Default 256: far above what
   * Prometheus, the kubelet and a few people need.
   */
  maxConnections: number;
}

export const DEFAULT_OPS_LIMITS: OpsLimits = { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, maxConnections: 256 };

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * One short log line per refusal, at most `perMinute` a minute: a flood of bad requests must not
 * become a flood of log lines. The count of the lines left out goes with the next one written.
 */
export function refusalLog(logger: Logger, perMinute = 30): (fields: { status: number; reason: string; method?: string }) => void {
  let windowStart = 0;
  let written = 0;
  let skipped = 0;
  return (fields) => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      written = 0;
    }
    if (written >= perMinute) {
      skipped += 1;
      return;
    }
    written += 1;
    // The method is the client's text: cut short and limited to token characters.
    const method = fields.method?.replace(/[^A-Za-z0-9_-]/g, '?').slice(0, 16);
    logger.warn({ status: fields.status, reason: fields.reason, ...(method ? { method } : {}), ...(skipped ? { notLogged: skipped } : {}) }, 'ops: refused');
    skipped = 0;
  };
}

/** The status a parser error deserves: too large is 431, too slow 408, anything else 400. */
function statusOf(error: NodeJS.ErrnoException): number {
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_HEADERS_TIMEOUT') return 408;
  return 400;
}

/** Writes a bare answer straight to a socket (no request object exists) and closes it. */
function answerSocket(socket: Socket, status: number): void {
  if (socket.writable && !socket.writableEnded) {
    socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n`);
  }
  socket.destroySoon();
}

/**
 * What Node does below the request handler: requests its parser refuses (bad request lines,
 * unknown methods, oversized or malformed headers, timeouts), CONNECT and protocol upgrades.
 * Each is answered and closed; none reaches an exception handler.
 */
export function guardServer(server: Server, logger: Logger, refused: ReturnType<typeof refusalLog>): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    socket.on('error', () => undefined);
    // A client that reset or vanished gets no answer: there is no one to read it.
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOf(error);
    refused({ status, reason: error.code ?? 'client error' });
    answerSocket(socket, status);
  });
  // Without these listeners Node would leave a CONNECT or Upgrade socket open, unanswered.
  for (const event of ['connect', 'upgrade'] as const) {
    server.on(event, (req: { method?: string }, socket: Socket) => {
      socket.on('error', () => undefined);
      refused({ status: 405, reason: event, ...(req.method ? { method: req.method } : {}) });
      answerSocket(socket, 405);
    });
  }
  // After listening, a server error (EMFILE on accept…) is logged; unhandled it would end the process.
  server.on('error', (error: Error) => logger.error({ err: { type: error.name, message: error.message } }, 'ops: server error'));
}

/**
 * The path of a request target, or undefined when it is not one this server can route: only
 * origin-form (`/path?query`) and absolute-form (`http://host/path`) targets are.
 */
export function targetPath(target: string | undefined): string | undefined {
  if (!target) return undefined;
  if (target.startsWith('/')) {
    const path = target.split(/[?#]/, 1)[0]!;
    return path.startsWith('//') ? undefined : path;
  }
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}
