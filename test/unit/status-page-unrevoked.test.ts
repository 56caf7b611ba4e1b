import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../src/http/status-page.ts';
import type { CredentialView } from '../../src/status/collect.ts';

const row = (unrevoked: string[]): CredentialView => ({
  id: 'credly-main',
  kind: 'credly-authorization-token',
  state: 'ok',
  lastResult: 'not-due',
  lastSummary: null,
  errorClass: null,
  lastCheckAt: '2026-11-23T03:00:01.000Z',
  lastSuccessAt: '2026-11-23T03:00:01.000Z',
  expiresAt: '2027-05-21T03:00:00.000Z',
  daysToExpiry: 179,
  lastRotatedAt: null,
  previousState: null,
  previousStateClass: null,
  unrevoked,
  unproven: [],
  leftAlone: [],
  nextRunAt: '2026-11-24T03:00:00.000Z',
});

describe('status page: replaced credentials NOT revoked', () => {
  it('names their ids on the credential, escaped, and says nothing when there are none', async () => {
    const page = (unrevoked: string[]) => renderStatusPage({ generatedAt: '2026-11-23T06:00:00.000Z', queue: {}, credentials: [row(unrevoked)] });
    expect(await page(['0d9f0000-0000-4000-8000-000000000001', '<b>'])).toContain(
      'NOT revoked: 0d9f0000-0000-4000-8000-000000000001, &#60;b&#62; — revoke by hand',
    );
    expect(await page([])).not.toContain('NOT revoked');
  });
});

describe("status page: credentials not provably the secret's own", () => {
  it('names their ids on the credential, escaped, and says nothing when there are none', async () => {
    const page = (unproven: string[]) => renderStatusPage({ generatedAt: '2026-11-23T06:00:00.000Z', queue: {}, credentials: [{ ...row([]), unproven }] });
    expect(await page(['4711', '<i>'])).toContain("not provably this secret's, never deleted: 4711, &#60;i&#62; — check by hand");
    expect(await page([])).not.toContain('not provably');
  });
});
