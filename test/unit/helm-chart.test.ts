// The chart, linted and rendered by real helm (v4, scripts/fetch-helm.ts); every assertion is on the
// parsed objects helm renders.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    expect(annotations['checksum/inventory']).toMatch(/^[0-9a-f]{64}$/);
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

  it('renders exactly the objects a default install needs', () => {
    expect(rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/rotator-credential-rotator-inventory',
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

  it('changes the inventory checksum, and only it, when the inventory changes', () => {
    const again = podOf(render({ values: ['ci/minimal-values.yaml'] }).one('Deployment')).annotations;
    const changed = podOf(render({ values: ['ci/minimal-values.yaml'], set: ['inventory.defaults.schedule=0 4 * * *'] }).one('Deployment')).annotations;
    expect(again['checksum/inventory']).toBe(podOf(deployment).annotations['checksum/inventory']);
    expect(changed['checksum/inventory']).not.toBe(again['checksum/inventory']);
    expect(changed['checksum/redis']).toBe(again['checksum/redis']);
  });
});

describe('the chart with every option (full values)', () => {
  const rendered = render({ values: ['ci/full-values.yaml'], namespace: 'team-a' });
  const { spec, labels, annotations } = podOf(rendered.one('Deployment'));
  const [container] = spec.containers;

  it('applies nameOverride, commonLabels, podLabels, podAnnotations, priorityClassName and the image digest', () => {
    for (const object of rendered.objects) {
      // The ServiceAccount's name is given (serviceAccount.name); every other name follows nameOverride.
      if (object.kind !== 'ServiceAccount') expect(object.metadata.name).toMatch(/^rotator(-inventory)?$/);
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
    expect(rules.map((r) => r.alert)).toEqual(['CredentialRotationFailing', 'CredentialNearExpiry', 'CredentialRotatorDown', 'CredentialRotatorRedisDown']);
    // Worker down is a failed scrape; Redis down is what a scraped worker says (the worker answers /metrics whatever Redis does).
    expect(rules[2]?.expr).toBe('absent(up{namespace="team-a", service="rotator"} == 1)');
    expect(rules[3]?.expr).toBe('max by (namespace) (rotator_redis_up{namespace="team-a", service="rotator"}) == 0');
    for (const r of rules) {
      expect(r.annotations.runbook_url).toBe(`https://runbooks.example.com/credential-rotator#${r.alert.toLowerCase()}`);
      expect(r.expr, r.alert).toContain('{namespace="team-a", service="rotator"}');
    }
    expect(rules[1]?.expr).toMatch(/< 21$/);
  });

  it('lets two releases in two namespaces alert on their own series', () => {
    const expressions = (release: string, namespace: string) =>
      (
        render({ values: ['ci/minimal-values.yaml'], release, namespace, set: ['metrics.prometheusRule.enabled=true'] }).one('PrometheusRule').spec as {
          groups: Array<{ rules: Array<{ expr: string }> }>;
        }
      ).groups[0]?.rules.map((r) => r.expr) ?? [];
    const a = expressions('alpha', 'ns-a');
    const b = expressions('beta', 'ns-b');
    expect(a[0]).toContain('{namespace="ns-a", service="alpha-credential-rotator"}');
    expect(b[0]).toContain('{namespace="ns-b", service="beta-credential-rotator"}');
    const own = (expr: string) => /\{namespace="[^"]+", service="[^"]+"\}/.exec(expr)?.[0];
    for (let i = 0; i < a.length; i++) expect(own(a[i] ?? '')).not.toBe(own(b[i] ?? ''));
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
    // Another Secret (its name is the reference) restarts the pods; the inventory checksum stays.
    const moved = podOf(render({ values: ['ci/inline-url-values.yaml'], set: ['redis.existingSecret=redis-elsewhere'] }).one('Deployment')).annotations;
    expect(moved['checksum/redis']).not.toBe(annotations['checksum/redis']);
    expect(moved['checksum/inventory']).toBe(annotations['checksum/inventory']);
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
    [['redis.existingSecret='], "at '/redis'"],
    [['terminationGracePeriodSeconds=30'], 'terminationGracePeriodSeconds must be above config.shutdownGraceSeconds + 5'],
    // The worker may take 5 s past its grace to exit.
    [['terminationGracePeriodSeconds=35'], 'terminationGracePeriodSeconds must be above config.shutdownGraceSeconds + 5'],
    [['serviceAccount.create=false'], 'serviceAccount.name is required when serviceAccount.create is false'],
  ])('refuses %j', (set, message) => {
    expect(renderError({ values: ['ci/minimal-values.yaml'], set })).toContain(message);
  });

  it('refuses Kubernetes before 1.27, where the PDB policy and matchLabelKeys would be dropped', () => {
    const old = helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml'), '--kube-version', '1.26.5']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.27.0-0');
    expect(helm(['template', 'rotator', chart, '-f', join(chart, 'ci/minimal-values.yaml'), '--kube-version', '1.27.0']).code).toBe(0);
  });

  it('accepts `global` from a parent chart', () => {
    expect(render({ values: ['ci/minimal-values.yaml'], set: ['global.imageRegistry=registry.example.com'] }).one('Deployment')).toBeTruthy();
  });
});
