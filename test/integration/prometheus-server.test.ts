// Against a real Prometheus (Debian's `prometheus`, started here on a loopback port with a data
// directory of its own, stopped by pid): it scrapes a worker process that has just rotated a token,
// recreated nothing, told a consumer and listed a hand-made token with its radar, loads the chart's
// rendered alert rules, and answers every dashboard query. Each rule group must evaluate without
// error, and every dashboard panel must return data.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../scripts/local-services.ts';
import { chart, renderedRuleGroups } from '../support/helm.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, runId, useScenarios } from '../support/scenario.ts';

const PROMETHEUS = process.env.ROTATOR_PROMETHEUS ?? 'prometheus';
const hosts = useFakeHosts({ credly: {} });
const scenarios = useScenarios('prometheus');
const DAY = 86_400_000;
// The labels the ServiceMonitor's scrape would give the worker's series in namespace prod.
const TARGET_LABELS = { namespace: 'prod', service: 'rotator-credential-rotator', pod: 'rotator-0' };

let consumer: Server;
let consumerUrl = '';
beforeAll(async () => {
  consumer = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => consumer.listen(0, '127.0.0.1', resolve));
  const address = consumer.address();
  consumerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/events`;
});
afterAll(async () => {
  consumer.closeAllConnections();
  await new Promise((resolve) => consumer.close(resolve));
});

interface PromResult {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string] }> };
  error?: string;
}

async function startPrometheus(workerPort: number): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-prometheus-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: renderedRuleGroups('prod') }));
  writeFileSync(
    join(dir, 'prometheus.yaml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [{ job_name: 'rotator', static_configs: [{ targets: [`127.0.0.1:${workerPort}`], labels: TARGET_LABELS }] }],
    }),
  );
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yaml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  child.stdout?.resume();
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });
  if (spawned) throw new Error(`${PROMETHEUS} cannot run (${spawned.message}): install Debian's prometheus package, or set ROTATOR_PROMETHEUS`);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function query(url: string, expr: string): Promise<PromResult> {
  return (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as PromResult;
}

describe('a real Prometheus scraping a worker process', () => {
  it('scrapes it, evaluates every rule group without error, and answers every dashboard panel with data', async () => {
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `hr-${run}`, secretId: `test/prometheus/${run}/hr`, extra: 'revokePreviousAfter: 2s' });
    // A token made by hand in the same organization, expiring in 12 days: the radar's unmanaged token.
    hosts.credly.state.addToken(t0.organizationId, { description: 'payroll export (by hand)', expiresAt: new Date(Date.now() + 12 * DAY) });
    const t = await scenarios.build({
      credentials: [t0],
      more: `events:\n  - id: lms\n    url: ${consumerUrl}\n    signingSecret: { env: TEST_EVENTS_SECRET }\n`,
      env: { ROTATOR_RADAR: 'on', TEST_EVENTS_SECRET: `events-${run}` },
    });
    const worker = await t.startWorker();
    await worker.waitForLog('radar: ran', 20_000);
    const prometheus = await startPrometheus(await worker.port());
    try {
      // Scraped before and after the work, so rates and increases see it happen.
      await expect.poll(async () => (await query(prometheus.url, 'up{job="rotator"}')).data.result[0]?.value?.[1], { timeout: 20_000 }).toBe('1');
      const trigger = await t.command(['trigger', t0.id, '--force', '--wait']);
      expect(trigger.code, trigger.output).toBe(0);
      // The delayed revoke ends the overlap; its job and the revoked event are scraped too.
      await expect
        .poll(async () => (await query(prometheus.url, 'sum(rotator_event_deliveries_total{outcome="delivered"})')).data.result[0]?.value?.[1], {
          timeout: 30_000,
        })
        .toBe('2');
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      // Every rule group loaded and evaluated, none with an error.
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
      };
      const loaded = rules.data.groups.flatMap((g) => g.rules);
      expect(loaded).toHaveLength(11);
      for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
      // The scrape's own labels make the rules' release selector match: the radar's token alerts.
      const firing = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string> }> } };
      expect(firing.data.alerts.map((a) => a.labels.alertname)).toContain('UnmanagedCredlyTokenExpiring');

      // Every dashboard panel's queries return data.
      const dashboard = JSON.parse(readFileSync(join(chart, 'dashboards/credential-rotator.json'), 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      const empty: string[] = [];
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = target.expr.replaceAll('$namespace', 'prod').replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h');
          const result = await query(prometheus.url, expr);
          expect(result.status, `${panel.title}: ${result.error ?? ''}`).toBe('success');
          if (result.data.result.length === 0) empty.push(`${panel.title}: ${expr}`);
        }
      }
      expect(empty, 'panels without data').toEqual([]);
    } finally {
      await prometheus.stop();
    }
  }, 180_000);
});
