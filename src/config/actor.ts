import { z } from 'zod';

/**
 * What started a rotation, as its history tells it: the schedule (or the worker's start-up check),
 * a person's `rotator trigger` of a credential that was due, a forced rotation of one that was not,
 * or the recreation of an OAuth application whose client secret was lost.
 */
export const ROTATION_TRIGGERS = ['schedule', 'manual', 'forced', 'recreate'] as const;
export type RotationTrigger = (typeof ROTATION_TRIGGERS)[number];

/** Who asked for a rotation, and why: at most this long, one line of printable text. */
export const ACTOR_MAX = 200;
export const REASON_MAX = 500;
const oneLine = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must be one line of printable text');
export const actorField = oneLine(ACTOR_MAX);
export const reasonField = oneLine(REASON_MAX);
