/**
 * `rotator` exit codes (docs/design.md, CLI contract; docs/operations.md, Commands). `incomplete` is `probe`'s
 * own: nothing it checked failed, but assumptions the inventory relies on were not checked (a
 * read-only probe: run it with --allow-writes) — neither a pass nor a failure. `abandoned` is the
 * worker's alone: a stop whose grace ran out with jobs still running (docs/operations.md, Commands).
 * `timedOut` is `trigger --wait`'s: the wait ran out while the job still runs — not a failure, the
 * job goes on. `usage` also covers an unsupported Node.js (bin/node-version.mjs, which cannot
 * import this file and repeats the number).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, incomplete: 3, abandoned: 4, timedOut: 5 } as const;

/** Bad usage: exit 2, printed with the help of `command` (the global help without one). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}
