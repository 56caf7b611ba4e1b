import { RotatorError } from '../errors/rotator-error.ts';
import { REDACTED, scrubSecrets } from '../errors/scrub.ts';

/** The store operation that failed; error messages start with it. */
export type SecretOperation =
  'read-current' | 'read-pending' | 'read-stage' | 'unlabel' | 'read-version' | 'put-pending' | 'promote' | 'list-versions' | 'put-current' | 'create';

export interface SecretStoreErrorOptions {
  secretId: string;
  operation: SecretOperation;
  /** A retry cannot help (see RotatorError). */
  permanent: boolean;
  cause?: unknown;
}

/**
 * Errors of the secret store. Messages name the operation and the secret id, never a value: they
 * reach Redis as a job's failure reason. `permanent` (RotatorError's) tells the job layer whether
 * BullMQ should try again (every store step is idempotent, so a retry is always safe, but not always useful).
 */
export class SecretStoreError extends RotatorError {
  readonly secretId: string;
  readonly operation: SecretOperation;

  constructor(message: string, options: SecretStoreErrorOptions) {
    super(`${options.operation} "${options.secretId}": ${message}`, { cause: options.cause, permanent: options.permanent });
    this.secretId = options.secretId;
    this.operation = options.operation;
  }
}

/** The secret, or the asked-for version of it, does not exist (ResourceNotFoundException). */
export class SecretNotFoundError extends SecretStoreError {}

/** IAM refused the call, or KMS could not decrypt / encrypt the value. */
export class SecretAccessDeniedError extends SecretStoreError {}

/** Throttling, 5xx, network failures and timeouts: Secrets Manager may answer later. */
export class SecretStoreUnavailableError extends SecretStoreError {}

/**
 * The request contradicts the secret's state: a version id reused for other content, a secret
 * scheduled for deletion, a parameter Secrets Manager refuses.
 */
export class SecretConflictError extends SecretStoreError {}

/**
 * A rotation id that cannot serve as ClientRequestToken. The bad value is deliberately left out of
 * the message: with three string arguments, a swapped call could have passed the secret itself.
 */
export class InvalidRotationIdError extends SecretStoreError {
  constructor(secretId: string) {
    super('rotation id must be a UUID (it becomes the version id and ClientRequestToken)', {
      secretId,
      operation: 'put-pending',
      permanent: true,
    });
  }
}

// How an AWS SDK error becomes one of the errors above.

const NOT_FOUND = new Set(['ResourceNotFoundException']);
const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  // KMS could not decrypt (read) or encrypt (write) with the secret's key: a permission or key-state problem.
  'DecryptionFailure',
  'EncryptionFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
/**
 * Session credentials that expired (an assumed role's or IRSA's, an hour long) or a request signed
 * too long ago: the SDK's credential chain fetches fresh ones, and corrects its clock skew, on the
 * next try. Transient, not a permission problem: a retry is what fixes it.
 */
const EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'RequestExpired', 'TokenRefreshRequired']);
const CONFLICT = new Set([
  'ResourceExistsException',
  'InvalidRequestException',
  'InvalidParameterException',
  'InvalidNextTokenException',
  'PreconditionNotMetException',
  'LimitExceededException',
  'ValidationException',
]);
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);
/** Node socket / DNS error codes: no HTTP answer at all. */
const NETWORK_CODE = /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/;
const MAX_DETAIL = 200;

interface SdkLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * What of the SDK's error may go into our message. A parsed Secrets Manager reply (`$fault` set)
 * and a socket error describe the request; any other error — notably a response body that failed
 * to parse, whose SyntaxError quotes part of that body — may carry a secret, so only its name goes.
 */
function describe(
  e: SdkLikeError,
  name: string,
  status: number | undefined,
  code: string | undefined,
  sensitive: readonly string[],
): { detail: string; trusted: boolean } {
  const head = [name, code && code !== name ? code : undefined, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  // Scrubbed before it is shortened: shortening first could cut a value and leave its beginning.
  const raw = text(e.message);
  const message = (raw === undefined ? undefined : scrubSecrets(raw, sensitive))?.replace(/\s+/g, ' ').trim();
  const trusted = e.$fault === 'client' || e.$fault === 'server' || (code !== undefined && NETWORK_CODE.test(code)) || name === 'TimeoutError';
  if (!trusted || !message) return { detail: head, trusted };
  const short = message.length > MAX_DETAIL ? `${message.slice(0, MAX_DETAIL)}…` : message;
  return { detail: `${head}: ${short}`, trusted };
}

function redact(detail: string, sensitive: readonly string[]): { detail: string; redacted: boolean } {
  const out = scrubSecrets(detail, sensitive);
  return { detail: out, redacted: out !== detail || detail.includes(REDACTED) };
}

/**
 * Maps an AWS SDK (or network) error to one of the store's typed errors, by the SDK's error
 * `name`, `$metadata.httpStatusCode` and `$retryable`. `sensitive` lists values that must never
 * appear in the result (the secret being written); they are redacted even if an error echoed them,
 * and the original error is then not kept as `cause`.
 */
export function mapSecretsManagerError(error: unknown, secretId: string, operation: SecretOperation, sensitive: readonly string[] = []): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  const e: SdkLikeError = typeof error === 'object' && error !== null ? error : {};
  const name = text(e.name) ?? 'Error';
  const rawStatus = e.$metadata?.httpStatusCode;
  const status = typeof rawStatus === 'number' ? rawStatus : undefined;
  const code = text(e.code);
  const described = describe(e, name, status, code, sensitive);
  const { detail, redacted } = redact(described.detail, sensitive);
  // A cause that could carry a value would reach logs through pino's cause chain: keep a stand-in.
  const cause = described.trusted && !redacted ? error : Object.assign(new Error(detail), { name });
  const base = { secretId, operation, cause };

  if (NOT_FOUND.has(name)) return new SecretNotFoundError(`not found (${detail})`, { ...base, permanent: true });
  if (EXPIRED.has(name)) {
    return new SecretStoreUnavailableError(`AWS credentials expired; fresh ones are fetched on the next try (${detail})`, { ...base, permanent: false });
  }
  if (DENIED.has(name) || status === 401 || status === 403) {
    return new SecretAccessDeniedError(`access denied (${detail})`, { ...base, permanent: true });
  }
  if (CONFLICT.has(name)) return new SecretConflictError(`refused (${detail})`, { ...base, permanent: true });
  if (text(e.message) === 'Region is missing') {
    return new SecretStoreError('no AWS region configured (set AWS_REGION)', { ...base, permanent: true });
  }
  // 408: the request did not arrive whole in time (a proxy, a slow network); nothing was done.
  if (UNAVAILABLE.has(name) || Boolean(e.$retryable) || status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    return new SecretStoreUnavailableError(`Secrets Manager unavailable (${detail})`, { ...base, permanent: false });
  }
  if (status !== undefined && e.$fault === undefined) {
    // An HTTP answer the SDK could not read as a Secrets Manager reply (an HTML page from a proxy,
    // a truncated body): nothing says the request was wrong, so let the job retry.
    return new SecretStoreUnavailableError(`unreadable answer from Secrets Manager (${detail})`, { ...base, permanent: false });
  }
  if (status === undefined) {
    // No HTTP answer at all (refused, reset, DNS, socket timeout). Every store call is idempotent,
    // so letting the job retry is safe.
    return new SecretStoreUnavailableError(`Secrets Manager unreachable (${detail})`, { ...base, permanent: false });
  }
  return new SecretStoreError(`refused with HTTP ${status} (${detail})`, { ...base, permanent: true });
}
