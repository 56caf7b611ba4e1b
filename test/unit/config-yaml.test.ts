import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { readYaml } from '../../src/config/load.ts';
import { loadInventory } from '../../src/kinds/registry.ts';

const fixtures = join(import.meta.dirname, '../fixtures/inventories');
function reference(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw doc.errors[0]!;
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

// Scalars where YAML parsers are known to differ (1.1 against 1.2 rules), and layouts they must agree on.
const snippets = [
  'a: yes\nb: on\nc: off\nd: no\ne: y\n',
  'a: 0o14\nb: 014\nc: 0x1F\nd: 1_000\ne: .inf\nf: -.Inf\ng: .nan\n',
  'a: ~\nb: null\nc:\nd: Null\n',
  'a: 2026-01-01\nb: 2026-01-01T10:00:00Z\nc: 12:30:00\n',
  "a: \"quoted: with colon\"\nb: 'single''s'\nc: plain text # a comment\n",
  'a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n',
  'a: { x: 1, y: [2, 3] }\nb: [ "p", q ]\n',
  '---\nversion: 1\ncredentials: []\n...\n',
  'version: 1\r\ncredentials:\r\n  - id: x\r\n    kind: k\r\n',
  '\ufeffversion: 1\n',
  'a: 1e3\nb: +12\nc: -0\nd: 0.5\ne: "1"\n',
  'key with spaces: v\n"quoted key": w\n? explicit\n: z\n',
];

describe('reading inventory YAML', () => {
  it('reads scalars by the YAML 1.2 core schema: no yes/on booleans, no sexagesimals, no timestamps, octal only as 0o', () => {
    expect(readYaml(snippets[0]!, 'inventory')).toEqual({ a: 'yes', b: 'on', c: 'off', d: 'no', e: 'y' });
    expect(readYaml(snippets[1]!, 'inventory')).toEqual({ a: 12, b: 14, c: 31, d: '1_000', e: Infinity, f: -Infinity, g: NaN });
    expect(readYaml(snippets[3]!, 'inventory')).toEqual({ a: '2026-01-01', b: '2026-01-01T10:00:00Z', c: '12:30:00' });
  });

  it('reads every fixture and tricky snippet as the yaml library does with the options it is read with', () => {
    const texts = [
      ...readdirSync(join(fixtures, 'bad')).map((f) => readFileSync(join(fixtures, 'bad', f), 'utf8')),
      readFileSync(join(fixtures, 'valid-full.yaml'), 'utf8'),
      ...snippets,
    ];
    let compared = 0;
    for (const text of texts) {
      let expected: unknown;
      try {
        expected = reference(text);
      } catch {
        continue; // not YAML for the reference either: covered by the error tests below
      }
      expect(readYaml(text, 'inventory'), text).toEqual(expected);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('keeps anchors and aliases usable, and still refuses an alias bomb', () => {
    expect(readYaml('base: &s [users:read]\nother: *s\n', 'inventory')).toEqual({ base: ['users:read'], other: ['users:read'] });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i += 1)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    expect(() => readYaml(bomb.join('\n'), 'inventory')).toThrow(ConfigError);
  });

  it('refuses a duplicate key with the line and column, and never echoes the source', () => {
    const error = (() => {
      try {
        readYaml('version: 1\nsecret: hunter2-value\nsecret: other\n', 'inv.yaml');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('line 3');
    expect(error.message).toContain('Map keys must be unique');
    expect(error.message).not.toContain('hunter2-value');
  });

  it('names the file, the line and the column of a tab indentation, an unclosed quote and an unclosed flow sequence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-yaml-'));
    const cases: Array<[string, string, string]> = [
      ['tab.yaml', 'version: 1\ncredentials:\n\t- id: a\n', 'tab.yaml: (root): YAML syntax error at line 3, column 1: Tabs are not allowed as indentation'],
      ['quote.yaml', 'version: 1\ncredentials:\n  - id: "credly-main\n    kind: credly-authorization-token\n', 'at line 5, column 1: Missing closing "quote'],
      [
        'flow.yaml',
        'version: 1\ncredentials:\n  - id: a\n    kind: [unclosed\n',
        'at line 5, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ];
    for (const [name, text, expected] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const error = (() => {
        try {
          loadInventory(path);
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error(`${name} was accepted`);
      })();
      expect(error, name).toBeInstanceOf(ConfigError);
      const lines = error.format().split('\n');
      expect(lines[0], name).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\(root\\): YAML syntax error at line \\d+, column \\d+: `));
      expect(lines[0], name).toContain(expected.replace(/^[a-z]+\.yaml: /, ''));
      expect(error.format(), name).not.toContain('credly-main');
    }
  });

  it('refuses a tag no schema resolves instead of reading it as a string, and keeps merge keys plain keys (YAML 1.2)', () => {
    expect(() => readYaml('version: 1\nkind: !custom credly\n', 'inv.yaml')).toThrow(
      /inv\.yaml: 1 configuration problem\(s\): \(root\): YAML syntax error at line 2, column 7: Unresolved tag: !custom/,
    );
    expect(readYaml('a: &x { b: 1 }\nc:\n  <<: *x\n', 'inventory')).toEqual({ a: { b: 1 }, c: { '<<': { b: 1 } } });
    expect(readYaml('a: !!str 12\n', 'inventory')).toEqual({ a: '12' });
  });
});
