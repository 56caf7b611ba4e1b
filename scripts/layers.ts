// The direction of dependencies between the parts of the code, in ONE table. scripts/layer-lint.ts
// turns it into ESLint rules (applied by eslint.config.js); docs/design.md shows the same table, and
// test/unit/lint-layers.test.ts checks both the rules and that the document matches.
//
// A part may import only from itself and from parts on LOWER layers (type-only imports included),
// which makes a cycle between parts impossible. Inside the kinds' layer one more rule holds: each folder
// under src/kinds/ is one provider; it may import src/kinds/kind.ts and its own folder (so the
// Credly kinds share the Credly client beside them) but no other provider's folder, and only
// src/kinds/registry.ts imports the provider folders. Tests and scripts stand outside the table.
export interface Layer {
  readonly layer: number;
  /** Folders end in '/'; anything else is one file. Paths are relative to the repository root. */
  readonly parts: readonly string[];
  readonly holds: string;
}

export const LAYERS: readonly Layer[] = [
  {
    layer: 0,
    parts: ['src/errors/', 'src/log/', 'src/build-info.ts', 'src/probe/'],
    holds: 'leaves: RotatorError, scrub, provider errors; logger; version; probe findings and wire record',
  },
  { layer: 1, parts: ['src/config/'], holds: 'environment and inventory: pure data, generic over kinds' },
  { layer: 2, parts: ['src/redis/'], holds: 'a Redis connection for a topology' },
  { layer: 3, parts: ['src/lease/'], holds: 'the lease fence, and the credential lock that holds it in Redis' },
  {
    layer: 4,
    parts: ['src/provider-http/', 'src/secrets/', 'src/state/'],
    holds: 'HTTP for providers (fenced, rate-limited); Secrets Manager store; rotation state',
  },
  { layer: 5, parts: ['src/rotation/', 'src/validation/'], holds: 'rotation and validation cores (no provider)' },
  { layer: 6, parts: ['src/kinds/'], holds: 'kind.ts, registry.ts, one folder per provider' },
  { layer: 7, parts: ['src/status/', 'src/alerts/', 'src/radar/'], holds: 'status read; alert policy and sinks; expiry radar' },
  { layer: 8, parts: ['jobs/'], holds: 'one thin adapter per job kind' },
  { layer: 9, parts: ['src/queue/', 'src/events/'], holds: 'BullMQ producer, worker, scheduler; events to consumers' },
  { layer: 10, parts: ['src/http/'], holds: 'ops server, metrics, status page, dashboard' },
  { layer: 11, parts: ['src/composition-root.ts', 'src/cli/'], holds: 'builds the real clients; the CLI' },
];

/** The only imports between two parts of one layer: the CLI's `worker` command starts the composition root. */
export const SAME_LAYER_IMPORTS: readonly { readonly part: string; readonly imports: string }[] = [{ part: 'src/cli/', imports: 'src/composition-root.ts' }];

/** Folders whose every file must belong to a part of the table. */
export const LAYERED_ROOTS = ['src/', 'jobs/'] as const;

/** The kinds' layer: each folder of `folder` is one provider; `shared` the files every provider folder may import. */
export const KINDS = { folder: 'src/kinds/', shared: ['src/kinds/kind.ts'], registry: 'src/kinds/registry.ts' } as const;

/** Parts that reach the kinds only by type imports of these files (the job layer is a thin adapter). */
export const TYPE_ONLY_KIND_USERS: readonly { readonly part: string; readonly imports: string }[] = [{ part: 'jobs/', imports: 'src/kinds/kind.ts' }];

/** Outside the product: they may import any part, and no part imports them. */
export const OUTSIDE_PRODUCT = ['test/', 'scripts/'] as const;

/** The table as Markdown, exactly as docs/design.md must show it. */
export function layerTableMarkdown(): string {
  const rows = LAYERS.map((l) => `| ${l.layer} | ${l.parts.map((p) => `\`${p}\``).join(', ')} | ${l.holds} |`);
  const notes = [
    ...SAME_LAYER_IMPORTS.map((s) => `Within one layer, only \`${s.part}\` imports \`${s.imports}\`.`),
    ...TYPE_ONLY_KIND_USERS.map((t) => `\`${t.part}\` imports from \`${KINDS.folder}\` only types, from \`${t.imports}\`.`),
  ];
  return ['| layer | parts | holds |', '| --- | --- | --- |', ...rows, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

/** The part a repository-relative path belongs to, or undefined when the table does not name it. */
export function partOf(path: string): { part: string; layer: number } | undefined {
  for (const l of LAYERS) {
    const part = l.parts.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
    if (part !== undefined) return { part, layer: l.layer };
  }
  return undefined;
}
