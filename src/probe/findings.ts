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
  /** The provider's id; `unknown` when a create's answer was lost and the listing could not be searched (then the description finds it). */
  id: string;
  description: string;
  advice: string;
}

/**
 * `holds`: every assumption the inventory relies on was checked and holds, and nothing was left at
 * the provider. `failed`: one does not hold, or something the probe made is left at the provider.
 * `incomplete`: nothing failed, but some were not checked (a read-only probe, a read the scopes do
 * not allow): not a failure, and not a pass either.
 */
export type ProbeOutcome = 'holds' | 'incomplete' | 'failed';

export interface CredentialProbe {
  id: string;
  kind: string;
  /** `outcome` is `holds`. */
  ok: boolean;
  outcome: ProbeOutcome;
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
      const outcome = outcomeOf(findings, leftovers);
      return { id, kind, ok: outcome === 'holds', outcome, findings, settings, leftovers };
    },
  };
}

export type FindingsBuilder = ReturnType<typeof findingsOf>;

export function outcomeOf(findings: readonly Finding[], leftovers: readonly Leftover[]): ProbeOutcome {
  const relied = findings.filter((f) => f.relied);
  if (leftovers.length > 0 || relied.some((f) => f.status === 'does-not-hold')) return 'failed';
  return relied.some((f) => f.status === 'unchecked') ? 'incomplete' : 'holds';
}

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
