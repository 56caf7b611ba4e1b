// docs/configuration.md and the code, held together: every environment variable src/ reads and
// every inventory field is in its tables, and the tables name nothing else. The code's lists come
// from the code itself: the env loader's schema (read from its source), the variables the Redis
// topology reads (by calling it), the kinds' rate limits, `process.env.X` anywhere in src/, and the
// zod schemas of the inventory and of each kind.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { alertSinkSchema, defaultsSchema, eventReceiverSchema, inventorySchema } from '../../src/config/inventory.schema.ts';
import { readRedisTopology } from '../../src/config/redis-topology.ts';
import { KINDS, RATE_LIMIT_VARIABLES } from '../../src/kinds/registry.ts';
import { codeNamesOf, tablesOf, type Table } from '../support/markdown.ts';

const root = resolve(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
const tables = tablesOf(doc);

/** The tables under a `##` heading of the document. */
const tablesUnder = (section: string): Table[] => tables.filter((t) => t.headings.find((h) => h.level === 2)?.text === section);

/** A field's path in an object schema, nested objects by dotted path: the fields an inventory may hold. */
function fieldsOf(schema: z.ZodType, prefix = ''): string[] {
  const def = (schema as unknown as { _zod: { def: { type: string; in?: z.ZodType; innerType?: z.ZodType } } })._zod.def;
  switch (def.type) {
    case 'pipe':
      return fieldsOf(def.in!, prefix);
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return fieldsOf(def.innerType!, prefix);
    case 'object':
      return Object.entries((schema as z.ZodObject).shape).flatMap(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        const nested = fieldsOf(value as z.ZodType, path);
        return nested.length ? nested : [path];
      });
    default:
      return [];
  }
}

/** The keys of the `z.object({…})` the env loader's `schema` is built from, read from its source. */
function envSchemaKeys(): string[] {
  const path = join(root, 'src/config/env.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  let keys: string[] | undefined;
  const visit = (node: ts.Node): void => {
    if (keys) return;
    if (ts.isCallExpression(node) && ['z.object', 'z.strictObject'].includes(node.expression.getText(source).replace(/\s/g, ''))) {
      const literal = node.arguments[0];
      if (literal && ts.isObjectLiteralExpression(literal)) keys = literal.properties.map((p) => p.name!.getText(source));
      return;
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, (node) => {
    if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) if (d.name.getText(source) === 'schema' && d.initializer) visit(d.initializer);
    }
  });
  return keys ?? [];
}

/** Every variable the Redis topology reads, whichever topology the environment selects. */
function redisVariables(): string[] {
  const read = new Set<string>();
  const recording = (env: Record<string, string>) =>
    new Proxy(env, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return target[name as string];
      },
    });
  readRedisTopology(recording({}), '{rotator}');
  readRedisTopology(recording({ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000' }), '{rotator}');
  readRedisTopology(recording({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'main' }), '{rotator}');
  return [...read];
}

/** `process.env.NAME` anywhere in src/. */
function processEnvReads(): string[] {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
    }
  };
  walk(join(root, 'src'));
  return [...names];
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('docs/configuration.md: the environment', () => {
  const codeVariables = sorted([...envSchemaKeys(), ...redisVariables(), ...RATE_LIMIT_VARIABLES.map((v) => v.variable), ...processEnvReads()]);

  it('finds the variables in the code (the loader, the Redis topology, the rate limits, process.env)', () => {
    expect(envSchemaKeys()).toEqual(expect.arrayContaining(['ROTATOR_CONFIG', 'LOG_LEVEL', 'ROTATOR_ESCALATE_AFTER']));
    expect(redisVariables()).toEqual(expect.arrayContaining(['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_PASSWORD', 'REDIS_TLS']));
    expect(processEnvReads()).toEqual(expect.arrayContaining(['AWS_REGION']));
    expect(codeVariables.length).toBeGreaterThan(25);
  });

  it('lists every variable the code reads, and no other', () => {
    const [table, ...more] = tablesUnder('Environment');
    expect(more).toEqual([]);
    expect(table!.header).toEqual(['variable', 'default', 'meaning']);
    const documented = table!.rows.flatMap((row) => codeNamesOf(row[0]!));
    expect(documented.length, 'each variable once').toBe(new Set(documented).size);
    expect(sorted(documented)).toEqual(codeVariables);
    for (const row of table!.rows)
      expect(
        row.slice(1).every((c) => c.length > 0),
        row[0],
      ).toBe(true);
  });
});

describe('docs/configuration.md: the inventory', () => {
  const defaults = defaultsSchema.parse(undefined);
  const sinks = (alertSinkSchema as unknown as { options: z.ZodObject[] }).options;
  const expected = new Map<string, string[]>([
    ['The file', fieldsOf(inventorySchema)],
    ...KINDS.map((k): [string, string[]] => [`Kind \`${k.kind}\``, fieldsOf(k.entry(defaults))]),
    ...sinks.map((s): [string, string[]] => [`Sink \`${(s.shape.kind as z.ZodLiteral<string>).value}\``, fieldsOf(s)]),
    ['Event receiver', fieldsOf(eventReceiverSchema)],
  ]);

  it('reads the fields from the schemas: the file, each kind, each alert sink, the event receiver', () => {
    expect(expected.get('The file')).toEqual(expect.arrayContaining(['version', 'defaults.forceCooldown', 'credentials', 'alerts']));
    expect(expected.get('Kind `credly-authorization-token`')).toEqual(expect.arrayContaining(['organizationId', 'endpoints.apiBase']));
    expect(expected.get('Sink `webhook`')).toEqual(expect.arrayContaining(['signingSecret.env', 'signingSecret.secretId']));
    expect(expected.get('Event receiver')).toEqual(expect.arrayContaining(['url', 'signingSecret.env']));
    expect(expected.size).toBe(2 + KINDS.length + sinks.length);
  });

  it('has one table per object of the inventory, each naming exactly its fields, with a default and a meaning', () => {
    const found = tablesUnder('Inventory').filter((t) => t.header[0] === 'field');
    const byHeading = new Map(found.map((t) => [t.headings[t.headings.length - 1]!.text, t]));
    expect(found.length, 'one table per heading').toBe(byHeading.size);
    expect(sorted(byHeading.keys())).toEqual(sorted(expected.keys()));
    for (const [heading, fields] of expected) {
      const table = byHeading.get(heading)!;
      expect(table.header, heading).toEqual(['field', 'default', 'meaning']);
      const documented = table.rows.map((row) => codeNamesOf(row[0]!));
      for (const names of documented) expect(names.length, `${heading}: one field per row`).toBe(1);
      expect(sorted(documented.flat()), heading).toEqual(sorted(fields));
      for (const row of table.rows) expect(row[1] && row[2], `${heading}: ${row[0]}`).toBeTruthy();
    }
  });
});
