import type { CredlyOAuthAppConfig, CredlyTokenConfig } from '../config/index.ts';
import type { OAuthAppSecretState } from '../kinds/credly/oauth-application/provider.ts';
import type { CredlyTokenSecret } from '../secrets/secret-values.ts';
import type { RotationProvider } from './rotation-provider.ts';

/**
 * The rotatable kinds and their providers. Built once in main.ts (real clients) or in a test
 * (clients pointed at the fakes); a kind missing here fails to compile.
 */
export interface RotatorRegistry {
  'credly-authorization-token': RotationProvider<CredlyTokenConfig, CredlyTokenSecret>;
  'credly-oauth-application': RotationProvider<CredlyOAuthAppConfig, OAuthAppSecretState>;
}

export type RotatableKind = keyof RotatorRegistry;
