/**
 * NIMService optional children: Ingress, HTTPRoute, GRPCRoute and the model PVC; which ones exist,
 * which are listed as absent, and the metadata every child shares (inventory §2.2.0, §2.2.7; §6
 * behaviours 1, 10, 20, 22, 26, 31–34, 85).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Ingress, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import type { Wire } from '../../../src/api/schema.js';
import {
  childRef,
  isCreateOnly,
  renderNIMService,
  SpecError,
  type Child,
  type GRPCRoute,
  type HTTPRoute,
} from '../../../src/render/nimservice/index.js';
import { assertAllValid, exposureAbsent, find, fixture, loadExample, type Deployment } from './nimservice-fixtures.js';

type Ingress = Wire<V1Ingress>;
type PVC = Wire<V1PersistentVolumeClaim>;

const OPTIONAL_KINDS = ['Ingress', 'HTTPRoute', 'GRPCRoute', 'HorizontalPodAutoscaler', 'ServiceMonitor'];
const kinds = (children: Child[]) => children.map((c) => c.kind);
const absentKinds = (svc: Parameters<typeof renderNIMService>[0]) => exposureAbsent(renderNIMService(svc).absent).map((a) => a.kind);
const owner = (name: string, uid: string) => [
  { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', name, uid, controller: true, blockOwnerDeletion: true },
];

describe('Ingress from expose.router.ingress (examples/serving/ingress.yaml, behaviour 31)', () => {
  const { services } = loadExample('examples/serving/ingress.yaml');
  const svc = services[0]!;
  // No NIMCache facts: the Deployment is blocked, the Ingress is still rendered (behaviour 22).
  const r = renderNIMService(svc);
  const ing = find<Ingress>(r.children, 'Ingress');
  const host = 'llama3-8b-public.nim-service.nim.example.com';

  test('Ingress <name> after the Service, owned, with service labels but not the Service\'s own labels', () => {
    assert.equal(r.blocked?.reason, 'NIMCacheNotFound');
    assert.deepEqual(kinds(r.children), ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'Ingress']);
    assert.equal(ing.metadata!.name, 'llama3-8b-public');
    assert.equal(ing.metadata!.namespace, 'nim-service');
    assert.deepEqual(ing.metadata!.ownerReferences, owner('llama3-8b-public', 'uid-llama3-8b-public'));
    assert.equal(find<Wire<V1Service>>(r.children, 'Service').metadata!.labels!['example.com/exposure'], 'public');
    assert.deepEqual(ing.metadata!.labels, {
      'app.kubernetes.io/name': 'llama3-8b-public',
      'app.kubernetes.io/instance': 'llama3-8b-public',
      'app.kubernetes.io/operator-version': '',
      'app.kubernetes.io/part-of': 'nim-service',
      'app.kubernetes.io/managed-by': 'k8s-nim-operator',
    });
    assertAllValid(r.children);
  });

  test('class, host <name>.<ns>.<hostDomainName>, path / to port api, TLS for that host', () => {
    assert.deepEqual(ing.spec, {
      ingressClassName: 'nginx',
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'llama3-8b-public', port: { name: 'api' } } } }] } }],
      tls: [{ hosts: [host], secretName: 'nim-example-com-tls' }],
    });
  });

  test('router annotations, the NIMService annotations and both hashes', () => {
    const a = ing.metadata!.annotations!;
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-read-timeout'], '600');
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-body-size'], '16m');
    assert.equal(a['openshift.io/required-scc'], 'nonroot');
    assert.ok(a['nvidia.com/parent-spec-hash']);
    assert.ok(a['nvidia.com/last-applied-hash']);
  });

  test('the other optional children are absent; without router.ingress the Ingress is too', () => {
    assert.deepEqual(exposureAbsent(r.absent).map((a) => a.kind), ['HTTPRoute', 'GRPCRoute', 'HorizontalPodAutoscaler', 'ServiceMonitor']);
    const off = structuredClone(svc);
    delete off.spec.expose!.router!.ingress;
    const r2 = renderNIMService(off);
    assert.equal(r2.children.some((c) => c.kind === 'Ingress'), false);
    assert.deepEqual(exposureAbsent(r2.absent)[0], { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'llama3-8b-public' });
  });

  test('no TLS without tlsSecretName', () => {
    const plain = structuredClone(svc);
    delete plain.spec.expose!.router!.ingress!.tlsSecretName;
    assert.equal(find<Ingress>(renderNIMService(plain).children, 'Ingress').spec!.tls, undefined);
  });
});

describe('deprecated expose.ingress (behaviour 32)', () => {
  const spec = {
    ingressClassName: 'traefik',
    rules: [{ host: 'x.example.com', http: { paths: [{ path: '/v1', pathType: 'Prefix', backend: { service: { name: 'llm', port: { number: 8000 } } } }] } }],
  };

  test('enabled: the spec verbatim and its annotations', () => {
    const svc = fixture({ expose: { service: { port: 8000 }, ingress: { enabled: true, spec, annotations: { 'a.example.com/x': '1' } } } });
    const { children, absent } = renderNIMService(svc);
    const ing = find<Ingress>(children, 'Ingress');
    assert.deepEqual(ing.spec, spec);
    assert.equal(ing.metadata!.annotations!['a.example.com/x'], '1');
    assert.equal(absent.some((a) => a.kind === 'Ingress'), false);
    assertAllValid(children);
  });

  test('not enabled: no Ingress, listed as absent', () => {
    const svc = fixture({ expose: { service: { port: 8000 }, ingress: { enabled: false, spec } } });
    assert.equal(renderNIMService(svc).children.some((c) => c.kind === 'Ingress'), false);
    assert.ok(absentKinds(svc).includes('Ingress'));
  });
});

describe('Gateway API routes (examples/serving/gateway-routes.yaml, behaviours 33, 34)', () => {
  const { services } = loadExample('examples/serving/gateway-routes.yaml');
  const svc = services[0]!;
  const r = renderNIMService(svc);
  const http = find<HTTPRoute>(r.children, 'HTTPRoute');
  const grpc = find<GRPCRoute>(r.children, 'GRPCRoute');
  const parentRefs = [{ name: 'inference-gateway', namespace: 'gateway-system' }];
  const hostnames = ['asr-en.nim-service.nim.example.com'];

  test('order: Service, HTTPRoute, GRPCRoute, PVC, Deployment; HPA and ServiceMonitor absent', () => {
    assert.deepEqual(kinds(r.children), ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'HTTPRoute', 'GRPCRoute', 'PersistentVolumeClaim', 'Deployment']);
    assert.deepEqual(exposureAbsent(r.absent).map((a) => a.kind), ['Ingress', 'HorizontalPodAutoscaler', 'ServiceMonitor']);
    assertAllValid(r.children);
  });

  test('HTTPRoute: parentRef, hostname, PathPrefix / to the Service API port', () => {
    assert.equal(http.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.equal(http.metadata.name, 'asr-en');
    assert.equal(http.metadata.namespace, 'nim-service');
    assert.deepEqual(http.metadata.ownerReferences, owner('asr-en', 'uid-asr-en'));
    assert.deepEqual(http.spec, {
      parentRefs,
      hostnames,
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'asr-en', port: 9000 }] }],
    });
  });

  test('GRPCRoute: same parentRef and hostname, no matches, backend on the gRPC port', () => {
    assert.deepEqual(grpc.spec, { parentRefs, hostnames, rules: [{ backendRefs: [{ name: 'asr-en', port: 50051 }] }] });
    assert.equal(grpc.metadata.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
    assert.ok(grpc.metadata.annotations!['nvidia.com/last-applied-hash']);
  });

  test('gateway.backendRef replaces the HTTP backend only', () => {
    const s = structuredClone(svc);
    s.spec.expose!.router!.gateway!.backendRef = { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'p' };
    const c = renderNIMService(s).children;
    assert.deepEqual(find<HTTPRoute>(c, 'HTTPRoute').spec.rules![0]!.backendRefs, [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'p' }]);
    assert.deepEqual(find<GRPCRoute>(c, 'GRPCRoute').spec.rules![0]!.backendRefs, [{ name: 'asr-en', port: 50051 }]);
  });

  test('router annotations go on both routes', () => {
    const s = structuredClone(svc);
    s.spec.expose!.router!.annotations = { 'gw.example.com/tier': 'gold' };
    const c = renderNIMService(s).children;
    assert.equal(find<HTTPRoute>(c, 'HTTPRoute').metadata.annotations!['gw.example.com/tier'], 'gold');
    assert.equal(find<GRPCRoute>(c, 'GRPCRoute').metadata.annotations!['gw.example.com/tier'], 'gold');
  });

  test('httpRoutesEnabled false / grpcRoutesEnabled default: those routes are absent', () => {
    const gw = { namespace: 'gw', name: 'g', httpRoutesEnabled: false };
    const s = fixture({ expose: { service: { port: 8000, grpcPort: 8001 }, router: { hostDomainName: 'd', gateway: gw } } });
    assert.equal(renderNIMService(s).children.some((c) => c.kind === 'HTTPRoute' || c.kind === 'GRPCRoute'), false);
    assert.deepEqual(absentKinds(s).slice(0, 3), ['Ingress', 'HTTPRoute', 'GRPCRoute']);
  });

  test('§6 fixture with router {hostDomainName: d, gateway: {namespace: gw, name: g}} (behaviour 33)', () => {
    const s = fixture({ expose: { service: { port: 8000 }, router: { hostDomainName: 'd', gateway: { namespace: 'gw', name: 'g' } } } });
    const route = find<HTTPRoute>(renderNIMService(s).children, 'HTTPRoute');
    assert.deepEqual(route.spec.parentRefs, [{ name: 'g', namespace: 'gw' }]);
    assert.deepEqual(route.spec.hostnames, ['llm.ns.d']);
    assert.deepEqual(route.spec.rules![0]!.backendRefs, [{ name: 'llm', port: 8000 }]);
    assert.ok(absentKinds(s).includes('GRPCRoute'));
  });

  test('grpcRoutesEnabled without a grpcPort: no GRPCRoute (upstream writes an empty one)', () => {
    const s = fixture({ expose: { service: { port: 8000 }, router: { hostDomainName: 'd', gateway: { namespace: 'gw', name: 'g', grpcRoutesEnabled: true } } } });
    assert.equal(renderNIMService(s).children.some((c) => c.kind === 'GRPCRoute'), false);
    assert.ok(absentKinds(s).includes('GRPCRoute'));
  });

  test('a router without hostDomainName is a SpecError naming the field', () => {
    const s = fixture({ expose: { service: { port: 8000 }, router: { ingress: { ingressClass: 'nginx' } } } });
    assert.throws(() => renderNIMService(s), (e: unknown) => e instanceof SpecError && e.field === 'spec.expose.router.hostDomainName');
  });
});

describe('model PVC (behaviour 26)', () => {
  test('§6: create, 50Gi, ReadWriteOnce, class fast → PVC <name>-pvc, owned, its own labels, mounted', () => {
    const svc = fixture({ storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce', storageClass: 'fast' } } });
    const { children, absent } = renderNIMService(svc);
    assert.deepEqual(kinds(children).slice(-2), ['PersistentVolumeClaim', 'Deployment']);
    const pvc = find<PVC>(children, 'PersistentVolumeClaim');
    assert.equal(pvc.metadata!.name, 'llm-pvc');
    assert.equal(pvc.metadata!.namespace, 'ns');
    assert.deepEqual(pvc.metadata!.ownerReferences, owner('llm', 'uid-1'));
    assert.deepEqual(pvc.metadata!.labels, { app: 'k8s-nim-operator', 'app.kubernetes.io/name': 'llm', 'app.kubernetes.io/managed-by': 'k8s-nim-operator' });
    assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } }, storageClassName: 'fast' });
    assert.ok(pvc.metadata!.annotations!['nvidia.com/parent-spec-hash']);
    const d = find<Deployment>(children, 'Deployment');
    assert.equal(d.spec!.template.spec!.volumes!.find((v) => v.name === 'model-store')!.persistentVolumeClaim!.claimName, 'llm-pvc');
    assert.equal(absent.some((a) => a.kind === 'PersistentVolumeClaim'), false);
    assert.equal(isCreateOnly(pvc), true);
    assert.equal(isCreateOnly(d), false);
    assertAllValid(children);
  });

  test('examples/serving/pvc-storage.yaml: named claim, annotations, class, RWX, subPath mount', () => {
    const { services } = loadExample('examples/serving/pvc-storage.yaml');
    const { children } = renderNIMService(services[0]!);
    const pvc = find<PVC>(children, 'PersistentVolumeClaim');
    assert.equal(pvc.metadata!.name, 'llama3-1b-model-store');
    assert.equal(pvc.metadata!.annotations!['example.com/backup'], 'false');
    assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '30Gi' } }, storageClassName: 'nfs-client' });
    const mount = find<Deployment>(children, 'Deployment').spec!.template.spec!.containers[0]!.volumeMounts![0]!;
    assert.deepEqual(mount, { name: 'model-store', mountPath: '/model-store', subPath: 'nim-cache' });
    assertAllValid(children);
  });

  test('no PVC for an existing claim, or when a NIMCache is named; empty size or mode are left out', () => {
    assert.equal(kinds(renderNIMService(fixture()).children).includes('PersistentVolumeClaim'), false);
    const both = fixture({ storage: { nimCache: { name: 'c' }, pvc: { create: true, size: '1Gi' } } });
    assert.equal(kinds(renderNIMService(both).children).includes('PersistentVolumeClaim'), false);
    const bare = find<PVC>(renderNIMService(fixture({ storage: { pvc: { create: true } } })).children, 'PersistentVolumeClaim');
    assert.deepEqual(bare.spec, {});
  });
});

describe('metadata every child shares (behaviours 1, 10, 20, 85)', () => {
  const svc = fixture({
    replicas: undefined,
    labels: { team: 'a', 'app.kubernetes.io/name': 'other' },
    storage: { pvc: { create: true, size: '10Gi', volumeAccessMode: 'ReadWriteOnce' } },
    expose: { service: { port: 8000, grpcPort: 8001, metricsPort: 8002 }, router: { hostDomainName: 'example.com', gateway: { namespace: 'gw', name: 'g', grpcRoutesEnabled: true } } },
    scale: { enabled: true, hpa: { minReplicas: 2, maxReplicas: 5 } },
    metrics: { enabled: true },
  });
  const r = renderNIMService(svc);

  test('all children, in upstream order; nothing absent but the Ingress', () => {
    assert.deepEqual(kinds(r.children), [
      'ServiceAccount', 'Role', 'RoleBinding', 'Service', 'HTTPRoute', 'GRPCRoute', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PersistentVolumeClaim', 'Deployment',
    ]);
    assert.deepEqual(exposureAbsent(r.absent), [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'llm' }]);
    assertAllValid(r.children);
  });

  test('one controller owner reference, the spec hash, a per-child hash, managed-by on each', () => {
    const specHash = r.children[0]!.metadata!.annotations!['nvidia.com/parent-spec-hash'];
    const last = new Set<string>();
    for (const c of r.children) {
      assert.deepEqual(c.metadata!.ownerReferences, owner('llm', 'uid-1'), c.kind);
      assert.equal(c.metadata!.namespace, 'ns');
      assert.equal(c.metadata!.annotations!['nvidia.com/parent-spec-hash'], specHash, c.kind);
      last.add(c.metadata!.annotations!['nvidia.com/last-applied-hash']!);
      assert.equal(c.metadata!.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator', c.kind);
    }
    assert.equal(last.size, r.children.length);
  });

  test('user labels on every child but the PVC; standard labels win (behaviour 10)', () => {
    for (const c of r.children) {
      if (c.kind === 'PersistentVolumeClaim') continue;
      assert.equal(c.metadata!.labels!.team, 'a', c.kind);
      assert.equal(c.metadata!.labels!['app.kubernetes.io/name'], 'llm', c.kind);
    }
  });

  test('children are named <name> (the PVC <name>-pvc); childRef gives their identity', () => {
    for (const c of r.children) {
      const ref = childRef(c);
      assert.deepEqual(ref, { apiVersion: c.apiVersion, kind: c.kind, name: c.kind === 'PersistentVolumeClaim' ? 'llm-pvc' : 'llm' });
    }
  });

  test('the same spec renders the same children (behaviour 20)', () => {
    assert.deepEqual(renderNIMService(structuredClone(svc)), r);
  });

  test('turning every feature off lists each optional child as absent', () => {
    const off = structuredClone(svc);
    delete off.spec.expose!.router;
    off.spec.scale!.enabled = false;
    off.spec.metrics!.enabled = false;
    const r2 = renderNIMService(off);
    assert.deepEqual(exposureAbsent(r2.absent).map((a) => a.kind), OPTIONAL_KINDS);
    for (const a of exposureAbsent(r2.absent)) assert.equal(a.name, 'llm');
    assert.equal(r2.children.some((c) => OPTIONAL_KINDS.includes(c.kind!)), false);
  });
});
