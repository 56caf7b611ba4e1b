/** `rotator` exit codes (docs/design.md, CLI contract). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
