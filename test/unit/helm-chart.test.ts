// The chart, linted and rendered by real helm (v4, scripts/fetch-helm.ts); every assertion is on the
// parsed objects helm renders.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnv } from '../../src/config/index.ts';
import { RATE_LIMIT_VARIABLES } from '../../src/kinds/registry.ts';
import { chart, ciValues, helm, podOf, render, renderError, type K8sObject } from '../support/helm.ts';

const selector = (release: string, name = 'credential-rotator') => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': release });

describe('helm lint and helm template on every ci/ values file', () => {
  it('finds the three example values files', () => {
    expect(ciValues).toEqual(['ci/full-values.yaml', 'ci/inline-url-values.yaml', 'ci/minimal-values.yaml']);
  });

  it.each(ciValues)('%s: lints clean (--strict) and renders a hardened worker', (values) => {
    const lint = helm(['lint', '--strict', chart, '-f', join(chart, values)]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');

    const rendered = render({ values: [values] });
    const deployment = rendered.one('Deployment');
    const { spec, annotations } = podOf(deployment);
    const [container] = spec.containers;
    expect(spec.containers).toHaveLength(1);
    // Non-root, nothing writable but /tmp, no API token, no privilege.
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(spec.automountServiceAccountToken).toBe(false);
    const tmp = spec.volumes.find((v) => v.name === 'tmp');
    expect(tmp?.emptyDir?.sizeLimit).toMatch(/^\d+Mi$/);
    expect(container?.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(container?.volumeMounts).toContainEqual({ name: 'inventory', mountPath: '/config', readOnly: true });
    // Liveness never follows Redis; readiness does.
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    // The Redis URL only ever from a Secret; the pods restart when the inventory or the Secret's reference changes.
    const redisUrl = container?.env.find((e) => e.name === 'REDIS_URL');
    expect(redisUrl?.value).toBeUndefined();
    expect(redisUrl?.valueFrom?.secretKeyRef?.name).toBeTruthy();
    expect(annotations['checksum/redis']).toMatch(/^[0-9a-f]{64}$/);
    // Every object carries the release's labels, and every name is a DNS label.
    for (const object of rendered.objects) {
      expect(object.metadata.labels, object.kind).toMatchObject({ 'app.kubernetes.io/instance': 'rotator', 'app.kubernetes.io/managed-by': 'Helm' });
      expect(object.metadata.name.length, object.metadata.name).toBeLessThanOrEqual(63);
    }
    // No template writes a secret value but the Redis URL Secret of redis.url.
    for (const secret of rendered.all('Secret')) expect(Object.keys(secret.stringData as object)).toEqual(['redis-url']);
  });
});

describe('the chart with its defaults (minimal values)', () => {
  const rendered = render({ values: ['ci/minimal-values.yaml'] });
  const deployment = rendered.one('Deployment');
  const { spec, labels } = podOf(deployment);

  const inventoryName = rendered.one('ConfigMap').metadata.name;

  it('renders exactly the objects a default install needs', () => {
    expect(rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      `ConfigMap/${inventoryName}`,
      'Deployment/rotator-credential-rotator',
      'NetworkPolicy/rotator-credential-rotator',
      'PodDisruptionBudget/rotator-credential-rotator',
      'Service/rotator-credential-rotator',
      'ServiceAccount/rotator-credential-rotator',
    ]);
    for (const object of rendered.objects) expect(object.metadata.namespace).toBe('rotator-ns');
    expect(rendered.one('ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('reads the Redis URL from the existing Secret and wires every setting into the environment', () => {
    const env = Object.fromEntries(spec.containers[0]?.env.map((e) => [e.name, e.value ?? e.valueFrom]) ?? []);
    expect(env).toEqual({
      ROTATOR_CONFIG: '/config/inventory.yaml',
      ROTATOR_HTTP_PORT: '8080',
      ROTATOR_CACHE_DIR: '/tmp/rotator-cache',
      REDIS_URL: { secretKeyRef: { name: 'rotator-redis', key: 'redis-url' } },
      LOG_LEVEL: 'info',
      ROTATOR_QUEUE_PREFIX: '{rotator}',
      ROTATOR_SHUTDOWN_GRACE: '30s',
      ROTATOR_LOCK_DURATION: '30s',
      ROTATOR_JOB_ATTEMPTS: '5',
      ROTATOR_JOB_BACKOFF: '5s',
      ROTATOR_ALLOW_PLAINTEXT_REDIS: 'false',
      ROTATOR_CONCURRENCY: '4',
      ROTATOR_REQUEST_TIMEOUT: '15s',
      ROTATOR_ESCALATE_AFTER: '6h',
      ROTATOR_CREDLY_RATE_LIMIT: '10/s',
      ROTATOR_STATUS_PUBLIC_MESSAGES: 'false',
      ROTATOR_RADAR: 'on',
    });
    const inventory = rendered.one('ConfigMap').data as { 'inventory.yaml': string };
    expect(inventory['inventory.yaml']).toContain('id: degreed-eu');
  });

  it('spreads replicas over zones and nodes, with a startup probe and a PDB that lets unhealthy pods go', () => {
    expect(spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector('rotator') },
        matchLabelKeys: ['pod-template-hash'],
      },
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector('rotator') },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
    expect(spec.containers[0]?.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(rendered.one('PodDisruptionBudget').spec).toEqual({
      minAvailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: selector('rotator') },
    });
    expect((deployment.spec as { selector: unknown }).selector).toEqual({ matchLabels: selector('rotator') });
    expect(labels).toMatchObject(selector('rotator'));
  });

  it('names the inventory ConfigMap by the hash of its content, immutable, and mounts it by that name', () => {
    const configMap = rendered.one('ConfigMap');
    const content = (configMap.data as { 'inventory.yaml': string })['inventory.yaml'];
    expect(inventoryName).toBe(`rotator-credential-rotator-inventory-${createHash('sha256').update(content).digest('hex').slice(0, 10)}`);
    expect(configMap.immutable).toBe(true);
    expect(spec.volumes.find((v) => v.name === 'inventory')?.configMap).toEqual({ name: inventoryName });
  });

  it('gives a changed inventory a new ConfigMap name (so a new rollout), and keeps the name for anything else', () => {
    const nameAndVolume = (set: string[]) => {
      const again = render({ values: ['ci/minimal-values.yaml'], set });
      return [again.one('ConfigMap').metadata.name, podOf(again.one('Deployment')).spec.volumes.find((v) => v.name === 'inventory')?.configMap?.name];
    };
    expect(nameAndVolume([])).toEqual([inventoryName, inventoryName]);
    expect(nameAndVolume(['replicaCount=3', 'config.logLevel=debug', 'redis.existingSecret=elsewhere'])).toEqual([inventoryName, inventoryName]);
    const [changed, mounted] = nameAndVolume(['inventory.defaults.schedule=0 4 * * *']);
    expect(changed).toMatch(/^rotator-credential-rotator-inventory-[0-9a-f]{10}$/);
    expect(changed).not.toBe(inventoryName);
    expect(mounted).toBe(changed);
    // The checksum of the Redis Secret's reference is untouched by the inventory.
    const redisOf = (set: string[]) => podOf(render({ values: ['ci/minimal-values.yaml'], set }).one('Deployment')).annotations['checksum/redis'];
    expect(redisOf(['inventory.defaults.schedule=0 4 * * *'])).toBe(redisOf([]));
  });

  it('keeps the hashed name a DNS label under a long release name', () => {
    const release = 'a-release-name-long-enough-to-need-shortening-x';
    const name = render({ values: ['ci/minimal-values.yaml'], release }).one('ConfigMap').metadata.name;
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^a-release-name-long-enough-to-need-sh[a-z-]*-inventory-[0-9a-f]{10}$/);
  });
});

describe('the chart with every option (full values)', () => {
  const MONITORING = ['monitoring.coreos.com/v1'];
  const rendered = render({ values: ['ci/full-values.yaml'], namespace: 'team-a', apiVersions: MONITORING });
  const { spec, labels, annotations } = podOf(rendered.one('Deployment'));
  const [container] = spec.containers;
  // The two extraObjects of ci/full-values.yaml, named by their own templates.
  const extra = (o: K8sObject) => o.metadata.name === 'rotator-redis' || o.metadata.name === 'rotator-proxy';

  it('applies nameOverride, commonLabels, podLabels, podAnnotations, priorityClassName and the image digest', () => {
    for (const object of rendered.objects.filter((o) => !extra(o))) {
      // The ServiceAccount's name is given (serviceAccount.name); every other name follows nameOverride.
      if (object.kind !== 'ServiceAccount') expect(object.metadata.name).toMatch(/^rotator(-inventory-[0-9a-f]{10})?$/);
      expect(object.metadata.labels).toMatchObject({ team: 'platform', 'cost-center': '1234', 'app.kubernetes.io/name': 'rotator' });
    }
    expect(labels).toMatchObject({ 'sidecar.istio.io/inject': 'false', team: 'platform' });
    expect(annotations.owner).toBe('platform');
    expect(spec.priorityClassName).toBe('platform-critical');
    expect(container?.image).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/credential-rotator@sha256:3f0c9f2a5b8c1d4e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e',
    );
    expect(spec.serviceAccountName).toBe('credential-rotator');
    expect(rendered.one('ServiceAccount').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/credential-rotator',
      team: 'platform',
    });
  });

  it('mounts the extra volumes, keeps a given labelSelector, and takes the configured probes', () => {
    expect(spec.volumes).toContainEqual({ name: 'corporate-ca', configMap: { name: 'corporate-ca' } });
    expect(container?.volumeMounts).toContainEqual({ name: 'corporate-ca', mountPath: '/etc/corporate-ca', readOnly: true });
    expect(spec.volumes.find((v) => v.name === 'tmp')?.emptyDir).toEqual({ sizeLimit: '32Mi' });
    expect(spec.topologySpreadConstraints?.[1]).toEqual({
      maxSkew: 2,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'rotator' } },
    });
    expect(container?.livenessProbe?.periodSeconds).toBe(20);
    expect(container?.env.map((e) => e.name)).toEqual(expect.arrayContaining(['AWS_REGION', 'SLACK_WEBHOOK_URL']));
    expect(rendered.one('PodDisruptionBudget').spec).toMatchObject({ minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  it('puts the ServiceMonitor where Prometheus looks, with its timeout and relabelings, selecting this release', () => {
    const monitor = rendered.one('ServiceMonitor');
    expect(monitor.metadata.namespace).toBe('monitoring');
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    expect(monitor.spec).toEqual({
      selector: { matchLabels: selector('rotator', 'rotator') },
      namespaceSelector: { matchNames: ['team-a'] },
      endpoints: [
        {
          port: 'http',
          path: '/metrics',
          interval: '15s',
          scrapeTimeout: '5s',
          honorLabels: false,
          relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
          metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'rotator_nodejs_.*', action: 'drop' }],
        },
      ],
    });
    const service = rendered.one('Service');
    expect(service.spec).toMatchObject({
      selector: selector('rotator', 'rotator'),
      ports: [{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP' }],
    });
  });

  it('gives every alert a runbook_url and an expression on this release’s series only', () => {
    const rule = rendered.one('PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    const rules = (rule.spec as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }> }).groups.flatMap(
      (g) => g.rules,
    );
    expect(rules.map((r) => r.alert)).toEqual([
      'CredentialRotationFailing',
      'CredentialNearExpiry',
      'CredentialRotatorDown',
      'CredentialRotatorRedisDown',
      'CredentialRotatorNotReady',
      'CredentialRotatorAlertSinkFailing',
      'CredentialNotRevoked',
      'CredentialChecksStale',
      'CredentialRotatorEventsUndelivered',
      'UnmanagedCredlyTokenExpiring',
      'CredlyOrganizationUnlisted',
    ]);
    // Worker down is a failed scrape; Redis down is what a scraped worker says (the worker answers /metrics whatever Redis does).
    expect(rules[2]?.expr).toBe('absent(up{namespace="team-a", service="rotator"} == 1)');
    expect(rules[3]?.expr).toBe('max by (namespace) (rotator_redis_up{namespace="team-a", service="rotator"}) == 0');
    for (const r of rules) {
      expect(r.annotations.runbook_url).toBe(`https://runbooks.example.com/credential-rotator#${r.alert.toLowerCase()}`);
      // kube-state-metrics names the release's Deployment; the worker's series carry its Service.
      expect(r.expr, r.alert).toMatch(
        r.alert === 'CredentialRotatorNotReady' ? /\{namespace="team-a", deployment="rotator"\}/ : /\{namespace="team-a", service="rotator"[,}]/,
      );
    }
    expect(rules[1]?.expr).toMatch(/< 21$/);
  });

  it('lets two releases in two namespaces alert on their own series', () => {
    const expressions = (release: string, namespace: string) =>
      (
        render({ values: ['ci/minimal-values.yaml'], release, namespace, set: ['metrics.prometheusRule.enabled=true'], apiVersions: MONITORING }).one(
          'PrometheusRule',
        ).spec as {
          groups: Array<{ rules: Array<{ expr: string }> }>;
        }
      ).groups[0]?.rules.map((r) => r.expr) ?? [];
    const a = expressions('alpha', 'ns-a');
    const b = expressions('beta', 'ns-b');
    expect(a[0]).toContain('{namespace="ns-a", service="alpha-credential-rotator"}');
    expect(b[0]).toContain('{namespace="ns-b", service="beta-credential-rotator"}');
    const own = (expr: string) => /\{namespace="[^"]+", (service|deployment)="[^"]+"/.exec(expr)?.[0];
    for (let i = 0; i < a.length; i++) {
      expect(own(a[i] ?? '')).toBeDefined();
      expect(own(a[i] ?? '')).not.toBe(own(b[i] ?? ''));
    }
  });
});

describe('the chart for a trial (inline URL, one replica, overrides)', () => {
  const rendered = render({ values: ['ci/inline-url-values.yaml'] });
  const { spec, annotations } = podOf(rendered.one('Deployment'));

  it('makes the Secret from redis.url, hashes only its reference into the pods, and leaves out what one replica cannot use', () => {
    expect(rendered.objects.map((o: K8sObject) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/rotator-trial',
      'Secret/rotator-trial-redis',
      'Service/rotator-trial',
    ]);
    expect(rendered.one('Secret').stringData).toEqual({ 'redis-url': 'rediss://:trial-password@redis-master.default.svc:6379' });
    expect(spec.containers[0]?.env.find((e) => e.name === 'REDIS_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'rotator-trial-redis', key: 'redis-url' } });
    expect(spec.serviceAccountName).toBe('rotator-trial');
    expect(spec.volumes.find((v) => v.name === 'inventory')?.configMap).toEqual({ name: 'rotator-inventory' });
    expect(spec.topologySpreadConstraints).toBeUndefined();
    expect(spec.containers[0]?.startupProbe).toBeUndefined();
    // The Redis checksum is of the Secret's reference, not of its value: no hash of the password in the pod.
    const withOtherPassword = render({ values: ['ci/inline-url-values.yaml'], set: ['redis.url=rediss://:other@redis-replica:6379'] });
    const repassworded = podOf(withOtherPassword.one('Deployment')).annotations;
    expect(repassworded['checksum/redis']).toBe(annotations['checksum/redis']);
    const secretHash = createHash('sha256')
      .update(helm(['template', 'rotator', chart, '-f', join(chart, 'ci/inline-url-values.yaml'), '--show-only', 'templates/secret.yaml']).stdout)
      .digest('hex');
    expect(Object.values(annotations)).not.toContain(secretHash);
    for (const value of Object.values(annotations))
      for (const text of ['trial-password', 'rediss://:trial-password@redis-master.default.svc:6379']) {
        expect(value).not.toBe(createHash('sha256').update(text).digest('hex'));
      }
    // Another Secret (its name is the reference) restarts the pods.
    const moved = podOf(render({ values: ['ci/inline-url-values.yaml'], set: ['redis.existingSecret=redis-elsewhere'] }).one('Deployment')).annotations;
    expect(moved['checksum/redis']).not.toBe(annotations['checksum/redis']);
  });

  it('prints NOTES that warn about the inline password', () => {
    const install = helm(['install', 'rotator', chart, '-f', join(chart, 'ci/inline-url-values.yaml'), '--dry-run=client', '--namespace', 'trial']);
    expect(install.code, install.stderr).toBe(0);
    const notes = install.stdout.slice(install.stdout.indexOf('NOTES:'));
    expect(notes).toContain('installed as rotator-trial in trial');
    expect(notes).toContain('WARNING: redis.url puts the Redis password into the release');
  });
});

describe('values helm refuses, with a message naming the value', () => {
  it.each([
    [['replicaCount=0'], "at '/replicaCount'"],
    [['podSecurityContext.runAsNonRoot=false'], "at '/podSecurityContext/runAsNonRoot'"],
    [['securityContext.allowPrivilegeEscalation=true'], "at '/securityContext/allowPrivilegeEscalation'"],
    [['replicas=2'], "additional properties 'replicas' not allowed"],
    [['redis.url=http://redis:6379', 'redis.existingSecret='], "at '/redis/url'"],
    [['serviceAccount.roleArn=my-role'], "at '/serviceAccount/roleArn'"],
    [['config.logLevel=verbose'], "at '/config/logLevel'"],
    // The worker refuses a lock under 5 s (a loaded host does not renew shorter leases reliably).
    [['config.lockDurationSeconds=2'], "at '/config/lockDurationSeconds'"],
    [['image.digest=latest'], "at '/image/digest'"],
    [['tmpVolume.sizeLimit=lots'], "at '/tmpVolume/sizeLimit'"],
    [['podDisruptionBudget.unhealthyPodEvictionPolicy=Never'], "at '/podDisruptionBudget/unhealthyPodEvictionPolicy'"],
    [['metrics.serviceMonitor.scrapeTimeout=soon'], "at '/metrics/serviceMonitor/scrapeTimeout'"],
    [['terminationGracePeriodSeconds=30'], 'terminationGracePeriodSeconds must be above config.shutdownGraceSeconds + 5'],
    // The worker may take 5 s past its grace to exit.
    [['terminationGracePeriodSeconds=35'], 'terminationGracePeriodSeconds must be above config.shutdownGraceSeconds + 5'],
    [['serviceAccount.create=false'], 'serviceAccount.name is required when serviceAccount.create is false'],
  ])('refuses %j', (set, message) => {
    expect(renderError({ values: ['ci/minimal-values.yaml'], set })).toContain(message);
  });

  it('accepts `global` from a parent chart', () => {
    expect(render({ values: ['ci/minimal-values.yaml'], set: ['global.imageRegistry=registry.example.com'] }).one('Deployment')).toBeTruthy();
  });

  it('refuses Kubernetes before 1.27, where the PDB policy and matchLabelKeys would be dropped', () => {
    const old = helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml'), '--kube-version', '1.26.5']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.27.0-0');
    expect(helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml'), '--kube-version', '1.27.0']).code).toBe(0);
  });
});

describe('required values: refused at render with one sentence naming what to set', () => {
  const NEEDS = 'credential-rotator needs values: set ';
  const IMAGE = 'image.repository (the image you built from the Dockerfile and pushed)';
  const REDIS = 'redis.existingSecret (a Secret holding the Redis URL) or redis.url';
  const INVENTORY = 'inventory.credentials (at least one credential) or existingInventoryConfigMap';

  it('the defaults: helm lint --strict passes and logs the sentence, helm template and install refuse with it, no schema keyword', () => {
    const lint = helm(['lint', '--strict', chart]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stderr).toContain(`${NEEDS}${IMAGE}; set ${REDIS}; set ${INVENTORY}. See the chart's README.`);
    const template = helm(['template', 'rotator', chart]);
    expect(template.code).not.toBe(0);
    expect(template.stderr).toContain(`${NEEDS}${IMAGE}; set ${REDIS}; set ${INVENTORY}. See the chart's README.`);
    const install = helm(['install', 'rotator', chart, '--dry-run=client']);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain(NEEDS);
    for (const output of [lint.stdout + lint.stderr, template.stderr, install.stderr]) {
      expect(output).not.toMatch(/'anyOf' failed|minLength|minItems|don't meet the specifications/);
    }
  });

  it.each([
    [['image.repository=""'], IMAGE],
    [['redis.existingSecret=""'], REDIS],
    [['inventory.credentials=[]'], INVENTORY],
  ])('with %j: names only what is missing', (setJson, what) => {
    const error = renderError({ values: ['ci/minimal-values.yaml'], setJson });
    expect(error).toContain(`${NEEDS}${what}. See the chart's README.`);
    expect(error).not.toMatch(/'anyOf' failed|minLength|minItems|don't meet the specifications/);
  });

  it('takes an empty inventory list with an existing ConfigMap holding the inventory', () => {
    const rendered = render({ values: ['ci/minimal-values.yaml'], setJson: ['inventory.credentials=[]', 'existingInventoryConfigMap="my-inventory"'] });
    expect(podOf(rendered.one('Deployment')).spec.volumes.find((v) => v.name === 'inventory')?.configMap).toEqual({ name: 'my-inventory' });
    expect(rendered.all('ConfigMap')).toEqual([]);
  });
});

describe('monitoring objects only where their API is, rollout values, extra objects, chart metadata', () => {
  const kinds = (options: Parameters<typeof render>[0]) => render({ values: ['ci/full-values.yaml'], ...options }).objects.map((o) => o.kind);

  it('renders the ServiceMonitor and PrometheusRule when the cluster serves monitoring.coreos.com/v1, or when forced', () => {
    expect(kinds({ apiVersions: ['monitoring.coreos.com/v1'] })).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
    expect(kinds({ set: ['metrics.assumeMonitoringApi=true'] })).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
  });

  it('leaves them out, and says so in NOTES, when the API is absent', () => {
    expect(kinds({})).not.toContain('ServiceMonitor');
    expect(kinds({})).not.toContain('PrometheusRule');
    expect(kinds({ apiVersions: ['monitoring.coreos.com/v1alpha1'] })).not.toContain('ServiceMonitor');
    const install = helm(['install', 'rotator', chart, '-f', join(chart, 'ci/full-values.yaml'), '--dry-run=client']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).not.toContain('kind: ServiceMonitor');
    expect(install.stdout).toContain('The cluster does not serve monitoring.coreos.com/v1');
  });

  it('renders neither when disabled, whatever the cluster serves', () => {
    const off = kinds({
      apiVersions: ['monitoring.coreos.com/v1'],
      set: ['metrics.serviceMonitor.enabled=false', 'metrics.prometheusRule.enabled=false', 'metrics.assumeMonitoringApi=true'],
    });
    expect(off).not.toContain('ServiceMonitor');
    expect(off).not.toContain('PrometheusRule');
  });

  it('rolls out one new pod at a time and stops no old pod before its replacement is ready, by default', () => {
    const deployment = render({ values: ['ci/minimal-values.yaml'] }).one('Deployment');
    expect(deployment.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(deployment.spec?.revisionHistoryLimit).toBe(5);
    const full = render({ values: ['ci/full-values.yaml'] }).one('Deployment');
    expect(full.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } });
    expect(full.spec?.revisionHistoryLimit).toBe(2);
    const recreate = render({ values: ['ci/minimal-values.yaml'], setJson: ['strategy={"type":"Recreate"}'] }).one('Deployment');
    expect(recreate.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(renderError({ values: ['ci/minimal-values.yaml'], set: ['strategy.type=BlueGreen'] })).toContain("at '/strategy/type'");
    expect(renderError({ values: ['ci/minimal-values.yaml'], set: ['revisionHistoryLimit=-1'] })).toContain("at '/revisionHistoryLimit'");
  });

  it('renders extraObjects, objects and strings, through tpl', () => {
    const rendered = render({ values: ['ci/full-values.yaml'] });
    const external = rendered.one('ExternalSecret');
    expect(external.metadata.name).toBe('rotator-redis');
    expect(external.spec).toMatchObject({ target: { name: 'rotator-redis' }, data: [{ secretKey: 'url', remoteRef: { key: 'prod/rotator/redis-url' } }] });
    const proxy = rendered.all('ConfigMap').find((c) => c.metadata.name === 'rotator-proxy');
    expect(proxy?.data).toEqual({ HTTPS_PROXY: 'http://10.0.0.10:3128' });
    expect(renderError({ values: ['ci/minimal-values.yaml'], setJson: ['extraObjects=[3]'] })).toContain("at '/extraObjects/0'");
  });

  it('carries its home, sources, icon and maintainers, the icon a file of the repository', () => {
    const show = helm(['show', 'chart', chart]);
    const meta = parse(show.stdout) as { home: string; sources: string[]; icon: string; maintainers: Array<{ name: string; url: string }> };
    const repository = 'https://github.com/example/credential-rotator';
    expect(meta.home).toBe(repository);
    expect(meta.sources).toEqual([repository]);
    expect(meta.maintainers).toEqual([{ name: 'credential-rotator maintainers', url: repository }]);
    expect(meta.icon.startsWith(`${repository}/raw/main/`)).toBe(true);
    const icon = readFileSync(join(chart, '../..', meta.icon.slice(`${repository}/raw/main/`.length)), 'utf8');
    expect(icon).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const lint = helm(['lint', '--strict', chart, '-f', join(chart, 'ci/minimal-values.yaml')]);
    expect(lint.stdout).not.toContain('icon is recommended');
  });
});

describe('every setting the worker reads from its environment, as a value', () => {
  type Env = Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  const envOf = (options: Parameters<typeof render>[0]): Env =>
    podOf(render({ values: ['ci/minimal-values.yaml'], ...options }).one('Deployment')).spec.containers[0]?.env ?? [];
  const SETTINGS = [
    'config.concurrency=7',
    'config.requestTimeout=20s',
    'config.escalateAfter=1d12h',
    'config.rateLimits.credly=600/m',
    'config.statusPublicMessages=true',
    'config.logLevel=debug',
    'config.shutdownGraceSeconds=20',
    'config.lockDurationSeconds=45',
    'config.jobAttempts=9',
    'config.jobBackoffSeconds=3',
    'config.awsRegion=eu-west-1',
    'redis.allowPlaintext=true',
    'dashboard.enabled=true',
    'dashboard.existingSecret=rotator-dashboard',
    'config.radar=false',
  ];
  // --set would read {prod} as a list.
  const SETTINGS_JSON = ['config.queuePrefix="{prod}"'];

  it('renders each value into its variable, and the worker reads the result as set', () => {
    const env = envOf({ set: SETTINGS, setJson: SETTINGS_JSON });
    const plain = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(plain).toMatchObject({
      ROTATOR_CONCURRENCY: '7',
      ROTATOR_REQUEST_TIMEOUT: '20s',
      ROTATOR_ESCALATE_AFTER: '1d12h',
      ROTATOR_CREDLY_RATE_LIMIT: '600/m',
      ROTATOR_STATUS_PUBLIC_MESSAGES: 'true',
      ROTATOR_ALLOW_PLAINTEXT_REDIS: 'true',
      ROTATOR_DASHBOARD: 'on',
      ROTATOR_RADAR: 'off',
      AWS_REGION: 'eu-west-1',
    });
    const fromSecret = Object.fromEntries(env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(fromSecret).toEqual({
      REDIS_URL: { name: 'rotator-redis', key: 'redis-url' },
      ROTATOR_DASHBOARD_USER: { name: 'rotator-dashboard', key: 'user' },
      ROTATOR_DASHBOARD_PASSWORD: { name: 'rotator-dashboard', key: 'password' },
    });
    // The pod's environment, the Secrets' values put in, as the worker reads it at start.
    const secrets: Record<string, string> = {
      REDIS_URL: 'redis://redis.internal:6379',
      ROTATOR_DASHBOARD_USER: 'ops',
      ROTATOR_DASHBOARD_PASSWORD: 'a-password-long-enough',
    };
    const read = loadEnv({ ...plain, ...secrets }, { rateLimits: RATE_LIMIT_VARIABLES });
    expect(read).toMatchObject({
      configPath: '/config/inventory.yaml',
      httpPort: 8080,
      concurrency: 7,
      requestTimeoutMs: 20_000,
      escalateAfterMs: 36 * 3_600_000,
      rateLimits: { ROTATOR_CREDLY_RATE_LIMIT: { perSecond: 10, burst: 9 } },
      statusPublicMessages: true,
      allowPlaintextRedis: true,
      dashboard: { user: 'ops', password: 'a-password-long-enough' },
      logLevel: 'debug',
      queuePrefix: '{prod}',
      shutdownGraceMs: 20_000,
      lockDurationMs: 45_000,
      jobAttempts: 9,
      jobBackoffMs: 3_000,
    });
  });

  it('the defaults are the worker’s own defaults', () => {
    const plain = Object.fromEntries(envOf({}).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
    const chartDefaults = loadEnv({ ...plain, REDIS_URL: 'rediss://redis.internal:6379' }, { rateLimits: RATE_LIMIT_VARIABLES });
    const workerDefaults = loadEnv(
      { REDIS_URL: 'rediss://redis.internal:6379', ROTATOR_CONFIG: '/config/inventory.yaml' },
      { rateLimits: RATE_LIMIT_VARIABLES },
    );
    // One difference on purpose: the chart keeps the inventory cache on the pod's writable /tmp
    // (the root filesystem is read-only; the worker's own default is under the user's home).
    expect(chartDefaults.cacheDir).toBe('/tmp/rotator-cache');
    expect({ ...chartDefaults, cacheDir: undefined }).toEqual({ ...workerDefaults, cacheDir: undefined });
  });

  it('covers every variable of the environment table (docs/configuration.md) and every kind’s rate limit, or leaves it to extraEnv by name', () => {
    const doc = readFileSync(join(chart, '../../docs/configuration.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Environment'), doc.indexOf('## Inventory'));
    const documented = new Set(
      table
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => [...(l.split(' | ')[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? '')),
    );
    for (const { variable } of RATE_LIMIT_VARIABLES) expect(documented).toContain(variable);
    const rendered = new Set(
      [
        envOf({ set: SETTINGS, setJson: SETTINGS_JSON }),
        envOf({ set: ['redis.topology=cluster'] }),
        envOf({
          set: ['redis.topology=sentinel', 'redis.sentinel.sentinels={s1:26379}', 'redis.sentinel.name=main', 'redis.sentinel.username=rotator'],
          setJson: ['redis.sentinel.tls=true', 'redis.sentinel.passwordKey="sentinel-password"'],
        }),
      ].flatMap((env) => env.map((e) => e.name)),
    );
    // The chart sets AWS_REGION (config.awsRegion), which the worker reads first; the SDK's other
    // name for it is left to extraEnv. (AWS_ENDPOINT_URL_SECRETS_MANAGER, for an emulator only, is
    // not in the table.)
    // ROTATOR_ACTOR is the CLI's (who `rotator trigger` records as asking), never the worker's.
    const leftToExtraEnv = ['AWS_DEFAULT_REGION', 'ROTATOR_ACTOR'];
    expect([...documented].filter((v) => !rendered.has(v)).sort()).toEqual(leftToExtraEnv);
  });

  it('refuses malformed settings by the value’s path, and a dashboard without its Secret with the sentence', () => {
    for (const [set, path] of [
      ['config.concurrency=0', '/config/concurrency'],
      ['config.requestTimeout=15 seconds', '/config/requestTimeout'],
      ['config.escalateAfter=6', '/config/escalateAfter'],
      ['config.rateLimits.credly=10 per second', '/config/rateLimits/credly'],
      ['config.rateLimits.other=1/s', '/config/rateLimits'],
      ['dashboard.userKey=', '/dashboard/userKey'],
    ] as const)
      expect(renderError({ values: ['ci/minimal-values.yaml'], set: [set] }), set).toContain(`at '${path}'`);
    expect(renderError({ values: ['ci/minimal-values.yaml'], set: ['dashboard.enabled=true'] })).toContain(
      "credential-rotator needs values: set dashboard.existingSecret (a Secret holding the dashboard's user and password) with dashboard.enabled.",
    );
  });
});
