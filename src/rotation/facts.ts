import { z } from 'zod';
import { actorField, reasonField, ROTATION_TRIGGERS, type RotationTrigger } from '../config/actor.ts';

export { ACTOR_MAX, actorField, REASON_MAX, reasonField, ROTATION_TRIGGERS, type RotationTrigger } from '../config/actor.ts';

/**
 * A rotation's facts, written into the Secrets Manager version it stores (under `rotation`, next
 * to the fields consumers read), so that its history outlives Redis: ids, times and the words a
 * person gave, never a secret. `replaced` is the provider id of the credential it replaced (null
 * when it recreated from a lost secret).
 */
export const rotationFactsSchema = z.object({
  id: z.string().min(1),
  trigger: z.enum(ROTATION_TRIGGERS),
  startedAt: z.string().min(1),
  actor: actorField.nullable(),
  reason: reasonField.nullable(),
  replaced: z.string().min(1).nullable(),
});
export type RotationFacts = z.output<typeof rotationFactsSchema>;

/** The field of the stored JSON that holds them. */
export const FACTS_FIELD = 'rotation';

/** The value to store: the kind's JSON with the rotation's facts beside its fields. */
export function withFacts(secretString: string, facts: RotationFacts): string {
  const value = JSON.parse(secretString) as Record<string, unknown>;
  return JSON.stringify({ ...value, [FACTS_FIELD]: facts });
}

/**
 * The facts a stored value carries; undefined when it carries none (written by a person, or by a
 * rotator before facts were written) or they do not read as facts.
 */
export function factsOf(secretString: string): RotationFacts | undefined {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !(FACTS_FIELD in value)) return undefined;
  const parsed = rotationFactsSchema.safeParse((value as Record<string, unknown>)[FACTS_FIELD]);
  return parsed.success ? parsed.data : undefined;
}

/** Which trigger a rotation records: from what the job said and what the check found. */
export function triggerOf(job: { trigger: 'schedule' | 'manual' | 'startup' }, found: { previousRef: string; due: boolean }): RotationTrigger {
  if (found.previousRef === '') return 'recreate';
  if (!found.due) return 'forced';
  return job.trigger === 'manual' ? 'manual' : 'schedule';
}
