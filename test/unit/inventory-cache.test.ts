import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { cacheFileOf, readCachedInventory, writeCachedInventory } from '../../src/config/inventory-cache.ts';
import { loadInventory, parseInventory } from '../../src/kinds/registry.ts';

const EXAMPLE = join(import.meta.dirname, '../../examples/inventory.yaml');
const FULL = join(import.meta.dirname, '../fixtures/inventories/valid-full.yaml');
const CACHE_MODULE = join(import.meta.dirname, '../../src/config/inventory-cache.ts');
const BUILD_INFO = join(import.meta.dirname, '../../src/build-info.ts');
const SCHEMA_FILE = join(import.meta.dirname, '../../src/config/duration.ts');

// A sink whose secret is referenced by an environment variable holding a value the cache must never carry.
const SECRET_VALUE = 'https://hooks.slack.example/T000/B000/cache-test-secret-6f1d';
const inventoryText = (schedule = '0 3 * * *') =>
  [
    'version: 1',
    'credentials:',
    '  - id: dg-one',
    '    kind: degreed-client-credentials',
    '    secretId: test/dg-one',
    '    environment: production',
    '    dataCenter: US',
    '    scopes: [users:read]',
    `    schedule: "${schedule}"`,
    'alerts:',
    '  - id: ops',
    '    kind: slack',
    '    webhookUrl: { env: CACHE_TEST_SLACK_URL }',
    '',
  ].join('\n');

let root: string;
let dir: string;
let file: string;
const cache = (version = '1.2.3') => ({ dir, version });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rotator-cache-test-'));
  dir = join(root, 'cache');
  file = join(root, 'inventory.yaml');
  writeFileSync(file, inventoryText());
  process.env.CACHE_TEST_SLACK_URL = SECRET_VALUE;
});
afterEach(() => {
  delete process.env.CACHE_TEST_SLACK_URL;
});

const cacheFile = () => cacheFileOf(dir, file);
const cached = () => JSON.parse(readFileSync(cacheFile(), 'utf8')) as { format: number; version: string; sha256: string; inventory: unknown };

describe('inventory cache', () => {
  it('keeps exactly what validation produced, and reads it back the same, for every kind and sink', () => {
    for (const path of [EXAMPLE, FULL]) {
      const fresh = parseInventory(readFileSync(path, 'utf8'), path);
      expect(loadInventory(path, { cache: cache() })).toEqual(fresh);
      // The second read is the cache's, and equal to the parse, field by field (no undefined, NaN or Date lost in JSON).
      expect(loadInventory(path, { cache: cache() })).toStrictEqual(fresh);
      expect((JSON.parse(readFileSync(cacheFileOf(dir, path), 'utf8')) as { inventory: unknown }).inventory).toStrictEqual(fresh);
    }
  });

  it('is read on the next run of an unchanged file: what the cache holds is what is returned', () => {
    const first = loadInventory(file, { cache: cache() });
    expect(first.credentials[0]!.schedule).toBe('0 3 * * *');
    // Proof that the second run takes the cache and not the file: a change made in the cache shows.
    const held = cached();
    (held.inventory as { credentials: Array<{ schedule: string }> }).credentials[0]!.schedule = '0 5 * * *';
    writeFileSync(cacheFile(), JSON.stringify(held));
    expect(loadInventory(file, { cache: cache() }).credentials[0]!.schedule).toBe('0 5 * * *');
  });

  it('is not read after an edit of one byte of the file, and is written again for the new bytes', () => {
    loadInventory(file, { cache: cache() });
    const before = cached().sha256;
    const text = inventoryText();
    writeFileSync(file, text.replace('"0 3 * * *"', '"0 4 * * *"'));
    expect(text.length).toBe(readFileSync(file, 'utf8').length);
    expect(loadInventory(file, { cache: cache() }).credentials[0]!.schedule).toBe('0 4 * * *');
    expect(cached().sha256).not.toBe(before);
    expect(loadInventory(file, { cache: cache() }).credentials[0]!.schedule).toBe('0 4 * * *');
  });

  it('is not read by another version of the program (its schemas may differ), which writes its own', () => {
    loadInventory(file, { cache: cache('1.2.3') });
    const held = cached();
    (held.inventory as { credentials: Array<{ schedule: string }> }).credentials[0]!.schedule = '0 5 * * *';
    writeFileSync(cacheFile(), JSON.stringify(held));
    expect(loadInventory(file, { cache: cache('1.3.0') }).credentials[0]!.schedule).toBe('0 3 * * *');
    expect(cached().version).toBe('1.3.0');
  });

  it("is keyed by the schemas' files as well as the version: an edited schema file is other code", () => {
    const fingerprint = () =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `import { programFingerprint } from ${JSON.stringify(BUILD_INFO)}; console.log(programFingerprint())`],
        {
          encoding: 'utf8',
        },
      ).stdout.trim();
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;
    const { atime, mtime } = statSync(SCHEMA_FILE);
    // Whole seconds: utimes takes seconds as a float, so a checkout's nanosecond time would not
    // come back exactly, and the fingerprint counts milliseconds.
    const at = Math.floor(mtime.getTime() / 1000);
    try {
      utimesSync(SCHEMA_FILE, atime, at);
      const before = fingerprint();
      expect(before).toMatch(new RegExp(`^${version.replaceAll('.', '\\.')}\\+[0-9a-f]{16}$`));
      expect(fingerprint()).toBe(before);
      utimesSync(SCHEMA_FILE, atime, at + 1);
      expect(fingerprint()).not.toBe(before);
      utimesSync(SCHEMA_FILE, atime, at);
      expect(fingerprint()).toBe(before);
    } finally {
      utimesSync(SCHEMA_FILE, atime, mtime);
    }
  });

  it('never hides a file that no longer validates: the edit is reported, not the cached inventory returned', () => {
    loadInventory(file, { cache: cache() });
    writeFileSync(file, inventoryText('every day'));
    expect(() => loadInventory(file, { cache: cache() })).toThrow(ConfigError);
    // The cache still holds the last valid file's inventory, which only those bytes would read.
    expect(cached().inventory).toEqual(parseInventory(inventoryText(), file));
  });

  it('ignores a corrupt cache file and writes it again', () => {
    loadInventory(file, { cache: cache() });
    for (const corrupt of ['{"format":1,"vers', '', 'null', '[]', '\u0000\u0001binary']) {
      writeFileSync(cacheFile(), corrupt);
      expect(loadInventory(file, { cache: cache() })).toEqual(parseInventory(inventoryText(), file));
      expect(cached().inventory).toEqual(parseInventory(inventoryText(), file));
    }
  });

  it('makes its directory 0700 and its file 0600, and leaves no temporary file', () => {
    loadInventory(file, { cache: cache() });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([cacheFile().slice(dir.length + 1)]);
  });

  it('writes nothing but the inventory as validated, its key and the version: no secret value', () => {
    const inventory = loadInventory(file, { cache: cache() });
    const text = readFileSync(cacheFile(), 'utf8');
    expect(Object.keys(cached())).toEqual(['format', 'version', 'sha256', 'inventory']);
    expect(cached().inventory).toStrictEqual(inventory);
    // The sink names its secret's variable; the variable's value is nowhere in the cache.
    expect(text).toContain('CACHE_TEST_SLACK_URL');
    expect(text).not.toContain(SECRET_VALUE);
    expect(text).not.toContain('cache-test-secret');
  });

  it('is no cache at all, never an error, when its directory cannot be made or written', () => {
    // A directory under a regular file cannot be made, whoever runs the test (root included).
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'not a directory');
    dir = join(blocker, 'cache');
    expect(loadInventory(file, { cache: cache() })).toEqual(parseInventory(inventoryText(), file));
    expect(loadInventory(file, { cache: cache() })).toEqual(parseInventory(inventoryText(), file));
    expect(writeCachedInventory(cache(), file, readFileSync(file), { version: 1 })).toBe(false);
    expect(readCachedInventory(cache(), file, readFileSync(file))).toBeUndefined();
  });

  it('is not used in a directory others may write, nor from a file others may have written', () => {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    loadInventory(file, { cache: cache() });
    expect(readdirSync(dir)).toEqual([]);
    chmodSync(dir, 0o700);
    loadInventory(file, { cache: cache() });
    const held = cached();
    (held.inventory as { credentials: Array<{ schedule: string }> }).credentials[0]!.schedule = '0 5 * * *';
    writeFileSync(cacheFile(), JSON.stringify(held));
    chmodSync(cacheFile(), 0o666);
    // Not taken (a file others could write), and replaced by a private one.
    expect(loadInventory(file, { cache: cache() }).credentials[0]!.schedule).toBe('0 3 * * *');
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(loadInventory(file, { cache: cache() }).credentials[0]!.schedule).toBe('0 3 * * *');
  });

  it('stays whole while processes write it at the same moment, each for other file contents', async () => {
    // Four writers, each writing its own inventory's cache 40 times over, and readers checking each
    // hit against its bytes: a torn or mixed file would be unreadable or belong to other bytes.
    const writers = [0, 1, 2, 3].map((n) => {
      const text = inventoryText(`0 ${n} * * *`);
      return { text, inventory: parseInventory(text, file) };
    });
    const script = `
      import { readCachedInventory, writeCachedInventory } from ${JSON.stringify(CACHE_MODULE)};
      import { isDeepStrictEqual } from 'node:util';
      const [dir, file, text, inventory, others] = JSON.parse(process.argv[1]);
      const options = { dir, version: '1.2.3' };
      let hits = 0;
      for (let i = 0; i < 40; i += 1) {
        if (!writeCachedInventory(options, file, Buffer.from(text), inventory)) throw new Error('not written');
        for (const other of others) {
          const read = readCachedInventory(options, file, Buffer.from(other.text));
          if (read === undefined) continue;
          if (!isDeepStrictEqual(read, other.inventory)) throw new Error('a hit for other bytes');
          hits += 1;
        }
      }
      console.log(hits);
    `;
    const runs = writers.map((w) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([dir, file, w.text, w.inventory, writers])], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.once('close', (code) => resolve({ code, out })));
    });
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, r.out).toBe(0);
    expect(results.reduce((sum, r) => sum + Number(r.out.trim()), 0)).toBeGreaterThan(0);
    // One file left, whole, the last writer's: exactly one inventory's bytes read it.
    expect(readdirSync(dir)).toEqual([cacheFile().slice(dir.length + 1)]);
    const hits = writers.filter((w) => readCachedInventory(cache(), file, Buffer.from(w.text)) !== undefined);
    expect(hits).toHaveLength(1);
    expect(readCachedInventory(cache(), file, Buffer.from(hits[0]!.text))).toStrictEqual(hits[0]!.inventory);
  }, 60_000);
});
