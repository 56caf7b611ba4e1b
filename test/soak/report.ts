/**
 * What every soak scenario shares: its context (stand-ins it may use, the seed, the scale) and the
 * rows it reports. `npm run soak` (scripts/soak.ts) runs each scenario at full scale and prints the
 * rows as a table; test/soak/soak.test.ts runs them at the short scale inside `npm test` and fails
 * on any row that misses its target.
 */
export interface SoakRow {
  /** Which scenario: `fault soak`, `crash matrix`, `redis restart`, `secrets manager outage`, `bad answers`, `clock`, `interleavings`, `properties`. */
  scenario: string;
  /** What is counted or timed, e.g. `credentials lost`. */
  figure: string;
  /** The measured value, as printed. */
  value: string;
  /** The target, as printed, e.g. `0`. */
  target: string;
  /** Whether the value meets the target. */
  ok: boolean;
  /** When not ok: what went wrong, in one or two lines (never a secret). */
  detail?: string;
}

export interface SoakContext {
  /** Fixed per run; every random choice (faults, order, kill points) derives from it. */
  seed: number;
  /** `short` inside `npm test` (a few minutes for all scenarios together); `full` for `npm run soak`. */
  scale: 'short' | 'full';
  /** A working directory of the run's own (inventories, Redis data); removed afterwards. */
  dir: string;
  /** Progress lines for the person watching; never a secret. */
  log(line: string): void;
}

export type SoakScenario = (ctx: SoakContext) => Promise<SoakRow[]>;

/** A row for a count whose target is an exact number (0 lost, 0 duplicates, alerts = failures…). */
export function countRow(scenario: string, figure: string, value: number, target: number, detail?: string): SoakRow {
  const ok = value === target;
  return { scenario, figure, value: String(value), target: String(target), ok, ...(ok || !detail ? {} : { detail }) };
}
