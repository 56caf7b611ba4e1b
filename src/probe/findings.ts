/**
 * What `rotator probe` reports: per credential, one finding per assumption about the provider, the
 * inventory settings that fit what the provider did, and anything the probe made that it could
 * not remove. Findings carry statuses, ids, status codes, field names and error codes — never a
 * credential, an access token or a response body.
 */

/** `holds`: the provider does what is assumed. `unchecked`: not tried (needs --allow-writes, or an earlier step failed). */
export type FindingStatus = 'holds' | 'does-not-hold' | 'unchecked';

export type Fact = string | number | boolean | null | string[] | Record<string, string | number | null>;

export interface Finding {
  /** Stable name for machines, e.g. `delete-token`. */
  check: string;
  /** The assumption, in words. */
  assumption: string;
  status: FindingStatus;
  /** Whether the inventory, as configured, relies on it: one that does not hold (or is unchecked) fails the probe. */
  relied: boolean;
  /** What the provider did. */
  observed: string;
  /** The same, for machines (`{ linkOrigin: 'other' }`). */
  facts: Record<string, Fact>;
}

/** Something the probe created and could not remove: a person must, by its provider id. */
export interface Leftover {
  what: 'authorization-token' | 'oauth-application';
  id: string;
  description: string;
  advice: string;
}

export interface CredentialProbe {
  id: string;
  kind: string;
  /** Every assumption the inventory relies on holds. */
  ok: boolean;
  findings: Finding[];
  /** The inventory switches of this credential, with the values that fit the provider as probed. */
  settings: Record<string, string | boolean>;
  leftovers: Leftover[];
}

/** Collects a credential's findings in order; `done` judges them. */
export function findingsOf(id: string, kind: string) {
  const findings: Finding[] = [];
  const leftovers: Leftover[] = [];
  const add = (f: Omit<Finding, 'facts'> & { facts?: Record<string, Fact> }): Finding => {
    const finding = { ...f, facts: f.facts ?? {} };
    findings.push(finding);
    return finding;
  };
  return {
    findings,
    leftovers,
    add,
    holds: (check: string, assumption: string, relied: boolean, observed: string, facts?: Record<string, Fact>) =>
      add({ check, assumption, status: 'holds', relied, observed, ...(facts ? { facts } : {}) }),
    fails: (check: string, assumption: string, relied: boolean, observed: string, facts?: Record<string, Fact>) =>
      add({ check, assumption, status: 'does-not-hold', relied, observed, ...(facts ? { facts } : {}) }),
    unchecked: (check: string, assumption: string, relied: boolean, why: string) => add({ check, assumption, status: 'unchecked', relied, observed: why }),
    done(settings: Record<string, string | boolean>): CredentialProbe {
      return { id, kind, ok: findings.every((f) => !f.relied || f.status === 'holds'), findings, settings, leftovers };
    },
  };
}

export type FindingsBuilder = ReturnType<typeof findingsOf>;

/** An error's text for a finding: provider errors are already scrubbed of every value sent or received. */
export function why(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The failure of a probe that could not start (secret unreadable, malformed): one finding that fails. */
export function probeNotStarted(id: string, kind: string, error: unknown): CredentialProbe {
  const f = findingsOf(id, kind);
  f.fails('secret', 'the stored secret is readable and well-formed', true, why(error));
  return f.done({});
}
