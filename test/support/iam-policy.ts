/**
 * Just enough of IAM policy evaluation to check docs/iam-policy.json against what the code sends:
 * Allow statements, actions and resources with `*` wildcards, and the StringEquals / StringLike
 * condition operators (every key of a condition must match one of its values). Anything else in
 * the policy (Deny, NotAction, other operators) is refused, so the check never passes by ignoring it.
 */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

export function checkShape(policy: Policy): string[] {
  const problems: string[] = [];
  if (policy.Version !== '2012-10-17') problems.push('Version must be 2012-10-17');
  for (const s of policy.Statement) {
    const keys = Object.keys(s).filter((k) => !['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(k));
    if (s.Effect !== 'Allow' || keys.length) problems.push(`${s.Sid}: only Allow with Action, Resource and Condition is understood here`);
    for (const operator of Object.keys(s.Condition ?? {}))
      if (!['StringEquals', 'StringLike'].includes(operator)) problems.push(`${s.Sid}: operator ${operator} not understood`);
    for (const action of list(s.Action)) if (action.includes('*')) problems.push(`${s.Sid}: wildcard action ${action}`);
  }
  return problems;
}

function conditionsHold(s: PolicyStatement, context: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      const given = context[key];
      if (given === undefined) return false;
      const ok = list(values).some((v) => (operator === 'StringEquals' ? v === given : glob(v).test(given)));
      if (!ok) return false;
    }
  }
  return true;
}

/** The statements that allow `action` on `resource` with the request's condition keys. */
export function allowing(policy: Policy, action: string, resource: string, context: Record<string, string> = {}): PolicyStatement[] {
  return policy.Statement.filter((s) => list(s.Action).includes(action) && list(s.Resource).some((r) => glob(r).test(resource)) && conditionsHold(s, context));
}

export const actionsOf = (policy: Policy) => new Set(policy.Statement.flatMap((s) => list(s.Action)));
