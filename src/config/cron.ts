import cron from 'node-cron';

/**
 * Undefined when the expression is a valid 5-field cron (or 6 with seconds first), else what is
 * wrong with it. Macros such as `@daily` are refused on purpose: the inventory promises fields, and
 * the schedule is shown to people as written.
 */
export function cronProblem(expression: string): string | undefined {
  // Thousands of credentials share a handful of schedules: each expression is judged once.
  if (!judged.has(expression)) {
    if (judged.size >= JUDGED_MAX) judged.clear();
    judged.set(expression, judge(expression));
  }
  return judged.get(expression);
}

const JUDGED_MAX = 10_000;
const judged = new Map<string, string | undefined>();

function judge(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length < 5 || fields.length > 6) {
    return `invalid cron expression "${expression}": expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first`;
  }
  const detail = cron.validateDetailed(fields.join(' '));
  if (detail.valid) return undefined;
  const reasons = detail.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return `invalid cron expression "${expression}"${reasons ? ` (${reasons})` : ''}`;
}

/** The expression with surrounding and repeated whitespace removed, as schedules store it. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(' ');
}
