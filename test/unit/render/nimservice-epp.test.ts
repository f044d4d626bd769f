/**
 * The endpoint picker of a NIMService: its ServiceAccount, Role, RoleBinding, ConfigMap, Service,
 * Deployment and InferencePool, the HTTPRoute through the pool, and their removal (inventory
 * §2.2.10; §6 behaviour 48; Appendix A21).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1ConfigMap, V1Deployment, V1Role, V1RoleBinding, V1Service } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import type { Wire } from '../../../src/api/schema.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';
import { renderNIMService, SpecError, type Child, type HTTPRoute, type InferencePool } from '../../../src/render/nimservice/index.js';
import { assertAllValid, exposureAbsent, fixture, loadExample, readyCache } from './nimservice-fixtures.js';

const CONFIG = {
  apiVersion: 'inference.networking.x-k8s.io/v1alpha1',
  kind: 'EndpointPickerConfig',
  plugins: [{ type: 'queue-scorer' }, { type: 'max-score-picker' }],
  schedulingProfiles: [{ name: 'default', plugins: [{ pluginRef: 'queue-scorer', weight: 2 }, { pluginRef: 'max-score-picker' }] }],
};
const EPP = { containerSpec: { name: 'epp', image: { repository: 'r', tag: 'v1' } }, config: CONFIG };
const withEPP = (epp: Record<string, unknown>, router: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  fixture({ expose: { service: { port: 8000 }, router: { ...router, eppConfig: epp } }, ...extra });

const byName = (children: Child[], kind: string, name: string) => {
  const c = children.find((x) => x.kind === kind && x.metadata!.name === name);
  assert.ok(c, `no ${kind}/${name}`);
  return c;
};

const cmValidator = new StructuralValidator(k8sSchema('V1ConfigMap'));

describe('eppConfig with an inline config (behaviour 48)', () => {
  const r = renderNIMService(withEPP(EPP));
  const dep = byName(r.children, 'Deployment', 'llm-epp') as Wire<V1Deployment>;
  const c = dep.spec!.template.spec!.containers[0]!;

  test('children <name>-epp, ConfigMap <name>-epp-config and InferencePool <name>, before the model Deployment', () => {
    assert.deepEqual(r.children.map((x) => `${x.kind}/${x.metadata!.name}`), [
      'ServiceAccount/llm', 'Role/llm', 'RoleBinding/llm', 'Service/llm',
      'ServiceAccount/llm-epp', 'Role/llm-epp', 'RoleBinding/llm-epp', 'ConfigMap/llm-epp-config', 'Service/llm-epp', 'Deployment/llm-epp', 'InferencePool/llm',
      'Deployment/llm',
    ]);
    for (const x of r.children) {
      assert.equal(x.metadata!.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
      assert.equal(x.metadata!.ownerReferences![0]!.uid, 'uid-1');
    }
    assertAllValid(r.children);
    const cm = r.children.find((x) => x.kind === 'ConfigMap')!;
    assert.deepEqual(cmValidator.admit(cm).errors, []);
    assert.deepEqual(cmValidator.admit(cm).unknownFields, []);
    assert.equal(r.absent.some((a) => a.name.startsWith('llm-epp') || a.kind === 'InferencePool'), false);
  });

  test('ConfigMap key default-plugins.yaml holds the config as YAML', () => {
    const cm = byName(r.children, 'ConfigMap', 'llm-epp-config') as Wire<V1ConfigMap>;
    assert.deepEqual(Object.keys(cm.data!), ['default-plugins.yaml']);
    assert.deepEqual(parse(cm.data!['default-plugins.yaml']!), CONFIG);
  });

  test('InferencePool: the model pods, the API port, the picker on 9002', () => {
    const pool = byName(r.children, 'InferencePool', 'llm') as InferencePool;
    assert.equal(pool.apiVersion, 'inference.networking.k8s.io/v1');
    assert.deepEqual(pool.spec, { selector: { matchLabels: { app: 'llm' } }, targetPorts: [{ number: 8000 }], endpointPickerRef: { name: 'llm-epp', port: { number: 9002 } } });
  });

  test('picker container: image, default args, ports, gRPC probes, config mounted read-only', () => {
    assert.equal(c.name, 'epp');
    assert.equal(c.image, 'r:v1');
    assert.deepEqual(c.args, [
      '--pool-name', 'llm', '--pool-namespace', 'ns', '--pool-group', 'inference.networking.k8s.io', '--zap-encoder', 'json',
      '--config-file', '/config/default-plugins.yaml', '--v', '6', '--model-server-metrics-path', '/v1/metrics',
    ]);
    assert.deepEqual(c.ports!.map((p) => `${p.name}:${p.containerPort}`), ['grpc-ext-proc:9002', 'grpc-health:9003', 'http-metrics:9090']);
    assert.deepEqual(c.readinessProbe, { grpc: { port: 9003 }, initialDelaySeconds: 5, periodSeconds: 10 });
    assert.deepEqual(c.livenessProbe, c.readinessProbe);
    assert.equal(c.startupProbe, undefined);
    assert.deepEqual(c.volumeMounts, [{ name: 'epp-config', mountPath: '/config', readOnly: true }]);
    const pod = dep.spec!.template.spec!;
    assert.equal(pod.serviceAccountName, 'llm-epp');
    assert.deepEqual(pod.volumes, [{ name: 'epp-config', configMap: { name: 'llm-epp-config' } }]);
    assert.deepEqual(dep.spec!.selector, { matchLabels: { app: 'llm-epp' } });
    assert.equal(dep.spec!.template.metadata!.labels!.app, 'llm-epp');
    assert.equal(dep.spec!.replicas, undefined);
  });

  test('Service: ClusterIP to the picker, 9002 and 9090', () => {
    const s = byName(r.children, 'Service', 'llm-epp') as Wire<V1Service>;
    assert.deepEqual(s.spec, {
      type: 'ClusterIP',
      selector: { app: 'llm-epp' },
      ports: [
        { name: 'grpc-ext-proc', port: 9002, targetPort: 9002, protocol: 'TCP' },
        { name: 'http-metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
      ],
    });
  });

  test('Role reads pools, objectives and pods; RoleBinding to the picker\'s ServiceAccount', () => {
    const role = byName(r.children, 'Role', 'llm-epp') as Wire<V1Role>;
    assert.deepEqual(role.rules, [
      { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools', 'inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
      { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferencepools', 'inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] },
    ]);
    const rb = byName(r.children, 'RoleBinding', 'llm-epp') as Wire<V1RoleBinding>;
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'llm-epp' });
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'llm-epp', namespace: 'ns' }]);
  });
});

describe('configuration sources and options', () => {
  test('configMapRef: no ConfigMap of ours (listed absent), the referenced one mounted, its key as the file', () => {
    const r = renderNIMService(withEPP({ containerSpec: EPP.containerSpec, configMapRef: { name: 'mine', key: 'epp.yaml' } }));
    assert.equal(r.children.some((x) => x.kind === 'ConfigMap'), false);
    const dep = byName(r.children, 'Deployment', 'llm-epp') as Wire<V1Deployment>;
    assert.deepEqual(dep.spec!.template.spec!.volumes, [{ name: 'epp-config', configMap: { name: 'mine' } }]);
    const args = dep.spec!.template.spec!.containers[0]!.args!;
    assert.equal(args[args.indexOf('--config-file') + 1], '/config/epp.yaml');
    assert.deepEqual(exposureAbsent(r.absent).filter((a) => a.kind === 'ConfigMap'), [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'llm-epp-config' }]);
  });

  test('A21: neither config nor configMapRef → SpecError naming eppConfig', () => {
    assert.throws(() => renderNIMService(withEPP({ containerSpec: EPP.containerSpec })), (e: unknown) => e instanceof SpecError && e.field === 'spec.expose.router.eppConfig');
    assert.throws(
      () => renderNIMService(withEPP({ containerSpec: EPP.containerSpec, configMapRef: { key: 'k' } })),
      (e: unknown) => e instanceof SpecError && e.field === 'spec.expose.router.eppConfig.configMapRef.name',
    );
  });

  test('own args, env, ports (one Service port each), probes, pull policy and secrets', () => {
    const r = renderNIMService(
      withEPP(
        {
          ...EPP,
          containerSpec: { name: 'epp', image: { repository: 'r', tag: 'v2', pullPolicy: 'Always', pullSecrets: ['reg'] }, args: ['--x'], env: [{ name: 'A', value: '1' }] },
          ports: [{ name: 'grpc', containerPort: 9100 }],
          startupProbe: { tcpSocket: { port: 9100 } },
        },
        {},
        { image: { repository: 'nvcr.io/nim/x', tag: '1.0', pullPolicy: 'IfNotPresent', pullSecrets: ['ngc'] } },
      ),
    );
    const dep = byName(r.children, 'Deployment', 'llm-epp') as Wire<V1Deployment>;
    const c = dep.spec!.template.spec!.containers[0]!;
    assert.deepEqual(c.args, ['--x']);
    assert.deepEqual(c.env, [{ name: 'A', value: '1' }]);
    assert.equal(c.imagePullPolicy, 'Always');
    assert.deepEqual(c.startupProbe, { tcpSocket: { port: 9100 } });
    assert.deepEqual(dep.spec!.template.spec!.imagePullSecrets, [{ name: 'ngc' }, { name: 'reg' }]);
    assert.deepEqual((byName(r.children, 'Service', 'llm-epp') as Wire<V1Service>).spec!.ports, [{ name: 'grpc', port: 9100, targetPort: 9100, protocol: 'TCP' }]);
    assertAllValid(r.children);
  });

  test('multi-node: the pool selects the leaders', () => {
    const r = renderNIMService(withEPP(EPP, {}, { multiNode: { parallelism: { pipeline: 2, tensor: 8 }, ray: {} } }));
    assert.deepEqual((byName(r.children, 'InferencePool', 'llm') as InferencePool).spec.selector, { matchLabels: { app: 'llm-lws', 'nim-llm-role': 'leader' } });
  });
});

describe('HTTPRoute through the pool', () => {
  const gateway = { hostDomainName: 'example.com', gateway: { namespace: 'gw', name: 'g' } };

  test('without a backendRef of the user\'s: the route sends to InferencePool <name>', () => {
    const route = byName(renderNIMService(withEPP(EPP, gateway)).children, 'HTTPRoute', 'llm') as HTTPRoute;
    assert.deepEqual(route.spec.rules![0]!.backendRefs, [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'llm' }]);
    assert.deepEqual(route.spec.rules![0]!.matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  test('the example\'s own backendRef is kept; without eppConfig the Service is the backend', () => {
    const { services, caches } = loadExample('examples/advanced/endpoint-picker.yaml');
    const r = renderNIMService(services[0]!, { nimCache: readyCache(caches[0]!) });
    const route = byName(r.children, 'HTTPRoute', 'llama3-8b-epp') as HTTPRoute;
    assert.deepEqual(route.spec.rules![0]!.backendRefs, [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'llama3-8b-epp', weight: 1 }]);
    assertAllValid(r.children);
    const plain = byName(renderNIMService(fixture({ expose: { service: { port: 8000 }, router: gateway } })).children, 'HTTPRoute', 'llm') as HTTPRoute;
    assert.deepEqual(plain.spec.rules![0]!.backendRefs, [{ name: 'llm', port: 8000 }]);
  });
});

describe('removing eppConfig (behaviour 48)', () => {
  const off = fixture();
  test('with a picker left from an earlier spec, all seven children are listed absent', () => {
    const absent = exposureAbsent(renderNIMService(off, { eppExists: true }).absent).slice(-7);
    assert.deepEqual(absent.map((a) => `${a.apiVersion} ${a.kind}/${a.name}`), [
      'v1 ServiceAccount/llm-epp',
      'rbac.authorization.k8s.io/v1 Role/llm-epp',
      'rbac.authorization.k8s.io/v1 RoleBinding/llm-epp',
      'v1 ConfigMap/llm-epp-config',
      'v1 Service/llm-epp',
      'apps/v1 Deployment/llm-epp',
      'inference.networking.k8s.io/v1 InferencePool/llm',
    ]);
  });
  test('otherwise the absent list is the single-node one', () => {
    assert.equal(renderNIMService(off).absent.some((a) => a.name === 'llm-epp'), false);
  });
});
