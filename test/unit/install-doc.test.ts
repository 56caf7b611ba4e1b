// docs/install.md as a user follows it: its values file and its `helm install` command, rendered by
// real helm (v4, scripts/fetch-helm.ts), give the release the page says; its inventory is one the
// rotator loads; its names (the ServiceAccount in the trust policies, the Deployment in the
// commands) are the ones the chart renders.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseInventory } from '../../src/kinds/registry.ts';
import { chart, helm, type K8sObject, type PodSpec } from '../support/helm.ts';
import { codeBlocksOf } from '../support/markdown.ts';

const root = resolve(import.meta.dirname, '../..');
const install = readFileSync(join(root, 'docs/install.md'), 'utf8');
const blocks = codeBlocksOf(install);

/** The shell words of the page's `helm install` command (its continuation lines joined). */
const helmInstall = blocks
  .filter((b) => b.info === 'sh')
  .map((b) => b.text.replace(/\\\n\s*/g, ''))
  .flatMap((text) => text.split('\n'))
  .find((line) => line.startsWith('helm install '))!;
const valuesBlock = blocks.find((b) => b.info === 'yaml' && b.text.startsWith('# my-values.yaml'))!;

const dir = mkdtempSync(join(tmpdir(), 'install-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `helm template` with the page's command: its release, chart, namespace, values file and --set, a digest filled in. */
function renderAsThePageSays(extra: string[] = []): K8sObject[] {
  const words = helmInstall.split(/\s+/);
  const [, , release, chartPath] = words;
  expect(chartPath).toBe('helm/credential-rotator');
  const args = ['template', release!, chart];
  for (let i = 4; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--namespace') args.push('--namespace', words[++i]!);
    else if (word === '-f') {
      expect(words[++i]).toBe('my-values.yaml');
      const file = join(dir, 'my-values.yaml');
      writeFileSync(file, valuesBlock.text);
      args.push('-f', file);
    } else if (word === '--set') args.push('--set', words[++i]!.replace('sha256:<digest>', `sha256:${'a'.repeat(64)}`));
    else expect(word, 'a flag helm template takes as well').toBe('--create-namespace');
  }
  // --api-versions: a cluster serving the Prometheus operator's API, as step 6 assumes.
  const result = helm([...args, '--api-versions', 'monitoring.coreos.com/v1', ...extra]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const one = (objects: K8sObject[], kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

describe('docs/install.md, rendered as written', () => {
  it('finds the values file and the helm install command on the page', () => {
    expect(valuesBlock).toBeDefined();
    expect(helmInstall).toMatch(/^helm install rotator helm\/credential-rotator --namespace credential-rotator .*-f my-values\.yaml .*--set image\.digest=/);
  });

  it('installs the image of step 2 by digest, with the role of step 3 and the Redis Secret of step 4', () => {
    const objects = renderAsThePageSays();
    const deployment = one(objects, 'Deployment');
    expect(deployment.metadata.name).toBe('rotator-credential-rotator');
    expect(deployment.metadata.namespace).toBe('credential-rotator');
    const pod = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
    expect(pod.containers[0]!.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/credential-rotator@sha256:${'a'.repeat(64)}`);
    const account = one(objects, 'ServiceAccount');
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe('arn:aws:iam::123456789012:role/credential-rotator');
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    const redis = pod.containers[0]!.env.find((e) => e.name === 'REDIS_URL');
    expect(redis?.valueFrom?.secretKeyRef).toEqual({ name: 'rotator-redis', key: 'redis-url' });
    expect(pod.containers[0]!.env.find((e) => e.name === 'AWS_REGION')?.value).toBe('eu-west-1');
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy']));
  });

  it('puts an inventory the rotator loads into the ConfigMap', () => {
    const configMap = one(renderAsThePageSays(), 'ConfigMap');
    const inventory = parseInventory((configMap.data as Record<string, string>)['inventory.yaml']!);
    expect(inventory.credentials.map((c) => c.id)).toEqual(['credly-main', 'degreed-eu']);
  });

  it('names the ServiceAccount and Deployment the chart renders, in the trust policy, the association and the commands', () => {
    const account = one(renderAsThePageSays(), 'ServiceAccount');
    const irsa = blocks.find((b) => b.info === 'json' && b.text.includes('sts:AssumeRoleWithWebIdentity'))!;
    const condition = (JSON.parse(irsa.text) as { Statement: Array<{ Condition: { StringEquals: Record<string, string> } }> }).Statement[0]!.Condition;
    const subject = Object.entries(condition.StringEquals).find(([key]) => key.endsWith(':sub'))![1];
    expect(subject).toBe(`system:serviceaccount:${account.metadata.namespace}:${account.metadata.name}`);
    expect(install).toContain(`--namespace ${account.metadata.namespace} \\\n  --service-account ${account.metadata.name} `);
    for (const m of install.matchAll(/(?:deployment\/|deploy\/)([a-z0-9-]+)/g)) expect(m[1]).toBe('rotator-credential-rotator');
  });

  it('shows why the image must be set: without it the chart refuses to render, naming it', () => {
    const defaults = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { image: { repository: string } };
    expect(defaults.image.repository).toBe('');
    expect(install).toContain('credential-rotator needs values: set image.repository');
    const file = join(dir, 'my-values.yaml');
    writeFileSync(file, valuesBlock.text);
    const refused = helm(['template', 'rotator', chart, '-f', file, '--set', 'image.repository=']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('credential-rotator needs values: set image.repository');
  });

  it('gives Redis topologies the chart turns into the variables the rotator reads', () => {
    const env = (snippet: string) => {
      const file = join(dir, 'redis.yaml');
      writeFileSync(file, blocks.find((b) => b.info === 'yaml' && b.text.startsWith(snippet))!.text);
      const pod = (one(renderAsThePageSays(['-f', file]), 'Deployment').spec as { template: { spec: PodSpec } }).template.spec;
      return new Map(pod.containers[0]!.env.map((e) => [e.name, e]));
    };
    const cluster = env('# cluster:');
    expect(cluster.get('REDIS_CLUSTER_NODES')?.valueFrom?.secretKeyRef).toEqual({ name: 'rotator-redis', key: 'redis-url' });
    expect(cluster.get('ROTATOR_QUEUE_PREFIX')?.value).toBe('{rotator}');
    const sentinel = env('# sentinel:');
    expect(sentinel.get('REDIS_SENTINELS')?.value).toBe('sentinel-1.redis:26379,sentinel-2.redis:26379,sentinel-3.redis:26379');
    expect(sentinel.get('REDIS_SENTINEL_NAME')?.value).toBe('mymaster');
    expect(sentinel.get('REDIS_TLS')?.value).toBe('on');
    expect(sentinel.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'rotator-redis', key: 'redis-url' });
    expect(sentinel.get('REDIS_SENTINEL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'rotator-redis', key: 'sentinel-password' });
  });

  it('gives the Pod Identity agent egress the chart accepts', () => {
    const extra = blocks.find((b) => b.info === 'yaml' && b.text.includes('169.254.170.23'))!;
    const file = join(dir, 'pod-identity.yaml');
    writeFileSync(file, extra.text);
    const policy = one(renderAsThePageSays(['-f', file]), 'NetworkPolicy');
    expect(JSON.stringify(policy.spec)).toContain('169.254.170.23/32');
  });
});
