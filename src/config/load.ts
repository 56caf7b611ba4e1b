import { readFileSync } from 'node:fs';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { createRequire } from 'node:module';
import type * as YamlLibrary from 'yaml';
import { buildInventory } from './build.ts';
import { crossCheck } from './cross-checks.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { inventorySchema } from './inventory.schema.ts';
import type { Inventory } from './types.ts';
import { zodProblems } from './zod-problems.ts';

function yamlProblem(error: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }): ConfigProblem {
  // The yaml library appends the offending source lines; keep its first line only, since the
  // source may hold a value that must not be echoed, and say where instead.
  const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const at = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  return { path: '(root)', message: `YAML syntax error${at}: ${reason}` };
}

/**
 * The fast path: js-yaml reads a plain inventory about ten times faster than the yaml library, which
 * matters for `rotator status` and start-up over thousands of credentials. It refuses duplicate keys
 * (as the yaml library does with uniqueKeys) and, here, any alias, so an alias bomb never expands in
 * it. Whatever it refuses is read again by the yaml library: its messages are clearer, and it counts
 * expanded aliases against a limit, so anchors and aliases stay usable.
 */
function readYamlFast(text: string): { value: unknown } | undefined {
  try {
    return { value: loadYaml(text, { schema: CORE_SCHEMA, json: false, maxAliases: 0 }) };
  } catch {
    return undefined;
  }
}

/** The inventory text as plain data; a ConfigError for text that is not YAML. */
export function readYaml(text: string, source: string): unknown {
  const fast = readYamlFast(text);
  if (fast) return fast.value;
  // Loaded only here, where it is needed: a worker whose inventory reads on the fast path does not
  // carry the second parser's memory for years.
  const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof YamlLibrary;
  // Duplicate keys are errors: with last-one-wins a pasted block would silently replace another.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(source, doc.errors.map(yamlProblem));
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
export function parseInventory(text: string, source = 'inventory'): Inventory {
  const raw = readYaml(text, source);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '(root)', message: 'must be a YAML mapping with version, credentials and alerts' }]);
  }
  const result = inventorySchema.safeParse(raw);
  const problems = [...(result.success ? [] : zodProblems(result.error.issues, raw)), ...crossCheck(raw)];
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return buildInventory(result.data);
}

/** Reads and validates the inventory at `path`; a missing or unreadable file is a ConfigError too. */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read the file (${code ?? 'unknown error'})`;
    throw new ConfigError(path, [{ path: '(root)', message }], { cause: error });
  }
  return parseInventory(text, path);
}
