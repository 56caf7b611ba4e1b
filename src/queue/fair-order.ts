import type { CredentialConfig } from '../config/index.ts';

/**
 * The provider budget a credential's calls spend: a Credly organization is rate-limited as a whole
 * (`ROTATOR_CREDLY_RATE_LIMIT`), every other credential is a budget of its own.
 */
export function budgetOf(credential: Pick<CredentialConfig, 'id' | 'kind'> & { organizationId?: string }): string {
  return credential.organizationId !== undefined && credential.kind.startsWith('credly-')
    ? `credly:${credential.organizationId}`
    : `credential:${credential.id}`;
}

/**
 * Interleaves credentials across budgets (one from each organization in turn, keeping the inventory's
 * order within each), so a sweep that enqueues them all at once keeps every organization's rate limit
 * busy instead of working through one organization while the other budgets sit unused. The queue is
 * first-in first-out, so this order is the order in which the workers take the jobs.
 */
export function interleaveByBudget<T extends Pick<CredentialConfig, 'id' | 'kind'> & { organizationId?: string }>(credentials: readonly T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const c of credentials) {
    const key = budgetOf(c);
    const group = groups.get(key);
    if (group) group.push(c);
    else groups.set(key, [c]);
  }
  const lists = [...groups.values()];
  const out: T[] = [];
  for (let round = 0; out.length < credentials.length; round += 1) {
    for (const list of lists) if (round < list.length) out.push(list[round]!);
  }
  return out;
}
