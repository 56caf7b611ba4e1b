import { describe, expect, it } from 'vitest';
import { RENDER_CHUNK, renderStatusJson, renderStatusPage } from '../../src/http/status-page.ts';
import type { CredentialView, StatusView } from '../../src/status/collect.ts';

const credential = (i: number): CredentialView => ({
  id: `cred-${i}`,
  kind: 'degreed-client-credentials',
  state: 'failing',
  lastResult: 'failed',
  lastSummary: `answered 503 "quoted" <${i}>`,
  errorClass: 'ProviderUnavailableError',
  lastCheckAt: '2026-11-23T06:00:00.000Z',
  lastSuccessAt: null,
  expiresAt: null,
  daysToExpiry: null,
  lastRotatedAt: null,
  previousState: null,
  previousStateClass: null,
  unrevoked: [],
  unproven: [],
  leftAlone: [],
  nextRunAt: '2026-11-24T03:00:00.000Z',
});

// More credentials than two chunks, and not a multiple of one: every row once, in order.
const view: StatusView = {
  generatedAt: '2026-11-23T06:00:00.000Z',
  credentials: Array.from({ length: 2 * RENDER_CHUNK + 7 }, (_, i) => credential(i)),
  queue: { waiting: 1, active: 0 },
  redis: 'reachable',
  readAt: '2026-11-23T06:00:00.000Z',
};

describe('status bodies rendered in chunks', () => {
  it('/status.json is the whole view, every credential in order, one line each', async () => {
    const text = await renderStatusJson(view);
    expect(JSON.parse(text)).toEqual(view);
    expect(text.split('\n').filter((l) => l.startsWith('    {"id":"cred-'))).toHaveLength(view.credentials.length);
    expect(JSON.parse(await renderStatusJson({ ...view, credentials: [] }))).toEqual({ ...view, credentials: [] });
  });

  it('/status has one row per credential, in order', async () => {
    const page = await renderStatusPage(view);
    const ids = [...page.matchAll(/data-credential="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(view.credentials.map((c) => c.id));
    expect(page).toContain('answered 503 &#34;quoted&#34; &#60;3&#62;');
  });
});
