/**
 * What became of a replaced credential, as text for the people who may read it (the dashboard's
 * users, `rotator status`, the job's outcome) and as a class for anyone else. The text can quote a
 * provider or AWS (a refusal's message names a role ARN, an account id, a secret); the class never
 * does. Every text is made here, so each one has its class.
 */

/** The classes, in the order they are recognised. */
export const PREVIOUS_STATE_CLASSES = [
  'revoked',
  'already-gone',
  'nothing-to-revoke',
  'left-to-expire',
  'not-revoked',
  'kept',
  'scheduled',
  'revoke-failed',
] as const;

export type PreviousStateClass = (typeof PREVIOUS_STATE_CLASSES)[number];

/** A text this module did not make (written by a version that worded it otherwise). */
export const UNKNOWN_PREVIOUS_STATE = 'other';

/** How each class's text begins (`revoked` is the whole text). */
const OPENINGS: Record<PreviousStateClass, string> = {
  revoked: 'revoked',
  'already-gone': 'already gone at the provider',
  'nothing-to-revoke': 'none known',
  'left-to-expire': 'left to expire',
  'not-revoked': 'NOT revoked: ',
  kept: 'kept: ',
  scheduled: 'revoke scheduled for ',
  'revoke-failed': 'revoke failed: ',
};

export const previousStateText = {
  revoked: () => OPENINGS.revoked,
  alreadyGone: () => OPENINGS['already-gone'],
  nothingToRevoke: () => `${OPENINGS['nothing-to-revoke']} (the secret was missing or unreadable)`,
  leftToExpire: (expiresAt?: Date) =>
    expiresAt
      ? `${OPENINGS['left-to-expire']} at ${expiresAt.toISOString()} (the provider offers no revoke)`
      : `${OPENINGS['left-to-expire']} (the provider offers no revoke)`,
  notRevoked: (ref: string, reason: string, expiresAt?: Date) =>
    `${OPENINGS['not-revoked']}${reason}; revoke ${ref} by hand at the provider${expiresAt ? `; it stays valid until ${expiresAt.toISOString()}` : ''}`,
  kept: (reason: string) => `${OPENINGS.kept}${reason}`,
  scheduled: (at: Date) => `${OPENINGS.scheduled}${at.toISOString()}`,
  revokeFailed: (message: string) => `${OPENINGS['revoke-failed']}${message}`,
};

/** The class of a previous-state text: what may be shown to anyone. */
export function previousStateClass(text: string): PreviousStateClass | typeof UNKNOWN_PREVIOUS_STATE {
  if (text === OPENINGS.revoked) return 'revoked';
  return PREVIOUS_STATE_CLASSES.find((c) => c !== 'revoked' && text.startsWith(OPENINGS[c])) ?? UNKNOWN_PREVIOUS_STATE;
}
