import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { seededRandom } from '../fakes/faults.ts';

/**
 * A proxy on loopback in front of the Secrets Manager emulator that can fail chosen operations the
 * way AWS and networks do, so rotation tests inject faults into every Secrets Manager call. The
 * operation is read from the `X-Amz-Target` header (`secretsmanager.PutSecretValue`).
 */
export type SmFault =
  /** Hold the request without answering until the proxy closes (or the client gives up). */
  | { kind: 'hang' }
  /** Answer with an AWS JSON error: 500 InternalServiceError, 400 ThrottlingException… */
  | { kind: 'status'; status: number; type: string }
  /** Destroy the socket without answering. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** Forward to the emulator, then destroy the socket instead of passing the answer on (the write happened). */
  | { kind: 'lose-answer' }
  /** Wait `ms`, then drop the connection unanswered: a client whose timeout is shorter sees a timeout. */
  | { kind: 'delay'; ms: number };

export interface SmRule {
  /** Operation name, e.g. `PutSecretValue`; default every operation. */
  operation?: string;
  /** How many matching requests the rule hits; default 1. */
  times?: number;
  /** Matching requests to let through before the rule starts hitting; default 0. */
  skip?: number;
  fault: SmFault;
}

/**
 * How Secrets Manager is down during an outage: `refuse` closes the proxy's port (connections are
 * refused, as when the endpoint is gone); `unavailable` answers every call 503
 * ServiceUnavailableException, as AWS does during a regional incident.
 */
export type SmOutage = 'refuse' | 'unavailable';

export interface SmProxy {
  url: string;
  add(rule: SmRule): void;
  clear(): void;
  /**
   * Takes Secrets Manager down for every call until `restore()`: held requests and open
   * connections are dropped, rules cleared. The emulator behind keeps its state, as AWS does through
   * an outage. Called again while down, it switches to the other mode without a moment up between.
   */
  down(mode?: SmOutage): Promise<void>;
  /** Ends the outage: the same URL answers again. */
  restore(): Promise<void>;
  /** The current outage, if any. */
  readonly outage: SmOutage | undefined;
  /** Operations seen, in order. */
  readonly seen: string[];
  /**
   * Fails a share `rate` of the calls no rule catches, each with a fault drawn from `faults`,
   * reproducibly for one `seed`. Cleared by `clear()`.
   */
  setRandom(options: { rate: number; seed: number; faults: SmFault[] }): void;
  /** How many calls the random mode has failed since it was set. */
  appliedRandom(): number;
  /** Resolves when a request for `operation` arrives (counting from now). */
  waitFor(operation: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmProxy(target: string): Promise<SmProxy> {
  const upstream = new URL(target);
  const rules: Array<{ rule: SmRule; left: number; skip: number }> = [];
  const seen: string[] = [];
  const waiters: Array<{ operation: string; resolve: () => void }> = [];
  const hung = new Set<ServerResponse>();
  let outage: SmOutage | undefined;
  let random: { rate: number; next: () => number; faults: SmFault[]; applied: number } | undefined;

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, headers: IncomingMessage['headers'], data: Buffer) => void,
    onError: () => void,
  ) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => onAnswer(up.statusCode ?? 502, up.headers, Buffer.concat(chunks)));
      },
    );
    out.on('error', onError);
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      seen.push(operation);
      for (const waiter of waiters.filter((w) => w.operation === operation)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      let fault: SmFault | undefined;
      const entry = rules.find((r) => r.left > 0 && (r.rule.operation === undefined || r.rule.operation === operation));
      if (entry && entry.skip > 0) entry.skip -= 1;
      else if (entry) {
        entry.left -= 1;
        fault = entry.rule.fault;
      } else if (random && random.next() < random.rate) {
        fault = random.faults[Math.floor(random.next() * random.faults.length)];
        random.applied += 1;
      }
      const body = Buffer.concat(chunks);
      if (outage === 'unavailable') fault = { kind: 'status', status: 503, type: 'ServiceUnavailableException' };
      switch (fault?.kind) {
        case 'hang':
          hung.add(res);
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'status':
          res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': fault.type });
          res.end(JSON.stringify({ __type: fault.type, message: `injected ${fault.type}` }));
          return;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end('{"ARN": "arn:aws:secretsmanager:us-east-1:1234');
          return;
        case 'lose-answer':
          forward(
            req,
            body,
            () => req.socket.destroy(),
            () => req.socket.destroy(),
          );
          return;
        case 'delay': {
          hung.add(res);
          const timer = setTimeout(() => {
            hung.delete(res);
            req.socket.destroy();
          }, fault.ms);
          res.once('close', () => clearTimeout(timer));
          return;
        }
        default:
          forward(
            req,
            body,
            (status, headers, data) => {
              res.writeHead(status, headers);
              res.end(data);
            },
            () => res.destroy(),
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const dropHeld = () => {
    for (const res of hung) res.destroy();
    hung.clear();
  };
  // The same port again: clients keep the URL they were given.
  const listenAgain = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get outage() {
      return outage;
    },
    async down(mode = 'refuse') {
      const was = outage;
      outage = mode;
      rules.length = 0;
      dropHeld();
      if (mode === 'refuse' && was !== 'refuse') {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      } else if (mode !== 'refuse' && was === 'refuse') {
        // From refusing to answering 503: the port opens again, still down.
        await listenAgain();
      } else {
        // Keep-alive connections would otherwise carry on with answers already under way.
        server.closeAllConnections();
      }
    },
    async restore() {
      const was = outage;
      outage = undefined;
      if (was === 'refuse') await listenAgain();
    },
    add(rule) {
      rules.push({ rule, left: rule.times ?? 1, skip: rule.skip ?? 0 });
    },
    setRandom(options) {
      if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`random fault rate must be within 0–1, got ${options.rate}`);
      if (options.faults.length === 0) throw new RangeError('random faults need at least one fault');
      random = { rate: options.rate, next: seededRandom(options.seed), faults: options.faults, applied: 0 };
    },
    appliedRandom: () => random?.applied ?? 0,
    clear() {
      rules.length = 0;
      random = undefined;
      for (const res of hung) res.destroy();
      hung.clear();
    },
    waitFor(operation, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${operation} request within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          operation,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () =>
      new Promise((resolve) => {
        dropHeld();
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
