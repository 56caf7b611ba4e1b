import { z } from 'zod';
import { RotatorError } from '../errors/rotator-error.ts';

/**
 * The SecretString shapes of docs/design.md ("Secret values"), one per credential kind.
 *
 * Errors name the secret, the field and what is wrong, never the content: zod's own messages (and
 * JSON.parse's) can quote the received input, so every message here is built from the issue's
 * code and the field's name only, and no parser error is kept as a cause.
 */

// Local on purpose, so this module depends on nothing; it matches the inventory's kinds.
export const SECRET_KINDS = [
  'credly-authorization-token',
  'credly-oauth-application',
  'degreed-client-credentials',
  'learnlink-client-credentials',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

// Surrounding whitespace (a newline pasted into the console) would make the provider refuse the value.
const text = z.string().trim().min(1);
const timestamp = text.refine((v) => !Number.isNaN(Date.parse(v)), { error: 'is not a date' });

export const credlyTokenSecretSchema = z.object({
  token: text,
  tokenId: text.optional(),
  organizationId: text.optional(),
  expiresAt: timestamp.optional(),
  rotatedAt: timestamp.optional(),
});
export const credlyOAuthAppSecretSchema = z.object({ clientId: text, clientSecret: text, applicationId: z.int().positive() });
export const degreedSecretSchema = z.object({ clientId: text, clientSecret: text });
export const learnlinkSecretSchema = z.object({ clientSecret: text, tenantId: text.optional() });

export type CredlyTokenSecret = z.infer<typeof credlyTokenSecretSchema>;
export type CredlyOAuthAppSecret = z.infer<typeof credlyOAuthAppSecretSchema>;
export type DegreedSecret = z.infer<typeof degreedSecretSchema>;
export type LearnlinkSecret = z.infer<typeof learnlinkSecretSchema>;

export interface SecretValues {
  'credly-authorization-token': CredlyTokenSecret;
  'credly-oauth-application': CredlyOAuthAppSecret;
  'degreed-client-credentials': DegreedSecret;
  'learnlink-client-credentials': LearnlinkSecret;
}

const schemas: { [K in SecretKind]: z.ZodType<SecretValues[K]> } = {
  'credly-authorization-token': credlyTokenSecretSchema,
  'credly-oauth-application': credlyOAuthAppSecretSchema,
  'degreed-client-credentials': degreedSecretSchema,
  'learnlink-client-credentials': learnlinkSecretSchema,
};

/** A stored (or about to be stored) value without the shape its kind needs. Permanent: a retry cannot fix it. */
export class SecretFormatError extends RotatorError {
  readonly kind: SecretKind;
  readonly secretId: string | undefined;
  /** One entry per problem, e.g. `field "clientSecret" is missing`. */
  readonly problems: string[];

  constructor(kind: SecretKind, problems: string[], secretId?: string) {
    const subject = secretId === undefined ? 'stored secret' : `secret "${secretId}"`;
    super(`${subject} is not a valid ${kind} value: ${problems.join('; ')}`, { permanent: true });
    this.kind = kind;
    this.secretId = secretId;
    this.problems = problems;
  }
}

export interface ParseSecretOptions {
  /** Named in the error message when the value is malformed. Default: none ("stored secret"). */
  secretId?: string;
}

/** Printable ASCII without spaces, and neither the start of a JSON document nor a JSON literal. */
const BARE_TOKEN = /^(?!["[{])(?!(?:true|false|null)$)[\x21-\x7e]+$/;

function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const field = issue.path.map(String).join('.');
  const key = issue.path[0];
  if (typeof key === 'string' && input[key] === undefined) return `field "${field}" is missing`;
  switch (issue.code) {
    case 'invalid_type':
      return `field "${field}" must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
    case 'too_small':
      return issue.origin === 'string' ? `field "${field}" is empty` : `field "${field}" must be a positive integer`;
    case 'too_big':
      return `field "${field}" is too large`;
    case 'custom':
      // Only our own refinements produce this code, with fixed messages.
      return `field "${field}" ${issue.message}`;
    default:
      return `field "${field}" is invalid`;
  }
}

function parseJsonObject(kind: SecretKind, secretString: string, secretId: string | undefined): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    const problem = kind === 'credly-authorization-token' ? 'not JSON and not a bare token' : 'not JSON';
    throw new SecretFormatError(kind, [problem], secretId);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretFormatError(kind, ['not a JSON object'], secretId);
  }
  return value as Record<string, unknown>;
}

function validate<K extends SecretKind>(kind: K, input: Record<string, unknown>, secretId: string | undefined): SecretValues[K] {
  // Tools that write JSON often emit null for "not set": treat it as absent (and as missing when required).
  const fields = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
  const result = schemas[kind].safeParse(fields);
  if (!result.success) throw new SecretFormatError(kind, result.error.issues.map((i) => describeIssue(i, fields)), secretId);
  return result.data;
}

/**
 * Parses a SecretString into the shape of its credential kind. A Credly authorization token may
 * also be stored as the bare token string. Throws SecretFormatError listing every problem.
 */
export function parseSecretValue<K extends SecretKind>(kind: K, secretString: string, options: ParseSecretOptions = {}): SecretValues[K] {
  const { secretId } = options;
  const trimmed = secretString.trim();
  if (trimmed === '') throw new SecretFormatError(kind, ['empty'], secretId);
  if (kind === 'credly-authorization-token' && BARE_TOKEN.test(trimmed)) {
    return validate(kind, { token: trimmed }, secretId);
  }
  return validate(kind, parseJsonObject(kind, trimmed, secretId), secretId);
}

/**
 * The SecretString for a value of the given kind. Validated first, so the rotator never writes a
 * value it could not read back. Fields come out in schema order; unset optional fields are left out.
 */
export function serializeSecretValue<K extends SecretKind>(kind: K, value: SecretValues[K], options: ParseSecretOptions = {}): string {
  return JSON.stringify(validate(kind, { ...value }, options.secretId));
}

/** `{"token": …, "tokenId": …, "organizationId": …, "expiresAt": …, "rotatedAt": …}` as the rotator writes it back. */
export function serializeCredlyToken(value: CredlyTokenSecret, options: ParseSecretOptions = {}): string {
  return serializeSecretValue('credly-authorization-token', value, options);
}
