import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

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
  | { kind: 'lose-answer' };

export interface SmRule {
  /** Operation name, e.g. `PutSecretValue`; default every operation. */
  operation?: string;
  /** How many matching requests the rule hits; default 1. */
  times?: number;
  /** Matching requests to let through before the rule starts hitting; default 0. */
  skip?: number;
  fault: SmFault;
}

export interface SmProxy {
  url: string;
  add(rule: SmRule): void;
  clear(): void;
  /** Operations seen, in order. */
  readonly seen: string[];
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

  const forward = (req: IncomingMessage, body: Buffer, onAnswer: (status: number, headers: IncomingMessage['headers'], data: Buffer) => void, onError: () => void) => {
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
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
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
      }
      const body = Buffer.concat(chunks);
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
          forward(req, body, () => req.socket.destroy(), () => req.socket.destroy());
          return;
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
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    add(rule) {
      rules.push({ rule, left: rule.times ?? 1, skip: rule.skip ?? 0 });
    },
    clear() {
      rules.length = 0;
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
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
