import type { z } from 'zod';
import type { Logger } from '../src/log/logger.ts';

/**
 * What a handler returns, one variant per kind of work, told apart by `action`. It is stored in
 * Redis as the job's return value and printed by `rotator trigger --wait`, so it holds ids, states
 * and figures only — never a secret.
 */
export type JobOutcome = RotationJobOutcome | ValidationJobOutcome | RevokeJobOutcome;

interface OutcomeBase {
  credentialId: string;
  /** The credential's kind, as the inventory names it. */
  kind: string;
  /** One line for people (`rotator status`, the demo, logs). */
  summary: string;
}

/**
 * check-credential of a rotatable kind: rotated, not due, a job run again after its rotation
 * finished, or a forced rotation refused inside the cooldown (`force-refused`: skipped, not failed).
 */
export interface RotationJobOutcome extends OutcomeBase {
  status: 'success' | 'skipped';
  action: 'rotated' | 'not-due' | 'already-done' | 'force-refused';
  rotationId?: string;
  expiresAt?: string;
  daysToExpiry?: number;
  /** What became of the replaced credential (`revoked`, `revoke scheduled for …`, `NOT revoked: …`). */
  previousState?: string;
  /** Provider ids of replaced credentials still valid at the provider, comma-separated; '' when none, unset when not checked. */
  unrevoked?: string;
  /** With `force-refused`: when a forced rotation becomes possible (ISO time). */
  possibleAt?: string;
  /** With `force-refused`: the AWSCURRENT version the cooldown runs from. */
  currentVersionId?: string;
}

/** check-credential of a kind that is only validated (issued by hand): it works. */
export interface ValidationJobOutcome extends OutcomeBase {
  status: 'success';
  action: 'validated';
}

/** revoke-previous: the replaced credential of a rotation was handled by the revoke guard. */
export interface RevokeJobOutcome extends OutcomeBase {
  status: 'success';
  action: 'revoke-handled';
  rotationId: string;
  previousState: string;
  /** As in RotationJobOutcome, but set only when something is left to revoke by hand. */
  unrevoked?: string;
}

export interface JobContext {
  jobId: string;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
  logger: Logger;
}

/** One job kind: its name, the schema of its payload, and its handler. */
export interface JobDefinition<Name extends string, Schema extends z.ZodType, Deps> {
  readonly name: Name;
  readonly schema: Schema;
  handle(deps: Deps, payload: z.infer<Schema>, context: JobContext): Promise<JobOutcome>;
}
