import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readCachedInventory, writeCachedInventory, type InventoryCacheOptions } from './inventory-cache.ts';
import type { z } from 'zod';
import type { parseDocument as ParseDocument } from 'yaml';
import { crossCheck } from './cross-checks.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { defaultsSchema, inventorySchema } from './inventory.schema.ts';
import type { CredentialBase, Inventory, InventoryKind } from './types.ts';
import { zodProblems } from './zod-problems.ts';

/** The kinds an inventory may name, by name. */
export type KindTable = ReadonlyMap<string, InventoryKind>;
/** The configuration type of any kind of a list of kinds. */
export type ConfigOfKinds<K extends readonly InventoryKind[]> = K[number] extends InventoryKind<infer C> ? C : never;

/**
 * The YAML library, loaded on the first read of YAML (synchronously, as the reads are): an
 * inventory taken from the cache never needs it, and `rotator status` then never loads it.
 */
let yamlLibrary: { parseDocument: typeof ParseDocument } | undefined;
const yaml = () => (yamlLibrary ??= createRequire(import.meta.url)('yaml') as { parseDocument: typeof ParseDocument });

function yamlProblem(error: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }): ConfigProblem {
  // The yaml library appends the offending source lines; keep its first line only, since the
  // source may hold a value that must not be echoed, and say where instead.
  const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const at = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  return { path: '(root)', message: `YAML syntax error${at}: ${reason}` };
}

/**
 * The inventory text as plain data (YAML 1.2, core schema); a ConfigError for text that is not
 * YAML, each problem with its line and column. Duplicate keys are errors: with last-one-wins a
 * pasted block would silently replace another. A tag no schema resolves (`!custom`) is refused
 * rather than read as a string. Anchors and aliases are usable; expanded aliases count
 * against a limit, so an alias bomb never expands.
 */
export function readYaml(text: string, source: string): unknown {
  const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const unknownTags = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (doc.errors.length > 0 || unknownTags.length > 0) throw new ConfigError(source, [...doc.errors, ...unknownTags].map(yamlProblem));
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(source, [{ path: '(root)', message: `YAML cannot be read: ${(error as Error).message}` }], { cause: error });
  }
}

/**
 * Parses and validates an inventory (YAML text). Throws a ConfigError listing every problem by its
 * path; `source` names the text in those problems (default `inventory`).
 */
export function parseInventory<C extends CredentialBase>(text: string, kinds: readonly InventoryKind<C>[], source = 'inventory'): Inventory<C> {
  const raw = readYaml(text, source);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '(root)', message: 'must be a YAML mapping with version, credentials and alerts' }]);
  }
  const table: KindTable = new Map(kinds.map((k) => [k.kind, k as unknown as InventoryKind]));
  const result = inventorySchema.safeParse(raw);
  const problems = result.success ? [] : zodProblems(result.error.issues, raw, [...table.keys()]);
  // Credentials are read even when the document around them is wrong, so every problem is named at once.
  // With `defaults` itself wrong (reported above), entries are read against the built-in defaults.
  const defaults = result.success
    ? result.data.defaults
    : (defaultsSchema.safeParse((raw as Record<string, unknown>).defaults).data ?? defaultsSchema.parse(undefined));
  // One schema per kind for the whole inventory: building a zod schema costs far more than using it.
  const schemas = new Map([...table].map(([name, kind]) => [name, kind.entry(defaults)]));
  const entries = (raw as Record<string, unknown>).credentials;
  const credentials = Array.isArray(entries) ? entries.map((entry, index) => readCredential(entry, index, schemas, raw, problems)) : [];
  problems.push(...crossCheck(raw, table));
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return { version: 1, credentials: credentials as C[], alerts: result.data.alerts, events: result.data.events, radar: result.data.radar };
}

/** One credential by its kind's schema; its problems are added to `problems` with their full path. */
function readCredential(
  entry: unknown,
  index: number,
  schemas: ReadonlyMap<string, z.ZodType<CredentialBase>>,
  raw: unknown,
  problems: ConfigProblem[],
): CredentialBase | undefined {
  const at = (path: readonly PropertyKey[]) => ['credentials', index, ...path];
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    problems.push(...zodProblems([{ code: 'invalid_type', expected: 'object', path: at([]), message: 'Invalid input', input: entry }], raw));
    return undefined;
  }
  const kind = (entry as Record<string, unknown>).kind;
  const schema = typeof kind === 'string' ? schemas.get(kind) : undefined;
  if (!schema) {
    const what = kind === undefined ? 'field "kind" is missing' : `unknown kind ${JSON.stringify(kind)}`;
    problems.push({ path: `credentials[${index}].kind`, message: `${what}; expected one of ${[...schemas.keys()].join(', ')}` });
    return undefined;
  }
  const result = schema.safeParse(entry);
  if (result.success) return result.data;
  problems.push(
    ...zodProblems(
      result.error.issues.map((issue) => ({ ...issue, path: at(issue.path) })),
      raw,
    ),
  );
  return undefined;
}

/**
 * Reads and validates the inventory at `path`; a missing or unreadable file is a ConfigError too.
 * With `cache`, an unchanged file (the same bytes, read by the same version) is taken from the
 * inventory cache instead (inventory-cache.ts), and a file validated anew is kept there.
 */
export function loadInventory<C extends CredentialBase>(
  path: string,
  kinds: readonly InventoryKind<C>[],
  options: { cache?: InventoryCacheOptions | undefined } = {},
): Inventory<C> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read the file (${code ?? 'unknown error'})`;
    throw new ConfigError(path, [{ path: '(root)', message }], { cause: error });
  }
  const { cache } = options;
  const cached = cache ? readCachedInventory(cache, path, bytes) : undefined;
  if (cached !== undefined) return cached as Inventory<C>;
  const inventory = parseInventory(bytes.toString('utf8'), kinds, path);
  if (cache) writeCachedInventory(cache, path, bytes, inventory);
  return inventory;
}
