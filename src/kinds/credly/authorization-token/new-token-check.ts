import type { CredlyTokenConfig } from './schema.ts';
import { RotatorError } from '../../../errors/rotator-error.ts';
import { ProviderUnavailableError } from '../../../errors/provider-errors.ts';
import type { CredlyClient, CredlyToken } from '../token-client.ts';
import type { OddRecordHandler } from '../listed-records.ts';

/**
 * The new token cannot do what the next rotation needs. Permanent: a retry makes no better token.
 * The vendor pages do not say which rights a created token gets, so this is checked, not assumed.
 */
export class NewTokenRightsError extends RotatorError {
  constructor(credentialId: string, tokenId: string, missing: string[]) {
    super(
      `credential "${credentialId}": the new token ${tokenId} is not ${missing.join(', ')}: it could not list, create or delete tokens at the next rotation, so it is not promoted; make the stored token a read, write and delete enabled one in Credly (or set deleteSupported: false)`,
      { permanent: true },
    );
  }
}

/** The rights the rotator needs of the token it stores: list (read), create (write) and, when it deletes, delete. */
export function missingRights(credential: Pick<CredlyTokenConfig, 'deleteSupported'>, token: CredlyToken): string[] {
  return [
    ...(token.readEnabled ? [] : ['read-enabled']),
    ...(token.writeEnabled ? [] : ['write-enabled']),
    ...(token.deleteEnabled || !credential.deleteSupported ? [] : ['delete-enabled']),
  ];
}

/**
 * Proves a new token with documented calls only (vendor page 004): it lists the organization's
 * authorization tokens and finds itself there, with its expiry and the rights the rotator needs.
 * `GET /organizations/{id}` (in no vendor page) is an extra, never the only proof.
 */
export async function proveNewToken(
  client: CredlyClient,
  credential: CredlyTokenConfig,
  pending: { token: string; tokenId?: string | undefined },
  odd?: OddRecordHandler,
): Promise<CredlyToken> {
  const listed = await client.listTokens(pending.token, credential.organizationId, odd);
  const self = listed.find((t) => t.token === pending.token || (pending.tokenId !== undefined && t.id === pending.tokenId));
  if (!self) {
    // A token that lists without itself is either not yet visible everywhere or not the one stored: try again later.
    throw new ProviderUnavailableError(`the new token ${pending.tokenId ?? ''} does not find itself in the token listing it made`, {
      provider: 'credly',
      operation: 'list-tokens',
    });
  }
  const missing = missingRights(credential, self);
  if (missing.length) throw new NewTokenRightsError(credential.id, self.id, missing);
  if (credential.testWithOrganizationEndpoint) await client.getOrganization(pending.token, credential.organizationId);
  return self;
}
