/**
 * `rotator` exit codes (docs/design.md, CLI contract). `abandoned` is the worker's alone: a stop
 * whose grace ran out with jobs still running (README, Shutdown).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, abandoned: 4 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
