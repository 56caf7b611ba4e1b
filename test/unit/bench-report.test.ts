import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCH_DOCUMENT, benchExitCode, TABLE_END, TABLE_START, tableRow, verdictOf, writeBenchTable, type BenchRow } from '../../scripts/bench-report.ts';

const DOCUMENT = `# title

Some text.

${TABLE_START}
| figure | value | target |
|---|---|---|
| start-up | 0.80 s | ≤ 1.5 s — met |
| idle RSS | 113 MB | ≤ 120 MB — met |
| idle CPU | about 3 s | — |

Last written by \`npm run bench\` on 2026-12-03 (every part).
${TABLE_END}

More text after.
`;

describe('npm run bench: verdicts, exit code and the table in docs/performance.md', () => {
  it('exits 1 when any figure MISSED its target, 0 when every target is met or there is none', () => {
    const met: BenchRow = { what: 'a', figure: '1 s', target: '≤ 2 s', verdict: verdictOf(true) };
    const none: BenchRow = { what: 'b', figure: '3 MB', target: '-', verdict: '' };
    const missed: BenchRow = { what: 'c', figure: '3 s', target: '≤ 2 s', verdict: verdictOf(false) };
    expect(missed.verdict).toBe('MISSED');
    expect(benchExitCode([met, none])).toBe(0);
    expect(benchExitCode([])).toBe(0);
    expect(benchExitCode([met, missed, none])).toBe(1);
  });

  it('rewrites the rows it measured in place, appends new ones, keeps the others and the text around the markers', () => {
    const rows: BenchRow[] = [
      { what: 'idle RSS', figure: '125 MB', target: '≤ 120 MB', verdict: 'MISSED' },
      { what: 'status page under load: p99', figure: '40 ms', target: '≤ 100 ms', verdict: 'met' },
      { what: 'status page under load: max', figure: '61 ms', target: '-', verdict: '' },
    ];
    const written = writeBenchTable(DOCUMENT, rows, '2026-12-07 (idle, ops)');
    expect(written).toBe(`# title

Some text.

${TABLE_START}
| figure | value | target |
|---|---|---|
| start-up | 0.80 s | ≤ 1.5 s — met |
| idle RSS | 125 MB | ≤ 120 MB — MISSED |
| idle CPU | about 3 s | — |
| status page under load: p99 | 40 ms | ≤ 100 ms — met |
| status page under load: max | 61 ms | — |

Last written by \`npm run bench\` on 2026-12-07 (idle, ops).
${TABLE_END}

More text after.
`);
    // Written again with the same rows: the same document (no row doubled).
    expect(writeBenchTable(written, rows, '2026-12-07 (idle, ops)')).toBe(written);
    expect(tableRow(rows[0]!)).toBe('| idle RSS | 125 MB | ≤ 120 MB — MISSED |');
  });

  it('refuses a document without both markers, in order, naming the document', () => {
    expect(() => writeBenchTable('# no table here\n', [], 'today')).toThrow(/^docs\/performance\.md has no bench table between/);
    expect(() => writeBenchTable(`${TABLE_END}\n${TABLE_START}\n`, [], 'today')).toThrow(/no bench table between/);
  });

  it('finds the markers in docs/performance.md, and nowhere else, with every row in the table format it writes', () => {
    expect(BENCH_DOCUMENT).toBe('docs/performance.md');
    const readme = readFileSync(BENCH_DOCUMENT, 'utf8');
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    expect(readme.indexOf(TABLE_START)).toBeGreaterThan(readme.indexOf('# Performance'));
    expect(readFileSync('README.md', 'utf8')).not.toContain(TABLE_START);
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure |'));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) expect(row, row).toMatch(/^\| [^|]+ \| [^|]+ \| (—|[^|]+ — (met|MISSED)) \|$/);
    // Rewriting it with no new rows changes only the date line.
    const rewritten = writeBenchTable(readme, [], 'today');
    expect(rewritten.replace(/Last written by .*\n/, '')).toBe(readme.replace(/Last written by .*\n/, ''));
  });
});
