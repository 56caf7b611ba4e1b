// The direction of dependencies between the parts of the code, in ONE table, and the ESLint
// configuration that enforces it (eslint.config.js applies it; docs/design.md shows the same table,
// and test/unit/lint-layers.test.ts checks both the rules and that the document matches).
//
// A part may import only from itself and from parts on LOWER layers (type-only imports included),
// which makes a cycle between parts impossible. Inside layer 4 one more rule holds: each folder
// under src/kinds/ is one provider; it may import src/kinds/kind.ts and its own folder (so the
// Credly kinds share the Credly client beside them) but no other provider's folder, and only
// src/kinds/registry.ts imports the provider folders.
import { readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import type { Linter, Rule } from 'eslint';

export interface Layer {
  readonly layer: number;
  /** Folders end in '/'; anything else is one file. Paths are relative to the repository root. */
  readonly parts: readonly string[];
  readonly holds: string;
}

export const LAYERS: readonly Layer[] = [
  { layer: 0, parts: ['src/errors/', 'src/log/', 'src/build-info.ts'], holds: 'RotatorError, scrub, provider error classes; logger; version' },
  { layer: 1, parts: ['src/config/', 'src/lease/'], holds: 'environment and inventory (pure data); the lease fence' },
  { layer: 2, parts: ['src/redis/', 'src/provider-http/', 'src/secrets/'], holds: 'Redis connection; HTTP for providers; Secrets Manager store' },
  { layer: 3, parts: ['src/rotation/', 'src/validation/'], holds: 'rotation and validation cores (no provider)' },
  { layer: 4, parts: ['src/kinds/'], holds: 'kind.ts, registry.ts, one folder per provider' },
  { layer: 5, parts: ['src/status/', 'src/alerts/', 'src/probe/'], holds: 'status read, alert policy and sinks, probe runner' },
  { layer: 6, parts: ['jobs/'], holds: 'one thin adapter per job kind' },
  { layer: 7, parts: ['src/queue/'], holds: 'BullMQ producer, worker, scheduler' },
  { layer: 8, parts: ['src/http/'], holds: 'ops server, metrics, status page, dashboard' },
  { layer: 9, parts: ['src/composition-root.ts', 'src/cli/'], holds: 'builds the real clients; the CLI' },
];

/** The only imports between two parts of one layer: the CLI's `worker` command starts the composition root. */
export const SAME_LAYER_IMPORTS: readonly { readonly part: string; readonly imports: string }[] = [{ part: 'src/cli/', imports: 'src/composition-root.ts' }];

/** Folders whose every file must belong to a part of the table. */
export const LAYERED_ROOTS = ['src/', 'jobs/'] as const;

const KINDS = 'src/kinds/';
const KIND_INTERFACE = 'src/kinds/kind.ts';
const KIND_REGISTRY = 'src/kinds/registry.ts';
const OUTSIDE_PRODUCT = ['test/', 'scripts/'];

/** The table as Markdown, exactly as docs/design.md must show it. */
export function layerTableMarkdown(): string {
  const rows = LAYERS.map((l) => `| ${l.layer} | ${l.parts.map((p) => `\`${p}\``).join(', ')} | ${l.holds} |`);
  const exceptions = SAME_LAYER_IMPORTS.map((s) => `Within one layer, only \`${s.part}\` imports \`${s.imports}\`.`);
  return ['| layer | parts | holds |', '| --- | --- | --- |', ...rows, '', ...exceptions].join('\n');
}

/** The part a repository-relative path belongs to, or undefined when the table does not name it. */
export function partOf(path: string): { part: string; layer: number } | undefined {
  for (const l of LAYERS) {
    const part = l.parts.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
    if (part !== undefined) return { part, layer: l.layer };
  }
  return undefined;
}

/** The provider folders under src/kinds/ as they are on disk now (a new kind is picked up without an edit here). */
export function kindFolders(root: string): string[] {
  try {
    return readdirSync(join(root, KINDS), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `${KINDS}${e.name}/`)
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
    // Paths in `except` are relative to `from`.
    zones.push({
      target: bare(kind),
      from: bare(KINDS),
      except: [KIND_INTERFACE.slice(KINDS.length), bare(kind.slice(KINDS.length))],
      message: `${kind} may import ${KIND_INTERFACE} and its own folder, not another provider's folder nor the registry.`,
    });
  }
  if (kinds.length > 0) {
    const others = all.filter((o) => o.part !== KINDS).map((o) => bare(o.part));
    // Every file directly in src/kinds/ except the registry (an extglob, matched by minimatch).
    others.push(`${KINDS}!(${KIND_REGISTRY.slice(KINDS.length, -'.ts'.length)}).ts`);
    for (const target of others) {
      zones.push({ target, from: kinds.map(bare), message: `only ${KIND_REGISTRY} imports the provider folders under ${KINDS}.` });
    }
  }
  for (const r of LAYERED_ROOTS) {
    zones.push({ target: bare(r), from: OUTSIDE_PRODUCT.map(bare), message: 'the product does not import tests or scripts.' });
  }
  return zones;
}

/** Reports a file under src/ or jobs/ that no part of the table names, so no file escapes the direction. */
const inTheTable = (root: string): Rule.RuleModule => ({
  meta: { type: 'problem', schema: [], messages: { unknown: '{{path}} belongs to no part of the layer table in scripts/layers.ts.' } },
  create(context) {
    const path = relative(root, resolve(context.physicalFilename)).split(sep).join('/');
    if (!LAYERED_ROOTS.some((r) => path.startsWith(r)) || partOf(path) !== undefined) return {};
    return { Program: (node) => context.report({ node, messageId: 'unknown', data: { path } }) };
  },
});

export interface ImportRuleOptions {
  /** Enforce the layer table (the import zones and "every file is in the table"). */
  readonly layers: boolean;
  /** Fail on a module-level import cycle (import-x/no-cycle), value imports only: a type-only cycle is erased at run time. */
  readonly cycles: boolean;
}

/** Flat-config entries enforcing the table and/or the absence of import cycles for the repository at `root`. */
export function importRules(root: string, options: ImportRuleOptions): Linter.Config[] {
  const files = LAYERED_ROOTS.map((r) => `${r}**/*.{ts,js,mjs}`);
  if (!options.layers && !options.cycles) return [];
  return [
    {
      files,
      plugins: { 'import-x': importX as unknown as NonNullable<Linter.Config['plugins']>[string], layers: { rules: { 'in-the-table': inTheTable(root) } } },
      settings: {
        'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
        // no-cycle follows imports only into files it can parse; by default that is JavaScript alone.
        'import-x/extensions': ['.ts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      },
      rules: {
        ...(options.layers ? { 'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones(root) }], 'layers/in-the-table': 'error' } : {}),
        ...(options.cycles ? { 'import-x/no-cycle': ['error', { ignoreExternal: true }] } : {}),
      },
    },
  ];
}
