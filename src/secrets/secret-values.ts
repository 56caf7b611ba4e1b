import { z } from 'zod';
import { RotatorError } from '../errors/rotator-error.ts';

/**
 * Reading and writing the SecretString shapes of docs/design.md ("Secret values"); each kind
 * declares its own shape in its folder.
 *
 * Errors name the secret, the field and what is wrong, never the content: zod's own messages (and
 * JSON.parse's) can quote the received input, so every message here is built from the issue's
 * code and the field's name only, and no parser error is kept as a cause.
 */

/**
 * A credential kind's SecretString shape (declared in the kind's folder). `bareToken` names the
 * field a bare string fills: a value stored as the token alone rather than as JSON.
 */
export interface SecretShape<S> {
  readonly kind: string;
  readonly schema: z.ZodType<S>;
  readonly bareToken?: keyof S & string;
}

// Surrounding whitespace (a newline pasted into the console) would make the provider refuse the value.
export const secretText = z.string().trim().min(1);
export const secretTimestamp = secretText.refine((v) => !Number.isNaN(Date.parse(v)), { error: 'is not a date' });

/** A stored (or about to be stored) value without the shape its kind needs. Permanent: a retry cannot fix it. */
export class SecretFormatError extends RotatorError {
  readonly kind: string;
  readonly secretId: string | undefined;
  /** One entry per problem, e.g. `field "clientSecret" is missing`. */
  readonly problems: string[];

  constructor(kind: string, problems: string[], secretId?: string) {
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

function parseJsonObject<S>(shape: SecretShape<S>, secretString: string, secretId: string | undefined): Record<string, unknown> {
  const { kind } = shape;
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new SecretFormatError(kind, [shape.bareToken ? 'not JSON and not a bare token' : 'not JSON'], secretId);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretFormatError(kind, ['not a JSON object'], secretId);
  }
  return value as Record<string, unknown>;
}

function validate<S>(shape: SecretShape<S>, input: Record<string, unknown>, secretId: string | undefined): S {
  // Tools that write JSON often emit null for "not set": treat it as absent (and as missing when required).
  const fields = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
  const result = shape.schema.safeParse(fields);
  if (!result.success)
    throw new SecretFormatError(
      shape.kind,
      result.error.issues.map((i) => describeIssue(i, fields)),
      secretId,
    );
  return result.data;
}

/**
 * Parses a SecretString into its kind's shape; a kind with `bareToken` also takes the bare token
 * string. Throws SecretFormatError listing every problem.
 */
export function parseSecret<S>(shape: SecretShape<S>, secretString: string, options: ParseSecretOptions = {}): S {
  const { secretId } = options;
  const trimmed = secretString.trim();
  if (trimmed === '') throw new SecretFormatError(shape.kind, ['empty'], secretId);
  if (shape.bareToken && BARE_TOKEN.test(trimmed)) return validate(shape, { [shape.bareToken]: trimmed }, secretId);
  return validate(shape, parseJsonObject(shape, trimmed, secretId), secretId);
}

/**
 * The SecretString for a value of the given shape. Validated first, so the rotator never writes a
 * value it could not read back. Fields come out in schema order; unset optional fields are left out.
 */
export function serializeSecret<S>(shape: SecretShape<S>, value: S, options: ParseSecretOptions = {}): string {
  return JSON.stringify(validate(shape, { ...(value as Record<string, unknown>) }, options.secretId));
}
