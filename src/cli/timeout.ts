import { UsageError } from './exit-codes.ts';

/** `--timeout <seconds>` of `rotator trigger --wait`: a whole number of seconds, default 300. */
export function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 300;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1) throw new UsageError(`--timeout must be a whole number of seconds, at least 1 (got "${text}")`);
  return seconds;
}

/** `--limit`: a whole number of entries, at least 1. */
export function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw new UsageError(`--limit must be a whole number of entries, at least 1 (got "${text}")`);
  return Number(text);
}
