import { z } from 'zod';
import { cronProblem, normalizeCron } from './cron.ts';
import { parseDuration } from './duration.ts';
import { endpointProblem } from './url-policy.ts';

/** Field schemas shared by the inventory's credential kinds and alert sinks. */

/** Ids end up in BullMQ job ids and Redis keys, where ":" separates parts. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const id = z.string().regex(ID_PATTERN, 'must be 1–63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit');

export const nonEmpty = z.string().trim().min(1, 'must not be empty');

// Secrets Manager accepts names of these characters (up to 512) or the secret's full ARN.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export const secretId = z
  .string()
  .refine((v) => SECRET_NAME.test(v) || SECRET_ARN.test(v), 'must be a Secrets Manager secret name (letters, digits and /_+=.@-) or ARN');

const DURATION_HINT = 'write it like 30d, 12h, 15m, 45s, 500ms or 1h30m (largest unit first)';

function durationSchema(options: { allowZero: boolean }) {
  return z.string({ error: () => `must be a duration; ${DURATION_HINT}` }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration "${text}": ${DURATION_HINT}` });
      return z.NEVER;
    }
    if (ms === 0 && !options.allowZero) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      return z.NEVER;
    }
    return ms;
  });
}

/** A duration in milliseconds; `0s` allowed (overlap windows). */
export const duration = durationSchema({ allowZero: true });
/** A duration in milliseconds that must be positive (thresholds and intervals, where 0 means nothing). */
export const positiveDuration = durationSchema({ allowZero: false });

export const cronExpression = z.string().transform((text, ctx) => {
  const problem = cronProblem(text);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return normalizeCron(text);
});

export const endpointUrl = z.string().superRefine((text, ctx) => {
  const problem = endpointProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const INLINE_HINT = 'must reference the secret as { env: NAME } or { secretId: "…" }; secrets are never written inline';

/**
 * A reference to a secret kept outside the inventory: an environment variable or a Secrets
 * Manager secret. A rejected value is never echoed: it is most likely the secret itself.
 */
export const secretRef = z
  .strictObject(
    {
      env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      secretId: secretId.optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? INLINE_HINT : undefined) },
  )
  .superRefine((ref, ctx) => {
    const count = (ref.env === undefined ? 0 : 1) + (ref.secretId === undefined ? 0 : 1);
    if (count !== 1) ctx.addIssue({ code: 'custom', message: 'must name exactly one of env or secretId' });
  })
  .transform((ref): { env: string } | { secretId: string } => (ref.env !== undefined ? { env: ref.env } : { secretId: ref.secretId ?? '' }));
export type SecretRef = z.infer<typeof secretRef>;

/** A list without repeats; `min` 1 unless said otherwise. */
export function uniqueList<T extends z.ZodType<string>>(item: T, what: string, options: { min?: number } = {}) {
  const min = options.min ?? 1;
  return z
    .array(item)
    .min(min, `must list at least one ${what}`)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((value, index) => {
        if (seen.has(value)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} "${value}"`, path: [index] });
        seen.add(value);
      });
    });
}

// A KMS key as Secrets Manager's KmsKeyId takes it: a key id, a multi-Region key id, an alias, or
// the ARN of a key or an alias.
const KMS_KEY =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias\/[A-Za-z0-9/_-]{1,250}))$/;
export const kmsKeyId = z.string().regex(KMS_KEY, 'must be a KMS key id, a multi-Region key id (mrk-…), an alias (alias/…), or the ARN of a key or an alias');

// Secrets Manager's tag rules: at most 50; a key of 1–127 characters, a value of at most 255; letters,
// digits, spaces and + - = . _ : / @; the aws: prefix is AWS's own.
const TAG_TEXT = /^[\p{L}\p{N} +\-=._:/@]*$/u;
export const secretTags = z
  .record(z.string(), z.string().max(255).regex(TAG_TEXT, 'must be letters, digits, spaces and + - = . _ : / @'))
  .superRefine((tags, ctx) => {
    const keys = Object.keys(tags);
    if (keys.length > 50) ctx.addIssue({ code: 'custom', message: `must be at most 50 tags (got ${keys.length})` });
    for (const key of keys) {
      const problem =
        key.length < 1 || key.length > 127
          ? 'must be a tag key of 1 to 127 characters'
          : !TAG_TEXT.test(key)
            ? 'must be a tag key of letters, digits, spaces and + - = . _ : / @'
            : key.toLowerCase().startsWith('aws:')
              ? 'must not start with aws: (reserved by AWS)'
              : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });
