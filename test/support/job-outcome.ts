import type { JobOutcome, RotationJobOutcome } from '../../jobs/index.ts';

const ROTATION_ACTIONS: ReadonlySet<string> = new Set<RotationJobOutcome['action']>(['rotated', 'not-due', 'already-done', 'force-refused']);

/** The outcome of a check-credential job of a rotatable kind; throws (failing the test) for any other outcome. */
export function rotationOutcome(outcome: JobOutcome | undefined): RotationJobOutcome {
  if (!outcome || !ROTATION_ACTIONS.has(outcome.action)) throw new Error(`expected a rotation outcome, got ${JSON.stringify(outcome)}`);
  return outcome as RotationJobOutcome;
}
