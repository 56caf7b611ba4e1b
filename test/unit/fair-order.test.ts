import { describe, expect, it } from 'vitest';
import { budgetOf } from '../../src/kinds/registry.ts';
import { interleaveByBudget } from '../../src/queue/fair-order.ts';

const credly = (id: string, organizationId: string) => ({ id, kind: 'credly-authorization-token' as const, organizationId });
const degreed = (id: string) => ({ id, kind: 'degreed-client-credentials' as const });

describe('interleaving a sweep across rate-limit budgets', () => {
  it('takes one credential of each organization in turn, keeping the inventory order within each', () => {
    const list = [credly('a1', 'A'), credly('a2', 'A'), credly('a3', 'A'), credly('b1', 'B'), degreed('d1'), credly('b2', 'B'), degreed('d2')];
    expect(interleaveByBudget(list, budgetOf).map((c) => c.id)).toEqual(['a1', 'b1', 'd1', 'd2', 'a2', 'b2', 'a3']);
  });

  it('keeps every credential exactly once, and an empty inventory empty', () => {
    const list = Array.from({ length: 500 }, (_, i) => credly(`t${i}`, `org-${i % 7}`));
    const out = interleaveByBudget(list, budgetOf);
    expect(out).toHaveLength(500);
    expect(new Set(out.map((c) => c.id)).size).toBe(500);
    // The first seven are one per organization.
    expect(new Set(out.slice(0, 7).map((c) => c.organizationId)).size).toBe(7);
    expect(interleaveByBudget([], budgetOf)).toEqual([]);
  });

  it('names a Credly organization as one budget for both Credly kinds, and any other credential as its own', () => {
    expect(budgetOf(credly('x', 'O'))).toBe('credly:O');
    expect(budgetOf({ id: 'y', kind: 'credly-oauth-application', organizationId: 'O' })).toBe('credly:O');
    expect(budgetOf(degreed('z'))).toBe('credential:z');
  });
});
