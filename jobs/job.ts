import type { z } from 'zod';
import type { Logger } from '../src/log/logger.ts';

/**
 * What a handler returns. It is stored in Redis as the job's return value, so it holds ids,
 * states and figures only — never a secret.
 */
export interface JobOutcome {
  status: 'success' | 'skipped';
  credentialId: string;
  /** One line for people (`rotator status`, the demo, logs). */
  summary: string;
  [detail: string]: string | number | boolean | null | undefined;
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
