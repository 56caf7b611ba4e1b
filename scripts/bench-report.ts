/**
 * What `npm run bench` makes of its figures: the verdict of each, the exit code, and the table in
 * docs/performance.md (BENCH_DOCUMENT), which it rewrites itself between two marker comments. A run of
 * some parts only (`npm run bench -- ops`) replaces the rows it measured and keeps the others.
 */
import { cellsOf, rewriteMarkedTable } from './readme-table.ts';

/** One measured figure: `target` is `-` when there is none; `verdict` then is empty. */
export interface BenchRow {
  what: string;
  figure: string;
  target: string;
  verdict: '' | 'met' | 'MISSED';
}

/** The document that holds the bench table. */
export const BENCH_DOCUMENT = 'docs/performance.md';
export const TABLE_START = '<!-- bench-table:start (written by npm run bench) -->';
export const TABLE_END = '<!-- bench-table:end -->';
const HEADER = ['| figure | value | target |', '|---|---|---|'];

/** The verdict of a figure against its target: met when `ok`, else MISSED. */
export const verdictOf = (ok: boolean): BenchRow['verdict'] => (ok ? 'met' : 'MISSED');

/** 1 when any figure missed its target, else 0. */
export function benchExitCode(rows: readonly BenchRow[]): number {
  return rows.some((r) => r.verdict === 'MISSED') ? 1 : 0;
}

/** A row as the document shows it: the target and its verdict together (`≤ 1.2 — met`), or `—` without one. */
export function tableRow(row: BenchRow): string {
  const target = row.target === '-' ? '—' : `${row.target} — ${row.verdict}`;
  return `| ${row.what} | ${row.figure} | ${target} |`;
}

/**
 * The document with its bench table rewritten from `rows` and the date of the run: rows of this run
 * replace the rows of the same figure, in place; new ones are appended; rows of parts not run stay.
 * Throws when the markers are missing or out of order (the table is never written elsewhere).
 */
export function writeBenchTable(readme: string, rows: readonly BenchRow[], measuredOn: string): string {
  const table = { name: 'bench', document: BENCH_DOCUMENT, start: TABLE_START, end: TABLE_END, header: HEADER };
  return rewriteMarkedTable(
    readme,
    table,
    (old) => {
      const fresh = new Map(rows.map((r) => [r.what, tableRow(r)]));
      const lines = old.map((line) => {
        const what = cellsOf(line)[0]!;
        const replaced = fresh.get(what);
        fresh.delete(what);
        return replaced ?? line;
      });
      return [...lines, ...fresh.values()];
    },
    `Last written by \`npm run bench\` on ${measuredOn}.`,
  );
}
