import type { CredlyFakeOptions } from '../fakes/credly.fake.ts';
import type { DegreedFakeOptions } from '../fakes/degreed.fake.ts';
import type { LearnlinkFakeOptions } from '../fakes/learnlink.fake.ts';

/**
 * The fakes' variants (test/fakes/README.md) the rotation, recreation and validation suites run
 * against: each plays one behaviour the vendor pages leave open, and says what the product must do
 * there. `inventory` holds the credential's lines that match the variant, when the product has a
 * setting for it.
 */

export interface CredlyVariant {
  name: string;
  options: CredlyFakeOptions;
  inventory?: string;
  /** What a rotation ends in: the old token revoked, left valid and reported (no DELETE), or the new token refused at its test. */
  rotation: 'revoked' | 'not-revoked' | 'refused-at-test';
}

export const CREDLY_VARIANTS: CredlyVariant[] = [
  { name: 'as documented (defaults)', options: {}, rotation: 'revoked' },
  { name: 'no token DELETE (404)', options: { deleteSupported: false }, rotation: 'not-revoked' },
  { name: 'no token DELETE (405)', options: { deleteSupported: false, deleteUnsupportedStatus: 405 }, rotation: 'not-revoked' },
  { name: 'no GET /organizations/{id}', options: { organizationEndpoint: false }, rotation: 'revoked' },
  { name: 'page links on the web host, 2 a page', options: { pageLinks: 'web', maxPer: 2 }, rotation: 'revoked' },
  { name: 'created tokens get full rights', options: { createdTokenRights: 'full' }, rotation: 'revoked' },
  { name: 'created tokens are read-only', options: { createdTokenRights: 'read-only' }, rotation: 'refused-at-test' },
  { name: 'create answers 200', options: { createStatus: 200 }, rotation: 'revoked' },
  { name: 'strict Basic (token and colon only)', options: { acceptColonlessBasic: false }, rotation: 'revoked' },
];

export interface CredlyAppVariant {
  name: string;
  options: CredlyFakeOptions;
  inventory?: string;
  /** What a recreation does with the old application. */
  recreation: 'revoked' | 'not-revoked';
}

export const CREDLY_APP_VARIANTS: CredlyAppVariant[] = [
  { name: 'as documented (defaults)', options: {}, recreation: 'revoked' },
  { name: 'token endpoint takes form only', options: { tokenBody: 'form' }, inventory: 'tokenRequestEncoding: form', recreation: 'revoked' },
  { name: 'token endpoint takes JSON only', options: { tokenBody: 'json' }, inventory: 'tokenRequestEncoding: json', recreation: 'revoked' },
  { name: 'no application DELETE', options: { applicationDeleteSupported: false }, recreation: 'not-revoked' },
  { name: 'page links on the web host, 1 a page', options: { pageLinks: 'web', maxPer: 1 }, recreation: 'revoked' },
  { name: 'no GET /organizations/{id}', options: { organizationEndpoint: false }, recreation: 'revoked' },
  { name: 'scopes the application lacks left out of the grant', options: { scopeMismatch: 'grant-subset' }, recreation: 'revoked' },
];

export const DEGREED_VARIANTS: Array<{ name: string; options: DegreedFakeOptions; inventory: string }> = [
  { name: 'logout by GET (the page)', options: { logoutMethod: 'GET' }, inventory: 'logoutMethod: GET' },
  { name: 'logout by POST', options: { logoutMethod: 'POST' }, inventory: 'logoutMethod: POST' },
  // RFC 6749 §5.2's error response: a wrong secret and a scope the key lacks are refused with 400.
  { name: 'refusals answered 400 (RFC 6749)', options: { logoutMethod: 'GET', refusalStatus: 400 }, inventory: 'logoutMethod: GET' },
];

export const LEARNLINK_VARIANTS: Array<{ name: string; options: LearnlinkFakeOptions }> = [
  { name: 'scope refusal 400 (the page)', options: { scopeRefusal: 400 } },
  { name: 'scope refusal 403', options: { scopeRefusal: 403 } },
];
