/** The credential kinds the rotator knows. Every map keyed by kind must name all of them. */
export const CREDENTIAL_KINDS = [
  'credly-authorization-token',
  'credly-oauth-application',
  'degreed-client-credentials',
  'learnlink-client-credentials',
] as const;

export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
