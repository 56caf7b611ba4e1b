import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOAK_DOCUMENT, SOAK_TABLE_END, SOAK_TABLE_START, soakTableRow, writeSoakTable } from '../../scripts/soak-report.ts';
import type { SoakRow } from '../soak/report.ts';

const DOCUMENT = `# title

${SOAK_TABLE_START}
| scenario | figure | value | target |
|---|---|---|---|
| clock | wrong decisions | 0 | 0 — met |
| properties | histories held | 499 of 500 | 500 of 500 — MISSED |
| properties | a figure since renamed | 3 | 3 — met |
| bad answers | crashes | 0 | 0 — met |

Last written by \`npm run soak\` on 2026-12-03: seed 1.
${SOAK_TABLE_END}

After.
`;

const row = (scenario: string, figure: string, value: string, target: string, ok = true): SoakRow => ({ scenario, figure, value, target, ok });

describe('npm run soak: the table of figures in docs/reliability.md', () => {
  it('replaces every row of the scenarios run, in place, keeps the others, appends new scenarios', () => {
    const rows = [
      row('properties', 'histories held', '500 of 500', '500 of 500'),
      row('properties', 'invariant broken', '0', '0'),
      row('interleavings', 'pairs | kept', '289 of 289', '289 of 289', false),
    ];
    const written = writeSoakTable(DOCUMENT, rows, 'Last written by `npm run soak` on 2026-12-07: seed 20261202.');
    expect(written).toBe(`# title

${SOAK_TABLE_START}
| scenario | figure | value | target |
|---|---|---|---|
| clock | wrong decisions | 0 | 0 — met |
| properties | histories held | 500 of 500 | 500 of 500 — met |
| properties | invariant broken | 0 | 0 — met |
| bad answers | crashes | 0 | 0 — met |
| interleavings | pairs \\| kept | 289 of 289 | 289 of 289 — MISSED |

Last written by \`npm run soak\` on 2026-12-07: seed 20261202.
${SOAK_TABLE_END}

After.
`);
    // The same rows again: the same document.
    expect(writeSoakTable(written, rows, 'Last written by `npm run soak` on 2026-12-07: seed 20261202.')).toBe(written);
    expect(soakTableRow(rows[1]!)).toBe('| properties | invariant broken | 0 | 0 — met |');
  });

  it('refuses a document without both markers, in order, naming the document', () => {
    expect(() => writeSoakTable('# none\n', [], 'x')).toThrow(/^docs\/reliability\.md has no soak table between/);
    expect(() => writeSoakTable(`${SOAK_TABLE_END}\n${SOAK_TABLE_START}\n`, [], 'x')).toThrow(/no soak table between/);
  });

  it("finds the table in docs/reliability.md, and nowhere else, rows of the soak's own scenarios in the format it writes", () => {
    expect(SOAK_DOCUMENT).toBe('docs/reliability.md');
    const readme = readFileSync(SOAK_DOCUMENT, 'utf8');
    expect(readme.indexOf(SOAK_TABLE_START)).toBeGreaterThan(readme.indexOf('# Reliability'));
    expect(readFileSync('README.md', 'utf8')).not.toContain(SOAK_TABLE_START);
    const table = readme.slice(readme.indexOf(SOAK_TABLE_START), readme.indexOf(SOAK_TABLE_END));
    const lines = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario |'));
    for (const line of lines) expect(line, line).toMatch(/^\| [^|]+ \| .+ \| .+ \| .+ — (met|MISSED) \|$/);
    const scenarios = new Set(lines.map((l) => l.split(' | ')[0]!.slice(2)));
    const soak = readFileSync('scripts/soak.ts', 'utf8');
    const declared = [...soak.matchAll(/^ {2}\['([^']+)', /gm)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(5);
    // No row of a scenario the soak no longer has; a scenario added since the last full run has none yet.
    for (const scenario of scenarios) expect(declared, scenario).toContain(scenario);
    expect(scenarios.size).toBeGreaterThanOrEqual(8);
    expect(table).toMatch(/Last written by `npm run soak` on \d{4}-\d{2}-\d{2} at commit [0-9a-f]{7,}/);
  });
});
