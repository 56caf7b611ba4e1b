// The chart's defaults for a hostile cluster, on the objects real helm renders: who may reach the
// pods, what they may reach, and what they hold.
import { describe, expect, it } from 'vitest';
import { podOf, render } from '../support/helm.ts';

interface Peer {
  ipBlock?: { cidr: string; except?: string[] };
  namespaceSelector?: unknown;
  podSelector?: unknown;
}
interface Rule {
  ports?: Array<{ port: number | string; protocol: string }>;
  to?: Peer[];
  from?: Peer[];
}
interface PolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: Rule[];
  egress: Rule[];
}
const policyOf = (values: string[], set: string[] = []) => render({ values, set }).one('NetworkPolicy').spec as unknown as PolicySpec;

describe('NetworkPolicy', () => {
  it('by default admits no one, and lets the pods reach only Redis, DNS and HTTPS', () => {
    const spec = policyOf(['ci/minimal-values.yaml']);
    expect(spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'credential-rotator', 'app.kubernetes.io/instance': 'rotator' });
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress).toEqual([]);
    expect(spec.egress).toEqual([
      { ports: [{ port: 6379, protocol: 'TCP' }] },
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      },
      { ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
  });

  it('admits the configured sources to the ops port only, and narrows egress to the configured peers', () => {
    const spec = policyOf(['ci/full-values.yaml']);
    expect(spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
    expect(spec.egress[0]).toEqual({
      ports: [
        { port: 6379, protocol: 'TCP' },
        { port: 26379, protocol: 'TCP' },
      ],
      to: [{ ipBlock: { cidr: '10.20.0.0/16' } }],
    });
    expect(spec.egress[2]).toEqual({ ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }] });
    expect(spec.egress[3]).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ port: 3128, protocol: 'TCP' }] });
    expect(spec.egress).toHaveLength(4);
  });

  it('names the ops port the container serves, so the ingress rule and the probes mean the same port', () => {
    const { spec } = podOf(render({ values: ['ci/full-values.yaml'] }).one('Deployment'));
    const container = spec.containers[0] as unknown as { ports: Array<{ name: string; containerPort: number }> };
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(spec.containers[0]?.env.find((e) => e.name === 'ROTATOR_HTTP_PORT')?.value).toBe('8080');
  });

  it('can be turned off', () => {
    expect(render({ values: ['ci/minimal-values.yaml'], set: ['networkPolicy.enabled=false'] }).all('NetworkPolicy')).toEqual([]);
  });
});

describe('what the pods hold', () => {
  const rendered = render({ values: ['ci/minimal-values.yaml'] });
  const { spec } = podOf(rendered.one('Deployment'));

  it('mounts no Kubernetes API token, by the pod and by the ServiceAccount', () => {
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(rendered.one('ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('bounds the only writable volume, and writes nowhere else', () => {
    expect(spec.volumes.find((v) => v.name === 'tmp')).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    const writable = spec.containers[0]?.volumeMounts.filter((m) => !m.readOnly).map((m) => m.mountPath);
    expect(writable).toEqual(['/tmp']);
    expect(spec.containers[0]?.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('holds no Secret of the chart when the Redis URL comes from an existing Secret (the default way)', () => {
    expect(rendered.all('Secret')).toEqual([]);
  });
});
