import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED } from '../../src/log/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: createLogger({ destination: stream, level: 'debug' }) };
}

describe('logger', () => {
  it('redacts secret-bearing fields at any of three depths and keeps ids readable', () => {
    const { lines, logger } = capture();
    const secret = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
    logger.info(
      {
        token: secret,
        tokenId: 'id-1',
        secretId: 'prod/credly',
        response: { access_token: secret, clientSecret: secret, clientId: 'client-1' },
        err: { cause: { token: secret, secret } },
        headers: { authorization: `Basic ${secret}` },
      },
      'rotation: stored pending version',
    );
    const text = lines.join('');
    expect(text).not.toContain(secret);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.token).toBe(REDACTED);
    expect(line.tokenId).toBe('id-1');
    expect(line.secretId).toBe('prod/credly');
    expect((line.response as Record<string, unknown>).clientId).toBe('client-1');
    expect(line.level).toBe('info');
  });
});
