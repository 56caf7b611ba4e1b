import { daysUntil } from '../../../rotation/rotate.ts';
import { httpOptions, probeWithSecret, type RotatedKind } from '../../kind.ts';
import { credlyRateLimit, perApiBase } from '../shared.ts';
import { createCredlyClient } from '../token-client.ts';
import { createCredlyTokenProvider } from './provider.ts';
import { credlyTokenEntry, credlyTokenSecret, KIND, type CredlyTokenConfig, type CredlyTokenSecret } from './schema.ts';

/**
 * Credly authorization tokens: a new token is made with the current one, stored, proven by the
 * listing, promoted, and the old one revoked after `revokePreviousAfter` (docs/design.md).
 */
export const credlyAuthorizationToken: RotatedKind<CredlyTokenConfig, CredlyTokenSecret, CredlyTokenSecret> = {
  kind: KIND,
  provider: 'Credly',
  mode: 'rotate',
  revokeByHand: 'Credly: Organization Management, Developers section',
  entry: credlyTokenEntry,
  secret: credlyTokenSecret,
  rateLimit: credlyRateLimit,
  rotator(context) {
    const clients = perApiBase((apiBase) => createCredlyClient({ apiBase, ...httpOptions(context) }));
    return createCredlyTokenProvider(clients, {
      ...(context.recheckDelayMs === undefined ? {} : { relistDelayMs: context.recheckDelayMs }),
      ...(context.scope === undefined ? {} : { scope: context.scope }),
      ...(context.onRecordSkipped ? { onRecordSkipped: context.onRecordSkipped } : {}),
    });
  },
  // The token must be listed and accepted at Credly; its days to expiry say whether rotation is due.
  async check(rotator, credential, stored, now) {
    const inspection = await rotator.inspect(credential, rotator.parseSecret(stored, credential.secretId), now);
    const days = inspection.expiresAt ? `, ${daysUntil(inspection.expiresAt, now)} days to expiry` : '';
    return `token accepted by Credly${days}; ${inspection.due ? 'due for rotation' : 'not due'}: ${inspection.reason}`;
  },
  probe: probeWithSecret(credlyTokenSecret, async () => (await import('./probe.ts')).probeCredlyToken),
  // The throwaway token would stay valid for its whole lifetime (180 days, full rights or the caller's).
  writesLeaveBehind: (credential) =>
    credential.deleteSupported
      ? undefined
      : 'deleteSupported: false, so the throwaway token --allow-writes creates could not be deleted and would stay valid until it expires; probe it read-only, or set deleteSupported: true to find out whether DELETE works (the probe then deletes the token, or names it and exits 1)',
};
