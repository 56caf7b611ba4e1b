/**
 * A table a document holds between two marker comments and a script rewrites itself (`npm run
 * bench` in docs/performance.md, `npm run soak` in docs/reliability.md): the figures in the
 * document are the ones the last run printed.
 */

/** The table's rows between the markers (lines starting `| `, the header and its rule left out). */
function rowsBetween(readme: string, start: number, startMarker: string, end: number, header: readonly string[]): string[] {
  return readme
    .slice(start + startMarker.length, end)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !header.includes(l));
}

export interface MarkedTable {
  /** What the table is, for the error when its markers are missing: `bench`, `soak`. */
  name: string;
  /** The document that holds it (a path from the repository's root), for the same error. */
  document: string;
  start: string;
  end: string;
  /** The header line and its rule. */
  header: readonly string[];
}

/**
 * The document with the table between `table`'s markers rewritten: `rewrite` gets the rows there now
 * and returns the rows to write; `footer` follows them after an empty line. Throws when the markers
 * are missing or out of order (the table is never written elsewhere).
 */
export function rewriteMarkedTable(readme: string, table: MarkedTable, rewrite: (rows: string[]) => string[], footer: string): string {
  const start = readme.indexOf(table.start);
  const end = readme.indexOf(table.end);
  if (start < 0 || end < start) throw new Error(`${table.document} has no ${table.name} table between "${table.start}" and "${table.end}"`);
  const rows = rewrite(rowsBetween(readme, start, table.start, end, table.header));
  const body = [table.start, ...table.header, ...rows, '', footer, table.end].join('\n');
  return `${readme.slice(0, start)}${body}${readme.slice(end + table.end.length)}`;
}

/** The cells of a table row, trimmed (a cell never holds ` | `: writers escape `|` as `\|`). */
export const cellsOf = (line: string): string[] =>
  line
    .slice(1, -1)
    .split(' | ')
    .map((c) => c.trim());

/** A cell's text with `|` escaped, so that it cannot split its row. */
export const cell = (text: string): string => text.replaceAll('|', '\\|');
