import type { Logger } from './logger.ts';

/**
 * Audit events: one JSON log line per change of a credential's state, marked `"audit": true` so a
 * log pipeline can keep them apart and for longer than the rest (docs/audit.md has the schema).
 * Ids, times and the words a person gave only: never a secret value, never a provider's answer.
 * Every line also carries the logger's bindings: `credentialId`, and the job's id.
 */
export const AUDIT_SCHEMA_VERSION = 1;

export const AUDIT_EVENTS = {
  'rotation.started': 'a rotation began: its id, trigger, actor, reason and the credential it replaces',
  'recreate.started': 'a recreation began (an OAuth application whose client secret was lost): no credential is replaced',
  'credential.created': 'the new credential was made at the provider and stored in Secrets Manager as AWSPENDING',
  'rotation.promoted': 'the new credential became AWSCURRENT; the one it replaced became AWSPREVIOUS',
  'rotation.abandoned': 'a rotation ended for good before its promotion (a permanent failure); AWSCURRENT is unchanged',
  'revoke.scheduled': "the replaced credential's revoke was scheduled for the end of its overlap window",
  'revoke.deferred': "a revoke was deferred: a later rotation's overlap window still protects the credential",
  'revoke.cancelled': 'a revoke was cancelled: a stage of the secret holds the credential again',
  'revoke.refused': 'a revoke was refused: the credential is not provably the one the rotation replaced',
  'credential.revoked': 'a credential was revoked at the provider (state: revoked, already-gone, not-revoked, left-to-expire)',
} as const;
export type AuditEvent = keyof typeof AUDIT_EVENTS;

export interface AuditFields {
  rotationId?: string;
  trigger?: string;
  actor?: string | null;
  reason?: string | null;
  /** The provider id of the credential the event is about. */
  ref?: string;
  /** The provider id of the credential a rotation replaces. */
  replacedRef?: string | null;
  /** What decided it (a guard's verdict, an error's class): fixed texts and ids, never an answer's text. */
  why?: string;
  /** revoke.scheduled / revoke.deferred: when the revoke falls due (ISO). */
  until?: string;
  /** credential.revoked: what the provider's listing confirmed. */
  state?: string;
  /** credential.revoked: who revoked it — the rotation's revoke step or delayed job (`revoke`), or the reaper. */
  by?: 'revoke' | 'reaper';
}

export function audit(log: Logger, event: AuditEvent, fields: AuditFields): void {
  log.info({ audit: true, auditVersion: AUDIT_SCHEMA_VERSION, event, ...fields }, `audit: ${event}`);
}
