import type { Redis } from 'ioredis';

/**
 * What the rotator remembers in Redis between jobs: the rotation in flight per credential (so a
 * retried or resumed job continues it) and the credential's last known status (for `rotator
 * status`, metrics and the orphan reaper). Ids, steps, dates and figures only — never a secret.
 */

/** The protocol's steps (docs/design.md); a record names the next one to run. */
export const ROTATION_STEPS = ['create', 'test', 'finish', 'revoke'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface RotationRecord {
  credentialId: string;
  /** UUID: the new secret version's id (ClientRequestToken) and the provider-side marker. */
  rotationId: string;
  /** The job that started it; a retry of that job finds its own rotation. */
  jobId: string;
  step: RotationStep;
  /** ISO time the rotation began; also the `rotatedAt` written into the secret (one value per rotation). */
  startedAt: string;
  /** Provider id of the credential being replaced (Credly token id). */
  previousRef: string;
  /** Provider id of the new credential, once created. */
  newRef?: string;
  forced: boolean;
}

export interface CredentialStatus {
  lastCheckAt?: string;
  /** `rotated`, `not-due`, `failed`… */
  lastResult?: string;
  lastSummary?: string;
  /** The error class of the last failure (`ProviderAuthError`, `SecretAccessDeniedError`…): shown to anyone, unlike the summary. */
  lastErrorClass?: string;
  /** The current credential's expiry at the provider, when it has one. */
  expiresAt?: string;
  daysToExpiry?: string;
  lastRotationId?: string;
  lastRotationJobId?: string;
  lastRotatedAt?: string;
  /** Last time a validated credential (Degreed, Learn.link) was proven to work. */
  lastValidAt?: string;
  /** The replaced credential still alive during its overlap window (or left to expire). */
  previousRef?: string;
  /** When the previous credential is revoked; empty once done. */
  previousRevokeAt?: string;
  /** What happened to the previous credential: `revoked`, `left to expire at …`, `revoke scheduled`. */
  previousState?: string;
}

export interface RotationStateStore {
  get(credentialId: string): Promise<RotationRecord | undefined>;
  save(record: RotationRecord): Promise<void>;
  /** Ends the rotation; a record of another rotation id is left alone. */
  clear(credentialId: string, rotationId: string): Promise<void>;
  readStatus(credentialId: string): Promise<CredentialStatus>;
  /**
   * The status and the live rotation step of many credentials at once, in their order: pipelined
   * in batches, for `rotator status` and the status page over thousands of credentials.
   */
  readOverview(credentialIds: readonly string[]): Promise<Array<{ status: CredentialStatus; step: RotationRecord['step'] | undefined }>>;
  /** Merges fields into the status; `undefined` leaves a field, `''` clears it. */
  updateStatus(credentialId: string, fields: Partial<Record<keyof CredentialStatus, string | undefined>>): Promise<void>;
}

const CLEAR_IF = `if redis.call('hget', KEYS[1], 'rotationId') == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function rotationKey(prefix: string, credentialId: string): string {
  return `${prefix}:rotation:${credentialId}`;
}
export function statusKey(prefix: string, credentialId: string): string {
  return `${prefix}:status:${credentialId}`;
}

function isStep(value: string | undefined): value is RotationStep {
  return (ROTATION_STEPS as readonly (string | undefined)[]).includes(value);
}

/** Credentials per pipeline in `readOverview`: two commands each. */
const OVERVIEW_BATCH = 1000;

export function createRotationStateStore(redis: Redis, prefix: string): RotationStateStore {
  return {
    async get(credentialId) {
      const h = await redis.hgetall(rotationKey(prefix, credentialId));
      if (!h.rotationId || !h.jobId || !h.startedAt || h.previousRef === undefined || !isStep(h.step)) return undefined;
      return {
        credentialId,
        rotationId: h.rotationId,
        jobId: h.jobId,
        step: h.step,
        startedAt: h.startedAt,
        previousRef: h.previousRef,
        ...(h.newRef ? { newRef: h.newRef } : {}),
        forced: h.forced === 'true',
      };
    },
    async save(record) {
      const { credentialId, forced, ...rest } = record;
      await redis.hset(rotationKey(prefix, credentialId), { ...rest, forced: String(forced) });
    },
    async clear(credentialId, rotationId) {
      await redis.eval(CLEAR_IF, 1, rotationKey(prefix, credentialId), rotationId);
    },
    async readStatus(credentialId) {
      return (await redis.hgetall(statusKey(prefix, credentialId)));
    },
    async readOverview(credentialIds) {
      const out: Array<{ status: CredentialStatus; step: RotationRecord['step'] | undefined }> = [];
      for (let i = 0; i < credentialIds.length; i += OVERVIEW_BATCH) {
        const batch = credentialIds.slice(i, i + OVERVIEW_BATCH);
        const pipeline = redis.pipeline();
        for (const id of batch) pipeline.hgetall(statusKey(prefix, id)).hget(rotationKey(prefix, id), 'step');
        const replies = (await pipeline.exec()) ?? [];
        for (let j = 0; j < batch.length; j += 1) {
          const [statusError, status] = replies[2 * j] ?? [];
          const [stepError, step] = replies[2 * j + 1] ?? [];
          if (statusError) throw statusError;
          if (stepError) throw stepError;
          out.push({ status: (status ?? {}), step: typeof step === 'string' && isStep(step) ? step : undefined });
        }
      }
      return out;
    },
    async updateStatus(credentialId, fields) {
      const set: Record<string, string> = {};
      const del: string[] = [];
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        if (value === '') del.push(key);
        else set[key] = value;
      }
      const key = statusKey(prefix, credentialId);
      const multi = redis.multi();
      if (Object.keys(set).length) multi.hset(key, set);
      if (del.length) multi.hdel(key, ...del);
      await multi.exec();
    },
  };
}
