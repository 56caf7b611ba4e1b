// The inventory's JSON Schema (scripts/schema.ts): the committed files are what the script
// generates now; the example inventories name it and pass it; it refuses what the worker refuses
// where JSON Schema can say so, and helm refuses the same inventory in the chart's values.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { generatedSchemas, INVENTORY_SCHEMA_PATH, RE2_PATTERNS } from '../../scripts/schema.ts';
import { chart, helm } from '../support/helm.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const schema = JSON.parse(read(INVENTORY_SCHEMA_PATH)) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const errorsOf = (document: unknown) => (validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));

describe('the generated schema files', () => {
  it('are what `npm run schema` writes now', async () => {
    const files = await generatedSchemas();
    expect(files.map((f) => f.path)).toEqual([INVENTORY_SCHEMA_PATH, 'helm/credential-rotator/values.schema.json']);
    for (const { path, text } of files) expect(read(path), `${path} is stale: run npm run schema`).toBe(text);
  });

  it('embeds the inventory schema in the chart values schema, an empty credential list left to the templates', () => {
    const values = JSON.parse(read('helm/credential-rotator/values.schema.json')) as { properties: { inventory: { properties: Record<string, unknown> } } };
    const inventory = schema as { properties: Record<string, { minItems?: number; items?: unknown }> };
    expect(values.properties.inventory.properties.credentials).toEqual({ type: 'array', items: inventory.properties.credentials?.items });
    expect(inventory.properties.credentials?.minItems).toBe(1);
    expect(values.properties.inventory.properties.alerts).toEqual(inventory.properties.alerts);
  });

  it('writes lookaround patterns in an RE2 form that accepts the same paths', () => {
    const samples = ['/', '/users?limit=1', '//evil.example', '/a b', '/x#y', 'users', '/oauth/logout', '/a//b', '/?q'];
    for (const [js, re2] of Object.entries(RE2_PATTERNS))
      for (const sample of samples) expect(new RegExp(re2).test(sample), `${js} on ${sample}`).toBe(new RegExp(js).test(sample));
    expect(read(INVENTORY_SCHEMA_PATH)).not.toMatch(/\(\?<?[=!]/);
  });
});

describe('the example inventories', () => {
  const docBlocks = [...read('docs/configuration.md').matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((block) => /^version: 1$/m.test(block) && /^credentials:$/m.test(block));
  const examples = readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ name: `examples/${f}`, dir: join(root, 'examples'), text: read(`examples/${f}`) }));
  const inventories = [...examples, ...docBlocks.map((text, i) => ({ name: `docs/configuration.md block ${i + 1}`, dir: join(root, 'docs'), text }))];

  it('are found (examples/ and docs/configuration.md)', () => {
    expect(examples.length).toBeGreaterThanOrEqual(1);
    expect(docBlocks.length).toBeGreaterThanOrEqual(1);
  });

  it.each(inventories)('$name names the schema by a relative path on its first line, passes it, and the worker reads it', ({ dir, text }) => {
    const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
    expect(modeline?.[1]).toBeDefined();
    expect(modeline?.[1]).not.toMatch(/^(\/|https?:)/);
    expect(resolve(dir, modeline?.[1] ?? '')).toBe(join(root, INVENTORY_SCHEMA_PATH));
    expect(errorsOf(parse(text))).toEqual([]);
    expect(parseInventory(text).credentials.length).toBeGreaterThan(0);
  });
});

describe('the schema against the inventories the worker refuses (test/fixtures/inventories/bad)', () => {
  const dir = join(root, 'test/fixtures/inventories/bad');
  // Refused by the schema too: shapes, kinds, enums, patterns, required and unknown fields.
  const refused = [
    '01-unknown-kind.yaml',
    '02-missing-kind.yaml',
    '03-unknown-field-typo.yaml',
    '14-bad-credly-environment.yaml',
    '15-bad-degreed-data-center.yaml',
    '16-bad-learnlink-audience.yaml',
    '17-empty-scopes.yaml',
    '18-unknown-credly-scope.yaml',
    '19-bad-degreed-scope.yaml',
    '21-bad-id-pattern.yaml',
    '22-version-2.yaml',
    '23-empty-credentials.yaml',
    '26-sink-inline-secret.yaml',
    '27-unknown-sink-kind.yaml',
    '29-missing-required-field.yaml',
    '30-bad-tenant-id.yaml',
    '32-not-a-mapping.yaml',
    '33-several-problems.yaml',
    '36-learnlink-scope-beside-other-problems.yaml',
    '37-secret-in-unknown-field.yaml',
    '40-logout-path-to-other-host.yaml',
    '44-unknown-defaults-field.yaml',
    '45-duration-as-number.yaml',
    '46-missing-version.yaml',
    '47-empty-file.yaml',
    '48-sink-inline-routing-key.yaml',
  ];
  // Left to the worker: duplicates, references between entries, cron, durations, URLs, secret ids,
  // scopes by audience, "exactly one of env or secretId".
  const workerOnly = [
    '04-duplicate-id.yaml',
    '05-duplicate-secret-id.yaml',
    '06-managed-by-missing.yaml',
    '07-managed-by-wrong-kind.yaml',
    '08-managed-by-other-organization.yaml',
    '09-bad-cron.yaml',
    '10-cron-wrong-field-count.yaml',
    '11-bad-duration.yaml',
    '12-http-to-remote-host.yaml',
    '13-endpoint-not-url.yaml',
    '20-learnlink-scope-for-other-audience.yaml',
    '25-sink-unknown-credential.yaml',
    '28-duplicate-sink-id.yaml',
    '34-managed-by-other-environment.yaml',
    '35-sink-http-to-remote-host.yaml',
    '38-sink-ref-both-env-and-secret-id.yaml',
    '39-zero-threshold.yaml',
    '41-duplicate-scope.yaml',
    '42-bad-secret-id.yaml',
    '43-endpoint-with-credentials.yaml',
    '50-rotate-endpoint-not-offered.yaml',
    '51-managed-by-other-api.yaml',
  ];
  // Not YAML documents the schema could see (a syntax error, a duplicate key).
  const notYaml = ['24-yaml-syntax-error.yaml', '31-duplicate-yaml-key.yaml', '49-yaml-bad-indentation.yaml'];

  it('lists every file once', () => {
    expect([...refused, ...workerOnly, ...notYaml].sort()).toEqual(readdirSync(dir).filter((f) => f.endsWith('.yaml')));
  });

  it.each(refused)('refuses %s, as the worker does', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(() => parseInventory(text)).toThrow(ConfigError);
    expect(errorsOf(parse(text))).not.toEqual([]);
  });

  it.each(workerOnly)('passes %s, which only the worker refuses', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(() => parseInventory(text)).toThrow(ConfigError);
    expect(errorsOf(parse(text))).toEqual([]);
  });

  it('names the wrong kind and the missing field where they are', () => {
    expect(errorsOf({ version: 1, credentials: [{ id: 'a', kind: 'nope', secretId: 's' }] })).toContain(
      '/credentials/0/kind must be equal to one of the allowed values',
    );
    expect(
      errorsOf({
        version: 1,
        credentials: [{ id: 'a', kind: 'degreed-client-credentials', environment: 'production', dataCenter: 'EU', scopes: ['users:read'] }],
      }),
    ).toContain("/credentials/0 must have required property 'secretId'");
  });
});

describe('helm refuses a wrong inventory before any pod starts', () => {
  const minimal = join(chart, 'ci/minimal-values.yaml');
  const template = (inventoryYaml: string) =>
    helm(['template', 'rotator', chart, '-f', minimal, '--set-json', `inventory=${JSON.stringify(parse(inventoryYaml))}`]);

  it('names an unknown kind', () => {
    const result = template('version: 1\ncredentials: [{ id: a, kind: nope, secretId: s }]');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/inventory/credentials/0/kind': value must be one of 'credly-authorization-token'");
  });

  it('names a missing field of the right kind', () => {
    const result = template(
      'version: 1\ncredentials: [{ id: a, kind: degreed-client-credentials, environment: production, dataCenter: EU, scopes: [users:read] }]',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/inventory/credentials/0': missing property 'secretId'");
  });

  it('names an unknown field (a typo)', () => {
    const result = template(
      'version: 1\ncredentials: [{ id: a, kind: degreed-client-credentials, secretId: s, environment: production, dataCenter: EU, scopes: [users:read], shedule: "0 3 * * *" }]',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/inventory/credentials/0': additional properties 'shedule' not allowed");
  });
});
