/** The NIMBuild's pods (inventory §2.4 steps 4–5; behaviours 80, 81). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NIMProfile } from '../../../src/api/v1alpha1/common.js';
import type { NIMBuild, NIMCache } from '../../../src/api/v1alpha1/kinds.js';
import {
  LOCAL_MANIFEST_SCRIPT, NIMBuildRenderError, buildEnv, buildResources, renderEngineBuildPod, renderLocalManifestPod,
} from '../../../src/render/nimbuild/index.js';
import { assertValidK8s, ngcCache } from '../../unit/nim/cache-fixtures.js';

type Spec = NIMBuild['spec'];

function nimBuild(patch: Partial<Spec> = {}, meta: Partial<NIMBuild['metadata']> = {}): NIMBuild {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMBuild',
    metadata: { name: 'engine', namespace: 'ns', uid: 'uid-b', generation: 1, ...meta },
    spec: { nimCache: { name: 'llama' }, image: { repository: 'nvcr.io/nim/x', tag: '1.0' }, ...patch },
  };
}

const buildable = (tags: Record<string, string> = {}): NIMProfile => ({
  name: 'b1',
  model: 'meta/x',
  release: '1.0',
  config: { llm_engine: 'tensorrt_llm', precision: 'bf16', tp: '2', trtllm_buildable: 'true', ...tags },
});

const readyCache = (patch: Partial<NIMCache['spec']> = {}): NIMCache => ({ ...ngcCache(patch), status: { state: 'Ready', pvc: 'llama-pvc', profiles: [buildable()] } });

describe('engine build pod <build>-engine-build-pod (behaviour 80)', () => {
  const pod = renderEngineBuildPod(nimBuild(), readyCache(), buildable());
  const ctr = pod.spec!.containers[0]!;

  test('named after the build, owned by it, valid', () => {
    assertValidK8s(pod);
    assert.equal(pod.metadata!.name, 'engine-engine-build-pod');
    assert.equal(pod.metadata!.namespace, 'ns');
    assert.deepEqual(pod.metadata!.ownerReferences, [{ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMBuild', name: 'engine', uid: 'uid-b', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(pod.metadata!.labels, { app: 'k8s-nim-operator', 'app.kubernetes.io/name': 'engine', 'app.kubernetes.io/managed-by': 'k8s-nim-operator' });
    assert.deepEqual(pod.metadata!.annotations, { 'sidecar.istio.io/inject': 'false' });
  });
  test('container nim-build-ctr: the NIM image, the profile, the engine name, the cache at /model-store', () => {
    assert.equal(ctr.name, 'nim-build-ctr');
    assert.equal(ctr.image, 'nvcr.io/nim/x:1.0');
    assert.equal(ctr.command, undefined, 'the image\'s entrypoint builds and serves');
    assert.deepEqual(ctr.env, [
      { name: 'NIM_CUSTOM_MODEL_NAME', value: 'engine' },
      { name: 'NIM_MODEL_PROFILE', value: 'b1' },
      { name: 'NIM_CACHE_PATH', value: '/model-store' },
      { name: 'NIM_SERVER_PORT', value: '8000' },
      { name: 'NIM_HTTP_API_PORT', value: '8000' },
      { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: 'ngc-api', key: 'NGC_API_KEY' } } },
    ]);
    assert.deepEqual(ctr.volumeMounts, [{ name: 'nim-cache-volume', mountPath: '/model-store' }]);
    assert.deepEqual(pod.spec!.volumes, [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'llama-pvc' } }]);
    assert.deepEqual(ctr.ports, [{ name: 'api', containerPort: 8000, protocol: 'TCP' }]);
  });
  test('GPUs from the profile\'s tp, as request and limit', () => {
    assert.deepEqual(ctr.resources, { requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
  });
  test('probes on port api: ready, live, and a startup probe that waits for the build', () => {
    assert.deepEqual(ctr.readinessProbe, { httpGet: { path: '/v1/health/ready', port: 'api' }, initialDelaySeconds: 15, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(ctr.livenessProbe!.httpGet, { path: '/v1/health/live', port: 'api' });
    assert.deepEqual([ctr.startupProbe!.httpGet!.path, ctr.startupProbe!.initialDelaySeconds, ctr.startupProbe!.failureThreshold], ['/v1/health/ready', 30, 30]);
  });
  test('security and identity from the NIMCache; no restart; no default node selector', () => {
    assert.equal(pod.spec!.restartPolicy, 'Never');
    assert.deepEqual(pod.spec!.securityContext, { runAsUser: 1000, fsGroup: 2000, runAsNonRoot: true });
    assert.deepEqual(ctr.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000 });
    assert.equal(pod.spec!.nodeSelector, undefined);
    assert.equal(pod.spec!.imagePullSecrets, undefined);
    assert.equal(pod.spec!.serviceAccountName, undefined);
    const custom = renderEngineBuildPod(nimBuild(), readyCache({ userID: 5, groupID: 6, runtimeClassName: 'nvidia', storage: { pvc: { name: 'mine', subPath: 'models' } } }), buildable());
    assert.deepEqual(custom.spec!.securityContext, { runAsUser: 5, fsGroup: 6, runAsNonRoot: true });
    assert.equal(custom.spec!.runtimeClassName, 'nvidia');
    assert.deepEqual(custom.spec!.containers[0]!.volumeMounts, [{ name: 'nim-cache-volume', mountPath: '/model-store', subPath: 'models' }]);
  });
  test('placement, pull secrets, pull policy and resources from the NIMBuild', () => {
    const b = nimBuild({
      image: { repository: 'r', tag: 't', pullPolicy: 'Always', pullSecrets: ['ngc-secret'] },
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L40S' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
      resources: { requests: { cpu: '8', memory: '64Gi' }, limits: { memory: '96Gi' } },
    });
    const p = renderEngineBuildPod(b, readyCache(), buildable());
    assertValidK8s(p);
    assert.deepEqual(p.spec!.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-L40S' });
    assert.deepEqual(p.spec!.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }]);
    assert.deepEqual(p.spec!.imagePullSecrets, [{ name: 'ngc-secret' }]);
    assert.equal(p.spec!.containers[0]!.imagePullPolicy, 'Always');
    assert.deepEqual(p.spec!.containers[0]!.resources, { requests: { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '2' }, limits: { memory: '96Gi', 'nvidia.com/gpu': '2' } });
  });
  test('labels and annotations: the NIMBuild\'s own, then spec.labels/annotations, the operator\'s win; no kubectl copy', () => {
    const b = nimBuild(
      { labels: { team: 'ml', app: 'mine' }, annotations: { note: 'spec' } },
      { labels: { owner: 'me' }, annotations: { note: 'meta', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    );
    const p = renderEngineBuildPod(b, readyCache(), buildable(), { orchestrator: 'OpenShift' });
    assert.deepEqual(p.metadata!.labels, { owner: 'me', team: 'ml', app: 'k8s-nim-operator', 'app.kubernetes.io/name': 'engine', 'app.kubernetes.io/managed-by': 'k8s-nim-operator' });
    assert.deepEqual(p.metadata!.annotations, { note: 'spec', 'sidecar.istio.io/inject': 'false', 'openshift.io/scc': 'nonroot' });
  });
  test('TKGS: seccomp RuntimeDefault on pod and container', () => {
    const p = renderEngineBuildPod(nimBuild(), readyCache(), buildable(), { orchestrator: 'TKGS' });
    assert.deepEqual(p.spec!.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(p.spec!.containers[0]!.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
  });
  test('the same input renders the same pod', () => {
    assert.deepEqual(renderEngineBuildPod(nimBuild(), readyCache(), buildable()), pod);
  });
});

describe('environment', () => {
  test('spec.env wins over the operator\'s variables, not over the engine name and profile the operator reads back', () => {
    const b = nimBuild({ modelName: 'custom', env: [{ name: 'NIM_LOG_LEVEL', value: 'DEBUG' }, { name: 'NIM_CACHE_PATH', value: '/x' }, { name: 'NIM_CUSTOM_MODEL_NAME', value: 'other' }] });
    const env = buildEnv(b, readyCache(), buildable());
    const map = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(map.NIM_LOG_LEVEL, 'DEBUG');
    assert.equal(map.NIM_CACHE_PATH, '/x');
    assert.equal(map.NIM_CUSTOM_MODEL_NAME, 'custom');
    assert.equal(env.filter((e) => e.name === 'NIM_CUSTOM_MODEL_NAME').length, 1);
  });
  test('a LoRA profile gets NIM_PEFT_SOURCE=/tmp, which spec.env cannot change', () => {
    const b = nimBuild({ env: [{ name: 'NIM_PEFT_SOURCE', value: '/loras' }] });
    const env = buildEnv(b, readyCache(), buildable({ feat_lora: 'true' }));
    assert.deepEqual(env.filter((e) => e.name === 'NIM_PEFT_SOURCE'), [{ name: 'NIM_PEFT_SOURCE', value: '/tmp' }]);
    assert.ok(!buildEnv(nimBuild(), readyCache(), buildable()).some((e) => e.name === 'NIM_PEFT_SOURCE'));
  });
  test('a cache without an NGC source cannot be built from', () => {
    const c = readyCache();
    c.spec.source = { hf: { endpoint: 'https://huggingface.co', namespace: 'm', modelName: 'L', authSecret: 'hf', modelPuller: 'img' } } as NIMCache['spec']['source'];
    assert.throws(() => renderEngineBuildPod(nimBuild(), c, buildable()), NIMBuildRenderError);
  });
});

describe('GPU count', () => {
  test('tensorParallelism is read before tp', () => {
    assert.equal(buildResources(nimBuild(), buildable({ tensorParallelism: '4' })).limits['nvidia.com/gpu'], '4');
  });
  test('a GPU count in spec.resources must agree with the profile', () => {
    assert.deepEqual(buildResources(nimBuild({ resources: { limits: { 'nvidia.com/gpu': 2 } } }), buildable()).requests['nvidia.com/gpu'], '2');
    assert.throws(
      () => buildResources(nimBuild({ resources: { requests: { 'nvidia.com/gpu': '1' } } }), buildable()),
      /spec\.resources\.requests: nvidia\.com\/gpu is 1, but profile b1 has tensor parallelism 2 .* leave nvidia\.com\/gpu out/,
    );
  });
  test('without a tp tag, spec.resources must give the count (as request and limit)', () => {
    const noTP = buildable();
    delete noTP.config!.tp;
    assert.throws(() => buildResources(nimBuild(), noTP), /profile b1 has no tensor parallelism tag \(tp\): set nvidia\.com\/gpu in spec\.resources\.requests/);
    assert.deepEqual(buildResources(nimBuild({ resources: { requests: { 'nvidia.com/gpu': '1' } } }), noTP), { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } });
  });
  test('a tp that is not a count is refused', () => {
    assert.throws(() => buildResources(nimBuild(), buildable({ tp: 'two' })), /tensor parallelism "two", which is not a GPU count/);
  });
});

describe('local manifest pod <build>-local-manifest-pod (behaviour 81)', () => {
  const pod = renderLocalManifestPod(nimBuild({ nodeSelector: { a: 'b' } }), readyCache());
  const ctr = pod.spec!.containers[0]!;
  test('prints /model-store/local_cache/local_manifest.yaml and exits', () => {
    assertValidK8s(pod);
    assert.equal(pod.metadata!.name, 'engine-local-manifest-pod');
    assert.equal(ctr.name, 'nim-build-manifest-ctr');
    assert.equal(ctr.image, 'nvcr.io/nim/x:1.0');
    assert.deepEqual(ctr.command, ['sh', '-c', LOCAL_MANIFEST_SCRIPT]);
    assert.equal(LOCAL_MANIFEST_SCRIPT, 'cat /model-store/local_cache/local_manifest.yaml');
    assert.equal(pod.spec!.restartPolicy, 'Never');
    assert.deepEqual(ctr.volumeMounts, [{ name: 'nim-cache-volume', mountPath: '/model-store' }]);
    assert.equal(ctr.resources, undefined, 'no GPU to read a file');
    assert.deepEqual(pod.spec!.nodeSelector, { a: 'b' });
  });
  test('standard labels only; istio off, or the nonroot SCC on OpenShift', () => {
    const b = nimBuild({}, { labels: { owner: 'me' } });
    assert.deepEqual(renderLocalManifestPod(b, readyCache()).metadata!.labels, { app: 'k8s-nim-operator', 'app.kubernetes.io/name': 'engine', 'app.kubernetes.io/managed-by': 'k8s-nim-operator' });
    assert.deepEqual(pod.metadata!.annotations, { 'sidecar.istio.io/inject': 'false' });
    assert.deepEqual(renderLocalManifestPod(b, readyCache(), { orchestrator: 'OpenShift' }).metadata!.annotations, { 'openshift.io/required-scc': 'nonroot' });
  });
});
