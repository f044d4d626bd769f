/**
 * KServe NIMServices: the InferenceService and its predictor (inventory §2.2.14; §6 behaviours
 * 49–53; Appendix A15; NVIDIA/k8s-nim-operator#735, #762, #890).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import type { NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';
import { SpecError } from '../../../src/render/nimservice/index.js';
import { renderKServe, type InferenceService, type KServeFacts, type Predictor } from '../../../src/render/nimservice/kserve.js';
import { assertAllValid, fixture, loadExample, readyCache } from './nimservice-fixtures.js';

const kserve = (spec: Record<string, unknown> = {}, name = 'llm'): NIMService => fixture({ inferencePlatform: 'kserve', ...spec }, name);
const withMode = (mode: string, spec: Record<string, unknown> = {}) => kserve({ annotations: { 'serving.kserve.io/deploymentMode': mode }, ...spec });
const isvcOf = (svc: NIMService, facts?: KServeFacts): InferenceService => {
  const r = renderKServe(svc, facts);
  const isvc = r.children.find((c) => c.kind === 'InferenceService');
  assert.ok(isvc, 'no InferenceService rendered');
  return isvc as InferenceService;
};
const predictorOf = (svc: NIMService, facts?: KServeFacts): Predictor => isvcOf(svc, facts).spec.predictor;

const COMPONENT_FIELDS = ['minReplicas', 'maxReplicas', 'scaleMetric', 'scaleMetricType', 'scaleTarget', 'deploymentStrategy', 'labels', 'annotations'];
const podSchema = new StructuralValidator(k8sSchema('V1PodTemplateSpec'));
/** The predictor without KServe's component fields is a valid pod spec (no unknown fields). */
function assertPodSpec(p: Predictor): void {
  const spec = Object.fromEntries(Object.entries(p).filter(([k]) => !COMPONENT_FIELDS.includes(k)));
  // Checked as a stand-alone PodTemplate, which needs a name.
  const r = podSchema.admit({ metadata: { name: 'x', labels: p.labels, annotations: p.annotations }, spec });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unknownFields, []);
}

describe('KServe: children and InferenceService metadata (behaviour 49)', () => {
  test('Standard by default: ServiceAccount, Role, RoleBinding and the InferenceService; no Deployment, Service, Ingress or HPA of our own', () => {
    const r = renderKServe(kserve({ replicas: 1 }));
    assert.deepEqual(r.children.map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'InferenceService']);
    assertAllValid(r.children as never);
    for (const kind of ['Service', 'Deployment', 'Ingress', 'HorizontalPodAutoscaler', 'HTTPRoute', 'GRPCRoute']) {
      assert.ok(r.absent.some((a) => a.kind === kind && a.name === 'llm'), `${kind} listed as absent`);
    }
    const isvc = isvcOf(kserve());
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(isvc.metadata.name, 'llm');
    assert.deepEqual(isvc.metadata.ownerReferences?.map((o) => o.kind), ['NIMService']);
    const a = isvc.metadata.annotations!;
    assert.equal(a['serving.kserve.io/enable-metric-aggregation'], 'true');
    assert.equal(a['serving.kserve.io/enable-prometheus-scraping'], 'true');
    assert.equal(a['serving.kserve.io/deploymentMode'], 'Standard');
    assert.ok(a['nvidia.com/parent-spec-hash'] && a['nvidia.com/last-applied-hash']);
    assert.equal(isvc.metadata.labels!['networking.kserve.io/visibility'], 'cluster-local');
    assert.equal(isvc.metadata.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
  });

  test('visibility label: absent with ingress enabled, a user-given value kept', () => {
    const ingress = kserve({ expose: { service: { port: 8000 }, router: { hostDomainName: 'example.com', ingress: { ingressClass: 'nginx' } } } });
    assert.equal(isvcOf(ingress).metadata.labels!['networking.kserve.io/visibility'], undefined);
    const user = kserve({ labels: { 'networking.kserve.io/visibility': 'exposed' } });
    assert.equal(isvcOf(user).metadata.labels!['networking.kserve.io/visibility'], 'exposed');
  });

  test('the predictor runs the NIM container: image, env, resources, volumes, pull secrets, service account, probes on named ports', () => {
    const p = predictorOf(kserve({ image: { repository: 'nvcr.io/nim/x', tag: '1.0', pullSecrets: ['ngc-secret'] }, resources: { limits: { 'nvidia.com/gpu': 1 } }, command: ['serve'] }));
    assertPodSpec(p);
    const main = p.containers[0]!;
    assert.equal(main.name, 'llm-ctr');
    assert.equal(main.image, 'nvcr.io/nim/x:1.0');
    assert.deepEqual(main.command, ['serve'], 'spec.command kept (upstream drops it)');
    assert.deepEqual(main.resources, { limits: { 'nvidia.com/gpu': 1 } });
    assert.ok(main.env!.some((e) => e.name === 'NIM_SERVER_PORT' && e.value === '8000'));
    assert.ok(main.env!.some((e) => e.name === 'NGC_API_KEY'));
    assert.deepEqual(main.ports, [{ name: 'api', containerPort: 8000, protocol: 'TCP' }]);
    assert.deepEqual(main.livenessProbe?.httpGet, { path: '/v1/health/live', port: 'api' });
    assert.equal(main.startupProbe?.failureThreshold, 120);
    assert.ok(main.volumeMounts!.some((m) => m.mountPath === '/model-store'));
    assert.ok(p.volumes!.some((v) => v.name === 'model-store' && v.persistentVolumeClaim?.claimName === 'models'));
    assert.deepEqual(p.imagePullSecrets, [{ name: 'ngc-secret' }]);
    assert.equal(p.serviceAccountName, 'llm');
    assert.deepEqual(p.securityContext, { runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 });
    assert.deepEqual(p.deploymentStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } });
    assert.equal(p.labels!.app, 'llm');
    assert.equal(p.labels!['app.kubernetes.io/part-of'], 'nim-service');
  });

  test('Appendix A15 fix: init containers and sidecars get the NIM env, never multi-node variables', () => {
    const side = { name: 'side', image: { repository: 'busybox', tag: '1' }, env: [{ name: 'OWN', value: '1' }] };
    const p = predictorOf(kserve({ initContainers: [{ ...side, name: 'init' }], sidecarContainers: [side] }));
    for (const c of [...(p.initContainers ?? []), ...p.containers]) {
      const names = (c.env ?? []).map((e) => e.name);
      for (const mn of ['NIM_MULTI_NODE', 'NIM_NUM_COMPUTE_NODES', 'NIM_NODE_RANK', 'NIM_TENSOR_PARALLEL_SIZE', 'NIM_LEADER_ROLE']) assert.ok(!names.includes(mn), `${c.name} has ${mn}`);
      assert.ok(names.includes('NIM_CACHE_PATH'), `${c.name} has the NIM env`);
    }
    assert.ok(p.containers[1]!.env!.some((e) => e.name === 'OWN'));
  });

  test('ServiceMonitor in Standard mode only; a NIMCache not ready blocks the InferenceService', () => {
    const metrics = { metrics: { enabled: true, serviceMonitor: { interval: '30s' } } };
    assert.ok(renderKServe(withMode('RawDeployment', metrics)).children.some((c) => c.kind === 'ServiceMonitor'));
    const knative = renderKServe(withMode('Knative', metrics));
    assert.ok(!knative.children.some((c) => c.kind === 'ServiceMonitor'));
    assert.ok(knative.absent.some((a) => a.kind === 'ServiceMonitor'));
    const cached = kserve({ storage: { nimCache: { name: 'cache' } } });
    const blocked = renderKServe(cached, {});
    assert.equal(blocked.blocked?.reason, 'NIMCacheNotFound');
    assert.ok(!blocked.children.some((c) => c.kind === 'InferenceService'));
  });

  test('the examples render (raw and serverless) with their NIMCaches ready', () => {
    for (const path of ['examples/kserve/raw.yaml', 'examples/kserve/serverless.yaml']) {
      const { services, caches } = loadExample(path);
      const r = renderKServe(services[0]!, { nimCache: readyCache(caches[0]!) });
      assert.equal(r.blocked, undefined, path);
      assertPodSpec((r.children.find((c) => c.kind === 'InferenceService') as InferenceService).spec.predictor);
    }
  });
});

describe('KServe: deployment mode (behaviours 51, 53; #735, #762)', () => {
  test('both spellings are understood and written as given: RawDeployment/Standard, Serverless/Knative', () => {
    for (const [mode, family] of [['Standard', 'Standard'], ['RawDeployment', 'Standard'], ['Knative', 'Knative'], ['Serverless', 'Knative']] as const) {
      const r = renderKServe(withMode(mode));
      assert.equal(r.mode.family, family, mode);
      const isvc = r.children.find((c) => c.kind === 'InferenceService') as InferenceService;
      assert.equal(isvc.metadata.annotations!['serving.kserve.io/deploymentMode'], mode);
      assert.equal(isvc.spec.predictor.deploymentStrategy !== undefined, family === 'Standard', mode);
    }
  });

  test('Knative mode: no maxReplicas, deploymentStrategy or securityContext; unnamed ports; numeric-port probes, startup failure 30', () => {
    const p = predictorOf(withMode('Knative', { replicas: 2 }));
    assertPodSpec(p);
    assert.equal(p.maxReplicas, undefined);
    assert.equal(p.minReplicas, undefined, 'spec.replicas is not a Knative bound');
    assert.equal(p.deploymentStrategy, undefined);
    assert.equal(p.securityContext, undefined);
    const main = p.containers[0]!;
    assert.deepEqual(main.ports, [{ containerPort: 8000, protocol: 'TCP' }]);
    assert.deepEqual(main.livenessProbe?.httpGet, { path: '/v1/health/live', port: 8000 });
    assert.deepEqual(main.readinessProbe?.httpGet, { path: '/v1/health/ready', port: 8000 });
    assert.equal(main.startupProbe?.failureThreshold, 30);
    assert.equal(main.startupProbe?.initialDelaySeconds, 30);
    const grpc = predictorOf(withMode('Serverless', { expose: { service: { port: 8000, grpcPort: 8001 } } })).containers[0]!;
    assert.deepEqual(grpc.livenessProbe?.grpc, { port: 8001 });
    assert.deepEqual(grpc.ports, [{ containerPort: 8000, protocol: 'TCP' }, { containerPort: 8001, protocol: 'TCP' }]);
  });

  test('an invalid mode is refused with upstream\'s message', () => {
    assert.throws(() => renderKServe(withMode('Bogus')), (e: unknown) => e instanceof SpecError && /deployment mode annotation found but value is invalid: Bogus/.test(e.message));
  });

  test('an existing InferenceService keeps its mode and spelling; asking for another family leaves a note', () => {
    const live = (mode: string) => ({ metadata: { name: 'llm', annotations: { 'serving.kserve.io/deploymentMode': mode } }, status: { deploymentMode: mode } });
    // #735: an operator upgrade must not rewrite RawDeployment as Standard.
    const kept = renderKServe(withMode('Standard'), { liveInferenceService: live('RawDeployment') });
    assert.equal((kept.children.at(-1) as InferenceService).metadata.annotations!['serving.kserve.io/deploymentMode'], 'RawDeployment');
    assert.equal(kept.mode.note, undefined);
    assert.equal(renderKServe(kserve(), { liveInferenceService: live('Serverless') }).mode.mode, 'Serverless');
    const switched = renderKServe(withMode('Knative'), { liveInferenceService: live('Standard') });
    assert.equal(switched.mode.mode, 'Standard');
    assert.equal(switched.mode.family, 'Standard');
    assert.match(switched.mode.note!, /asks for KServe deployment mode Knative, but InferenceService llm runs in Standard mode/);
    // Without the annotation, the mode the status records.
    assert.equal(renderKServe(kserve(), { liveInferenceService: { status: { deploymentMode: 'Knative' } } }).mode.mode, 'Knative');
  });
});

describe('KServe: autoscaling (behaviour 50; #890)', () => {
  test('Standard with autoscaling: HPA class annotation, min/max and the cpu metric as scaleMetric/Type/Target', () => {
    const scale = { enabled: true, hpa: { minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] } };
    const isvc = isvcOf(kserve({ replicas: undefined, scale }));
    assert.equal(isvc.metadata.annotations!['serving.kserve.io/autoscalerClass'], 'hpa');
    const p = isvc.spec.predictor;
    assert.deepEqual([p.minReplicas, p.maxReplicas, p.scaleMetric, p.scaleMetricType, p.scaleTarget], [1, 3, 'cpu', 'Utilization', 80]);
    const memory = { ...scale, hpa: { ...scale.hpa, metrics: [{ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '1' } } }, { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } }] } };
    const m = predictorOf(kserve({ replicas: undefined, scale: memory }));
    assert.deepEqual([m.scaleMetric, m.scaleMetricType, m.scaleTarget], ['memory', 'AverageValue', 2 ** 30]);
  });

  test('Standard without autoscaling: min = max = spec.replicas, no autoscaler class', () => {
    const isvc = isvcOf(kserve({ replicas: 2 }));
    assert.equal(isvc.metadata.annotations!['serving.kserve.io/autoscalerClass'], undefined);
    assert.deepEqual([isvc.spec.predictor.minReplicas, isvc.spec.predictor.maxReplicas], [2, 2]);
    assert.equal(isvc.spec.predictor.scaleMetric, undefined);
  });

  test('Knative: the min-scale/max-scale annotations become the predictor\'s minReplicas/maxReplicas (0 allows scale to zero)', () => {
    const bounds = (a: Record<string, string>) => {
      const p = predictorOf(kserve({ annotations: { 'serving.kserve.io/deploymentMode': 'Knative', ...a } }));
      return [p.minReplicas, p.maxReplicas];
    };
    assert.deepEqual(bounds({ 'autoscaling.knative.dev/min-scale': '1', 'autoscaling.knative.dev/max-scale': '4' }), [1, 4]);
    assert.deepEqual(bounds({ 'autoscaling.knative.dev/min-scale': '0' }), [0, undefined]);
    assert.deepEqual(bounds({ 'autoscaling.knative.dev/minScale': '2', 'autoscaling.knative.dev/max-scale': '0' }), [2, undefined]);
    assert.deepEqual(bounds({}), [undefined, undefined]);
    assert.throws(() => bounds({ 'autoscaling.knative.dev/min-scale': 'two' }), /min-scale\]: Invalid value: "two"/);
    assert.throws(() => bounds({ 'autoscaling.knative.dev/min-scale': '5', 'autoscaling.knative.dev/max-scale': '2' }), /must not exceed/);
    // Standard mode ignores the Knative annotations.
    const std = predictorOf(kserve({ replicas: 1, annotations: { 'autoscaling.knative.dev/min-scale': '3' } }));
    assert.deepEqual([std.minReplicas, std.maxReplicas], [1, 1]);
  });

  test('rendering is pure: the same input gives deep-equal output', () => {
    const svc = withMode('Knative', { annotations: { 'serving.kserve.io/deploymentMode': 'Knative', 'autoscaling.knative.dev/min-scale': '1' } });
    assert.deepEqual(renderKServe(svc), renderKServe(svc));
  });
});
