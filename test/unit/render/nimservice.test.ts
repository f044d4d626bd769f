/** Render functions of a standalone NIMService's core children (inventory §2.2.0–2.2.6, §2.2.9, §6 behaviours 1–13, 22–30, 39). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Role, V1RoleBinding, V1Service } from '@kubernetes/client-node';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMCache, NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { deepHash, fnv1a32, safeEncode } from '../../../src/render/hash.js';
import { renderNIMService, type NIMServiceFacts } from '../../../src/render/nimservice/index.js';
import { assertValidK8s, deploymentOf, exposureAbsent, envOf, envValue, find, loadExample, mainOf, readyCache, type Deployment } from './nimservice-fixtures.js';

describe('hashes', () => {
  test('FNV-1a-32 with SafeEncodeString matches upstream\'s test vectors (§2.0.4)', () => {
    assert.equal(safeEncode(String(fnv1a32('test-service'))), '8568b4fb55');
    assert.equal(safeEncode(String(fnv1a32('meta-llama3-2-1b-instruct'))), '6f49c65b4c');
  });
  test('the hash does not depend on key order', () => {
    assert.equal(deepHash({ a: 1, b: [{ x: 1, y: 2 }] }), deepHash({ b: [{ y: 2, x: 1 }], a: 1 }));
    assert.notEqual(deepHash({ a: 1 }), deepHash({ a: 2 }));
  });
});

describe('examples/basic/llm.yaml', () => {
  const { services, caches } = loadExample('examples/basic/llm.yaml');
  const svc = services[0]!;
  const facts: NIMServiceFacts = { nimCache: readyCache(caches[0]!) };
  const { children, blocked } = renderNIMService(svc, facts);

  test('SA, Role, RoleBinding, Service and Deployment all named <name>, each owned by the NIMService (behaviour 1)', () => {
    assert.equal(blocked, undefined);
    assert.deepEqual(children.map((c) => `${c.kind}/${c.metadata!.name}`), [
      'ServiceAccount/llama3-8b', 'Role/llama3-8b', 'RoleBinding/llama3-8b', 'Service/llama3-8b', 'Deployment/llama3-8b',
    ]);
    // No optional feature is on: each optional child is listed for deletion.
    assert.deepEqual(exposureAbsent(renderNIMService(svc, facts).absent).map((a) => `${a.apiVersion} ${a.kind}/${a.name}`), [
      'networking.k8s.io/v1 Ingress/llama3-8b',
      'gateway.networking.k8s.io/v1 HTTPRoute/llama3-8b',
      'gateway.networking.k8s.io/v1 GRPCRoute/llama3-8b',
      'autoscaling/v2 HorizontalPodAutoscaler/llama3-8b',
      'monitoring.coreos.com/v1 ServiceMonitor/llama3-8b',
    ]);
    for (const c of children) {
      assert.equal(c.metadata!.namespace, 'default');
      assert.deepEqual(c.metadata!.ownerReferences, [
        { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', name: 'llama3-8b', uid: 'uid-llama3-8b', controller: true, blockOwnerDeletion: true },
      ]);
    }
  });

  test('every child is a valid Kubernetes object with no unknown fields', () => {
    for (const c of children) assertValidK8s(c);
  });

  test('standard labels on every child, managed-by included (behaviour 10, §2.0.7)', () => {
    for (const c of children) {
      assert.deepEqual(c.metadata!.labels, {
        'app.kubernetes.io/name': 'llama3-8b',
        'app.kubernetes.io/instance': 'llama3-8b',
        'app.kubernetes.io/operator-version': '',
        'app.kubernetes.io/part-of': 'nim-service',
        'app.kubernetes.io/managed-by': 'k8s-nim-operator',
      });
      assert.ok(c.metadata!.annotations!['nvidia.com/parent-spec-hash']);
      assert.ok(c.metadata!.annotations!['nvidia.com/last-applied-hash']);
    }
  });

  test('container, image, ports and the standard env in upstream order (behaviour 2)', () => {
    const d = find<Deployment>(children, 'Deployment');
    const c = mainOf(d);
    assert.equal(c.name, 'llama3-8b-ctr');
    assert.equal(c.image, 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.ports, [{ name: 'api', containerPort: 8000, protocol: 'TCP' }]);
    assert.deepEqual(c.env, [
      { name: 'NIM_CACHE_PATH', value: '/model-store' },
      { name: 'OUTLINES_CACHE_DIR', value: '/tmp/outlines' },
      { name: 'NIM_SERVER_PORT', value: '8000' },
      { name: 'NIM_HTTP_API_PORT', value: '8000' },
      { name: 'NIM_JSONL_LOGGING', value: '1' },
      { name: 'NIM_LOG_LEVEL', value: 'INFO' },
      { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: 'ngc-api-secret', key: 'NGC_API_KEY' } } },
    ]);
    assert.deepEqual(d.spec!.template.spec!.imagePullSecrets, [{ name: 'ngc-secret' }]);
    assert.deepEqual(c.resources, { limits: { 'nvidia.com/gpu': 1 } });
  });

  test('the NIMCache PVC is mounted at /model-store, with /dev/shm (behaviours 8, 23)', () => {
    const d = find<Deployment>(children, 'Deployment');
    assert.deepEqual(d.spec!.template.spec!.volumes, [
      { name: 'dshm', emptyDir: { medium: 'Memory' } },
      { name: 'model-store', persistentVolumeClaim: { claimName: 'llama3-8b-cache-pvc', readOnly: false } },
    ]);
    assert.deepEqual(mainOf(d).volumeMounts, [
      { name: 'model-store', mountPath: '/model-store' },
      { name: 'dshm', mountPath: '/dev/shm' },
    ]);
  });

  test('default probes (behaviour 5), security context (7), strategy and selector (13), SA (12)', () => {
    const d = find<Deployment>(children, 'Deployment');
    const c = mainOf(d);
    const http = (path: string) => ({ path, port: 'api' });
    assert.deepEqual(c.livenessProbe, { httpGet: http('/v1/health/live'), initialDelaySeconds: 15, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(c.readinessProbe, { httpGet: http('/v1/health/ready'), initialDelaySeconds: 15, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(c.startupProbe, { httpGet: http('/v1/health/ready'), initialDelaySeconds: 30, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 120 });
    assert.deepEqual(d.spec!.template.spec!.securityContext, { runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 });
    assert.deepEqual(d.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } });
    assert.deepEqual(d.spec!.selector, { matchLabels: { app: 'llama3-8b' } });
    assert.equal(d.spec!.template.metadata!.labels!.app, 'llama3-8b');
    assert.equal(d.spec!.template.spec!.serviceAccountName, 'llama3-8b');
    assert.equal(d.spec!.replicas, 1);
  });

  test('pod annotations carry the SCC but no hash annotation (behaviour 11)', () => {
    const d = find<Deployment>(children, 'Deployment');
    assert.equal(d.metadata!.annotations!['openshift.io/required-scc'], 'nonroot');
    assert.deepEqual(d.spec!.template.metadata!.annotations, { 'openshift.io/required-scc': 'nonroot' });
  });

  test('Role and RoleBinding (behaviour 12), Service (behaviour 9)', () => {
    const role = find<Wire<V1Role>>(children, 'Role');
    assert.deepEqual(role.rules, [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: ['nonroot'], verbs: ['use'] }]);
    const rb = find<Wire<V1RoleBinding>>(children, 'RoleBinding');
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'llama3-8b' });
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'llama3-8b', namespace: 'default' }]);
    const s = find<Wire<V1Service>>(children, 'Service');
    assert.deepEqual(s.spec, { type: 'ClusterIP', selector: { app: 'llama3-8b' }, ports: [{ name: 'api', port: 8000, targetPort: 'api', protocol: 'TCP' }] });
  });

  test('rendering is deterministic and does not touch its input', () => {
    const before = structuredClone(svc);
    assert.deepEqual(renderNIMService(svc, facts), renderNIMService(structuredClone(svc), structuredClone(facts)));
    assert.deepEqual(svc, before);
  });

  test('a spec change changes parent-spec-hash; an unrelated one does not change other children', () => {
    const edited = structuredClone(svc);
    edited.spec.image.tag = '1.13.0';
    const a = find<Deployment>(children, 'Deployment').metadata!.annotations!;
    const b = deploymentOf(edited, facts).metadata!.annotations!;
    assert.notEqual(a['nvidia.com/parent-spec-hash'], b['nvidia.com/parent-spec-hash']);
    assert.notEqual(a['nvidia.com/last-applied-hash'], b['nvidia.com/last-applied-hash']);
  });
});

describe('NIMCache coupling (behaviours 22–25)', () => {
  const { services, caches } = loadExample('examples/serving/pinned-profile.yaml');
  const svc = services[0]!;
  const profile = svc.spec.storage!.nimCache!.profile!;
  const cache = caches[0]!;

  test('a missing, unready or failed NIMCache blocks the Deployment with upstream\'s reasons', () => {
    let r = renderNIMService(svc, {});
    assert.deepEqual(r.blocked, { state: 'Failed', reason: 'NIMCacheNotFound', message: 'NIMCache llama3-8b-multi not found' });
    assert.deepEqual(r.children.map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'Service']);
    r = renderNIMService(svc, { nimCache: { ...cache, status: { state: 'InProgress' } } });
    assert.deepEqual(r.blocked, { state: 'NotReady', reason: 'NIMCacheNotReady', message: 'NIMCache llama3-8b-multi not ready' });
    // Appendix A26 fix: the message says why the cache failed.
    const failed: NIMCache = {
      ...cache,
      status: { state: 'Failed', conditions: [{ type: 'NIM_CACHE_JOB_COMPLETED', status: 'False', reason: 'JobFailed', message: 'pod OOMKilled', lastTransitionTime: '2025-01-01T00:00:00Z' }] },
    };
    r = renderNIMService(svc, { nimCache: failed });
    assert.equal(r.blocked?.reason, 'NIMCacheFailed');
    assert.match(r.blocked!.message, /pod OOMKilled/);
  });

  test('profile → NIM_MODEL_PROFILE first, GPUs from tp, subPath mounted', () => {
    const withPVC: NIMCache = structuredClone(cache);
    withPVC.spec.storage.pvc!.subPath = 'llama';
    const facts = { nimCache: readyCache(withPVC, { profiles: [{ name: profile, config: { tp: '4', precision: 'bf16' } }] }) };
    const d = deploymentOf(svc, facts);
    assert.deepEqual(envOf(d)[0], { name: 'NIM_MODEL_PROFILE', value: profile });
    assert.deepEqual(mainOf(d).resources, { limits: { 'nvidia.com/gpu': '4' }, requests: { 'nvidia.com/gpu': '4' } });
    assert.deepEqual(mainOf(d).volumeMounts![0], { name: 'model-store', mountPath: '/model-store', subPath: 'llama' });
    for (const c of renderNIMService(svc, facts).children) assertValidK8s(c);
  });

  test('tensorParallelism wins over tp; no tag → 1; user GPUs, DRA or an unknown profile → unchanged', () => {
    const gpus = (s: NIMService, config?: Record<string, string>, name = profile) =>
      mainOf(deploymentOf(s, { nimCache: readyCache(cache, { profiles: [{ name, ...(config ? { config } : {}) }] }) })).resources;
    assert.equal(gpus(svc, { tensorParallelism: '2', tp: '8' })!.limits!['nvidia.com/gpu'], '2');
    assert.equal(gpus(svc)!.requests!['nvidia.com/gpu'], '1');
    assert.equal(gpus(svc, { tp: '4' }, 'other'), undefined);
    const own = structuredClone(svc);
    own.spec.resources = { limits: { 'nvidia.com/gpu': '1' }, requests: { cpu: '2' } };
    assert.deepEqual(gpus(own, { tp: '4' }), { limits: { 'nvidia.com/gpu': '1' }, requests: { cpu: '2' } });
    const mem = structuredClone(svc);
    mem.spec.resources = { limits: { memory: '64Gi' } };
    assert.deepEqual(gpus(mem, { tp: '4' }), { limits: { memory: '64Gi', 'nvidia.com/gpu': '4' }, requests: { 'nvidia.com/gpu': '4' } });
  });

  test('a user NIM_MODEL_PROFILE wins', () => {
    const s = structuredClone(svc);
    s.spec.env = [{ name: 'NIM_MODEL_PROFILE', value: 'mine' }];
    const env = envOf(deploymentOf(s, { nimCache: readyCache(cache) }));
    assert.deepEqual(envValue(env, 'NIM_MODEL_PROFILE'), [{ name: 'NIM_MODEL_PROFILE', value: 'mine' }]);
  });

  test('native caches mount at /model and /opt/cache; HF caches get the HF env (behaviours 29, 30)', () => {
    const d = deploymentOf(svc, { nimCache: readyCache(cache, { type: 'native' }) });
    assert.deepEqual(mainOf(d).volumeMounts!.slice(0, 2).map((m) => m.mountPath), ['/model', '/opt/cache']);
    const env = envOf(d);
    assert.deepEqual(envValue(env, 'NIM_ENGINE_MODEL_PATH'), [{ name: 'NIM_ENGINE_MODEL_PATH', value: '/model/llama3-8b-multi' }]);
    assert.equal(envValue(env, 'NGC_API_KEY')[0]!.valueFrom!.secretKeyRef!.optional, true);
    assert.equal(envValue(env, 'HF_TOKEN')[0]!.valueFrom!.secretKeyRef!.optional, true);

    const hf: NIMCache = structuredClone(cache);
    hf.spec.source = { hf: { endpoint: 'https://huggingface.co', namespace: 'meta-llama', modelName: 'L', authSecret: 'hf', modelPuller: 'p', pullSecret: 's' } };
    const henv = envOf(deploymentOf(svc, { nimCache: readyCache(hf) }));
    assert.deepEqual(envValue(henv, 'NIM_MODEL_PATH'), [{ name: 'NIM_MODEL_PATH', value: 'hf://meta-llama/L' }]);
    assert.deepEqual(envValue(henv, 'HF_HOME'), [{ name: 'HF_HOME', value: '/model-store/huggingface/hub' }]);
    assert.deepEqual(envValue(henv, 'HF_TOKEN'), [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'ngc-api-secret', key: 'HF_TOKEN' } } }]);
    assert.equal(envValue(henv, 'NGC_API_KEY')[0]!.valueFrom!.secretKeyRef!.optional, true);
  });
});

describe('examples/serving/probes-and-scheduling.yaml', () => {
  const { services, caches } = loadExample('examples/serving/probes-and-scheduling.yaml');
  const svc = services[0]!;
  const { children } = renderNIMService(svc, { nimCache: readyCache(caches[0]!) });
  const d = find<Deployment>(children, 'Deployment');
  const pod = d.spec!.template.spec!;

  test('valid Kubernetes objects', () => {
    for (const c of children) assertValidK8s(c);
  });

  test('user probes are used verbatim (behaviour 6)', () => {
    assert.deepEqual(mainOf(d).startupProbe, svc.spec.startupProbe!.probe);
    assert.deepEqual(mainOf(d).readinessProbe, svc.spec.readinessProbe!.probe);
    assert.deepEqual(mainOf(d).livenessProbe, svc.spec.livenessProbe!.probe);
  });

  test('scheduling fields, replicas, user labels and annotations (behaviour 10)', () => {
    assert.equal(d.spec!.replicas, 2);
    assert.deepEqual(pod.nodeSelector, svc.spec.nodeSelector);
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(pod.affinity, svc.spec.affinity);
    assert.equal(pod.schedulerName, 'default-scheduler');
    assert.equal(pod.priorityClassName, 'nim-inference');
    assert.equal(pod.runtimeClassName, 'nvidia');
    assert.equal(d.metadata!.labels!['example.com/team'], 'search');
    assert.equal(pod.volumes!.find((v) => v.name === 'dshm')!.emptyDir!.sizeLimit, '16Gi');
    assert.equal(d.spec!.template.metadata!.annotations!['example.com/cost-center'], '4711');
    const s = find<Wire<V1Service>>(children, 'Service');
    assert.equal(s.metadata!.annotations!['example.com/contact'], 'search-oncall');
  });

  test('init container and sidecar: image, pull policy, env, mounts and the scratch volume (behaviour 39)', () => {
    const init = pod.initContainers![0]!;
    assert.equal(init.name, 'check-cache');
    assert.equal(init.image, 'docker.io/library/busybox:1.37.0');
    assert.equal(init.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(init.volumeMounts!.map((m) => m.mountPath), ['/model-store', '/scratch']);
    assert.deepEqual(envValue(init.env!, 'NIM_SERVER_PORT'), [{ name: 'NIM_SERVER_PORT', value: '8000' }]);
    const side = pod.containers[1]!;
    assert.equal(side.name, 'readiness-reporter');
    assert.equal(side.workingDir, '/scratch');
    assert.deepEqual(side.volumeMounts, mainOf(d).volumeMounts);
    assert.deepEqual(side.env!.at(-1), { name: 'REPORT_INTERVAL', value: '30' });
    assert.deepEqual(pod.volumes!.map((v) => v.name), ['dshm', 'scratch', 'model-store']);
  });
});


