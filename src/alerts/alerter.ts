import { setTimeout as delay } from 'node:timers/promises';
import type { RedisClient } from '../redis/connection.ts';
import type { Logger } from '../log/logger.ts';
import type { RadarExpiringAlert } from '../kinds/registry.ts';
import type { Alert, AlertSink } from './alert.ts';

export interface Alerter {
  /** A job failed for good: one alert per sink (per job, whichever replica sees it), and the credential is marked alerting. */
  failed(alert: Omit<Alert, 'type'>): Promise<void>;
  /** The credential succeeded: when it was alerting, every sink hears it is resolved, once. */
  succeeded(alert: Pick<Alert, 'credentialId' | 'kind' | 'jobId'>): Promise<void>;
  /**
   * Replaced credentials the provider still lists after their revoke (provider ids): one warning per
   * credential (whichever replica, however many jobs) until `nothingUnrevoked` resolves it.
   */
  unrevoked(alert: Pick<Alert, 'credentialId' | 'kind' | 'jobId'> & { refs: readonly string[] }): Promise<void>;
  /** Nothing of the credential is left to revoke by hand: its warning, if one is open, is resolved once. */
  nothingUnrevoked(alert: Pick<Alert, 'credentialId' | 'kind' | 'jobId'>): Promise<void>;
  /**
   * A validation worked but its logout failed: a warning, at most one a day per credential across
   * replicas (a Redis key with a day's TTL). Nothing resolves it: the next day's failure warns again.
   */
  logoutFailed(alert: Pick<Alert, 'credentialId' | 'kind'> & { detail: string }): Promise<void>;
  /**
   * Credentials the secret names that are not provably its own (provider ids), never deleted: one
   * warning per credential and id, ever (whichever replica, however many checks see them).
   */
  unproven(alert: Pick<Alert, 'credentialId' | 'kind' | 'jobId'> & { refs: readonly string[] }): Promise<void>;
  /**
   * A forced rotation was refused inside the cooldown: one warning per credential and AWSCURRENT
   * version — so at most one per cooldown — whichever replica, however many forced jobs come.
   */
  forceRefused(alert: Pick<Alert, 'credentialId' | 'kind' | 'jobId'> & { versionId: string; possibleAt: string }): Promise<void>;
  /**
   * The radar found a token of the organization that no inventory credential manages, expiring
   * within its window: a warning at most once a day per organization and token, across replicas (a
   * Redis key with a day's TTL). `credentialId` is the credential whose token listed it (its sinks).
   */
  radarExpiring(alert: RadarExpiringAlert): Promise<void>;
}

export interface AlerterOptions {
  sinks: readonly AlertSink[];
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Deliveries per alert and sink, the first included. Default 3. */
  attempts?: number;
  /** First wait between deliveries, in ms; doubles each time. Default 1000. */
  backoffMs?: number;
  /** Where a person revokes a credential of the kind by hand (the kind says), for the warning. */
  revokeByHand?: (kind: string) => string | undefined;
  /** Told when a sink gave up on an alert (metrics). */
  onSinkFailure?: (sinkId: string) => void;
}

const DAY_S = 86_400;

/**
 * Delivers alerts to the configured sinks. A sink that fails is retried with backoff and then
 * logged; it never throws into the worker, so no job outcome is lost to an alerting problem.
 */
export function createAlerter(options: AlerterOptions): Alerter {
  const { redis, prefix, logger } = options;
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 1_000;
  const openKey = (credentialId: string) => `${prefix}:alert:open:${credentialId}`;
  /** The ids of the open unrevoked warning, comma-separated: what its resolve names. */
  const unrevokedKey = (credentialId: string) => `${prefix}:alert:unrevoked:${credentialId}`;
  /** Set once the warning named the id: a replica raising it again sends nothing. */
  const unrevokedRefKey = (credentialId: string, ref: string) => `${prefix}:alert:unrevoked-ref:${credentialId}:${ref}`;
  const logoutKey = (credentialId: string) => `${prefix}:alert:logout-failed:${credentialId}`;
  const unprovenKey = (credentialId: string, ref: string) => `${prefix}:alert:unproven:${credentialId}:${ref}`;
  const radarKey = (organizationId: string, tokenId: string) => `${prefix}:alert:radar-expiring:${organizationId}:${tokenId}`;
  const fail = (credentialId: string, what: string) => (error: unknown) =>
    logger.error({ credentialId, err: { type: (error as Error).name, message: (error as Error).message } }, `alert: ${what} could not be sent`);

  async function deliver(sink: AlertSink, alert: Alert): Promise<boolean> {
    for (let n = 1; ; n += 1) {
      try {
        await sink.send(alert);
        logger.info({ sink: sink.id, credentialId: alert.credentialId, type: alert.type, jobId: alert.jobId }, 'alert: sent');
        return true;
      } catch (error) {
        const err = { type: (error as Error).name, message: (error as Error).message };
        if (n >= attempts) {
          logger.error({ sink: sink.id, credentialId: alert.credentialId, type: alert.type, err }, 'alert: sink failed; giving up on this alert');
          options.onSinkFailure?.(sink.id);
          return false;
        }
        logger.warn({ sink: sink.id, credentialId: alert.credentialId, attempt: n, err }, 'alert: sink failed; retrying');
        await delay(backoffMs * 2 ** (n - 1));
      }
    }
  }

  const sinksFor = (credentialId: string) => options.sinks.filter((s) => !s.credentials || s.credentials.includes(credentialId));

  /** Sends to each sink that has not had this alert yet (the key makes a second worker, or a repeat, a no-op). */
  async function fanOut(alert: Alert, dedup: string): Promise<void> {
    await Promise.all(
      sinksFor(alert.credentialId).map(async (sink) => {
        const key = `${prefix}:alert:sent:${dedup}:${sink.id}`;
        if ((await redis.set(key, '1', 'EX', 30 * DAY_S, 'NX')) !== 'OK') return;
        if (!(await deliver(sink, alert))) await redis.del(key);
      }),
    );
  }

  return {
    async failed(alert) {
      try {
        await redis.set(openKey(alert.credentialId), alert.jobId, 'EX', 365 * DAY_S);
        await fanOut({ ...alert, type: 'failure' }, `failure:${alert.jobId}`);
      } catch (error) {
        logger.error({ credentialId: alert.credentialId, err: { type: (error as Error).name, message: (error as Error).message } }, 'alert: could not be sent');
      }
    },
    async succeeded({ credentialId, kind, jobId }) {
      try {
        // GETDEL: of several replicas finishing jobs of the credential, one resolves.
        const failedJob = await redis.getdel(openKey(credentialId));
        if (failedJob === null) return;
        await fanOut(
          {
            type: 'resolved',
            credentialId,
            kind,
            jobId,
            message: `succeeded in job ${jobId} after the failure of job ${failedJob}`,
            occurredAt: new Date().toISOString(),
            critical: false,
          },
          `resolved:${jobId}`,
        );
      } catch (error) {
        logger.error({ credentialId, err: { type: (error as Error).name, message: (error as Error).message } }, 'alert: resolve could not be sent');
      }
    },
    async unrevoked({ credentialId, kind, jobId, refs }) {
      await (async () => {
        // One warning per credential and id until resolved, by any replica: an id that joins the
        // list later is a new fact for a person, and warns again (about it alone).
        const warnedBefore = new Set((await redis.get(unrevokedKey(credentialId)))?.split(',') ?? []);
        const fresh: string[] = [];
        for (const ref of refs) {
          if (warnedBefore.has(ref)) continue;
          if ((await redis.set(unrevokedRefKey(credentialId, ref), jobId, 'EX', 365 * DAY_S, 'NX')) === 'OK') fresh.push(ref);
        }
        // Every id still open, for the resolve's message.
        await redis.set(unrevokedKey(credentialId), [...new Set([...warnedBefore, ...refs])].filter(Boolean).join(','), 'EX', 365 * DAY_S);
        if (!fresh.length) {
          logger.debug({ credentialId, topic: 'unrevoked', refs }, 'alert: warning already sent, not repeated');
          return;
        }
        const where = options.revokeByHand?.(kind) ?? 'at the provider';
        const message =
          `the replaced credential(s) ${fresh.join(', ')} (provider ids) are NOT revoked: still listed at the provider after their revoke, ` +
          `or replaced with no record left of the rotation that replaced them (Redis lost before the revoke), or the provider offers no revoke: ` +
          `they stay valid until revoked by hand (${where}) or until they expire`;
        await fanOut(
          { type: 'warning', topic: 'unrevoked', credentialId, kind, jobId, message, occurredAt: new Date().toISOString(), critical: false },
          `unrevoked:${credentialId}:${jobId}:${fresh.join(',')}`,
        );
      })().catch(fail(credentialId, 'warning'));
    },
    async unproven({ credentialId, kind, jobId, refs }) {
      await (async () => {
        const fresh: string[] = [];
        for (const ref of refs) if ((await redis.set(unprovenKey(credentialId, ref), jobId, 'EX', 365 * DAY_S, 'NX')) === 'OK') fresh.push(ref);
        if (!fresh.length) {
          logger.debug({ credentialId, topic: 'unproven', refs }, 'alert: warning already sent, not repeated');
          return;
        }
        const message =
          `the secret names ${fresh.join(', ')} (provider ids), but the stored client id is not theirs: not provably this secret's, so never deleted ` +
          `(a new credential was made for the secret). Check whether anything still uses them, and delete them by hand at the provider if not`;
        await fanOut(
          { type: 'warning', topic: 'unproven', credentialId, kind, jobId, message, occurredAt: new Date().toISOString(), critical: false },
          `unproven:${credentialId}:${fresh.join(',')}`,
        );
      })().catch(fail(credentialId, 'warning'));
    },
    async forceRefused({ credentialId, kind, jobId, versionId, possibleAt }) {
      await (async () => {
        const message =
          `a forced rotation was refused: the current secret version ${versionId} is younger than the credential's forceCooldown, ` +
          `so its replaced credential may still be in use; nothing was created or revoked. A forced rotation is possible at ${possibleAt}. ` +
          'Forced rotations of this credential are refused until then, without another warning; if nobody asked for one, find out who writes jobs into Redis';
        await fanOut(
          { type: 'warning', topic: 'force-cooldown', credentialId, kind, jobId, message, occurredAt: new Date().toISOString(), critical: false },
          `force-cooldown:${credentialId}:${versionId}`,
        );
      })().catch(fail(credentialId, 'warning'));
    },
    async nothingUnrevoked({ credentialId, kind, jobId }) {
      await (async () => {
        const refs = await redis.getdel(unrevokedKey(credentialId));
        if (refs === null) return;
        // Resolved: the same ids found again later warn again.
        const ids = refs.split(',').filter(Boolean);
        if (ids.length) await redis.del(...ids.map((ref) => unrevokedRefKey(credentialId, ref)));
        const message = `the replaced credential(s) ${refs.split(',').join(', ')} are no longer listed at the provider (job ${jobId})`;
        await fanOut(
          { type: 'resolved', topic: 'unrevoked', credentialId, kind, jobId, message, occurredAt: new Date().toISOString(), critical: false },
          `unrevoked-resolved:${jobId}`,
        );
      })().catch(fail(credentialId, 'resolve of a warning'));
    },
    async radarExpiring({ credentialId, organizationId, tokenId, description, expiresAt, daysToExpiry }) {
      await (async () => {
        const at = new Date().toISOString();
        if ((await redis.set(radarKey(organizationId, tokenId), at, 'EX', DAY_S, 'NX')) !== 'OK') return;
        const named = description === null ? 'without a description' : `described ${JSON.stringify(description)}`;
        const message =
          `the Credly authorization token ${tokenId} of organization ${organizationId} (${named}) is managed by no credential of this inventory ` +
          `and expires at ${expiresAt} (in ${daysToExpiry} day(s)): whatever uses it stops working then. Find its user (rotator radar lists it), ` +
          'then bring it under the rotator (a credential whose secret holds it) or replace it by hand before that date. At most one such warning a day per token.';
        await fanOut(
          {
            type: 'warning',
            topic: 'radar-expiring',
            credentialId,
            kind: 'credly-authorization-token',
            jobId: '',
            message,
            occurredAt: at,
            critical: false,
            daysToExpiry,
          },
          `radar-expiring:${organizationId}:${tokenId}:${at}`,
        );
      })().catch(fail(credentialId, 'warning'));
    },
    async logoutFailed({ credentialId, kind, detail }) {
      await (async () => {
        const at = new Date().toISOString();
        if ((await redis.set(logoutKey(credentialId), at, 'EX', DAY_S, 'NX')) !== 'OK') return;
        const message =
          `the credential works, but the logout of the token its check obtained failed (${detail}): that token stays valid until it expires; ` +
          'check the logout endpoint and logoutMethod in the inventory (rotator probe shows which logout works). At most one such warning a day.';
        await fanOut(
          { type: 'warning', topic: 'logout-failed', credentialId, kind, jobId: '', message, occurredAt: at, critical: false },
          `logout-failed:${credentialId}:${at}`,
        );
      })().catch(fail(credentialId, 'warning'));
    },
  };
}
