// `npm run schema`: the inventory's JSON Schema, generated from the zod schemas the worker reads
// the inventory with, written to schema/inventory.schema.json (for editors: the example
// inventories name it in a `yaml-language-server` modeline) and embedded as `inventory` in the
// chart's values.schema.json (so that helm refuses a bad inventory before any pod starts). The
// rest of values.schema.json is written by hand; only its `inventory` property is rewritten here.
// `npm test` (test/unit/schema-files.test.ts) fails when a committed file is not what this writes.
//
// What JSON Schema cannot say stays with the worker's own reading at start (`rotator check
// --config-only`): cron expressions, durations, URLs, unique ids and secret ids, references between
// credentials, "exactly one of env or secretId".
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { defaultsSchema, inventorySchema } from '../src/config/inventory.schema.ts';
import { KINDS } from '../src/kinds/registry.ts';

const root = resolve(import.meta.dirname, '..');
export const INVENTORY_SCHEMA_PATH = 'schema/inventory.schema.json';
export const VALUES_SCHEMA_PATH = 'helm/credential-rotator/values.schema.json';

type JsonSchema = { [key: string]: unknown };

/**
 * Patterns of the zod schemas that use lookaround, which JavaScript knows and Go's RE2 (helm's
 * schema validator) does not, each with an RE2 pattern that accepts the same strings. A new one
 * stops the script rather than a helm that can no longer read values.schema.json.
 */
export const RE2_PATTERNS: Readonly<Record<string, string>> = {
  // A path starting with a single "/": "/" alone, or "/" and a first character other than "/".
  '^\\/(?!\\/)[^\\s#]*$': '^/([^/\\s#][^\\s#]*)?$',
  '^\\/(?!\\/)[^\\s?#]*$': '^/([^/\\s?#][^\\s?#]*)?$',
};

function toJson(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Every value of `node` rewritten bottom-up by `visit` (objects and arrays walked). */
function walk(node: unknown, visit: (value: JsonSchema) => JsonSchema): unknown {
  if (Array.isArray(node)) return node.map((n) => walk(n, visit));
  if (typeof node !== 'object' || node === null) return node;
  const copy: JsonSchema = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, visit)]));
  return visit(copy);
}

const kindOf = (branch: unknown): string | undefined => {
  const kind = (branch as { properties?: { kind?: { const?: unknown } } }).properties?.kind?.const;
  return typeof kind === 'string' ? kind : undefined;
};

/**
 * One entry of several kinds: `kind` checked first against the list of kinds, then the entry
 * against its kind's schema (if/then), so that a validator names the wrong kind or the missing field
 * of the right kind instead of "matches none of" every kind's schema.
 */
function byKind(branches: readonly JsonSchema[]): JsonSchema {
  const kinds = branches.map((b) => {
    const kind = kindOf(b);
    if (kind === undefined) throw new Error('schema: every branch of an entry by kind needs a const kind');
    return kind;
  });
  return {
    type: 'object',
    required: ['kind'],
    properties: { kind: { type: 'string', enum: kinds } },
    allOf: branches.map((branch, i) => ({ if: { properties: { kind: { const: kinds[i] } }, required: ['kind'] }, then: branch })),
  };
}

function portable(schema: JsonSchema): JsonSchema {
  return walk(schema, (node) => {
    if (typeof node.pattern === 'string' && /\(\?<?[=!]/.test(node.pattern)) {
      const re2 = RE2_PATTERNS[node.pattern];
      if (re2 === undefined) throw new Error(`schema: pattern ${node.pattern} uses lookaround (not in RE2); add its RE2 form to RE2_PATTERNS`);
      node = { ...node, pattern: re2 };
    }
    if (node.$ref !== undefined) throw new Error(`schema: a $ref (${JSON.stringify(node.$ref)}) would not resolve once embedded in values.schema.json`);
    const branches = node.oneOf;
    if (Array.isArray(branches) && branches.length > 0 && branches.every((b) => kindOf(b) !== undefined)) {
      const { oneOf: _, ...rest } = node;
      return { ...rest, ...byKind(branches as JsonSchema[]) };
    }
    return node;
  }) as JsonSchema;
}

/** The inventory's schema: the document's, with each credential read by its kind's entry schema. */
export function inventoryJsonSchema(): JsonSchema {
  const defaults = defaultsSchema.parse(undefined);
  const document = toJson(inventorySchema);
  const properties = document.properties as Record<string, JsonSchema>;
  properties.credentials = { ...properties.credentials, items: byKind(KINDS.map((kind) => toJson(kind.entry(defaults)))) };
  return portable({
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'credential-rotator inventory',
    description:
      'The credential inventory (docs/configuration.md; examples/inventory.yaml). Generated by `npm run schema` from the zod schemas of src/config and src/kinds.',
    ...document,
  });
}

/** values.schema.json with `inventory` replaced by the inventory's schema, an empty credential list allowed (a template names what to set). */
export function valuesJsonSchema(current: string, inventory: JsonSchema): JsonSchema {
  const values = JSON.parse(current) as { properties: Record<string, unknown> };
  const { $schema: _, title: __, properties, ...rest } = inventory as JsonSchema & { properties: Record<string, JsonSchema> };
  const { minItems: ___, ...credentials } = properties.credentials as JsonSchema;
  values.properties.inventory = {
    ...rest,
    description:
      'The credential inventory (docs/configuration.md), rendered into the ConfigMap; ignored with existingInventoryConfigMap. Generated by `npm run schema` from schema/inventory.schema.json.',
    properties: { ...properties, credentials },
  };
  return values;
}

async function formatted(path: string, value: unknown): Promise<string> {
  const options = (await resolveConfig(join(root, path))) ?? {};
  return format(JSON.stringify(value), { ...options, filepath: join(root, path) });
}

/** Each generated file's path and the text it must hold now. */
export async function generatedSchemas(): Promise<Array<{ path: string; text: string }>> {
  const inventory = inventoryJsonSchema();
  const values = valuesJsonSchema(readFileSync(join(root, VALUES_SCHEMA_PATH), 'utf8'), inventory);
  return [
    { path: INVENTORY_SCHEMA_PATH, text: await formatted(INVENTORY_SCHEMA_PATH, inventory) },
    { path: VALUES_SCHEMA_PATH, text: await formatted(VALUES_SCHEMA_PATH, values) },
  ];
}

if (import.meta.main) {
  for (const { path, text } of await generatedSchemas()) {
    writeFileSync(join(root, path), text);
    console.log(`schema: wrote ${path}`);
  }
}
