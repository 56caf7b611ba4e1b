// ESLint configuration enforcing the layer table of scripts/layers.ts (eslint.config.js applies it).
// The zones of import-x/no-restricted-paths say who may not import what; the plugin resolves each
// specifier (relative `.ts` ones included) to a file, so static, type-only, re-export and dynamic
// imports are all checked. Two small local rules cover what zones cannot say.
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Linter, Rule } from 'eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import { KINDS, LAYERED_ROOTS, LAYERS, OUTSIDE_PRODUCT, SAME_LAYER_IMPORTS, TYPE_ONLY_KIND_USERS, partOf } from './layers.ts';

/** The provider folders under src/kinds/ as they are on disk now (a new kind is picked up without an edit here). */
export function kindFolders(root: string): string[] {
  try {
    return readdirSync(join(root, KINDS.folder), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `${KINDS.folder}${e.name}/`)
      .sort();
  } catch {
    return [];
  }
}

interface Zone {
  target: string | string[];
  from: string | string[];
  except?: string[];
  message: string;
}

const bare = (part: string): string => part.replace(/\/$/, '');
/** `except` paths are relative to the zone's `from`. */
const inKinds = (path: string): string => bare(path.slice(KINDS.folder.length));

/** The zones of import-x/no-restricted-paths: who may not import what. */
export function layerZones(root: string): Zone[] {
  const zones: Zone[] = [];
  const all = LAYERS.flatMap((l) => l.parts.map((part) => ({ part, layer: l.layer })));
  for (const { part, layer } of all) {
    const allowed = (o: string): boolean => SAME_LAYER_IMPORTS.some((s) => s.part === part && s.imports === o);
    const notBelow = all.filter((o) => o.part !== part && o.layer >= layer && !allowed(o.part)).map((o) => bare(o.part));
    if (notBelow.length === 0) continue;
    zones.push({
      target: bare(part),
      from: notBelow,
      message: `${part} is on layer ${layer}: it imports only its own part and lower layers (scripts/layers.ts).`,
    });
  }
  const kinds = kindFolders(root);
  for (const kind of kinds) {
    zones.push({
      target: bare(kind),
      from: bare(KINDS.folder),
      except: [...KINDS.shared.map(inKinds), inKinds(kind)],
      message: `${kind} may import ${KINDS.shared.join(', ')} and its own folder, not another provider's folder nor the registry.`,
    });
  }
  if (kinds.length > 0) {
    const others = all.filter((o) => o.part !== KINDS.folder).map((o) => bare(o.part));
    // Every file directly in src/kinds/ but the registry (an extglob, matched by minimatch).
    others.push(`${KINDS.folder}!(${inKinds(KINDS.registry).replace(/\.ts$/, '')}).ts`);
    for (const target of others) {
      zones.push({ target, from: kinds.map(bare), message: `only ${KINDS.registry} imports the provider folders under ${KINDS.folder}.` });
    }
  }
  for (const t of TYPE_ONLY_KIND_USERS) {
    zones.push({
      target: bare(t.part),
      from: bare(KINDS.folder),
      except: [inKinds(t.imports)],
      message: `${t.part} reaches the kinds only through ${t.imports}.`,
    });
  }
  for (const r of LAYERED_ROOTS) {
    zones.push({ target: bare(r), from: OUTSIDE_PRODUCT.map(bare), message: 'the product does not import tests or scripts.' });
  }
  return zones;
}

const repoPath = (root: string, file: string): string => relative(root, resolve(file)).split(sep).join('/');

/** Reports a file under src/ or jobs/ that no part of the table names, so no file escapes the direction. */
const inTheTable = (root: string): Rule.RuleModule => ({
  meta: { type: 'problem', schema: [], messages: { unknown: '{{path}} belongs to no part of the layer table in scripts/layers.ts.' } },
  create(context) {
    const path = repoPath(root, context.physicalFilename);
    if (!LAYERED_ROOTS.some((r) => path.startsWith(r)) || partOf(path) !== undefined) return {};
    return { Program: (node) => context.report({ node, messageId: 'unknown', data: { path } }) };
  },
});

type ModuleNode = { source?: unknown; importKind?: string; exportKind?: string };

/**
 * In the parts of TYPE_ONLY_KIND_USERS, an import from src/kinds/ must be `import type` (or
 * `export type … from`): an inline `import { type X }` still loads the module under
 * verbatimModuleSyntax, and a dynamic import is a value import.
 */
const typeOnlyKinds = (root: string): Rule.RuleModule => ({
  meta: { type: 'problem', schema: [], messages: { value: '{{part}} imports only types from {{kinds}} ("import type"); "{{specifier}}" is a value import.' } },
  create(context) {
    const file = context.physicalFilename;
    const user = TYPE_ONLY_KIND_USERS.find((t) => repoPath(root, file).startsWith(t.part));
    if (user === undefined) return {};
    const check = (node: Rule.Node, typeOnly: boolean): void => {
      const source = (node as ModuleNode).source as { type?: string; value?: unknown } | null | undefined;
      if (source?.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      if (typeOnly || !repoPath(root, join(dirname(file), source.value)).startsWith(KINDS.folder)) return;
      context.report({ node, messageId: 'value', data: { part: user.part, kinds: KINDS.folder, specifier: source.value } });
    };
    return {
      ImportDeclaration: (node) => check(node, (node as ModuleNode).importKind === 'type'),
      ExportNamedDeclaration: (node) => check(node, (node as ModuleNode).exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, (node as ModuleNode).exportKind === 'type'),
      ImportExpression: (node) => check(node, false),
    };
  },
});

export interface ImportRuleOptions {
  /** Enforce the layer table (the import zones, "every file is in the table", type-only kind imports). */
  readonly layers: boolean;
  /** Fail on a module-level import cycle (import-x/no-cycle), value imports only: a type-only cycle is erased at run time. */
  readonly cycles: boolean;
}

type Plugin = NonNullable<Linter.Config['plugins']>[string];

/** Flat-config entries enforcing the table and/or the absence of import cycles for the repository at `root`. */
export function importRules(root: string, options: ImportRuleOptions): Linter.Config[] {
  if (!options.layers && !options.cycles) return [];
  const layers: Plugin = { rules: { 'in-the-table': inTheTable(root), 'type-only-kinds': typeOnlyKinds(root) } };
  return [
    {
      files: LAYERED_ROOTS.map((r) => `${r}**/*.{ts,js,mjs}`),
      plugins: { 'import-x': importX as unknown as Plugin, layers },
      settings: {
        'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
        // no-cycle follows imports only into files it can parse; by default that is JavaScript alone.
        'import-x/extensions': ['.ts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      },
      rules: {
        ...(options.layers
          ? {
              'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones(root) }],
              'layers/in-the-table': 'error',
              'layers/type-only-kinds': 'error',
            }
          : {}),
        ...(options.cycles ? { 'import-x/no-cycle': ['error', { ignoreExternal: true }] } : {}),
      },
    },
  ];
}
