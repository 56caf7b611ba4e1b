import { setTimeout as delay } from 'node:timers/promises';
import { formatDuration } from '../../../config/index.ts';
import { RotatorError } from '../../../errors/rotator-error.ts';
import type { RotationProvider } from '../../../rotation/rotation-provider.ts';
import { SecretFormatError, serializeSecret } from '../../../secrets/secret-values.ts';
import { credlyOAuthAppSecret, parseCredlyOAuthApp, type CredlyOAuthAppConfig, type CredlyOAuthAppSecret } from './schema.ts';
import { ProviderAuthError, ProviderError, ProviderUnavailableError } from '../../../errors/provider-errors.ts';
import type { CredlyOAuthClient } from '../application-client.ts';
import { parseMarker, rotatorDescription } from '../marker.ts';
import { oddRecordJudge } from '../listed-records.ts';
import type { SkippedRecord } from '../../kind.ts';

/**
 * An OAuth application's secret as the rotator sees it: the stored value, or why there is none
 * usable (missing, empty, malformed). A lost secret is not an error here: it is why we recreate.
 */
export interface OAuthAppSecretState {
  value?: CredlyOAuthAppSecret;
  problem?: string;
}

/** The application does not hold scopes its integrations need: recreating would not help. */
export class MissingScopesError extends RotatorError {
  readonly missingScopes: string[];
  constructor(credentialId: string, missing: string[]) {
    super(
      `credential "${credentialId}": the OAuth application is not granted ${missing.join(', ')}; recreating it would not help: allow these scopes for the organization's applications in Credly, or change "scopes" in the inventory`,
      { permanent: true },
    );
    this.missingScopes = missing;
  }
}

export interface OAuthAppProviderDeps {
  clientFor(credential: CredlyOAuthAppConfig): CredlyOAuthClient;
  /** The current token of the `managedBy` credential, which makes the management calls. */
  managerToken(credential: CredlyOAuthAppConfig): Promise<string>;
  /** How long to wait before the second grant that confirms a refusal. Default 2000 ms. */
  confirmDelayMs?: number;
  /** This deployment's scope, as markers carry it (KindContext.scope). */
  scope?: string;
  /** Told of each listed application skipped for not fitting the documented shape (KindContext.onRecordSkipped). */
  onRecordSkipped?: (skipped: SkippedRecord) => void;
}

/** Says what a refused managing token means, and who must act. */
function explainManager(credential: CredlyOAuthAppConfig, error: unknown): unknown {
  if (!(error instanceof ProviderAuthError)) return error;
  const what = error.status === 401 ? 'is refused by Credly (401): it expired or was revoked' : 'lacks the permission to manage OAuth applications (403)';
  return new ProviderAuthError(`the managing token "${credential.managedBy}" of "${credential.id}" ${what}; fix that credential first`, {
    provider: 'credly',
    operation: error.operation,
    status: error.status,
    cause: error,
  });
}

const DELETE_ANSWER = { deleted: 'success', 'not-found': '404', unsupported: '405' } as const;
/** A grant refused as if the client were wrong: OAuth's `invalid_client`, or any 401 (a proxy's too). */
const isRefused = (error: unknown) => error instanceof ProviderError && (error.code === 'invalid_client' || error.status === 401);
/** The token endpoint itself said the client is unknown or its secret wrong. */
const saysInvalidClient = (error: unknown) => error instanceof ProviderError && error.code === 'invalid_client';
const isInvalidScope = (error: unknown) => error instanceof ProviderError && error.code === 'invalid_scope';

/**
 * Credly OAuth applications: validated by a client_credentials grant; recreated (new application,
 * stored, tested, promoted, old one deleted) when the secret is lost or refused, or every
 * `recreateEvery`.
 */
export function createCredlyOAuthAppProvider(deps: OAuthAppProviderDeps): RotationProvider<CredlyOAuthAppConfig, OAuthAppSecretState> {
  const managed = async <T>(credential: CredlyOAuthAppConfig, call: (client: CredlyOAuthClient, token: string) => Promise<T>): Promise<T> => {
    const token = await deps.managerToken(credential);
    try {
      return await call(deps.clientFor(credential), token);
    } catch (error) {
      // The managing token has its own schedule: it may have been rotated, and the one read here
      // revoked, a moment ago. A refused call did nothing, so it is made again once with the token
      // its secret holds now.
      if (error instanceof ProviderAuthError && error.status === 401) {
        const now = await deps.managerToken(credential);
        if (now !== token) {
          try {
            return await call(deps.clientFor(credential), now);
          } catch (again) {
            throw explainManager(credential, again);
          }
        }
      }
      throw explainManager(credential, error);
    }
  };

  /** Grants the required scopes; when Credly refuses the set, finds out which ones by asking one at a time. */
  async function missingScopes(credential: CredlyOAuthAppConfig, secret: CredlyOAuthAppSecret): Promise<string[]> {
    const client = deps.clientFor(credential);
    const { tokenUrl } = credential.endpoints;
    try {
      const granted = await client.grant(tokenUrl, secret.clientId, secret.clientSecret, credential.scopes, credential.tokenRequestEncoding);
      return credential.scopes.filter((s) => !granted.scopes.includes(s));
    } catch (error) {
      if (!isInvalidScope(error)) throw error;
    }
    const missing: string[] = [];
    for (const scope of credential.scopes) {
      await client.grant(tokenUrl, secret.clientId, secret.clientSecret, [scope], credential.tokenRequestEncoding).catch((error: unknown) => {
        if (!isInvalidScope(error)) throw error;
        missing.push(scope);
      });
    }
    return missing;
  }

  /**
   * Recreating destroys the application in use, so one refusal is not enough: a proxy's 401, or
   * an outage answering 401, must not cost a working application. The grant is asked again after a
   * delay, and the application looked up in the listing. Due only when the application is gone, its
   * client id is not the stored one, or the token endpoint said `invalid_client` both times while
   * the listing answered; otherwise a transient failure, which the job retries a bounded number of
   * times before alerting. An application whose client id is not the stored one is not provably
   * this secret's (the stored id may be stale, or another application's): it is never named for
   * replacement, so nothing revokes it; the new application replaces no known one, and the listed
   * one is named (`unproven`) for a person.
   */
  /** A listed application that does not fit: the stored one's (by id) or one marked for this credential fails for good; any other is skipped. */
  const oddFor = (credential: CredlyOAuthAppConfig, storedId: string | number | undefined) =>
    oddRecordJudge({
      kind: credential.kind,
      credentialId: credential.id,
      secretId: credential.secretId,
      operation: 'list-applications',
      what: 'application',
      scope: deps.scope,
      isStored: (r) => storedId !== undefined && r.id === String(storedId),
      onSkipped: deps.onRecordSkipped,
    });

  async function confirmRefusal(
    credential: CredlyOAuthAppConfig,
    secret: CredlyOAuthAppSecret,
    first: unknown,
  ): Promise<{ due: true; ref: string; reason: string; unproven?: string } | { due: false; missing: string[] }> {
    const ref = String(secret.applicationId);
    await delay(deps.confirmDelayMs ?? 2_000);
    let second: unknown;
    try {
      return { due: false, missing: await missingScopes(credential, secret) };
    } catch (error) {
      if (!isRefused(error)) throw error;
      second = error;
    }
    const app = (await managed(credential, (c, t) => c.listApplications(t, credential.organizationId, oddFor(credential, secret.applicationId)))).find(
      (a) => a.id === secret.applicationId,
    );
    if (!app) return { due: true, ref, reason: `client secret refused and application ${ref} is no longer listed` };
    if (app.uid !== secret.clientId) {
      return {
        due: true,
        ref: '',
        unproven: ref,
        reason: `client secret refused, and application ${ref} has another client id than the stored one: not provably this secret's, so never deleted; a new application replaces none known`,
      };
    }
    if (saysInvalidClient(first) && saysInvalidClient(second)) {
      return { due: true, ref, reason: `client secret refused by Credly twice (invalid_client), application ${ref} still listed` };
    }
    const status = (second as ProviderError).status;
    throw new ProviderUnavailableError(
      `the token endpoint refused application ${ref} twice${status ? ` (${status})` : ''} without saying invalid_client, and the application is still listed: not recreated on that evidence (a proxy or an outage?)`,
      { provider: 'credly', operation: 'token-grant', status, cause: second },
    );
  }

  return {
    parseSecret(secretString, secretId) {
      try {
        return { value: parseCredlyOAuthApp(secretString, { secretId }) };
      } catch (error) {
        if (error instanceof SecretFormatError) return { problem: error.message };
        throw error;
      }
    },
    serializeSecret(secret, secretId) {
      if (!secret.value) throw new SecretFormatError('credly-oauth-application', ['no value to store'], secretId);
      return serializeSecret(credlyOAuthAppSecret, secret.value, { secretId });
    },
    refOf: (secret) => (secret.value ? String(secret.value.applicationId) : undefined),
    missingSecret: () => ({ problem: 'the secret does not exist' }),

    async inspect(credential, current, now) {
      if (!current.value) return { ref: '', due: true, reason: `client secret lost: ${current.problem ?? 'no value'}` };
      const ref = String(current.value.applicationId);
      let missing: string[];
      try {
        missing = await missingScopes(credential, current.value);
      } catch (error) {
        if (!isRefused(error)) throw error;
        const confirmed = await confirmRefusal(credential, current.value, error);
        if (confirmed.due) return confirmed;
        missing = confirmed.missing;
      }
      if (missing.length) throw new MissingScopesError(credential.id, missing);
      if (credential.recreateEveryMs !== undefined) {
        const every = credential.recreateEveryMs;
        const stored = current.value.applicationId;
        const app = (await managed(credential, (c, t) => c.listApplications(t, credential.organizationId, oddFor(credential, stored)))).find(
          (a) => a.id === stored,
        );
        if (!app) return { ref, due: true, reason: `application ${ref} is no longer listed` };
        const age = now.getTime() - app.createdAt.getTime();
        if (age >= every) return { ref, due: true, reason: `application is older than ${formatDuration(every)} (recreateEvery)` };
        return { ref, due: false, reason: `client secret works with ${credential.scopes.join(', ')}; recreated every ${formatDuration(every)}` };
      }
      return { ref, due: false, reason: `client secret works with ${credential.scopes.join(', ')}` };
    },

    async issue(credential, current, rotation) {
      const description = rotatorDescription(rotation.rotationId, credential.id, {
        scope: rotation.scope,
        secretId: credential.secretId,
        replaces: rotation.previousRef,
      });
      return managed(credential, async (client, token) => {
        // An application this rotation created before a crash was never stored, and Credly never
        // shows its secret again: it is useless. It is named for deletion once the new one is
        // stored, not deleted here: a holder that lost its lock may be storing it right now.
        const earlier = rotation.firstAttempt
          ? []
          : await client.listApplications(token, credential.organizationId, oddFor(credential, current.value?.applicationId));
        const ofThisRotation = (a: { description: string | null }) => {
          const marker = parseMarker(a.description);
          return marker?.rotationId === rotation.rotationId && marker.credentialId === credential.id;
        };
        const unusable = earlier.filter(ofThisRotation).map((a) => String(a.id));
        const app = await client.createApplication(token, credential.organizationId, credential.applicationName, description);
        return {
          secret: { value: { clientId: app.uid, clientSecret: app.secret, applicationId: app.id } },
          ref: String(app.id),
          ...(unusable.length ? { unusable } : {}),
        };
      });
    },

    async test(credential, pending) {
      if (!pending.value) throw new SecretFormatError('credly-oauth-application', ['no value'], credential.secretId);
      const missing = await missingScopes(credential, pending.value);
      if (missing.length) throw new MissingScopesError(credential.id, missing);
    },

    async revoke(credential, _acting, previousRef) {
      if (previousRef === '') return { state: 'nothing-to-revoke' };
      // DELETE → 204 is documented (vendor page 002), but the listing decides, as for tokens.
      return managed(credential, async (client, token) => {
        const result = await client.deleteApplication(token, credential.organizationId, Number(previousRef));
        const still = (await client.listApplications(token, credential.organizationId, oddFor(credential, previousRef))).some(
          (a) => String(a.id) === previousRef,
        );
        if (!still) return { state: result === 'deleted' ? 'revoked' : 'already-gone' };
        return { state: 'not-revoked', reason: `still listed after DELETE answered ${DELETE_ANSWER[result]}` };
      });
    },

    async stillListed(credential, acting, refs) {
      const listed = await managed(credential, (c, t) => c.listApplications(t, credential.organizationId, oddFor(credential, acting.value?.applicationId)));
      return refs.filter((ref) => listed.some((a) => String(a.id) === ref));
    },

    hasCredential: (secret) => secret.value !== undefined,

    async list(credential, acting) {
      const apps = await managed(credential, (c, t) => c.listApplications(t, credential.organizationId, oddFor(credential, acting.value?.applicationId)));
      // The client id identifies an application inside a stored secret; its secret is never listed.
      return apps.map((a) => ({ ref: String(a.id), createdAt: a.createdAt, marker: parseMarker(a.description), values: [a.uid] }));
    },
  };
}
