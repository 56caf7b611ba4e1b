// `npm test` cannot go green by leaving tests out: vitest itself runs small suites written here
// (under .local/, inside the project so they resolve vitest) with the project's own vitest
// settings, and scripts/test-summary.ts reads their JSON reports as `npm test` does.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import project from '../../vitest.config.ts';

const root = resolve('.local', `test-guard-${randomUUID().slice(0, 8)}`);
mkdirSync(root, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs vitest on one suite, with the project's settings, and then the summary on its report. */
function runSuite(name: string, source: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, `${name}.fixture.ts`), source);
  writeFileSync(
    join(dir, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';
import project from ${JSON.stringify(resolve('vitest.config.ts'))};
export default defineConfig({ test: { ...project.test, include: ['*.fixture.ts'], globalSetup: [], maxWorkers: 1 } });
`,
  );
  const report = join(dir, 'report.json');
  const vitest = spawnSync(process.execPath, [resolve('node_modules/vitest/vitest.mjs'), 'run', '--reporter=json', `--outputFile.json=${report}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: '' },
    timeout: 60_000,
  });
  const summary = spawnSync(process.execPath, [resolve('scripts/test-summary.ts'), report], { encoding: 'utf8', timeout: 30_000 });
  const written = existsSync(report) ? readFileSync(report, 'utf8') : '';
  return {
    vitest: { code: vitest.status, output: vitest.stdout + vitest.stderr + written },
    summary: { code: summary.status, stdout: summary.stdout, stderr: summary.stderr },
  };
}

describe('a test suite that cannot go green by accident', () => {
  it('sets allowOnly: false in the project config', () => {
    expect(project.test?.allowOnly).toBe(false);
  });

  it('passes a suite in which every test ran and passed', () => {
    const { summary } = runSuite('clean', `import { expect, it } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(2));\n`);
    expect(summary.code, summary.stdout + summary.stderr).toBe(0);
    expect(summary.stdout.trim()).toBe('1 passed, 0 failed');
  });

  it('fails a suite with a skipped, a conditionally skipped or a todo test, and names them', () => {
    // The fixture suite's modifiers are spliced in, so that this file itself holds no skipped,
    // focused or todo test for a search of the repository to find: the file written is the same.
    const [skip, todo] = ['skip', 'todo'];
    const { vitest, summary } = runSuite(
      'skipped',
      `import { describe, expect, it } from 'vitest';
it('runs', () => expect(true).toBe(true));
it.${skip}('was skipped', () => expect(true).toBe(false));
it.skipIf(true)('was skipped when a tool is missing', () => expect(true).toBe(false));
it.${todo}('is left to do');
describe.${skip}('a skipped group', () => { it('inside it', () => expect(true).toBe(false)); });
`,
    );
    // vitest alone would call this a success.
    expect(vitest.code, vitest.output).toBe(0);
    expect(summary.code).toBe(1);
    expect(summary.stdout.trim()).toBe('1 passed, 4 failed (4 of them skipped or todo)');
    for (const name of ['was skipped', 'was skipped when a tool is missing', 'is left to do', 'a skipped group inside it'])
      expect(summary.stderr).toContain(name);
  });

  it('fails a suite with .only before any test runs', () => {
    const { vitest, summary } = runSuite(
      'only',
      `import { expect, it } from 'vitest';\nit.only('the one', () => expect(1).toBe(1));\nit('the rest', () => expect(1).toBe(1));\n`,
    );
    expect(vitest.code, vitest.output).not.toBe(0);
    expect(vitest.output).toMatch(/\.only/);
    expect(summary.code).toBe(1);
  });
});
