import { setTimeout as delay } from 'node:timers/promises';
import { formatDuration } from '../../../config/index.ts';
import { CredentialNotListedError, WeakerCredentialError } from '../../../rotation/errors.ts';
import type { RotationProvider } from '../../../rotation/rotation-provider.ts';
import { parseCredlyToken, serializeCredlyToken, type CredlyTokenConfig, type CredlyTokenSecret } from './schema.ts';
import { ProviderAuthError, ProviderUnavailableError } from '../../../errors/provider-errors.ts';
import type { CredlyClient, CredlyToken } from '../token-client.ts';
import { parseMarker, rotatorDescription } from '../marker.ts';
import { proveNewToken } from './new-token-check.ts';
import { oddRecordJudge } from '../listed-records.ts';
import type { SkippedRecord } from '../../kind.ts';

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
      `the stored token of "${credential.id}" is refused by Credly (401): it expired or was revoked. Create a new token in Credly and put it into secret "${credential.secretId}" (docs/operations.md: "When the stored token is dead")`,
      { provider: 'credly', operation: error.operation, status: 401, cause: error },
    );
  }
  return error;
}

function findCurrent(tokens: CredlyToken[], current: CredlyTokenSecret): CredlyToken | undefined {
  return (current.tokenId ? tokens.find((t) => t.id === current.tokenId) : undefined) ?? tokens.find((t) => t.token === current.token);
}

/** The rights of the token being replaced: by its id, else the current one by value. */
function findReplaced(listing: CredlyToken[], previousRef: string, current: CredlyTokenSecret): string[] | undefined {
  const token = listing.find((t) => t.id === previousRef) ?? findCurrent(listing, current);
  return token && capabilitiesOf(token);
}

/** Made by the rotation `rotationId` of this credential (whatever marker format it was written in). */
function isOfRotation(token: CredlyToken, credentialId: string, rotationId: string): boolean {
  const marker = parseMarker(token.description);
  return marker?.rotationId === rotationId && marker.credentialId === credentialId;
}

/** A token's rights, as Credly flags them. */
function capabilitiesOf(token: CredlyToken): string[] {
  return [token.readEnabled && 'read', token.writeEnabled && 'write', token.deleteEnabled && 'delete'].filter((c): c is string => c !== false);
}

/** The rights `replaced` has that `fresh` lacks. */
function missingRights(fresh: CredlyToken, replaced: readonly string[]): string[] {
  const has = capabilitiesOf(fresh);
  return replaced.filter((c) => !has.includes(c)).map((c) => `${c}_enabled`);
}

function toSecret(token: CredlyToken, organizationId: string, rotatedAt: string): CredlyTokenSecret {
  return { token: token.token, tokenId: token.id, organizationId, expiresAt: token.expiresAt.toISOString(), rotatedAt };
}

/** Credly authorization tokens: new token with the current one, tested by listing itself, DELETE of the old one. */
export function createCredlyTokenProvider(
  clientFor: (credential: CredlyTokenConfig) => CredlyClient,
  options: { relistDelayMs?: number; scope?: string; onRecordSkipped?: (skipped: SkippedRecord) => void } = {},
): RotationProvider<CredlyTokenConfig, CredlyTokenSecret> {
  const relistDelayMs = options.relistDelayMs ?? 1_000;
  /** A listed token that does not fit: the stored one's or one marked for this credential fails for good; any other is skipped. */
  const oddFor = (credential: CredlyTokenConfig, acting: { token: string; tokenId?: string | undefined }) =>
    oddRecordJudge({
      kind: credential.kind,
      credentialId: credential.id,
      secretId: credential.secretId,
      operation: 'list-tokens',
      what: 'token',
      scope: options.scope,
      isStored: (r) => (r.id !== undefined && r.id === acting.tokenId) || (r.token !== undefined && r.token === acting.token),
      onSkipped: options.onRecordSkipped,
    });
  const list = async (credential: CredlyTokenConfig, acting: CredlyTokenSecret) => {
    try {
      return await clientFor(credential).listTokens(acting.token, credential.organizationId, oddFor(credential, acting));
    } catch (error) {
      throw explainRefusal(credential, error);
    }
  };
  return {
    parseSecret: (secretString, secretId) => parseCredlyToken(secretString, { secretId }),
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
      return { ref: token.id, expiresAt: token.expiresAt, due, reason, capabilities: capabilitiesOf(token) };
    },

    async issue(credential, current, rotation) {
      const description = rotatorDescription(rotation.rotationId, credential.id, {
        scope: rotation.scope,
        secretId: credential.secretId,
        replaces: rotation.previousRef,
      });
      // A create whose answer was lost (timeout, reset, crash) may have happened: look first, unless
      // the rotation began just now and nothing can have been created for it.
      const listing = rotation.firstAttempt ? undefined : await list(credential, current);
      const earlier = listing?.find((t) => isOfRotation(t, credential.id, rotation.rotationId));
      const token = earlier ?? (await clientFor(credential).createToken(current.token, credential.organizationId, description));
      // Stored, promoted and "revoked", the current token handed back as new would leave nothing rotated.
      if (token.token === current.token || (current.tokenId !== undefined && token.id === current.tokenId)) {
        throw new ProviderUnavailableError('the answer holds the current token, not a new one', { provider: 'credly', operation: 'create-token' });
      }
      // Whether Credly copies the caller's rights is not documented: the create answer says what it gave.
      const replaced = rotation.inspection?.capabilities ?? (listing && findReplaced(listing, rotation.previousRef, current));
      if (replaced) {
        const missing = missingRights(token, replaced);
        // Never stored: the protocol deletes it through the revoke guard, like every delete.
        if (missing.length) throw new WeakerCredentialError(credential.id, token.id, missing);
      }
      return {
        secret: toSecret(token, credential.organizationId, rotation.startedAt),
        ref: token.id,
        expiresAt: token.expiresAt,
        capabilitiesChecked: replaced !== undefined,
      };
    },

    async test(credential, pending, context) {
      await proveNewToken(clientFor(credential), credential, pending, oddFor(credential, pending));
      if (context.capabilitiesChecked) return;
      // A rotation resumed after its create: the listing says what rights each token has.
      const listing = await list(credential, context.current);
      const fresh = findCurrent(listing, pending);
      const replaced = findReplaced(listing, context.previousRef, context.current);
      if (!fresh || !replaced) {
        throw new ProviderUnavailableError('the listing shows the new token or the one it replaces no longer; their rights cannot be compared', {
          provider: 'credly',
          operation: 'list-tokens',
        });
      }
      const missing = missingRights(fresh, replaced);
      if (missing.length) throw new WeakerCredentialError(credential.id, fresh.id, missing);
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

    // A parsed token secret always holds a token.
    hasCredential: () => true,

    async list(credential, acting) {
      return (await list(credential, acting)).map((t) => ({ ref: t.id, createdAt: t.createdAt, marker: parseMarker(t.description), values: [t.token] }));
    },
  };
}
