import { connect } from 'node:net';

export interface RawAnswer {
  /** The status of the first answer, or `closed` when the server closed without answering. */
  status: number | 'closed';
  /** Every status line the server sent (pipelined requests get one each). */
  statuses: number[];
  /** Whether the server closed the connection (within the wait). */
  closed: boolean;
  text: string;
}

/**
 * Sends bytes as they are over a plain TCP socket (no HTTP client cleaning them up) and collects
 * whatever comes back until the server closes the connection or `waitMs` pass.
 */
export function rawRequest(
  port: number,
  data: string | Buffer | Array<string | Buffer>,
  options: { waitMs?: number; halfClose?: boolean; host?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: options.host ?? '127.0.0.1' });
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ status: statuses[0] ?? 'closed', statuses, closed, text });
    };
    const timer = setTimeout(finish, options.waitMs ?? 3_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
      if (options.halfClose) socket.end();
    });
  });
}
