const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

// Units largest first, each at most once (`1h30m`, not `30m1h` or `1h1h`), so a duration reads one way.
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses durations written as `30d`, `12h`, `15m`, `45s`, `500ms` or combined (`1h30m`, `1d12h`)
 * into milliseconds. Returns undefined for anything else, so the caller can say where it was.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || match[0] === '') return undefined;
  let total = 0;
  UNITS.forEach(([, size], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * size;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Formats milliseconds back into the largest whole units (`90d`, `1h30m`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}
