import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/index.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('durations', () => {
  it.each([
    ['30d', 30 * DAY],
    ['12h', 12 * HOUR],
    ['15m', 15 * MINUTE],
    ['45s', 45 * SECOND],
    ['500ms', 500],
    ['1h30m', HOUR + 30 * MINUTE],
    ['1d12h', 36 * HOUR],
    ['2m30s250ms', 2 * MINUTE + 30 * SECOND + 250],
    ['0s', 0],
    ['90m', 90 * MINUTE],
    [' 15m ', 15 * MINUTE],
  ])('reads "%s" as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'd', '30 days', '1.5h', '-1h', '10y', '1h 30m', '30m1h', '1h1h', '15M', 'ms', '99999999999999999d'])('refuses "%s"', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    [90 * DAY, '90d'],
    [HOUR + 30 * MINUTE, '1h30m'],
    [0, '0s'],
    [1_500, '1s500ms'],
  ])('formats %d ms as "%s", which reads back to the same value', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
