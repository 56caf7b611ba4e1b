// docs/audit.md is the audit lines' schema: its table of events is the code's, word for word.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_SCHEMA_VERSION } from '../../src/log/audit.ts';

const doc = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');

describe('docs/audit.md', () => {
  it('lists every audit event with the meaning the code gives it, and no other', () => {
    const rows = [...doc.matchAll(/^\| `([a-z]+\.[a-z]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(AUDIT_EVENTS));
  });

  it('names the schema version the worker writes', () => {
    expect(doc).toContain(`## Schema, version ${AUDIT_SCHEMA_VERSION}`);
    expect(doc).toContain(`| \`auditVersion\` | yes | \`${AUDIT_SCHEMA_VERSION}\`.`);
  });
});
