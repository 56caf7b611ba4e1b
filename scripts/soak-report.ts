/**
 * The table of soak figures in docs/reliability.md (SOAK_DOCUMENT), rewritten by every full-scale `npm run
 * soak` between two marker comments: the rows of the scenarios that ran replace theirs, in place
 * (figures are matched by scenario, not by wording, so a renamed figure leaves nothing stale
 * behind); the rows of scenarios not run stay.
 */
import type { SoakRow } from '../test/soak/report.ts';
import { cell, cellsOf, rewriteMarkedTable } from './readme-table.ts';

/** The document that holds the soak table. */
export const SOAK_DOCUMENT = 'docs/reliability.md';
export const SOAK_TABLE_START = '<!-- soak-table:start (written by npm run soak) -->';
export const SOAK_TABLE_END = '<!-- soak-table:end -->';
const HEADER = ['| scenario | figure | value | target |', '|---|---|---|---|'];

/** A row as the document shows it: the target and its verdict together (`0 — met`). */
export function soakTableRow(row: SoakRow): string {
  return `| ${cell(row.scenario)} | ${cell(row.figure)} | ${cell(row.value)} | ${cell(row.target)} — ${row.ok ? 'met' : 'MISSED'} |`;
}

/** The document with the soak table rewritten from `rows`; `footer` says when and how they were measured. */
export function writeSoakTable(readme: string, rows: readonly SoakRow[], footer: string): string {
  const table = { name: 'soak', document: SOAK_DOCUMENT, start: SOAK_TABLE_START, end: SOAK_TABLE_END, header: HEADER };
  return rewriteMarkedTable(
    readme,
    table,
    (old) => {
      const fresh = new Map<string, string[]>();
      for (const row of rows) fresh.set(row.scenario, [...(fresh.get(row.scenario) ?? []), soakTableRow(row)]);
      const lines: string[] = [];
      for (const line of old) {
        const scenario = cellsOf(line)[0]!;
        const replaced = fresh.get(scenario);
        if (!replaced) {
          // A scenario this run measured and already written above drops its older rows.
          if (!rows.some((r) => r.scenario === scenario)) lines.push(line);
          continue;
        }
        lines.push(...replaced);
        fresh.delete(scenario);
      }
      for (const added of fresh.values()) lines.push(...added);
      return lines;
    },
    footer,
  );
}
