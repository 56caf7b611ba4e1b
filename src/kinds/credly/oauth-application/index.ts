import { RotatorError } from '../../../errors/rotator-error.ts';
import { httpOptions, type KindContext, type ProbeContext, type RotatedKind } from '../../kind.ts';
import { KIND as TOKEN_KIND, parseCredlyToken, type CredlyTokenConfig } from '../authorization-token/schema.ts';
import { createCredlyOAuthClient } from '../application-client.ts';
import { credlyRateLimit, perApiBase } from '../shared.ts';
import { createCredlyOAuthAppProvider, type OAuthAppSecretState } from './provider.ts';
import {
  credlyAppEntry,
  credlyOAuthAppSecret,
  KIND,
  managedByProblems,
  parseCredlyOAuthApp,
  type CredlyOAuthAppConfig,
  type CredlyOAuthAppSecret,
} from './schema.ts';

/** The managing token credential; validated at load to be a Credly token of the same organization and API. */
function managerOf(credentials: KindContext['credentials'], credential: CredlyOAuthAppConfig): CredlyTokenConfig {
  const manager = credentials.find((c) => c.id === credential.managedBy);
  if (manager?.kind !== TOKEN_KIND) throw new RotatorError(`managedBy "${credential.managedBy}" is not a Credly token credential`, { permanent: true });
  return manager as CredlyTokenConfig;
}

async function managerToken(context: Pick<ProbeContext, 'readSecret'>, manager: CredlyTokenConfig): Promise<string> {
  return parseCredlyToken(await context.readSecret(manager.secretId), { secretId: manager.secretId }).token;
}

/**
 * Credly OAuth applications: proven by a client-credentials grant; recreated (and the old one
 * deleted after `revokePreviousAfter`) when the secret is lost or refused, or every `recreateEvery`.
 * Management calls are made with the `managedBy` token credential, at its API only.
 */
export const credlyOAuthApplication: RotatedKind<CredlyOAuthAppConfig, CredlyOAuthAppSecret, OAuthAppSecretState> = {
  kind: KIND,
  provider: 'Credly',
  mode: 'rotate',
  revokeByHand: 'Credly: Organization Management, Developers section',
  entry: credlyAppEntry,
  secret: credlyOAuthAppSecret,
  rateLimit: credlyRateLimit,
  crossCheck: managedByProblems,
  // An application does not expire; once its managing token does, nothing can recreate it or
  // delete what it replaced: its alerts count down to that token's expiry.
  expiryFrom: (credential) => credential.managedBy,
  rotator(context) {
    const applications = perApiBase((apiBase) => createCredlyOAuthClient({ apiBase, ...httpOptions(context) }));
    const readSecret = async (secretId: string) => (await context.secrets.readCurrent(secretId)).secretString;
    return createCredlyOAuthAppProvider({
      // Management calls carry the managing token: they go to the managing credential's API, never
      // to an address of the application's entry (the load refuses entries where the two differ).
      clientFor: (credential) => applications(managerOf(context.credentials, credential)),
      ...(context.recheckDelayMs === undefined ? {} : { confirmDelayMs: context.recheckDelayMs }),
      ...(context.scope === undefined ? {} : { scope: context.scope }),
      ...(context.onRecordSkipped ? { onRecordSkipped: context.onRecordSkipped } : {}),
      managerToken: (credential) => managerToken({ readSecret }, managerOf(context.credentials, credential)),
    });
  },
  async probe(credential, context) {
    const token = await managerToken(context, managerOf(context.credentials, credential));
    // A lost application secret is what the rotator repairs: the probe goes on without it.
    const secret = await context
      .readSecret(credential.secretId)
      .then((text) => parseCredlyOAuthApp(text, { secretId: credential.secretId }))
      .catch((error: unknown) => ({ problem: error }));
    const { probeCredlyApplication } = await import('./probe.ts');
    return probeCredlyApplication(credential, { secret, managerToken: token }, context);
  },
};
