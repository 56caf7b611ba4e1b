import { setTimeout as delay } from 'node:timers/promises';
import type { CredlyTokenConfig } from '../../config/index.ts';
import { formatDuration } from '../../config/index.ts';
import { CredentialNotListedError } from '../../rotation/errors.ts';
import type { RotationProvider } from '../../rotation/rotation-provider.ts';
import { parseSecretValue, serializeCredlyToken, type CredlyTokenSecret } from '../../secrets/secret-values.ts';
import { ProviderAuthError, ProviderUnavailableError } from '../errors.ts';
import type { CredlyClient, CredlyToken } from './credly-client.ts';
import { parseMarker, rotatorDescription } from './marker.ts';
import { proveNewToken } from './new-token-check.ts';

const DAY_MS = 86_400_000;
const DELETE_ANSWER = { deleted: 'success', 'not-found': '404', unsupported: '405/501' } as const;
/**
 * Readings of the listing before the stored token counts as gone: a listing read page by page
 * while tokens are created or deleted shifts under the reader and can skip one.
 */
const LISTING_READS = 3;

/** Says what a refused stored token means for the person who must act on it. */
function explainRefusal(credential: CredlyTokenConfig, error: unknown): unknown {
  if (error instanceof ProviderAuthError && error.status === 401) {
    return new ProviderAuthError(
      `the stored token of "${credential.id}" is refused by Credly (401): it expired or was revoked. Create a new token in Credly and put it into secret "${credential.secretId}" (README: "When the stored token is dead")`,
      { provider: 'credly', operation: error.operation, status: 401, cause: error },
    );
  }
  return error;
}

function findCurrent(tokens: CredlyToken[], current: CredlyTokenSecret): CredlyToken | undefined {
  return (current.tokenId ? tokens.find((t) => t.id === current.tokenId) : undefined) ?? tokens.find((t) => t.token === current.token);
}

function toSecret(token: CredlyToken, organizationId: string, rotatedAt: string): CredlyTokenSecret {
  return { token: token.token, tokenId: token.id, organizationId, expiresAt: token.expiresAt.toISOString(), rotatedAt };
}

/** Credly authorization tokens: new token with the current one, tested by listing itself, DELETE of the old one. */
export function createCredlyTokenProvider(
  clientFor: (credential: CredlyTokenConfig) => CredlyClient,
  options: { relistDelayMs?: number } = {},
): RotationProvider<CredlyTokenConfig, CredlyTokenSecret> {
  const relistDelayMs = options.relistDelayMs ?? 1_000;
  const list = async (credential: CredlyTokenConfig, acting: CredlyTokenSecret) => {
    try {
      return await clientFor(credential).listTokens(acting.token, credential.organizationId);
    } catch (error) {
      throw explainRefusal(credential, error);
    }
  };
  return {
    parseSecret: (secretString, secretId) => parseSecretValue('credly-authorization-token', secretString, { secretId }),
    serializeSecret: (secret, secretId) => serializeCredlyToken(secret, { secretId }),
    refOf: (secret) => secret.tokenId,
    expiryOf: (secret) => (secret.expiresAt ? new Date(secret.expiresAt) : undefined),

    async inspect(credential, current, now) {
      let token: CredlyToken | undefined;
      for (let n = 1; !token; n += 1) {
        token = findCurrent(await list(credential, current), current);
        if (token) break;
        if (n >= LISTING_READS) {
          const what = current.tokenId ? `token ${current.tokenId}` : 'the stored token';
          throw new CredentialNotListedError(credential.id, `${what} (in ${n} readings of the listing)`);
        }
        await delay(relistDelayMs);
      }
      const left = token.expiresAt.getTime() - now.getTime();
      const due = left <= credential.rotateWhenExpiresWithinMs;
      const days = Math.floor(left / DAY_MS);
      const threshold = formatDuration(credential.rotateWhenExpiresWithinMs);
      const reason = left <= 0 ? `expired ${-days} day(s) ago` : `expires in ${days} day(s) (rotate within ${threshold})`;
      return { ref: token.id, expiresAt: token.expiresAt, due, reason };
    },

    async issue(credential, current, rotation) {
      const description = rotatorDescription(rotation.rotationId, credential.id);
      // A create whose answer was lost (timeout, reset, crash) may have happened: look first, unless
      // the rotation began just now and nothing can have been created for it.
      const earlier = rotation.firstAttempt ? undefined : (await list(credential, current)).find((t) => t.description === description);
      const token = earlier ?? (await clientFor(credential).createToken(current.token, credential.organizationId, description));
      // Stored, promoted and "revoked", the current token handed back as new would leave nothing rotated.
      if (token.token === current.token || (current.tokenId !== undefined && token.id === current.tokenId)) {
        throw new ProviderUnavailableError('the answer holds the current token, not a new one', { provider: 'credly', operation: 'create-token' });
      }
      return { secret: toSecret(token, credential.organizationId, rotation.startedAt), ref: token.id, expiresAt: token.expiresAt };
    },

    async test(credential, pending) {
      await proveNewToken(clientFor(credential), credential, pending);
    },

    async revoke(credential, acting, previousRef) {
      // No vendor page documents DELETE of a token, and a Credly without it answers 404 like a token
      // already gone: whatever DELETE answers, the listing decides.
      const result = credential.deleteSupported ? await clientFor(credential).deleteToken(acting.token, credential.organizationId, previousRef) : undefined;
      const still = (await list(credential, acting)).find((t) => t.id === previousRef);
      if (!still) return { state: result === 'deleted' ? 'revoked' : 'already-gone' };
      const tried = result === undefined ? 'no DELETE tried (deleteSupported: false)' : `still listed after DELETE answered ${DELETE_ANSWER[result]}`;
      return { state: 'not-revoked', reason: tried, expiresAt: still.expiresAt };
    },

    async stillListed(credential, acting, refs, now) {
      // An expired token is refused by Credly, listed or not: nothing is left to revoke.
      const listed = new Set((await list(credential, acting)).filter((t) => t.expiresAt.getTime() > now.getTime()).map((t) => t.id));
      return refs.filter((ref) => listed.has(ref));
    },

    async reap(credential, acting, keep) {
      if (!credential.deleteSupported) return [];
      const orphans = (await list(credential, acting)).filter((t) => {
        const marker = parseMarker(t.description);
        if (!marker || marker.credentialId !== credential.id) return false;
        return t.token !== acting.token && t.id !== acting.tokenId && !keep.refs.has(t.id);
      });
      if (!orphans.length) return [];
      for (const orphan of orphans) await clientFor(credential).deleteToken(acting.token, credential.organizationId, orphan.id);
      // Deleted is what the listing no longer shows (see revoke).
      const left = new Set((await list(credential, acting)).map((t) => t.id));
      return orphans.map((o) => o.id).filter((id) => !left.has(id));
    },
  };
}
