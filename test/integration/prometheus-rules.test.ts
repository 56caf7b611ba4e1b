// The chart's PrometheusRule, judged by Prometheus itself: the rendered rules pass `promtool check
// rules`, and `promtool test rules` runs them on series shaped as the worker (and kube-state-metrics)
// export them, proving each alert fires on its condition — with the labels and text an SRE gets —
// and stays silent on its neighbours (another release's series, a managed token). The worker's own
// /metrics passes `promtool check metrics`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { chart, helm, renderedRuleGroups, type K8sObject } from '../support/helm.ts';
import { credlyToken, runId, useScenarios } from '../support/scenario.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';

const PROMTOOL = process.env.ROTATOR_PROMTOOL ?? 'promtool';
const dir = mkdtempSync(join(tmpdir(), 'rotator-promtool-'));

function promtool(args: string[], input?: string) {
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8', cwd: dir, input, timeout: 60_000 });
  if (result.error) throw new Error(`${PROMTOOL} cannot run (${result.error.message}): install Debian's prometheus package, or set ROTATOR_PROMTOOL`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const groups = renderedRuleGroups('prod');
writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));

const RELEASE = 'rotator-credential-rotator';
const RUNBOOK = 'https://github.com/example/credential-rotator/blob/main/docs/operations.md';
const ours = `namespace="prod",service="${RELEASE}"`;
const theirs = `namespace="prod",service="other-rotator"`;
const DAY = 86_400;

/** An expected alert: its labels (alertname aside), summary and description; the runbook by its name. */
const alert = (name: string, labels: Record<string, string>, summary: string, description: string) => ({
  exp_labels: labels,
  exp_annotations: { summary, description, runbook_url: `${RUNBOOK}#${name.toLowerCase()}` },
});

describe("the chart's PrometheusRule, evaluated by Prometheus (promtool)", () => {
  it('renders and passes promtool check rules', () => {
    const check = promtool(['check', 'rules', 'rules.yaml']);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain('SUCCESS: 11 rules found');
  });

  it('fires each alert on its condition, with its labels and text, and not on another release or a managed token', () => {
    const failing = 'credential="hr",kind="credly-authorization-token"';
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: `up{${ours}}`, values: '1x180' },
            { series: `rotator_redis_up{${ours}}`, values: '1x180' },
            { series: `rotator_credential_failing{${ours},${failing}}`, values: '1x180' },
            { series: `rotator_credential_failing{${theirs},${failing}}`, values: '1x180' },
            { series: `rotator_credential_expiry_timestamp_seconds{${ours},${failing}}`, values: `${2 * 3600 + 5 * DAY}x180` },
            { series: `kube_deployment_status_replicas_unavailable{namespace="prod",deployment="${RELEASE}"}`, values: '1x180' },
            { series: `rotator_alert_sink_failures_total{${ours},sink="pager"}`, values: '0 0 0 1x177' },
            { series: `rotator_alert_sink_failures_total{${ours},sink="slack"}`, values: '0x180' },
            { series: `rotator_credential_unrevoked{${ours},${failing}}`, values: '2x180' },
            { series: `rotator_event_deliveries_total{${ours},receiver="lms",outcome="failed"}`, values: '0 0 1x178' },
            { series: `rotator_event_deliveries_total{${ours},receiver="lms",outcome="delivered"}`, values: '0 5 9x178' },
            {
              series: `rotator_radar_token_expiry_timestamp_seconds{${ours},organization_id="org",token_id="t-export",managed="false"}`,
              values: `${2 * 3600 + 10 * DAY}x180`,
            },
            {
              series: `rotator_radar_token_expiry_timestamp_seconds{${ours},organization_id="org",token_id="t-rotated",managed="true"}`,
              values: `${2 * 3600 + 3 * DAY}x180`,
            },
            { series: `rotator_radar_organization_listed{${ours},organization_id="org"}`, values: '1x180' },
            { series: `rotator_radar_organization_listed{${ours},organization_id="org-dead"}`, values: '0x180' },
          ],
          alert_rule_test: [
            {
              eval_time: '2h',
              alertname: 'CredentialRotationFailing',
              exp_alerts: [
                alert(
                  'CredentialRotationFailing',
                  { severity: 'critical', namespace: 'prod', credential: 'hr', kind: 'credly-authorization-token' },
                  'Credential hr (credly-authorization-token) is failing its checks',
                  'The last check of hr in prod failed; `rotator status` names the result.',
                ),
              ],
            },
            {
              eval_time: '2h',
              alertname: 'CredentialNearExpiry',
              exp_alerts: [
                alert(
                  'CredentialNearExpiry',
                  { severity: 'warning', namespace: 'prod', credential: 'hr', kind: 'credly-authorization-token' },
                  'Credential hr expires in 5 days',
                  'A credential inside its warning window (14 days) is not being rotated.',
                ),
              ],
            },
            { eval_time: '2h', alertname: 'CredentialRotatorDown', exp_alerts: [] },
            { eval_time: '2h', alertname: 'CredentialRotatorRedisDown', exp_alerts: [] },
            {
              eval_time: '2h',
              alertname: 'CredentialRotatorNotReady',
              exp_alerts: [
                alert(
                  'CredentialRotatorNotReady',
                  { severity: 'warning', namespace: 'prod', deployment: RELEASE },
                  `1 credential-rotator pod(s) of ${RELEASE} not ready`,
                  'Pods of the release have not been ready for 15 minutes: fewer workers take jobs, or none.',
                ),
              ],
            },
            {
              eval_time: '30m',
              alertname: 'CredentialRotatorAlertSinkFailing',
              exp_alerts: [
                alert(
                  'CredentialRotatorAlertSinkFailing',
                  { severity: 'critical', namespace: 'prod', sink: 'pager' },
                  'Alert sink pager refused alerts after every retry',
                  'An alert the worker sent through pager was lost in the last hour: other alerts of this release may not reach anyone.',
                ),
              ],
            },
            // An hour after its last failure, the sink alert is over.
            { eval_time: '2h', alertname: 'CredentialRotatorAlertSinkFailing', exp_alerts: [] },
            { eval_time: '30m', alertname: 'CredentialNotRevoked', exp_alerts: [] },
            {
              eval_time: '2h',
              alertname: 'CredentialNotRevoked',
              exp_alerts: [
                alert(
                  'CredentialNotRevoked',
                  { severity: 'warning', namespace: 'prod', credential: 'hr', kind: 'credly-authorization-token' },
                  '2 replaced credential(s) of hr still valid at the provider: revoke by hand',
                  'A credential the rotator replaced is still listed at the provider after its revoke (or the provider offers none); `rotator status` names its id.',
                ),
              ],
            },
            {
              eval_time: '30m',
              alertname: 'CredentialRotatorEventsUndelivered',
              exp_alerts: [
                alert(
                  'CredentialRotatorEventsUndelivered',
                  { severity: 'warning', namespace: 'prod', receiver: 'lms' },
                  'Event receiver lms did not take an event after every attempt',
                  'A consumer was not told of a rotation or a revoke: it reloads only when its cache expires.',
                ),
              ],
            },
            {
              eval_time: '2h',
              alertname: 'UnmanagedCredlyTokenExpiring',
              exp_alerts: [
                alert(
                  'UnmanagedCredlyTokenExpiring',
                  { severity: 'warning', namespace: 'prod', organization_id: 'org', token_id: 't-export' },
                  'Credly token t-export of organization org, managed by nobody, expires in 10 days',
                  'The expiry radar found a token no credential of the inventory manages; whatever uses it stops working at its expiry. `rotator radar` lists it.',
                ),
              ],
            },
            {
              eval_time: '2h',
              alertname: 'CredlyOrganizationUnlisted',
              exp_alerts: [
                alert(
                  'CredlyOrganizationUnlisted',
                  { severity: 'warning', namespace: 'prod', organization_id: 'org-dead' },
                  'The expiry radar cannot list Credly organization org-dead',
                  "Nothing is known of the organization's tokens: none of its token credentials could list them.",
                ),
              ],
            },
            { eval_time: '2h', alertname: 'CredentialChecksStale', exp_alerts: [] },
          ],
        },
        {
          // No worker scraped, then one that runs but never reaches Redis.
          interval: '1m',
          input_series: [
            { series: `up{${theirs}}`, values: '1x30' },
            { series: `rotator_redis_up{${ours}}`, values: '_x15 0x15' },
            { series: `up{${ours}}`, values: '_x15 1x15' },
          ],
          alert_rule_test: [
            {
              eval_time: '12m',
              alertname: 'CredentialRotatorDown',
              exp_alerts: [
                alert(
                  'CredentialRotatorDown',
                  // absent() of a comparison carries no label of its selector.
                  { severity: 'critical' },
                  `No credential-rotator worker of ${RELEASE} is up: nothing rotates or validates`,
                  'Prometheus scrapes no worker of this release: the processes are not running, or not reachable from Prometheus.',
                ),
              ],
            },
            {
              eval_time: '25m',
              alertname: 'CredentialRotatorRedisDown',
              exp_alerts: [
                alert(
                  'CredentialRotatorRedisDown',
                  { severity: 'critical', namespace: 'prod' },
                  `No credential-rotator worker of ${RELEASE} reaches Redis: nothing rotates or validates`,
                  'The workers run and are scraped, but none reaches Redis; the per-credential series show the last values read (rotator_status_read_timestamp_seconds says when).',
                ),
              ],
            },
          ],
        },
        {
          // A validated credential whose last check was at the epoch: stale past 48 hours (and 30 minutes).
          interval: '1m',
          input_series: [
            { series: `rotator_credential_last_check_timestamp_seconds{${ours},credential="degreed-us",kind="degreed-client-credentials"}`, values: '0x3100' },
          ],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'CredentialChecksStale', exp_alerts: [] },
            {
              eval_time: '50h',
              alertname: 'CredentialChecksStale',
              exp_alerts: [
                alert(
                  'CredentialChecksStale',
                  { severity: 'warning', namespace: 'prod', credential: 'degreed-us', kind: 'degreed-client-credentials' },
                  'Credential degreed-us has not been checked for 50 hours',
                  'No check of the credential ran for more than 48 hours: its schedule does not fire, or its jobs never start.',
                ),
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
    const run = promtool(['test', 'rules', 'tests.yaml']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });
});

describe("the worker's /metrics, read by promtool check metrics", () => {
  const hosts = useFakeHosts({ credly: {} });
  const scenarios = useScenarios('promtool');

  it('follows Prometheus naming and exposition rules', async () => {
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `hr-${run}`, secretId: `test/promtool/${run}/hr` });
    const t = await scenarios.build({ credentials: [t0], env: { ROTATOR_RADAR: 'on' } });
    const worker = await t.startWorker();
    await worker.waitForLog('radar: ran', 20_000);
    const metrics = await (await fetch(`http://127.0.0.1:${await worker.port()}/metrics`)).text();
    expect(metrics).toContain('rotator_radar_token_expiry_timestamp_seconds{');
    const check = promtool(['check', 'metrics'], metrics);
    // prom-client's own default metrics have lints of their own (nodejs_active_handles_total and its
    // siblings are gauges named like counters, kept for the stock dashboards); the product's have none.
    const problems = check.output.split('\n').filter((line) => line.trim() !== '');
    expect(
      problems.filter((line) => !/^nodejs_active_(handles|requests|resources)_total non-counter/.test(line)),
      check.output,
    ).toEqual([]);
    expect(problems.some((line) => line.includes('rotator_'))).toBe(false);
  }, 60_000);
});

describe('the Grafana dashboard (helm/credential-rotator/dashboards/credential-rotator.json)', () => {
  const file = readFileSync(join(chart, 'dashboards/credential-rotator.json'), 'utf8');
  const dashboard = JSON.parse(file) as { uid: string; panels: Array<{ id: number; title: string; targets: Array<{ refId: string; expr: string }> }> };
  const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p, ...t })));
  // Grafana's variables as Prometheus would receive them.
  const asQuery = (expr: string) => expr.replaceAll('$namespace', '.*').replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h');

  it('ships in a ConfigMap for the Grafana sidecar when enabled, the file as it is', () => {
    const withDashboard = helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml'), '--set', 'dashboards.grafana.enabled=true']);
    expect(withDashboard.code, withDashboard.stderr).toBe(0);
    const map = parseAllDocuments(withDashboard.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .find((o) => o?.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'))!;
    expect(map.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect((map as unknown as { data: Record<string, string> }).data['credential-rotator.json']).toBe(file);
    const without = helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml')]);
    expect(without.stdout).not.toContain('-dashboard');
  });

  it('asks Prometheus only valid queries, over series the worker exports', () => {
    expect(targets.length).toBeGreaterThanOrEqual(16);
    const rules = {
      groups: [{ name: 'dashboard', rules: targets.map((t) => ({ record: `dashboard:panel_${t.panel.id}_${t.refId}`, expr: asQuery(t.expr) })) }],
    };
    writeFileSync(join(dir, 'dashboard-rules.yaml'), stringify(rules));
    const check = promtool(['check', 'rules', 'dashboard-rules.yaml']);
    expect(check.code, check.output).toBe(0);
    const registered = new Set([...readFileSync(join(chart, '../../src/http/metrics.ts'), 'utf8').matchAll(/'(rotator_[a-z_]+)'/g)].map((m) => m[1]!));
    const used = new Set(targets.flatMap((t) => [...t.expr.matchAll(/\b(rotator_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''))));
    for (const name of used) expect(registered.has(name), `${name} is not a metric the worker exports`).toBe(true);
    // Every panel reads the rotator's own series (or its pods' process metrics, joined on rotator_build_info).
    for (const t of targets) expect(t.expr, t.panel.title).toMatch(/rotator_/);
  });
});
