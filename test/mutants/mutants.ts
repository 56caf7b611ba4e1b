/**
 * Named mutants the proof suites (the interleaving explorer and the property suite) must kill: each
 * one a small, exact source edit that reintroduces a bug the rotator was fixed for, or removes one
 * of its guards. `npm run mutants` (scripts/mutants.ts) applies each in a scratch copy of the
 * repository and runs only those two suites there; a mutant whose search text is no longer found
 * exactly once stops the run, so the list cannot rot silently when the code moves.
 */
export interface Mutant {
  /** Short name, as the table prints it. */
  name: string;
  /** What the edit breaks, for people. */
  breaks: string;
  /** Repository-relative path of the file edited. */
  file: string;
  /** Text that must occur exactly once in `file`. */
  search: string;
  /** What replaces it. */
  replace: string;
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'lease-never-lost',
    breaks: 'a holder never learns that its lease lapsed: assertHeld always passes and its signal never aborts',
    file: 'src/lease/credential-lock.ts',
    search: 'if (!controller.signal.aborted) controller.abort(new LeaseLostError(credentialId, why));',
    replace: 'void why;',
  },
  {
    name: 'window-from-earliest',
    breaks: 'the protection window runs from the earliest credential made after the one judged, not the latest',
    file: 'src/rotation/revoke-guard.ts',
    search: 'until = Math.max(until, replacedAt + ctx.overlapMs);',
    replace: 'until = until === 0 ? replacedAt + ctx.overlapMs : Math.min(until, replacedAt + ctx.overlapMs);',
  },
  {
    name: 'status-write-unfenced',
    breaks: "a lock holder's status writes are accepted without comparing its lock token",
    file: 'src/state/rotation-state.ts',
    search: "if (lockToken !== undefined) return fenced(credentialId, FENCED_WRITE, key, lockToken, writeArgs(set, del), 'status write');",
    replace: '',
  },
  {
    name: 'revoke-ignores-stages',
    breaks: 'revokeReplaced revokes a credential that AWSCURRENT or AWSPENDING holds (the stage check skipped)',
    file: 'src/rotation/retire.ts',
    search: "if (pinned.length) return { action: 'cancelled', reason: `${pinned.join(' and ')} holds it` };",
    replace: '',
  },
  {
    name: 'already-done-unpromoted',
    breaks: '"already done" for a job that took part in a rotation, without Secrets Manager showing that rotation promoted',
    file: 'src/rotation/rotate.ts',
    search: "if (took && (await step(id, 'read-secret', () => wasPromoted(deps, secretId, took)))) {",
    replace: "if (took && (await step(id, 'read-secret', async () => (await wasPromoted(deps, secretId, took)) || true))) {",
  },
  {
    name: 'other-client-id-owned',
    breaks: "a listed OAuth application whose client id differs from the stored one is taken for the secret's own, and replaced and revoked",
    file: 'src/kinds/credly/oauth-application/provider.ts',
    search: 'if (app.uid !== secret.clientId) {',
    replace: 'if (app.uid !== secret.clientId && false) {',
  },
  {
    name: 'marker-digest-ignored',
    breaks: "ownershipOf ignores the marker's secret digest: what was made for a secret of another name counts as this secret's",
    file: 'src/rotation/revoke-guard.ts',
    search: "return m.secret === secretDigest(owner.secretId) ? 'ours' : 'foreign';",
    replace: "return 'ours';",
  },
  {
    name: 'reaper-deletes-legacy',
    breaks: 'the reaper deletes credentials marked before markers named a deployment and a secret (legacy), which may be another deployment’s',
    file: 'src/rotation/retire.ts',
    search: 'const candidates = ours.filter((x) => x.ref !== actingRef && !beforeLoss.has(x.ref));',
    replace: "const candidates = listing.filter((x) => (own(x) === 'ours' || own(x) === 'legacy') && x.ref !== actingRef && !beforeLoss.has(x.ref));",
  },
  {
    name: 'guard-ignores-pending',
    breaks: 'the revoke guard reads AWSCURRENT and AWSPREVIOUS only: a credential AWSPENDING holds may be revoked or reaped',
    file: 'src/rotation/revoke-guard.ts',
    search: 'export const STAGES = [AWSCURRENT, AWSPENDING, AWSPREVIOUS] as const;',
    replace: 'export const STAGES = [AWSCURRENT, AWSPREVIOUS] as const; void AWSPENDING;',
  },
  {
    name: 'scope-ignored',
    breaks: "ownershipOf ignores the marker's scope: another deployment's credential for a secret of the same name counts as this deployment's",
    file: 'src/rotation/revoke-guard.ts',
    search: "if (m.scope !== owner.scope) return 'foreign';",
    replace: '',
  },
];

/**
 * The proof suites, in the order a mutant meets them: the first that fails kills it and the next is
 * not run. The property suite first: it stops at its first failing history, while the explorer
 * always plays every pair.
 */
export const PROOF_SUITES: ReadonlyArray<{ name: string; files: readonly string[] }> = [
  { name: 'properties', files: ['test/soak/properties.test.ts'] },
  { name: 'interleavings', files: ['test/soak/interleavings.test.ts'] },
];
