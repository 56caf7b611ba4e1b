// The chart's README: its values table is what scripts/chart-readme.ts generates from the comments
// of values.yaml now, every value has a description, and helm shows the README with the chart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_README_PATH, chartReadme, END, generatedChartReadme, START, VALUES_PATH, valueRows } from '../../scripts/chart-readme.ts';
import { chart, helm } from '../support/helm.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('the chart README', () => {
  const rows = valueRows(read(VALUES_PATH));

  it('holds the values table `npm run chart-readme` generates now', () => {
    expect(read(CHART_README_PATH), `${CHART_README_PATH} is stale: run npm run chart-readme`).toBe(generatedChartReadme());
  });

  it('describes every value, and covers every top-level key of values.yaml', () => {
    for (const row of rows) expect(row.description, row.key).not.toBe('');
    const keys = Object.keys(parse(read(VALUES_PATH)) as object);
    for (const key of keys)
      expect(
        rows.some((r) => r.key === key || r.key.startsWith(`${key}.`)),
        key,
      ).toBe(true);
  });

  it('takes the comment above a key, the first key of a map included, and shows defaults as JSON', () => {
    const values = [
      '# The replicas.',
      'replicas: 2',
      'image:',
      '  # Where it is.',
      '  repository: ""',
      '  # Pinned.',
      '  digest: x',
      'resources:',
      '  requests: { cpu: 50m }',
    ].join('\n');
    expect(valueRows(values)).toEqual([
      { key: 'replicas', default: '2', description: 'The replicas.' },
      { key: 'image.repository', default: '""', description: 'Where it is.' },
      { key: 'image.digest', default: '"x"', description: 'Pinned.' },
      { key: 'resources', default: '{"requests":{"cpu":"50m"}}', description: '' },
    ]);
    const table = chartReadme(`intro\n${START}\nold\n${END}\nafter\n`, values);
    expect(table).toBe(
      `intro\n${START}\n| Key | Default | Description |\n| --- | --- | --- |\n| \`replicas\` | \`2\` | The replicas. |\n| \`image.repository\` | \`""\` | Where it is. |\n| \`image.digest\` | \`"x"\` | Pinned. |\n| \`resources\` | \`{"requests":{"cpu":"50m"}}\` |  |\n${END}\nafter\n`,
    );
    expect(() => chartReadme('no markers', values)).toThrow(`${CHART_README_PATH} has no values table between`);
  });

  it('is what `helm show readme` prints', () => {
    const shown = helm(['show', 'readme', chart]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('| `config.concurrency` | `4` |');
  });
});
