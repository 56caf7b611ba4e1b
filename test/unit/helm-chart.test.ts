import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const chart = fileURLToPath(new URL('../../helm/credential-rotator/', import.meta.url));
const read = (path: string) => readFileSync(join(chart, path), 'utf8');
const schema = JSON.parse(read('values.schema.json')) as object;
const defaults = parse(read('values.yaml')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

type Values = Record<string, unknown>;
/** Helm's merge: maps merge key by key, anything else is replaced. */
function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = isMap(prior) && isMap(value) ? merge(prior, value) : value;
  }
  return out;
}
const errorsOf = (values: Values) => (validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
const withDefaults = (file: string) => merge(defaults, parse(read(file)) as Values);

describe('Helm chart values', () => {
  it('accepts the defaults with the least a real install sets, and a full example', () => {
    expect(errorsOf(withDefaults('ci/minimal-values.yaml'))).toEqual([]);
    expect(errorsOf(withDefaults('ci/full-values.yaml'))).toEqual([]);
  });

  it('requires a Redis URL or an existing Secret, and nothing else, beyond the defaults', () => {
    expect(errorsOf(defaults).some((e) => e.startsWith('/redis'))).toBe(true);
    expect(errorsOf(merge(defaults, { redis: { existingSecret: 'rotator-redis' } }))).toEqual([]);
  });

  it.each([
    [{ replicaCount: 0 }, '/replicaCount must be >= 1'],
    [{ podSecurityContext: { runAsNonRoot: false } }, '/podSecurityContext/runAsNonRoot must be equal to constant'],
    [{ securityContext: { allowPrivilegeEscalation: true } }, '/securityContext/allowPrivilegeEscalation must be equal to constant'],
    [{ replicas: 2 }, ' must NOT have additional properties'],
    [{ redis: { url: 'http://redis:6379' } }, '/redis/url must match pattern'],
    [{ serviceAccount: { roleArn: 'my-role' } }, '/serviceAccount/roleArn must match pattern'],
    [{ config: { logLevel: 'verbose' } }, '/config/logLevel must be equal to one of the allowed values'],
    // The worker refuses a lock under 5 s (a loaded host does not renew shorter leases reliably).
    [{ config: { lockDurationSeconds: 2 } }, '/config/lockDurationSeconds must be >= 5'],
    [{ inventory: { version: 2, credentials: [] } }, '/inventory/version must be equal to constant'],
  ])('refuses %j', (bad, message) => {
    expect(errorsOf(merge(withDefaults('ci/minimal-values.yaml'), bad)).join('\n')).toContain(message);
  });

  it('keeps the shutdown grace inside the pod termination grace, and the template refuses otherwise', () => {
    const config = defaults.config as { shutdownGraceSeconds: number };
    expect(defaults.terminationGracePeriodSeconds as number).toBeGreaterThan(config.shutdownGraceSeconds);
    expect(read('templates/deployment.yaml')).toMatch(/le \(int \.Values\.terminationGracePeriodSeconds\) \(int \.Values\.config\.shutdownGraceSeconds\)[\s\S]*fail/);
  });

  it('probes /healthz and /readyz, runs non-root on a read-only root filesystem, and names the IAM role', () => {
    const deployment = read('templates/deployment.yaml');
    expect(deployment).toContain('httpGet: { path: /healthz, port: http }');
    expect(deployment).toContain('httpGet: { path: /readyz, port: http }');
    expect(defaults.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(defaults.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(read('templates/serviceaccount.yaml')).toContain('eks.amazonaws.com/role-arn');
    // No template writes a secret value from values except the Redis URL Secret.
    const templates = readdirSync(join(chart, 'templates'));
    expect(templates.sort()).toEqual(['_helpers.tpl', 'configmap.yaml', 'deployment.yaml', 'pdb.yaml', 'prometheusrule.yaml', 'secret.yaml', 'service.yaml', 'serviceaccount.yaml', 'servicemonitor.yaml']);
  });
});

const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
const hasHelm = helm.status === 0;

// helm cannot be installed on the machines this project is built on; where it exists, it checks the templates too.
describe.runIf(hasHelm)('Helm chart templates (helm on PATH)', () => {
  it.each(['ci/minimal-values.yaml', 'ci/full-values.yaml'])('lints and renders with %s', (values) => {
    const lint = spawnSync('helm', ['lint', chart, '-f', join(chart, values)], { encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const rendered = spawnSync('helm', ['template', 'rotator', chart, '-f', join(chart, values)], { encoding: 'utf8' });
    expect(rendered.status, rendered.stderr).toBe(0);
    expect(rendered.stdout).toContain('kind: Deployment');
  });
});
