/**
 * What `npm run bench` makes of its figures: the verdict of each, the exit code, and the README's
 * table, which it rewrites itself between two marker comments (section Performance). A run of
 * some parts only (`npm run bench -- ops`) replaces the rows it measured and keeps the others.
 */

/** One measured figure: `target` is `-` when there is none; `verdict` then is empty. */
export interface BenchRow {
  what: string;
  figure: string;
  target: string;
  verdict: '' | 'met' | 'MISSED';
}

export const TABLE_START = '<!-- bench-table:start (written by npm run bench) -->';
export const TABLE_END = '<!-- bench-table:end -->';
const HEADER = ['| figure | value | target |', '|---|---|---|'];

/** The verdict of a figure against its target: met when `ok`, else MISSED. */
export const verdictOf = (ok: boolean): BenchRow['verdict'] => (ok ? 'met' : 'MISSED');

/** 1 when any figure missed its target, else 0. */
export function benchExitCode(rows: readonly BenchRow[]): number {
  return rows.some((r) => r.verdict === 'MISSED') ? 1 : 0;
}

/** A row as the README shows it: the target and its verdict together (`≤ 1.2 — met`), or `—` without one. */
export function tableRow(row: BenchRow): string {
  const target = row.target === '-' ? '—' : `${row.target} — ${row.verdict}`;
  return `| ${row.what} | ${row.figure} | ${target} |`;
}

const cells = (line: string) =>
  line
    .slice(1, -1)
    .split(' | ')
    .map((c) => c.trim());

/**
 * The README with its bench table rewritten from `rows` and the date of the run: rows of this run
 * replace the rows of the same figure, in place; new ones are appended; rows of parts not run stay.
 * Throws when the markers are missing or out of order (the table is never written elsewhere).
 */
export function writeBenchTable(readme: string, rows: readonly BenchRow[], measuredOn: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no bench table between "${TABLE_START}" and "${TABLE_END}"`);
  const old = readme
    .slice(start + TABLE_START.length, end)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !HEADER.includes(l));
  const fresh = new Map(rows.map((r) => [r.what, tableRow(r)]));
  const lines = old.map((line) => {
    const what = cells(line)[0]!;
    const replaced = fresh.get(what);
    fresh.delete(what);
    return replaced ?? line;
  });
  lines.push(...fresh.values());
  const body = [TABLE_START, ...HEADER, ...lines, '', `Last written by \`npm run bench\` on ${measuredOn}.`, TABLE_END].join('\n');
  return `${readme.slice(0, start)}${body}${readme.slice(end + TABLE_END.length)}`;
}
