import cron from 'node-cron';

/**
 * The one cron semantics of the rotator: node-cron's, in UTC. node-cron fires the ticks
 * (src/queue/scheduler.ts); the catch-up tick at start and the next run that status shows are
 * computed here from node-cron's own parse of the expression and node-cron's own matcher, so the
 * three can never disagree (test/unit/cron-ticks.test.ts holds them equal over random expressions).
 *
 * Expressions whose meaning differs between cron implementations are refused at load: with both
 * day-of-month and day-of-week restricted, crontab runs on days that match either, node-cron only
 * on days that match both.
 */

/** The time zone every schedule is read in. */
export const CRON_TIME_ZONE = 'Etc/UTC';

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

/** A day field left open: `*`, or `?` (no specific value). */
const OPEN_DAY = /^[*?]$/;

function judge(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length < 5 || fields.length > 6) {
    return `invalid cron expression "${expression}": expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first`;
  }
  const detail = cron.validateDetailed(fields.join(' '));
  if (!detail.valid) {
    const reasons = detail.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    return `invalid cron expression "${expression}"${reasons ? ` (${reasons})` : ''}`;
  }
  const [dayOfMonth, , dayOfWeek] = fields.slice(-3) as [string, string, string];
  if (!OPEN_DAY.test(dayOfMonth) && !OPEN_DAY.test(dayOfWeek)) {
    return (
      `ambiguous cron expression "${expression}": day-of-month (${dayOfMonth}) and day-of-week (${dayOfWeek}) are both restricted; ` +
      'crontab runs such a schedule on days that match either, node-cron only on days that match both, so it is refused: ' +
      'leave one of the two "*" (or write two credentials, one per field)'
    );
  }
  try {
    nextTick(fields.join(' '), new Date());
  } catch {
    return `invalid cron expression "${expression}": it has no tick in the next ${HORIZON_YEARS} years`;
  }
  return undefined;
}

/** The expression with surrounding and repeated whitespace removed, as schedules store it. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(' ');
}

const DAY_MS = 86_400_000;
/** How far a tick is looked for: as far as node-cron looks (a fifth Sunday in February comes every 28 years or more). */
const HORIZON_YEARS = 100;
const HORIZON_DAYS = 366 * HORIZON_YEARS;

interface Ticks {
  /** Seconds after midnight (UTC) at which a matching day has a tick, ascending. */
  readonly times: readonly number[];
  /** node-cron's matcher for the expression, in UTC. */
  readonly matches: (at: Date) => boolean;
  /**
   * False for a day that cannot match (its month, or a plain number of day or weekday, is not
   * listed): a cheap first look that spares node-cron's matcher most days of a sparse schedule.
   * It only ever rules days out; node-cron's matcher decides.
   */
  readonly possible: (day: Date) => boolean;
}

/** The plain numbers of a parsed day field, or undefined when it holds a token (L, W, #) only node-cron reads. */
function plainNumbers(values: ReadonlyArray<number | string>): ReadonlySet<number> | undefined {
  return values.every((v) => typeof v === 'number') ? new Set(values as number[]) : undefined;
}

const TICKS_MAX = 1_000;
const ticksOf = new Map<string, Ticks>();

function ticks(expression: string): Ticks {
  let known = ticksOf.get(expression);
  if (!known) {
    const parsed = cron.parse(expression);
    const times: number[] = [];
    for (const hour of parsed.hour) for (const minute of parsed.minute) for (const second of parsed.second) times.push(hour * 3600 + minute * 60 + second);
    times.sort((a, b) => a - b);
    // A task never started, kept for its matcher only: node-cron decides which days match (day of
    // month, month, day of week, L, W, #), exactly as it does when it fires.
    const task = cron.createTask(expression, () => undefined, { timezone: CRON_TIME_ZONE });
    void task.destroy();
    const months = new Set(parsed.month);
    const days = plainNumbers(parsed.dayOfMonth);
    const weekdays = plainNumbers(parsed.dayOfWeek);
    known = {
      times,
      matches: (at) => task.match(at),
      possible: (day) => months.has(day.getUTCMonth() + 1) && (!days || days.has(day.getUTCDate())) && (!weekdays || weekdays.has(day.getUTCDay())),
    };
    if (ticksOf.size >= TICKS_MAX) ticksOf.clear();
    ticksOf.set(expression, known);
  }
  return known;
}

/**
 * The first tick strictly after `after`'s whole second, as node-cron fires it. The time of day
 * and the day are independent in a cron expression, so each day costs at most one match: a day
 * matches at its first candidate time exactly when it matches at all of them.
 */
export function nextTick(expression: string, after: Date): Date {
  const { times, matches, possible } = ticks(expression);
  const base = Math.floor(after.getTime() / 1000) * 1000;
  let day = base - (((base % DAY_MS) + DAY_MS) % DAY_MS);
  for (let i = 0; i <= HORIZON_DAYS; i += 1, day += DAY_MS) {
    const time = i === 0 ? times.find((t) => day + t * 1000 > base) : times[0];
    if (time === undefined) continue;
    const at = new Date(day + time * 1000);
    if (possible(at) && matches(at)) return at;
  }
  throw new Error(`cron expression "${expression}" has no tick in the ${HORIZON_YEARS} years after ${after.toISOString()}`);
}

/** The latest tick at or before `atOrBefore`: the one a catch-up enqueues. */
export function previousTick(expression: string, atOrBefore: Date): Date {
  const { times, matches, possible } = ticks(expression);
  const base = atOrBefore.getTime();
  let day = base - (((base % DAY_MS) + DAY_MS) % DAY_MS);
  for (let i = 0; i <= HORIZON_DAYS; i += 1, day -= DAY_MS) {
    const time = i === 0 ? times.findLast((t) => day + t * 1000 <= base) : times.at(-1);
    if (time === undefined) continue;
    const at = new Date(day + time * 1000);
    if (possible(at) && matches(at)) return at;
  }
  throw new Error(`cron expression "${expression}" has no tick in the ${HORIZON_YEARS} years before ${atOrBefore.toISOString()}`);
}
