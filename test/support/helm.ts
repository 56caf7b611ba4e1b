// Real helm for the chart tests: the binary scripts/fetch-helm.ts provides (run by `npm test`'s
// tool check; here again so that vitest alone works), and the rendered objects parsed from its output.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const chart = join(root, 'helm/credential-rotator');

function locateHelm(): string {
  const found = spawnSync(process.execPath, [join(root, 'scripts/fetch-helm.ts')], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`no helm for the chart tests: ${found.stderr.trim()}`);
  return found.stdout.trim();
}
export const helmBinary = locateHelm();

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The chart's ci/ values files (every one is linted and rendered). */
export const ciValues = readdirSync(join(chart, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join('ci', f));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Rendered {
  objects: K8sObject[];
  /** The one object of a kind (throws when there is none or several). */
  one(kind: string): K8sObject;
  all(kind: string): K8sObject[];
}

export interface RenderOptions {
  values?: string[];
  set?: string[];
  /** `--set-json` pairs, e.g. `inventory.credentials=[]`. */
  setJson?: string[];
  /** `--api-versions`: APIs the cluster is taken to serve (e.g. monitoring.coreos.com/v1). */
  apiVersions?: string[];
  release?: string;
  namespace?: string;
}

function pushOptions(args: string[], options: RenderOptions): void {
  for (const set of options.set ?? []) args.push('--set', set);
  for (const set of options.setJson ?? []) args.push('--set-json', set);
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
}

/** `helm template` with the options; the result parsed document by document. */
export function render(options: RenderOptions = {}): Rendered {
  const args = ['template', options.release ?? 'rotator', chart, '--namespace', options.namespace ?? 'rotator-ns'];
  for (const file of options.values ?? []) args.push('-f', join(chart, file));
  pushOptions(args, options);
  const result = helm(args);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(result.stdout)) {
    if (doc.errors.length > 0) throw new Error(`helm template rendered invalid YAML: ${doc.errors[0]?.message ?? ''}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  const all = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    objects,
    all,
    one(kind) {
      const found = all(kind);
      if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
      return found[0] as K8sObject;
    },
  };
}

/** `helm template` expected to fail: its error text. */
export function renderError(options: RenderOptions): string {
  const args = ['template', 'rotator', chart];
  for (const file of options.values ?? []) args.push('-f', join(chart, file));
  pushOptions(args, options);
  const result = helm(args);
  if (result.code === 0) throw new Error(`helm template succeeded with ${JSON.stringify(options)}`);
  return result.stderr;
}

/** Typed access to the pod template of a rendered Deployment. */
export interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  priorityClassName?: string;
  securityContext: Record<string, unknown>;
  containers: Array<{
    name: string;
    image: string;
    env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    securityContext: Record<string, unknown>;
    startupProbe?: { httpGet: { path: string; port: string } };
    livenessProbe?: { httpGet: { path: string; port: string }; periodSeconds: number };
    readinessProbe?: { httpGet: { path: string; port: string } };
    volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  }>;
  volumes: Array<{ name: string; emptyDir?: { sizeLimit?: string }; configMap?: { name: string } }>;
  topologySpreadConstraints?: Array<{
    topologyKey: string;
    maxSkew: number;
    labelSelector?: { matchLabels: Record<string, string> };
    matchLabelKeys?: string[];
  }>;
}
export function podOf(deployment: K8sObject): { labels: Record<string, string>; annotations: Record<string, string>; spec: PodSpec } {
  const template = (deployment.spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec } })
    .template;
  return { labels: template.metadata.labels, annotations: template.metadata.annotations, spec: template.spec };
}

/** One rule of the chart's PrometheusRule, as rendered. */
export interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The rule groups of the chart's PrometheusRule, rendered from ci/minimal-values.yaml as a cluster
 * serving the Prometheus operator's API renders them (release `rotator`, in `namespace`).
 */
export function renderedRuleGroups(namespace = 'default'): Array<{ name: string; rules: RenderedRule[] }> {
  const rendered = helm([
    'template',
    'rotator',
    chart,
    '-n',
    namespace,
    '-f',
    join(chart, 'ci/minimal-values.yaml'),
    '--set',
    'metrics.prometheusRule.enabled=true',
    '--api-versions',
    'monitoring.coreos.com/v1',
  ]);
  if (rendered.code !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  const rule = parseAllDocuments(rendered.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .find((o) => o?.kind === 'PrometheusRule');
  if (!rule) throw new Error('helm template rendered no PrometheusRule');
  return (rule.spec as { groups: Array<{ name: string; rules: RenderedRule[] }> }).groups;
}
