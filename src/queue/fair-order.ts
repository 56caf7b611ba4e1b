/**
 * Interleaves credentials across rate-limit budgets (one from each budget in turn, keeping the
 * inventory's order within each), so a sweep that enqueues them all at once keeps every budget
 * busy instead of working through one provider organization while the others sit unused. The
 * queue is first-in first-out, so this order is the order in which the workers take the jobs.
 * `budgetOf` names a credential's budget (src/kinds/registry.ts).
 */
export function interleaveByBudget<T>(credentials: readonly T[], budgetOf: (credential: T) => string): T[] {
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
