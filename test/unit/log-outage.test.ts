import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectionErrorLog } from '../../src/log/connection-errors.ts';
import { routeProcessOutput } from '../../src/log/process-output.ts';
import { captureLogger } from '../support/capture-logger.ts';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('connection errors, rate-limited per source', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first error at once, then one line per 10 s per source carrying the count held back', () => {
    vi.useFakeTimers();
    const { logger, lines } = captureLogger();
    const log = connectionErrorLog(logger);
    // A reconnect attempt every 200 ms for 25 s, from the connection and from the queue re-emitting it.
    for (let ms = 0; ms < 25_000; ms += 200) {
      log.error('redis', refused());
      log.error('queue', refused());
      vi.advanceTimersByTime(200);
    }
    vi.advanceTimersByTime(10_000);
    const written = parsed(lines);
    for (const source of ['redis', 'queue']) {
      const own = written.filter((l) => l.source === source);
      // At 0 s, then at 10 s and 20 s (the count of the 49 held back each time), then the last 24 at the end.
      expect(own.map((l) => l.suppressed ?? 0)).toEqual([0, 49, 50, 25]);
      expect(own.every((l) => l.msg === 'redis: connection error' && (l.err as { message: string }).message.includes('ECONNREFUSED'))).toBe(true);
    }
    expect(written).toHaveLength(8);
  });

  it('says when a failing source answers again, with what it held back; a flapping connection still writes one error line per 10 s', () => {
    vi.useFakeTimers();
    const { logger, lines } = captureLogger();
    const log = connectionErrorLog(logger);
    log.restored('redis');
    expect(lines).toEqual([]);
    log.error('redis', refused());
    log.error('redis', refused());
    log.error('redis', refused());
    log.restored('redis');
    log.error('redis', refused());
    log.restored('redis');
    log.error('redis', refused());
    vi.advanceTimersByTime(9_000);
    expect(parsed(lines).map((l) => [l.msg, l.suppressed])).toEqual([
      ['redis: connection error', undefined],
      ['redis: connection restored', 2],
      ['redis: connection restored', 1],
    ]);
    vi.advanceTimersByTime(1_000);
    expect(
      parsed(lines)
        .map((l) => [l.msg, l.suppressed])
        .at(-1),
    ).toEqual(['redis: connection error', 1]);
    const times = parsed(lines)
      .filter((l) => l.msg === 'redis: connection error')
      .map((l) => Date.parse(String(l.time)));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(10_000);
  });
});

describe('process output as JSON lines', () => {
  it('routes console calls and process warnings into the logger, one line each, without stacks', async () => {
    const { logger, lines } = captureLogger();
    const restore = routeProcessOutput(logger);
    try {
      console.error(new Error('connect ECONNREFUSED 127.0.0.1:6379\n    at TCPConnectWrap.afterConnect'));
      console.warn('IMPORTANT! Eviction policy is %s. It should be "noeviction"', 'allkeys-lru');
      const warned = new Promise((resolve) => process.once('warning', resolve));
      process.emitWarning('possible leak', 'MaxListenersExceededWarning');
      await warned;
    } finally {
      restore();
    }
    expect(parsed(lines)).toEqual([
      expect.objectContaining({ level: 'error', source: 'console', msg: 'Error: connect ECONNREFUSED 127.0.0.1:6379' }),
      expect.objectContaining({ level: 'warn', source: 'console', msg: 'IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"' }),
      expect.objectContaining({
        level: 'warn',
        source: 'node',
        msg: 'process: warning',
        err: { type: 'MaxListenersExceededWarning', message: 'possible leak' },
      }),
    ]);
    expect(process.listenerCount('warning')).toBeGreaterThan(0);
  });
});
