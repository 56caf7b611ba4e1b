/**
 * `rotator` exit codes (docs/design.md, CLI contract; README, Commands). `incomplete` is `probe`'s
 * own: nothing it checked failed, but assumptions the inventory relies on were not checked (a
 * read-only probe: run it with --allow-writes) — neither a pass nor a failure. `abandoned` is the
 * worker's alone: a stop whose grace ran out with jobs still running (README, Shutdown).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, incomplete: 3, abandoned: 4 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
