import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { importRules } from './scripts/layer-lint.ts';

// The direction of dependencies (scripts/layers.ts; docs/design.md, "Direction of dependencies"),
// and no module-level import cycle.
const ENFORCE_LAYERS = true;

export default tseslint.config(
  // test/fixtures/example-kind/ is written for src/kinds/example/: adding-a-kind.test.ts lints it there.
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.local/', 'helm/', 'test/fixtures/example-kind/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['scripts/**', 'test/**', 'src/cli/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringContaining) are typed `any`; stubs of
    // async interfaces answer at once.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/require-await': 'off' },
  },
  ...importRules(import.meta.dirname, { layers: ENFORCE_LAYERS, cycles: true }),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
