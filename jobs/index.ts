import type { z } from 'zod';
import { checkCredentialJob, type CheckCredentialDeps } from './check-credential.job.ts';
import type { JobDefinition } from './job.ts';
import { revokePreviousJob } from './revoke-previous.job.ts';

export type { JobContext, JobDefinition, JobOutcome, RevokeJobOutcome, RotationJobOutcome, ValidationJobOutcome } from './job.ts';

/** Everything any job handler may use; each handler declares the narrow part it needs. */
export type JobDependencies = CheckCredentialDeps;

export const JOB_NAMES = ['check-credential', 'revoke-previous'] as const;
export type JobName = (typeof JOB_NAMES)[number];

type AnyJobDefinition<N extends string> = JobDefinition<N, z.ZodType, JobDependencies>;

/** Every job name must have its definition here: a missing one fails to compile. */
export const jobRegistry: { readonly [N in JobName]: AnyJobDefinition<N> } = {
  'check-credential': checkCredentialJob,
  'revoke-previous': revokePreviousJob,
};

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}
