// docs/operations.md has an entry, with a stable anchor, for every alert the worker sends (each
// `type` and `topic` of src/alerts/alert.ts) and for every alert of the chart's PrometheusRule; and
// every runbook_url the chart renders points at an anchor of that page.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { anchorsOf, headingsOf } from '../support/markdown.ts';
import { chart, renderedRuleGroups } from '../support/helm.ts';

const root = resolve(import.meta.dirname, '../..');
const operations = readFileSync(join(root, 'docs/operations.md'), 'utf8');
const headings = headingsOf(operations);
const anchors = anchorsOf(operations);

/** The string literals of a property's union type in an interface of src/alerts/alert.ts. */
function alertLiterals(property: string): string[] {
  const path = join(root, 'src/alerts/alert.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const literals: string[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'Alert') return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || member.name.getText(source) !== property || !member.type) continue;
      const types = ts.isUnionTypeNode(member.type) ? member.type.types : [member.type];
      for (const t of types) if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) literals.push(t.literal.text);
    }
  });
  return literals;
}

/** The entry (heading) whose text names `code` in inline code, under "Alerts the worker sends". */
function entryNaming(code: string) {
  const section = headings.find((h) => h.text === 'Alerts the worker sends')!;
  const end = headings.find((h) => h.level <= section.level && h.line > section.line)?.line ?? Infinity;
  return headings.find((h) => h.line > section.line && h.line < end && h.text.includes(`\`${code}\``));
}

describe('docs/operations.md: an entry for every alert the worker sends', () => {
  const types = alertLiterals('type');
  const topics = alertLiterals('topic');

  it('reads the types and topics from src/alerts/alert.ts', () => {
    expect(types).toEqual(expect.arrayContaining(['failure', 'resolved', 'warning']));
    expect(topics).toEqual(expect.arrayContaining(['unrevoked', 'logout-failed', 'unproven', 'force-cooldown']));
  });

  it('has one entry per type (`type: …`) and per topic (`topic: …`), each with its anchor', () => {
    for (const code of [...types.map((t) => `type: ${t}`), ...topics.map((t) => `topic: ${t}`)]) {
      const entry = entryNaming(code);
      expect(entry, code).toBeDefined();
      expect(anchors.has(entry!.slug), code).toBe(true);
    }
  });

  it('keeps the anchors other pages and older links use', () => {
    for (const anchor of [
      'warning-forced-rotation-refused-topic-force-cooldown',
      'warning-not-provably-this-secrets-topic-unproven',
      'warning-a-replaced-credential-not-revoked-topic-unrevoked',
      'left-alone-for-a-person-leftalone',
      'failure-type-failure',
    ])
      expect(anchors.has(anchor), anchor).toBe(true);
  });
});

describe("docs/operations.md: an entry for every alert of the chart's PrometheusRule", () => {
  const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { metrics: { prometheusRule: { runbookBaseUrl: string } } };
  const base = values.metrics.prometheusRule.runbookBaseUrl;
  const rules = renderedRuleGroups().flatMap((g) => g.rules);

  it('points runbook_url at docs/operations.md by default', () => {
    expect(base).toMatch(/\/docs\/operations\.md$/);
    expect(rules.length).toBeGreaterThanOrEqual(4);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s: has its entry, and its runbook_url resolves to an anchor of the page', (alert, r) => {
    expect(headings.map((h) => h.text)).toContain(alert);
    const url = r.annotations.runbook_url!;
    expect(url.startsWith(`${base}#`), url).toBe(true);
    const anchor = url.slice(base.length + 1);
    expect(anchors.has(anchor), `#${anchor}`).toBe(true);
    expect(headings.find((h) => h.slug === anchor)?.text).toBe(alert);
  });
});
