import type { z } from 'zod';
import { ProviderAnswerError, ProviderUnavailableError } from '../../errors/provider-errors.ts';
import { ownershipOf } from '../../rotation/revoke-guard.ts';
import type { SkippedRecord } from '../kind.ts';
import { parseMarker } from './marker.ts';

/**
 * A listed record that does not fit the documented shape: what can be said of it without a value.
 * `token` is the record's secret value when it has one as a string, only to tell whether it is the
 * stored credential: never logged, never put into an error.
 */
export interface OddRecord {
  /** The record's id, when it has one that is a string or a number. */
  id: string | undefined;
  /** Its description, when a string (where the rotator's marker would be). */
  description: string | null;
  /** The fields that do not fit and why, e.g. `expires_at: invalid_type` (paths and codes only). */
  fields: string[];
  token: string | undefined;
}

/**
 * What a listing does with a record that does not fit: throws (it is the credential's own, and a
 * retry gets the same) or returns, and the record is skipped. Without one, the listing fails as a
 * provider answer it cannot read.
 */
export type OddRecordHandler = (record: OddRecord) => void;

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Each item by `schema`: those that fit, mapped; each that does not handed to `odd`. */
export function fittingRecords<J, T>(
  items: unknown[],
  schema: z.ZodType<J>,
  map: (json: J) => T,
  context: { operation: string; what: string; odd: OddRecordHandler | undefined },
): T[] {
  const out: T[] = [];
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      out.push(map(parsed.data));
      continue;
    }
    const fields = [...new Set(parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.code}`))].slice(0, 5);
    const record = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    const rawId = record.id;
    const odd: OddRecord = {
      id: typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId).slice(0, 100) : undefined,
      description: text(record.description) ?? null,
      fields,
      token: text(record.token),
    };
    if (!context.odd) {
      throw new ProviderUnavailableError(`a listed ${context.what} ${odd.id ?? '(no id)'} does not fit the documented shape (at ${fields.join(', ')})`, {
        provider: 'credly',
        operation: context.operation,
      });
    }
    context.odd(odd);
  }
  return out;
}

/**
 * The handler a rotation's listings use. A record is the credential's own when it is the stored
 * credential (`isStored`: its id or value) or carries the rotator's marker for this credential
 * (this deployment's, or written before markers carried one): then a retry would get the same, so
 * the listing fails for good, naming the field. Any other record (another integration's token, a
 * person's, another credential's) is skipped and reported: it never stops the organization.
 */
export function oddRecordJudge(options: {
  kind: string;
  credentialId: string;
  /** The secret the credential is stored in: a marker names it by a digest. */
  secretId: string;
  operation: string;
  what: string;
  /** This deployment's scope; unset: any marker of this credential counts as its own. */
  scope: string | undefined;
  isStored: (record: OddRecord) => boolean;
  onSkipped: ((skipped: SkippedRecord) => void) | undefined;
}): OddRecordHandler {
  return (record) => {
    const marker = parseMarker(record.description);
    const owned =
      marker !== undefined &&
      marker.credentialId === options.credentialId &&
      (options.scope === undefined ||
        ownershipOf(
          { ref: record.id ?? '', createdAt: new Date(0), marker, values: [] },
          { credentialId: options.credentialId, scope: options.scope, secretId: options.secretId },
        ) !== 'foreign');
    if (owned || options.isStored(record)) {
      throw new ProviderAnswerError(
        `${options.what} ${record.id ?? '(no id)'} of credential "${options.credentialId}" is listed in a shape the documentation does not give (at ${record.fields.join(', ')}): every retry gets the same answer; look at it in Credly`,
        { provider: 'credly', operation: options.operation },
      );
    }
    options.onSkipped?.({ provider: 'credly', kind: options.kind, credentialId: options.credentialId, recordId: record.id, fields: record.fields });
  };
}
