// The lint rules of scripts/layers.ts, run through ESLint's Node API on a small tree laid out like
// the target layout (docs/design.md "Parts"): each forbidden direction is reported, each allowed
// one is not. The repository's own tree is checked by `eslint .` once eslint.config.js enforces them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRules } from '../../scripts/layer-lint.ts';
import { LAYERS, layerTableMarkdown, partOf } from '../../scripts/layers.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** One file per part of the table, and the provider folders of src/kinds/ (a test-only one included). */
const TREE = [
  'src/errors/rotator-error.ts',
  'src/log/logger.ts',
  'src/build-info.ts',
  'src/config/env.ts',
  'src/lease/fence.ts',
  'src/redis/connection.ts',
  'src/provider-http/http.ts',
  'src/secrets/secret-store.ts',
  'src/state/rotation-state.ts',
  'src/rotation/rotate.ts',
  'src/validation/validate.ts',
  'src/kinds/kind.ts',
  'src/kinds/registry.ts',
  'src/kinds/credly/client.ts',
  'src/kinds/credly/authorization-token/provider.ts',
  'src/kinds/credly/oauth-application/provider.ts',
  'src/kinds/degreed/validator.ts',
  'src/kinds/learnlink/validator.ts',
  'src/kinds/example/validator.ts',
  'src/status/collect.ts',
  'src/alerts/alerter.ts',
  'src/probe/findings.ts',
  'jobs/check-credential.job.ts',
  'src/queue/worker.ts',
  'src/http/ops-server.ts',
  'src/composition-root.ts',
  'src/cli/main.ts',
  'test/support/scenario.ts',
];

let root = '';
let eslint: ESLint;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lint-layers-'));
  for (const file of TREE) write(file, 'export const x = 1;\n');
  // A value cycle and a type-only one (erased at run time, so not a cycle that matters).
  write('src/rotation/cycle-a.ts', "import { b } from './cycle-b.ts';\nexport const a = (): number => b() + 1;\n");
  write('src/rotation/cycle-b.ts', "import { a } from './cycle-a.ts';\nexport const b = (): number => 1;\nexport const c = (): number => a();\n");
  write('src/rotation/types-a.ts', "import type { B } from './types-b.ts';\nexport interface A { b?: B }\n");
  write('src/rotation/types-b.ts', "import type { A } from './types-a.ts';\nexport interface B { a?: A }\n");
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...importRules(root, { layers: true, cycles: true })],
  });
});

afterAll(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

/** The rules that report on `text` saved as `file` (the files it imports exist on disk). */
async function reported(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: join(root, file) });
  expect(result?.fatalErrorCount).toBe(0);
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const FORBIDDEN: Array<[why: string, file: string, text: string, message: string]> = [
  ['config may not import the kinds', 'src/config/x.ts', "import { x } from '../kinds/registry.ts';", 'src/config/ is on layer 1'],
  ['a type-only import obeys the same rule', 'src/config/x.ts', "import type { x } from '../provider-http/http.ts';", 'src/config/ is on layer 1'],
  ['two parts of one layer do not import each other', 'src/secrets/x.ts', "import { x } from '../state/rotation-state.ts';", 'src/secrets/ is on layer 4'],
  ['configuration imports no Redis', 'src/config/x.ts', "import type { x } from '../redis/connection.ts';", 'src/config/ is on layer 1'],
  ['an export-from counts', 'src/rotation/x.ts', "export { x } from '../validation/validate.ts';", 'src/rotation/ is on layer 5'],
  ['a dynamic import counts', 'src/rotation/x.ts', "export const m = import('../status/collect.ts');", 'src/rotation/ is on layer 5'],
  ['the rotation core imports no provider', 'src/rotation/x.ts', "import { x } from '../kinds/credly/client.ts';", 'src/rotation/ is on layer 5'],
  ['a provider does not import another', 'src/kinds/degreed/a.ts', "import { x } from '../credly/client.ts';", "not another provider's folder"],
  [
    'nor from a Credly kind subfolder',
    'src/kinds/credly/authorization-token/a.ts',
    "import { x } from '../../learnlink/validator.ts';",
    "not another provider's folder",
  ],
  ['a new kind folder is held to it too', 'src/kinds/example/a.ts', "import { x } from '../degreed/validator.ts';", "not another provider's folder"],
  ['a provider does not import the registry', 'src/kinds/degreed/a.ts', "import { x } from '../registry.ts';", 'nor the registry'],
  ['the kind interface does not import a provider', 'src/kinds/kind.ts', "import { x } from './degreed/validator.ts';", 'only src/kinds/registry.ts imports'],
  [
    'a higher layer reaches a provider through the registry only',
    'src/status/x.ts',
    "import { x } from '../kinds/degreed/validator.ts';",
    'only src/kinds/registry.ts imports',
  ],
  [
    'the composition root also goes through the registry',
    'src/composition-root.ts',
    "import { x } from './kinds/learnlink/validator.ts';",
    'only src/kinds/registry.ts imports',
  ],
  ['jobs do not import the queue', 'jobs/x.job.ts', "import { x } from '../src/queue/worker.ts';", 'jobs/ is on layer 8'],
  ['the ops server does not import the CLI', 'src/http/x.ts', "import { x } from '../cli/main.ts';", 'src/http/ is on layer 10'],
  ['the queue does not import the composition root', 'src/queue/x.ts', "import { x } from '../composition-root.ts';", 'src/queue/ is on layer 9'],
  ['the composition root does not import the CLI', 'src/composition-root.ts', "import { x } from './cli/main.ts';", 'src/composition-root.ts is on layer 11'],
  ['the logger does not import config', 'src/log/x.ts', "import { x } from '../config/env.ts';", 'src/log/ is on layer 0'],
  ['the product does not import tests', 'src/secrets/x.ts', "import { x } from '../../test/support/scenario.ts';", 'does not import tests or scripts'],
  [
    'jobs do not import the registry',
    'jobs/x.job.ts',
    "import type { x } from '../src/kinds/registry.ts';",
    'jobs/ reaches the kinds only through src/kinds/kind.ts',
  ],
];

/** Imports the zones allow but the job layer may make only as `import type`. */
const VALUE_IMPORTS_FROM_KINDS: Array<[why: string, text: string]> = [
  ['a value import', "import { x } from '../src/kinds/kind.ts';\nexport const y = x;"],
  ['an inline type import (it still loads the module)', "import { type x } from '../src/kinds/kind.ts';\nexport type Y = typeof x;"],
  ['a re-export', "export { x } from '../src/kinds/kind.ts';"],
  ['a dynamic import', "export const m = import('../src/kinds/kind.ts');"],
];

const ALLOWED: Array<[why: string, file: string, text: string]> = [
  [
    'own folder and lower layers',
    'src/config/x.ts',
    "import { x } from './env.ts';\nimport { x as e } from '../errors/rotator-error.ts';\nexport const y = [x, e];",
  ],
  [
    'a package or node: module is outside the table',
    'src/build-info.ts',
    "import { readFileSync } from 'node:fs';\nimport { z } from 'zod';\nexport const y = [readFileSync, z];",
  ],
  [
    'the rotation core uses lower layers',
    'src/rotation/x.ts',
    "import { x } from '../secrets/secret-store.ts';\nimport { x as f } from '../lease/fence.ts';\nexport const y = [x, f];",
  ],
  [
    'a Credly kind uses the shared Credly files, its sibling kind, the kind interface and lower layers',
    'src/kinds/credly/authorization-token/a.ts',
    "import { x } from '../client.ts';\nimport { x as o } from '../oauth-application/provider.ts';\nimport type { x as k } from '../../kind.ts';\nimport { x as r } from '../../../rotation/rotate.ts';\nexport const y = [x, o, r];\nexport type K = typeof k;",
  ],
  [
    'a provider uses the kind interface, its own folder and the probe vocabulary',
    'src/kinds/degreed/a.ts',
    "import { x } from '../kind.ts';\nimport { x as v } from './validator.ts';\nimport { x as f } from '../../probe/findings.ts';\nexport const y = [x, v, f];",
  ],
  [
    'the registry imports every provider folder',
    'src/kinds/registry.ts',
    "import { x } from './credly/authorization-token/provider.ts';\nimport { x as d } from './degreed/validator.ts';\nexport const y = [x, d];",
  ],
  [
    'a job uses the kind interface and lower layers',
    'jobs/x.job.ts',
    "import type { x } from '../src/kinds/kind.ts';\nexport type { x as z } from '../src/kinds/kind.ts';\nimport { x as s } from '../src/status/collect.ts';\nexport const y = [s];\nexport type X = typeof x;",
  ],
  [
    'the CLI starts the composition root',
    'src/cli/x.ts',
    "import { x } from '../composition-root.ts';\nimport { x as h } from '../http/ops-server.ts';\nexport const y = [x, h];",
  ],
  [
    'the composition root builds from the registry and the queue',
    'src/composition-root.ts',
    "import { x } from './kinds/registry.ts';\nimport { x as w } from './queue/worker.ts';\nexport const y = [x, w];",
  ],
  [
    'tests reach into any part',
    'test/unit/x.test.ts',
    "import { x } from '../../src/kinds/degreed/validator.ts';\nimport { x as c } from '../../src/cli/main.ts';\nexport const y = [x, c];",
  ],
];

describe('the layer rules (scripts/layers.ts)', () => {
  it.each(FORBIDDEN)('report: %s', async (_why, file, text, message) => {
    const messages = await reported(file, text);
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/^import-x\/no-restricted-paths: /);
    expect(messages.some((m) => m.includes(message))).toBe(true);
  });

  it.each(VALUE_IMPORTS_FROM_KINDS)('report in jobs/: %s from src/kinds/', async (_why, text) => {
    expect(await reported('jobs/x.job.ts', text)).toEqual([
      'layers/type-only-kinds: jobs/ imports only types from src/kinds/ ("import type"); "../src/kinds/kind.ts" is a value import.',
    ]);
  });

  it.each(ALLOWED)('allow: %s', async (_why, file, text) => {
    expect(await reported(file, text)).toEqual([]);
  });

  it('report a file under src/ that no part of the table names', async () => {
    expect(await reported('src/stray.ts', 'export const x = 1;')).toEqual([
      'layers/in-the-table: src/stray.ts belongs to no part of the layer table in scripts/layers.ts.',
    ]);
    expect(await reported('scripts/tool.ts', 'export const x = 1;')).toEqual([]);
  });

  it('report a module-level import cycle, not a type-only one', async () => {
    const results = await eslint.lintFiles(['src/rotation/cycle-a.ts', 'src/rotation/types-a.ts']);
    const byFile = new Map(results.map((r) => [r.filePath.slice(root.length + 1), r.messages.map((m) => m.ruleId)]));
    expect(byFile.get('src/rotation/cycle-a.ts')).toEqual(['import-x/no-cycle']);
    expect(byFile.get('src/rotation/types-a.ts')).toEqual([]);
  });

  it('place every part of the table on exactly one layer', () => {
    const parts = LAYERS.flatMap((l) => l.parts);
    expect(new Set(parts).size).toBe(parts.length);
    for (const file of TREE.filter((f) => !f.startsWith('test/'))) expect(partOf(file), file).toBeDefined();
  });
});

describe("the repository's configuration", () => {
  it('checks src/ and jobs/ for import cycles (import-x/no-cycle)', async () => {
    const config = (await new ESLint({ cwd: repo }).calculateConfigForFile(join(repo, 'src/build-info.ts'))) as { rules: Record<string, unknown> };
    expect(config.rules['import-x/no-cycle']).toBeDefined();
  });

  it('enforces the layers once src/ has the layout of the table (src/kinds/registry.ts exists)', async () => {
    const config = (await new ESLint({ cwd: repo }).calculateConfigForFile(join(repo, 'src/build-info.ts'))) as { rules: Record<string, unknown> };
    const enforced = existsSync(join(repo, 'src/kinds/registry.ts'));
    for (const rule of ['import-x/no-restricted-paths', 'layers/in-the-table', 'layers/type-only-kinds']) expect(rule in config.rules, rule).toBe(enforced);
  });

  it('docs/design.md shows the table of scripts/layers.ts', () => {
    const design = readFileSync(join(repo, 'docs/design.md'), 'utf8');
    const between = /<!-- layers:begin[^>]*-->\n([\s\S]*?)\n<!-- layers:end -->/.exec(design);
    expect(between?.[1]).toBe(layerTableMarkdown());
  });
});
