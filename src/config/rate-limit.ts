import { z } from 'zod';

/** A client-side limit on a provider's calls, per budget. */
export interface RateLimit {
  /** Calls per second, on average. */
  perSecond: number;
  /** Calls allowed at once after a quiet spell. */
  burst: number;
}

/** `10/s`, `600/m`, or `off`; undefined when it cannot be read. */
export function parseRateLimit(text: string): RateLimit | 'off' | undefined {
  if (text === 'off') return 'off';
  const m = /^(\d+(?:\.\d+)?)\/(s|m)$/.exec(text);
  if (!m) return undefined;
  const perSecond = Number(m[1]) / (m[2] === 'm' ? 60 : 1);
  if (!(perSecond > 0)) return undefined;
  // One call less than a second's worth at once: the provider counts calls as they arrive, and
  // arrivals jitter by a few milliseconds against the moments they were booked here. A burst one
  // short absorbs up to one interval of jitter, so a client at the provider's own rate meets no 429.
  return { perSecond, burst: Math.max(1, Math.floor(perSecond) - 1) };
}

/**
 * An environment variable a credential kind reads for its provider's rate limit (declared by the
 * kind, so the environment's reader names no provider). `fallback` applies when it is unset.
 */
export interface RateLimitVariable {
  variable: string;
  fallback: string;
}

export const rateLimitVariable = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const limit = parseRateLimit(v);
      if (limit === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a rate like 10/s or 600/m, or off' });
        return z.NEVER;
      }
      return limit;
    });
