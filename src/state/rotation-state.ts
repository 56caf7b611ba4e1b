import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RedisClient } from '../redis/connection.ts';
import { lockKey } from '../lease/credential-lock.ts';
import { LeaseLostError } from '../lease/fence.ts';
import { ROTATION_TRIGGERS, type RotationTrigger } from '../config/actor.ts';

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
  /** Provider id of the credential being replaced (its provider id). */
  previousRef: string;
  /** Provider id of the new credential, once created. */
  newRef?: string;
  forced: boolean;
  /** What started it, written into its Secrets Manager version with `actor` and `reason` (src/rotation/facts.ts). */
  trigger: RotationTrigger;
  /** Who asked for it (`rotator trigger --actor`); none for the schedule. */
  actor?: string;
  /** Why (`rotator trigger --reason`). */
  reason?: string;
}

/** Results that mean the credential is fine. Anything else recorded, but FORCE_REFUSED, is a failure class. */
export const GOOD_RESULTS: ReadonlySet<string> = new Set(['rotated', 'not-due', 'valid']);
/** A forced rotation refused inside the cooldown: the credential was checked and left as it was; not a failure. */
export const FORCE_REFUSED = 'force-refused';

export interface CredentialStatus {
  lastCheckAt?: string;
  /** The last time a check ended well (a good `lastResult`), kept through later failures. */
  lastSuccessAt?: string;
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
  /**
   * The AWSCURRENT version a check found without a record of its promotion (Redis lost, a rollback,
   * a value written by hand), and when: it was promoted by then at the latest (revoke-guard.ts).
   */
  currentSeenVersion?: string;
  currentSeenAt?: string;
  /** Last time a validated credential was proven to work. */
  lastValidAt?: string;
  /** The replaced credential still alive during its overlap window (or left to expire). */
  previousRef?: string;
  /** When the previous credential is revoked; empty once done. */
  previousRevokeAt?: string;
  /** What happened to the previous credential: `revoked`, `NOT revoked: …`, `revoke scheduled`. */
  previousState?: string;
  /** The last revoke the guard cancelled, and why: `<id>: AWSCURRENT holds it (<time>)`. */
  revokeCancelled?: string;
  /** Credentials the reaper left for a person to confirm (space-separated ids). */
  leftAlone?: string;
  /** Provider ids of replaced credentials still valid at the provider, to revoke by hand; comma-separated (unrevoked.ts). */
  unrevoked?: string;
  /** Provider ids of credentials the secret names that are not provably its own, never deleted; comma-separated (unrevoked.ts). */
  unproven?: string;
  /** When the credential's checks began failing for good; cleared by its next success. */
  failingSince?: string;
}

const DAY_MS = 86_400_000;

/**
 * Whole days from `now` until the current credential expires, counted from its expiry time, not
 * from the figure the last inspect wrote: a credential whose checks stopped succeeding keeps
 * counting down. Falls back to the recorded figure when no expiry time is known.
 */
export function daysToExpiryOf(status: CredentialStatus, now: Date): number | undefined {
  const at = status.expiresAt ? Date.parse(status.expiresAt) : NaN;
  if (!Number.isNaN(at)) return Math.floor((at - now.getTime()) / DAY_MS);
  return status.daysToExpiry ? Number(status.daysToExpiry) : undefined;
}

export interface RotationStateStore {
  get(credentialId: string): Promise<RotationRecord | undefined>;
  /**
   * Writes the record, only while `lockToken` holds the credential's lock (compare-and-set in one
   * script): a holder whose lock lapsed gets LeaseLostError and cannot overwrite a newer record.
   */
  save(record: RotationRecord, lockToken: string): Promise<void>;
  /** Ends the rotation, under the same condition; a record of another rotation id is left alone. */
  clear(credentialId: string, rotationId: string, lockToken: string): Promise<void>;
  readStatus(credentialId: string): Promise<CredentialStatus>;
  /**
   * The status and the live rotation step of many credentials at once, in their order: pipelined
   * in batches, for `rotator status` and the status page over thousands of credentials.
   */
  readOverview(credentialIds: readonly string[]): Promise<Array<{ status: CredentialStatus; step: RotationRecord['step'] | undefined }>>;
  /**
   * Records that a job took part in rotation `rotationId` of the credential (began it or resumed
   * it), before it does any work for it: BullMQ may run that job again, and it must not start
   * another rotation once that one is promoted.
   */
  addRotationJob(credentialId: string, jobId: string, rotationId: string): Promise<void>;
  /**
   * The rotation the job took part in (the last ROTATION_JOBS_KEPT such jobs are known); undefined
   * when the job is not known, or was recorded before rotation ids were kept with it.
   */
  rotationOfJob(credentialId: string, jobId: string): Promise<string | undefined>;
  /**
   * Merges fields into the status; `undefined` leaves a field, `''` clears it. With `lockToken`
   * (a lock holder's write), only while that token holds the credential's lock.
   */
  updateStatus(credentialId: string, fields: Partial<Record<keyof CredentialStatus, string | undefined>>, lockToken?: string): Promise<void>;
}

// Fenced writes: KEYS[1] is the credential's lock, KEYS[2] the hash; both under the (hash-tagged)
// prefix, so one slot in Redis Cluster. ARGV[1] the holder's token; 0 when it does not hold the lock.
// WRITE: ARGV[2] = n, then n field/value pairs to set, then fields to delete.
const FENCED_WRITE = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
if n > 0 then redis.call('hset', KEYS[2], unpack(ARGV, 3, 2 + 2 * n)) end
if #ARGV > 2 + 2 * n then redis.call('hdel', KEYS[2], unpack(ARGV, 3 + 2 * n)) end
return 1`;
// CLEAR: ARGV[2] the rotation id; a record of another rotation is left alone.
// ADD JOB: KEYS[1] the jobs in order (sorted set), KEYS[2] job id → rotation id; ARGV[1] the time,
// ARGV[2] the job id, ARGV[3] the rotation id, ARGV[4] how many jobs are kept. The oldest go from both.
const ADD_ROTATION_JOB = `redis.call('zadd', KEYS[1], ARGV[1], ARGV[2])
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
local old = redis.call('zrange', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
if #old > 0 then
  redis.call('zrem', KEYS[1], unpack(old))
  redis.call('hdel', KEYS[2], unpack(old))
end
return 1`;
const FENCED_CLEAR = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('hget', KEYS[2], 'rotationId') == ARGV[2] then redis.call('del', KEYS[2]) end
return 1`;

export function rotationKey(prefix: string, credentialId: string): string {
  return `${prefix}:rotation:${credentialId}`;
}
export function rotationJobsKey(prefix: string, credentialId: string): string {
  return `${prefix}:rotation-jobs:${credentialId}`;
}
/** Job id → the rotation id it took part in, for the jobs `rotationJobsKey` keeps. */
export function rotationOfJobKey(prefix: string, credentialId: string): string {
  return `${prefix}:rotation-job-ids:${credentialId}`;
}
/** Jobs remembered per credential: far more than can be retried or re-run at once. */
export const ROTATION_JOBS_KEPT = 200;

export function statusKey(prefix: string, credentialId: string): string {
  return `${prefix}:status:${credentialId}`;
}

function isTrigger(value: string | undefined): value is RotationTrigger {
  return (ROTATION_TRIGGERS as readonly (string | undefined)[]).includes(value);
}

function isStep(value: string | undefined): value is RotationStep {
  return (ROTATION_STEPS as readonly (string | undefined)[]).includes(value);
}

/**
 * Credentials per pipeline in `readOverview`: two commands each. Small enough that parsing one
 * pipeline's replies holds the event loop only briefly; the loop runs between pipelines.
 */
const OVERVIEW_BATCH = 200;

export function createRotationStateStore(redis: RedisClient, prefix: string): RotationStateStore {
  const fenced = async (credentialId: string, script: string, key: string, token: string, args: string[], what: string) => {
    const done = await redis.eval(script, 2, lockKey(prefix, credentialId), key, token, ...args);
    if (done !== 1) throw new LeaseLostError(credentialId, `the lock is no longer this holder's; ${what} refused`);
  };
  const writeArgs = (set: Record<string, string>, del: string[]) => [String(Object.keys(set).length), ...Object.entries(set).flat(), ...del];
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
        // A record saved before triggers were recorded: forced or not is all it knew.
        trigger: isTrigger(h.trigger) ? h.trigger : h.forced === 'true' ? 'forced' : 'schedule',
        ...(h.actor ? { actor: h.actor } : {}),
        ...(h.reason ? { reason: h.reason } : {}),
      };
    },
    async save(record, lockToken) {
      const { credentialId, forced, ...rest } = record;
      const set: Record<string, string> = { forced: String(forced) };
      for (const [field, value] of Object.entries(rest)) if (value !== undefined) set[field] = String(value);
      await fenced(credentialId, FENCED_WRITE, rotationKey(prefix, credentialId), lockToken, writeArgs(set, []), 'rotation record write');
    },
    async clear(credentialId, rotationId, lockToken) {
      await fenced(credentialId, FENCED_CLEAR, rotationKey(prefix, credentialId), lockToken, [rotationId], 'rotation record clear');
    },
    async readStatus(credentialId) {
      return await redis.hgetall(statusKey(prefix, credentialId));
    },
    async readOverview(credentialIds) {
      const out: Array<{ status: CredentialStatus; step: RotationRecord['step'] | undefined }> = [];
      for (let i = 0; i < credentialIds.length; i += OVERVIEW_BATCH) {
        if (i > 0) await nextTurn();
        const batch = credentialIds.slice(i, i + OVERVIEW_BATCH);
        const pipeline = redis.pipeline();
        for (const id of batch) pipeline.hgetall(statusKey(prefix, id)).hget(rotationKey(prefix, id), 'step');
        const replies = (await pipeline.exec()) ?? [];
        for (let j = 0; j < batch.length; j += 1) {
          const [statusError, status] = replies[2 * j] ?? [];
          const [stepError, step] = replies[2 * j + 1] ?? [];
          if (statusError) throw statusError;
          if (stepError) throw stepError;
          out.push({ status: status ?? {}, step: typeof step === 'string' && isStep(step) ? step : undefined });
        }
      }
      return out;
    },
    async addRotationJob(credentialId, jobId, rotationId) {
      const keys = [rotationJobsKey(prefix, credentialId), rotationOfJobKey(prefix, credentialId)];
      await redis.eval(ADD_ROTATION_JOB, 2, ...keys, String(Date.now()), jobId, rotationId, String(ROTATION_JOBS_KEPT));
    },
    async rotationOfJob(credentialId, jobId) {
      return (await redis.hget(rotationOfJobKey(prefix, credentialId), jobId)) ?? undefined;
    },
    async updateStatus(credentialId, fields, lockToken) {
      const set: Record<string, string> = {};
      const del: string[] = [];
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        if (value === '') del.push(key);
        else set[key] = value;
      }
      // A good result stamps the last success here, whichever step recorded it.
      if (fields.lastResult && GOOD_RESULTS.has(fields.lastResult)) set.lastSuccessAt = fields.lastCheckAt || new Date().toISOString();
      const key = statusKey(prefix, credentialId);
      if (lockToken !== undefined) return fenced(credentialId, FENCED_WRITE, key, lockToken, writeArgs(set, del), 'status write');
      const multi = redis.multi();
      if (Object.keys(set).length) multi.hset(key, set);
      if (del.length) multi.hdel(key, ...del);
      await multi.exec();
    },
  };
}
