// Every relative link and #anchor of the README and docs/*.md resolves: the file exists, and the
// anchor is a heading (or <a id>) of the file it points into.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, headingsOf, linksOf, slugOf } from '../support/markdown.ts';

const root = resolve(import.meta.dirname, '../..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The problems of one document's links: a missing file, or an anchor its target does not have. */
function brokenLinks(document: string): string[] {
  const text = readFileSync(join(root, document), 'utf8');
  const problems: string[] = [];
  for (const { target, line } of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not this repository's
    const [path = '', anchor] = target.split('#', 2);
    const file = path === '' ? join(root, document) : resolve(dirname(join(root, document)), decodeURIComponent(path));
    const where = `${document}:${line}: ${target}`;
    if (!existsSync(file)) {
      problems.push(`${where}: no file ${relative(root, file)}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(file).isDirectory() || !file.endsWith('.md')) {
      problems.push(`${where}: an anchor into a file that is not Markdown`);
      continue;
    }
    if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) problems.push(`${where}: no heading with anchor #${anchor} in ${relative(root, file)}`);
  }
  return problems;
}

describe('links between the README and the docs', () => {
  it('reads the README and every document under docs/', () => {
    expect(documents).toEqual(expect.arrayContaining(['README.md', 'docs/install.md', 'docs/configuration.md', 'docs/operations.md']));
    expect(documents.length).toBeGreaterThanOrEqual(12);
  });

  it.each(documents)('%s: every relative link and anchor resolves', (document) => {
    expect(brokenLinks(document)).toEqual([]);
  });

  it('the README links every document under docs/', () => {
    const linked = new Set(linksOf(readFileSync(join(root, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]));
    for (const document of documents.filter((d) => d.startsWith('docs/'))) expect(linked, document).toContain(document);
  });

  it('finds a broken file, a broken anchor and a good one (the check itself)', () => {
    const text = '# Title\n\n## A `code` heading: yes\n\n[ok](#a-code-heading-yes) [bad](#nope)\n';
    expect(headingsOf(text).map((h) => h.slug)).toEqual(['title', 'a-code-heading-yes']);
    expect(slugOf("Warning: not provably this secret's (`topic: unproven`)")).toBe('warning-not-provably-this-secrets-topic-unproven');
    expect(linksOf(text).map((l) => l.target)).toEqual(['#a-code-heading-yes', '#nope']);
    expect(linksOf('```\n[not a link](x.md)\n```\n`[nor](y.md)`\n')).toEqual([]);
  });
});
