/**
 * NIMService autoscaling, metrics and the proxy path: HPA, ServiceMonitor, Deployment replicas under
 * and without autoscaling, the Role of a proxied NIMService, and what a blocked render still holds
 * (inventory §2.2.3, §2.2.5, §2.2.7; §6 behaviours 12, 21, 22, 35–38; Appendix A6, A13).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Role, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { renderNIMService, SpecError, type ServiceMonitor } from '../../../src/render/nimservice/index.js';
import { assertAllValid, deploymentOf, exposureAbsent, envOf, find, fixture, loadExample, mainOf, readyCache, type Deployment } from './nimservice-fixtures.js';

type HPA = Wire<V2HorizontalPodAutoscaler>;

/** The §6 fixture with autoscaling on (spec.replicas must then be unset). */
const scaled = (hpa: Record<string, unknown> = { minReplicas: 2, maxReplicas: 5 }, extra: Record<string, unknown> = {}) =>
  fixture({ replicas: undefined, scale: { enabled: true, hpa }, ...extra });

describe('HPA (examples/serving/autoscaling.yaml, behaviour 35)', () => {
  const { services, caches } = loadExample('examples/serving/autoscaling.yaml');
  const svc = services[0]!;
  const facts = { nimCache: readyCache(caches[0]!) };
  const r = renderNIMService(svc, facts);
  const hpa = find<HPA>(r.children, 'HorizontalPodAutoscaler');

  test('order: Service, HPA, ServiceMonitor, Deployment; valid objects', () => {
    assert.deepEqual(r.children.map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'Deployment']);
    assert.deepEqual(exposureAbsent(r.absent).map((a) => a.kind), ['Ingress', 'HTTPRoute', 'GRPCRoute']);
    assertAllValid(r.children);
  });

  test('targets Deployment <name>, min/max, metrics and behavior passed through', () => {
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal(hpa.metadata!.name, 'llama3-8b-autoscaled');
    assert.deepEqual(hpa.spec!.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llama3-8b-autoscaled' });
    assert.equal(hpa.spec!.minReplicas, 1);
    assert.equal(hpa.spec!.maxReplicas, 4);
    assert.deepEqual(hpa.spec!.metrics, svc.spec.scale!.hpa!.metrics);
    assert.deepEqual(hpa.spec!.behavior, svc.spec.scale!.hpa!.behavior);
    assert.notEqual(hpa.spec!.metrics, svc.spec.scale!.hpa!.metrics, 'a copy, not the spec\'s own array');
  });

  test('scale.annotations added to the NIMService annotations; service labels; owner', () => {
    const a = hpa.metadata!.annotations!;
    assert.equal(a['example.com/owner'], 'inference-platform');
    assert.equal(a['openshift.io/required-scc'], 'nonroot');
    assert.ok(a['nvidia.com/parent-spec-hash'] && a['nvidia.com/last-applied-hash']);
    assert.equal(hpa.metadata!.labels!['app.kubernetes.io/part-of'], 'nim-service');
    assert.equal(hpa.metadata!.ownerReferences![0]!.kind, 'NIMService');
  });

  test('a new Deployment starts at minReplicas', () => {
    assert.equal(find<Deployment>(r.children, 'Deployment').spec!.replicas, 1);
  });

  test('autoscaling without scale.hpa is a SpecError', () => {
    const s = fixture({ replicas: undefined, scale: { enabled: true } });
    assert.throws(() => renderNIMService(s), (e: unknown) => e instanceof SpecError && e.field === 'spec.scale.hpa');
  });
});

describe('Deployment replicas (behaviours 21, 35, 36)', () => {
  test('§6: min 2 / max 5, no Deployment yet → HPA 2..5 and Deployment replicas 2', () => {
    const { children } = renderNIMService(scaled());
    const hpa = find<HPA>(children, 'HorizontalPodAutoscaler');
    assert.equal(hpa.spec!.minReplicas, 2);
    assert.equal(hpa.spec!.maxReplicas, 5);
    assert.equal(find<Deployment>(children, 'Deployment').spec!.replicas, 2);
  });

  test('the HPA\'s choice (live replicas 4) is kept, even after a spec edit', () => {
    const s = scaled();
    assert.equal(deploymentOf(s, { liveReplicas: 4 }).spec!.replicas, 4);
    const edited = structuredClone(s);
    edited.spec.image.tag = '1.1';
    edited.spec.scale!.hpa!.maxReplicas = 8;
    assert.equal(deploymentOf(edited, { liveReplicas: 4 }).spec!.replicas, 4);
  });

  test('minReplicas defaults to 1', () => {
    assert.equal(deploymentOf(scaled({ maxReplicas: 3 })).spec!.replicas, 1);
    assert.equal(find<HPA>(renderNIMService(scaled({ maxReplicas: 3 })).children, 'HorizontalPodAutoscaler').spec!.minReplicas, 1);
  });

  test('autoscaling off: spec.replicas wins over a manual or HPA-made count, and the HPA is absent', () => {
    const s = fixture({ replicas: 1, scale: { enabled: false, hpa: { minReplicas: 2, maxReplicas: 5 } } });
    const r = renderNIMService(s, { liveReplicas: 4 });
    assert.equal(find<Deployment>(r.children, 'Deployment').spec!.replicas, 1);
    assert.equal(r.children.some((c) => c.kind === 'HorizontalPodAutoscaler'), false);
    assert.ok(r.absent.some((a) => a.kind === 'HorizontalPodAutoscaler' && a.name === 'llm'));
    assert.equal(deploymentOf(fixture({ replicas: 1 }), { liveReplicas: 3 }).spec!.replicas, 1);
  });

  test('autoscaling off and spec.replicas unset: replicas left to the API default', () => {
    const d = deploymentOf(fixture({ replicas: undefined }), { liveReplicas: 4 });
    assert.equal('replicas' in d.spec!, false);
  });
});

describe('ServiceMonitor (behaviour 37; Appendix A6)', () => {
  test('§6: interval 30s, additionalLabels {release: prom} → labels, selector, namespace, one endpoint', () => {
    const svc = fixture({ labels: { team: 'a' }, metrics: { enabled: true, serviceMonitor: { interval: '30s', additionalLabels: { release: 'prom' } } } });
    const { children } = renderNIMService(svc);
    const sm = find<ServiceMonitor>(children, 'ServiceMonitor');
    const service = find<Wire<V1Service>>(children, 'Service');
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(sm.metadata.name, 'llm');
    assert.equal(sm.metadata.namespace, 'ns');
    assert.deepEqual(sm.metadata.ownerReferences, service.metadata!.ownerReferences);
    assert.deepEqual(sm.metadata.labels, { ...service.metadata!.labels, release: 'prom' });
    assert.deepEqual(sm.spec, {
      namespaceSelector: { matchNames: ['ns'] },
      selector: { matchLabels: service.metadata!.labels },
      endpoints: [{ path: '/v1/metrics', port: 'api', interval: '30s' }],
    });
    assert.ok(sm.metadata.annotations!['nvidia.com/parent-spec-hash'] && sm.metadata.annotations!['nvidia.com/last-applied-hash']);
  });

  test('metricsPort adds /metrics on port metrics, with the same interval and timeout', () => {
    const svc = fixture({
      expose: { service: { port: 8000, metricsPort: 8002 } },
      metrics: { enabled: true, serviceMonitor: { interval: '15s', scrapeTimeout: '10s' } },
    });
    const sm = find<ServiceMonitor>(renderNIMService(svc).children, 'ServiceMonitor');
    assert.deepEqual(sm.spec.endpoints, [
      { path: '/v1/metrics', port: 'api', interval: '15s', scrapeTimeout: '10s' },
      { path: '/metrics', port: 'metrics', interval: '15s', scrapeTimeout: '10s' },
    ]);
  });

  test('examples/serving/metrics.yaml: annotations added; additional labels win, but not over managed-by', () => {
    const { services } = loadExample('examples/serving/metrics.yaml');
    const s = structuredClone(services[0]!);
    s.spec.metrics!.serviceMonitor!.additionalLabels = { release: 'kube-prometheus-stack', 'app.kubernetes.io/part-of': 'llm-stack', 'app.kubernetes.io/managed-by': 'me' };
    const sm = find<ServiceMonitor>(renderNIMService(s).children, 'ServiceMonitor');
    assert.equal(sm.metadata.annotations!['example.com/dashboard'], 'nim-llm-overview');
    assert.equal(sm.metadata.labels!.release, 'kube-prometheus-stack');
    assert.equal(sm.metadata.labels!['app.kubernetes.io/part-of'], 'llm-stack');
    assert.equal(sm.metadata.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
    assert.equal(sm.spec.selector.matchLabels!['app.kubernetes.io/part-of'], 'nim-service');
  });

  test('metrics turned off: no ServiceMonitor, listed as absent so it is deleted (A6 fix)', () => {
    const svc = fixture({ metrics: { enabled: false, serviceMonitor: { interval: '30s' } } });
    const r = renderNIMService(svc);
    assert.equal(r.children.some((c) => c.kind === 'ServiceMonitor'), false);
    assert.deepEqual(exposureAbsent(r.absent).at(-1), { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', name: 'llm' });
  });
});

describe('proxy without a CA ConfigMap (behaviours 12, 38; Appendix A13 fix)', () => {
  const svc = fixture({ proxy: { httpsProxy: 'http://p:3128', httpProxy: 'http://p:3128', noProxy: '.svc' } });
  const { children } = renderNIMService(svc);
  const d = find<Deployment>(children, 'Deployment');
  const pod = d.spec!.template.spec!;

  test('a plain Deployment: no CA init container, no CA volumes or mounts', () => {
    assert.equal(pod.initContainers, undefined);
    assert.deepEqual(pod.volumes!.map((v) => v.name), ['dshm', 'model-store']);
    assert.deepEqual(mainOf(d).volumeMounts!.map((m) => m.mountPath), ['/model-store', '/dev/shm']);
    assertAllValid(children);
  });

  test('the seven proxy variables are set', () => {
    const env = Object.fromEntries(envOf(d).map((e) => [e.name, e.value]));
    assert.equal(env.NIM_SDK_USE_NATIVE_TLS, '1');
    for (const n of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) assert.equal(env[n], 'http://p:3128', n);
    for (const n of ['NO_PROXY', 'no_proxy']) assert.equal(env[n], '.svc', n);
  });

  test('the Role grants the SCC the pods ask for (nonroot), not anyuid', () => {
    assert.equal(d.metadata!.annotations!['openshift.io/required-scc'], 'nonroot');
    assert.equal(d.spec!.template.metadata!.annotations!['openshift.io/required-scc'], 'nonroot');
    assert.deepEqual(find<Wire<V1Role>>(children, 'Role').rules![0]!.resourceNames, ['nonroot']);
  });

  test('with hostPath: hostmount-anyuid on both; with a CA ConfigMap: anyuid on both', () => {
    const sccs = (s: NIMService) => {
      const c = renderNIMService(s).children;
      return [find<Deployment>(c, 'Deployment').metadata!.annotations!['openshift.io/required-scc'], find<Wire<V1Role>>(c, 'Role').rules![0]!.resourceNames![0]];
    };
    assert.deepEqual(sccs(fixture({ proxy: { httpsProxy: 'http://p:3128' }, storage: { hostPath: '/data' } })), ['hostmount-anyuid', 'hostmount-anyuid']);
    assert.deepEqual(sccs(fixture({ proxy: { httpsProxy: 'http://p:3128', certConfigMap: 'ca' } })), ['anyuid', 'anyuid']);
  });
});

describe('a blocked render still holds every child but the Deployment (behaviour 22)', () => {
  test('missing NIMCache: routes, HPA and ServiceMonitor rendered, no Deployment', () => {
    const svc = scaled({ minReplicas: 1, maxReplicas: 2 }, {
      storage: { nimCache: { name: 'missing-cache' } },
      expose: { service: { port: 8000 }, router: { hostDomainName: 'd', gateway: { namespace: 'gw', name: 'g' } } },
      metrics: { enabled: true },
    });
    const r = renderNIMService(svc);
    assert.deepEqual(r.blocked, { state: 'Failed', reason: 'NIMCacheNotFound', message: 'NIMCache missing-cache not found' });
    assert.deepEqual(r.children.map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'HTTPRoute', 'HorizontalPodAutoscaler', 'ServiceMonitor']);
    assert.deepEqual(exposureAbsent(r.absent).map((a) => a.kind), ['Ingress', 'GRPCRoute']);
  });
});
