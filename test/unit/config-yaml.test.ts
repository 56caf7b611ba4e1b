import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { readYaml } from '../../src/config/load.ts';

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
  it('reads every fixture and tricky snippet exactly as the yaml library does', () => {
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
});
