import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.ts';
import type { StatusView } from '../../src/status/collect.ts';

const CHROMIUM = process.env.ROTATOR_CHROMIUM ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'rotator-page-'));
const view: StatusView = {
  generatedAt: '2026-11-23T06:00:00.000Z',
  queue: { waiting: 0, active: 1, delayed: 2, failed: 0 },
  credentials: [
    {
      id: 'credly-main',
      kind: 'credly-authorization-token',
      state: 'ok',
      lastResult: 'rotated',
      lastSummary: 'rotated: new credential in AWSCURRENT',
      errorClass: null,
      lastCheckAt: '2026-11-23T03:00:01.000Z',
      lastSuccessAt: '2026-11-23T03:00:01.000Z',
      expiresAt: '2027-05-21T03:00:00.000Z',
      daysToExpiry: 179,
      lastRotatedAt: '2026-11-23T03:00:01.000Z',
      previousState: 'revoked',
      previousStateClass: 'revoked',
      unrevoked: [],
      unproven: [],
      leftAlone: [],
      nextRunAt: '2026-11-24T03:00:00.000Z',
    },
    {
      id: 'credly-eu',
      kind: 'credly-authorization-token',
      state: 'failing',
      lastResult: 'failed',
      lastSummary: 'create failed: 403',
      errorClass: 'ProviderAuthError',
      lastCheckAt: '2026-11-23T03:00:02.000Z',
      lastSuccessAt: '2026-11-22T03:00:02.000Z',
      expiresAt: '2026-11-28T03:00:00.000Z',
      daysToExpiry: 5,
      lastRotatedAt: null,
      previousState: null,
      previousStateClass: null,
      unrevoked: [],
      unproven: [],
      leftAlone: [],
      nextRunAt: '2026-11-24T03:00:00.000Z',
    },
    {
      id: 'degreed-eu',
      kind: 'degreed-client-credentials',
      state: 'unknown',
      lastResult: null,
      lastSummary: null,
      errorClass: null,
      lastCheckAt: null,
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
    },
  ],
};
let server: OpsServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (npm test installs it as root), or set ROTATOR_CHROMIUM`);
  const status = async () => view;
  server = await startOpsServer({
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(status),
    runtime: { redis: { ping: async () => 'PONG' }, status, publicMessages: true },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('status page in headless Chromium', () => {
  it('shows every credential with its state and the time left before expiry, and renders to a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 500 } });
    const response = await page.goto(`http://127.0.0.1:${server.port}/status`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('credential-rotator status');
    const rows = [];
    for (const row of await page.locator('tbody tr').all()) {
      const meter = row.locator('[role=meter]');
      rows.push({
        id: await row.getAttribute('data-credential'),
        state: await row.locator('.state').textContent(),
        meter: (await meter.count()) ? await meter.getAttribute('aria-valuenow') : null,
        lastSuccess: await row.locator('.last-success').textContent(),
      });
    }
    expect(rows).toEqual([
      { id: 'credly-main', state: 'ok', meter: '179', lastSuccess: 'last success: 2026-11-23T03:00:01.000Z' },
      { id: 'credly-eu', state: 'failing', meter: '5', lastSuccess: 'last success: 2026-11-22T03:00:02.000Z' },
      { id: 'degreed-eu', state: 'unknown', meter: null, lastSuccess: 'last success: never' },
    ]);
    // The bars are drawn: full-ish and green for 179 days, short and red inside the critical week.
    const fills = page.locator('.fill');
    expect((await fills.nth(0).boundingBox())!.width).toBeGreaterThan(150);
    expect((await fills.nth(1).boundingBox())!.width).toBeLessThan(10);
    const colors = await page.evaluate<string[]>("[...document.querySelectorAll('.fill')].map((el) => getComputedStyle(el).backgroundColor)");
    expect(colors).toEqual(['rgb(31, 157, 85)', 'rgb(200, 30, 30)']);
    const shot = join(dir, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    if (process.env.ROTATOR_KEEP_SCREENSHOT) copyFileSync(shot, process.env.ROTATOR_KEEP_SCREENSHOT);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.length).toBeGreaterThan(10_000);
    await page.close();
  }, 60_000);
});
