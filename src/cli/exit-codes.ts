/**
 * `rotator` exit codes (docs/design.md, CLI contract; README, Commands). `incomplete` is `probe`'s
 * own: nothing it checked failed, but assumptions the inventory relies on were not checked (a
 * read-only probe: run it with --allow-writes) — neither a pass nor a failure.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, incomplete: 3 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
