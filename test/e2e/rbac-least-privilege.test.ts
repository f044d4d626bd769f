/**
 * The generated RBAC is exactly what the operator needs. The install manifests are applied to the
 * embedded control plane (with the simulation and every add-on), and the operator runs in this
 * process with its ServiceAccount's token only, leader election on and the admission webhook
 * serving as the default install runs it (test/helpers/rbac-operator.ts), while every controller's
 * scenarios create, update and prune each kind of child. Then: nothing was denied, the admission
 * checks a real cluster makes of what it wrote pass (test/helpers/rbac-audit.ts), and every rule of
 * the ClusterRole and of the leader-election Role was used (unused verbs are reported).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { installAddons, startAddonSimulations } from '../../src/devcluster/ecosystem/index.js';
import type { RunningAddon } from '../../src/devcluster/ecosystem/kserve-sim.js';
import type { Obj } from '../../src/devcluster/store.js';
import { AdmissionChecks, admissionOnly, describeDenied, ruleUse, unusedRules, unusedVerbs } from '../helpers/rbac-audit.js';
import {
  CLUSTER_ROLE_KEY, LEADER_ROLE_KEY, LEASE_NAME, OPERATOR_NAMESPACE, OPERATOR_USER, installGenerated, startOperatorAs,
  type Installed, type OperatorAsServiceAccount,
} from '../helpers/rbac-operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const NS = 'default';
const USER = OPERATOR_USER.username;
const NIMS = 'apps.nvidia.com/nimservices';
const BUILDABLE = 'nvcr.io/nim/test/buildable-llm:1.0';
const LLAMA = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' };

let c: SimCluster;
let addons: RunningAddon | undefined;
let installed: Installed;
let op: OperatorAsServiceAccount | undefined;
let checks: AdmissionChecks | undefined;

const meta = (name: string) => ({ name, namespace: NS });
const svc = (name: string, spec: Obj = {}): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: meta(name),
  spec: {
    image: LLAMA,
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '50Gi' } },
    resources: { limits: { 'nvidia.com/gpu': 1 } },
    expose: { service: { type: 'ClusterIP', port: 8000 } },
    ...spec,
  },
});
const cache = (name: string, modelPuller: string, model: Obj): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMCache',
  metadata: meta(name),
  spec: {
    source: { ngc: { modelPuller, authSecret: 'ngc-api-secret', pullSecret: 'ngc-secret', model } },
    storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
  },
});
const multiNode = (name: string, mode: Obj): Obj =>
  svc(name, {
    image: { repository: 'nvcr.io/nim/deepseek-ai/deepseek-r1', tag: '1.7.3' },
    storage: { emptyDir: { sizeLimit: '100Gi' } },
    replicas: 1,
    multiNode: { backendType: 'lws', parallelism: { pipeline: 2, tensor: 8 }, ...mode },
    resources: { limits: { 'nvidia.com/gpu': 8 } },
  });

const apply = (...objs: Obj[]) => c.ok(['apply', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));
const denied = () => c.cp.authz.audit({ user: USER }).denied.map(describeDenied);
/** Polls; a timeout names what RBAC refused meanwhile, the likeliest reason in this file. */
const until = <T>(check: () => T | undefined | null | false, what: string, ms = 30_000): Promise<T> =>
  eventually(check, what, ms).catch((e: Error) => {
    throw new Error(`${e.message}\ndenied so far:\n${denied().join('\n')}`);
  });
const get = (resource: string, name: string) => c.get(resource, NS, name);
const stateOf = (resource: string, name: string) => get(resource, name)?.status?.state as string | undefined;
const waitState = (resource: string, name: string, state: string, ms = 30_000) =>
  until(() => (stateOf(resource, name) === state ? get(resource, name) : undefined), `${resource} ${name} ${state} (now ${String(stateOf(resource, name))}: ${String(condition(get(resource, name), 'Ready')?.message ?? condition(get(resource, name), 'Failed')?.message)})`, ms);
const ownedBy = (o: Obj | undefined, owner: string) => (o?.metadata?.ownerReferences ?? []).some((r: Obj) => r.name === owner && r.controller);

before(async () => {
  c = await startSimCluster();
  c.sim.catalogue.prepend({
    match: 'nvcr.io/nim/test/buildable-llm:*',
    nim: { manifest: 'v1', profiles: { engines: ['tensorrt_llm'], precisions: ['bf16'], tensorParallelism: [2], gpus: ['H100'], lora: false, buildable: true }, downloadMs: 0, loadMs: 0, buildMs: 0 },
  });
  // What `nimop dev` runs: every add-on's CRDs, and KServe's simulated controller.
  installAddons(c.cp);
  addons = startAddonSimulations(c.cp);
  installed = await installGenerated(c);
  await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  checks = new AdmissionChecks(c.cp, OPERATOR_USER);
  c.cp.authz.resetAudit();
  op = await startOperatorAs(c, installed.kubeconfig).catch((e: Error) => {
    throw new Error(`the operator did not start: ${e.message}\ndenied: ${denied().join('\n')}`);
  });
});
after(async () => {
  checks?.stop();
  await op?.stop();
  addons?.stop();
  await c?.stop();
});

test('the operator runs with its ServiceAccount\'s token: it takes the Lease, and the generated roles authorize its requests', async () => {
  const lease = await until(() => c.get('coordination.k8s.io/leases', OPERATOR_NAMESPACE, LEASE_NAME)?.spec?.holderIdentity, 'the Lease taken');
  assert.ok(lease);
  await until(() => op!.manager.isLeader(), 'the manager leading');
  const used = c.cp.authz.audit({ user: USER }).rulesUsed;
  assert.ok(used[CLUSTER_ROLE_KEY]?.length, `the ClusterRole allowed the informers' lists: ${JSON.stringify(used)}`);
  assert.ok(used[LEADER_ROLE_KEY]?.length, `the leader-election Role allowed the Lease: ${JSON.stringify(used)}`);
});

test('multi-node MPI on the default topology: LeaderWorkerSet, MPI ConfigMaps and SSH key Secret; Ready', async () => {
  // First, while both 8-GPU H100 nodes are free.
  await apply(multiNode('ds', { mpi: { mpiStartTimeout: 300 } }));
  await waitState(NIMS, 'ds', 'Ready', 60_000);
  assert.equal(get('leaderworkerset.x-k8s.io/leaderworkersets', 'ds-lws')?.spec.leaderWorkerTemplate.size, 2);
  for (const cm of ['ds-mpi-config', 'ds-mpi-start-script']) assert.ok(ownedBy(get('/configmaps', cm), 'ds'), cm);
  assert.match(Buffer.from(get('/secrets', 'ds-ssh-pk')!.data['private.key'], 'base64').toString(), /BEGIN RSA PRIVATE KEY/);
  assert.equal(get('apps/deployments', 'ds'), undefined);
});

test('a NIMCache becomes Ready (Job, PVC, manifest, shared RBAC) and the NIMService that mounts it Ready', async () => {
  await apply(
    cache('llama-cache', 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0', { engine: 'vllm', tensorParallelism: '1' }),
    svc('cached', { image: { ...LLAMA, tag: '1.12.0' }, storage: { nimCache: { name: 'llama-cache' } } }),
  );
  const ready = await waitState('apps.nvidia.com/nimcaches', 'llama-cache', 'Ready', 60_000);
  assert.equal(ready.status.pvc, 'llama-cache-pvc');
  assert.ok(get('batch/jobs', 'llama-cache-job'));
  assert.ok(get('rbac.authorization.k8s.io/roles', 'nim-cache-role'));
  await until(() => !get('/pods', 'llama-cache-pod'), 'the manifest probe pod removed');
  await waitState(NIMS, 'cached', 'Ready');
  const volumes = get('apps/deployments', 'cached')!.spec.template.spec.volumes as Obj[];
  assert.equal(volumes.find((v) => v.name === 'model-store')?.persistentVolumeClaim?.claimName, 'llama-cache-pvc');
});

test('exposure: HPA, HTTPRoute, GRPCRoute and ServiceMonitor, then an Ingress instead, then none (each pruned)', async () => {
  const hpa = { minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Pods', pods: { metric: { name: 'num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '10' } } }] };
  const gateway = { name: 'inference', namespace: NS, httpRoutesEnabled: true, grpcRoutesEnabled: true };
  await apply(svc('exposed', {
    expose: { service: { type: 'ClusterIP', port: 8000, grpcPort: 50051 }, router: { hostDomainName: 'example.com', gateway } },
    scale: { enabled: true, hpa },
    metrics: { enabled: true, serviceMonitor: { interval: '30s' } },
  }));
  await waitState(NIMS, 'exposed', 'Ready');
  const kinds = ['autoscaling/horizontalpodautoscalers', 'gateway.networking.k8s.io/httproutes', 'gateway.networking.k8s.io/grpcroutes', 'monitoring.coreos.com/servicemonitors'];
  for (const k of kinds) assert.ok(ownedBy(get(k, 'exposed'), 'exposed'), k);
  await apply(svc('exposed', { expose: { service: { type: 'ClusterIP', port: 8000 }, router: { hostDomainName: 'example.com', ingress: { ingressClass: 'nginx' } } } }));
  await until(() => get('networking.k8s.io/ingresses', 'exposed') && kinds.every((k) => !get(k, 'exposed')), 'the Ingress, and the routes, HPA and ServiceMonitor deleted');
  await apply(svc('exposed'));
  await until(() => !get('networking.k8s.io/ingresses', 'exposed'), 'the Ingress deleted');
  await waitState(NIMS, 'exposed', 'Ready');
});

test('a NIMService with storage.pvc.create gets its PVC; deleted, its finalizer is removed and its children go', async () => {
  await apply(svc('stored', { storage: { pvc: { create: true, size: '20Gi', volumeAccessMode: 'ReadWriteOnce' } } }));
  await waitState(NIMS, 'stored', 'Ready');
  assert.ok(ownedBy(get('/persistentvolumeclaims', 'stored-pvc'), 'stored'));
  assert.deepEqual(get(NIMS, 'stored')!.metadata.finalizers, ['finalizer.nimservice.apps.nvidia.com']);
  await c.ok(['delete', 'nimservice', 'stored', '--timeout=60s']);
  assert.equal(get(NIMS, 'stored'), undefined);
  await until(() => !get('apps/deployments', 'stored') && !get('/persistentvolumeclaims', 'stored-pvc') && !get('/services', 'stored'), 'the children garbage-collected');
});

test('DRA claimCreationSpec: the ResourceClaimTemplate is applied and claimed by the Deployment\'s pods', async () => {
  const device = { name: 'gpu', count: 1, deviceClassName: 'gpu.nvidia.com', driverName: 'gpu.nvidia.com', attributeSelectors: [{ key: 'architecture', op: 'Equal', value: { stringValue: 'Hopper' } }] };
  await apply(svc('dra', { resources: undefined, draResources: [{ claimCreationSpec: { generateName: 'hopper-gpu', devices: [device] } }] }));
  const template = await until(() => c.list('resource.k8s.io/resourceclaimtemplates', NS).find((t) => ownedBy(t, 'dra')), 'the ResourceClaimTemplate');
  const d = await until(() => get('apps/deployments', 'dra'), 'the Deployment');
  assert.ok((d.spec.template.spec.resourceClaims as Obj[]).some((r) => r.resourceClaimTemplateName === template.metadata.name));
});

test('the endpoint picker: its ServiceAccount, Role, RoleBinding, ConfigMap, Service and Deployment, and the InferencePool; turned off, all pruned', async () => {
  const eppConfig = {
    containerSpec: { name: 'epp', image: { repository: 'registry.k8s.io/gateway-api-inference-extension/epp', tag: 'v1.0.0' } },
    config: { apiVersion: 'inference.networking.x-k8s.io/v1alpha1', kind: 'EndpointPickerConfig', plugins: [{ type: 'queue-scorer' }], schedulingProfiles: [{ name: 'default', plugins: [{ pluginRef: 'queue-scorer' }] }] },
  };
  const backendRef = { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'picked' };
  await apply(svc('picked', { expose: { service: { type: 'ClusterIP', port: 8000 }, router: { hostDomainName: 'example.com', gateway: { name: 'inference', namespace: NS, httpRoutesEnabled: true, backendRef }, eppConfig } } }));
  await until(() => ownedBy(get('inference.networking.k8s.io/inferencepools', 'picked'), 'picked'), 'the InferencePool');
  for (const k of ['/serviceaccounts', 'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings', '/services', 'apps/deployments']) {
    await until(() => ownedBy(get(k, 'picked-epp'), 'picked'), `${k} picked-epp`);
  }
  assert.ok(ownedBy(get('/configmaps', 'picked-epp-config'), 'picked'));
  const route = await until(() => get('gateway.networking.k8s.io/httproutes', 'picked'), 'the HTTPRoute');
  assert.equal(route.spec.rules[0].backendRefs[0].kind, 'InferencePool');
  // The picker turned off: all of it is pruned.
  await apply(svc('picked'));
  const eppKinds = ['/serviceaccounts', 'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings', '/services', 'apps/deployments'];
  await until(() => !get('inference.networking.k8s.io/inferencepools', 'picked') && !get('/configmaps', 'picked-epp-config') && eppKinds.every((k) => !get(k, 'picked-epp')), 'the picker\'s children and the InferencePool deleted');
});

test('KServe: the InferenceService, and the NIMService Ready from its predictor; moved to standalone, the InferenceService is pruned', async () => {
  await apply(svc('served', { inferencePlatform: 'kserve', replicas: 1 }));
  await waitState(NIMS, 'served', 'Ready');
  assert.ok(ownedBy(get('serving.kserve.io/inferenceservices', 'served'), 'served'));
  assert.ok(get('apps/deployments', 'served-predictor'));
  // Moved to the standalone platform: the InferenceService is pruned, our Deployment replaces it.
  await apply(svc('served', { replicas: 1 }));
  await until(() => !get('serving.kserve.io/inferenceservices', 'served') && get('apps/deployments', 'served'), 'the InferenceService deleted and the Deployment made');
  await waitState(NIMS, 'served', 'Ready');
});

test('a NIMPipeline of two services becomes Ready; one entry disabled, its NIMService is deleted', async () => {
  const entry = (name: string, repository: string) => ({ name, enabled: true, spec: svc(name, { image: { repository, tag: '1.0.0' } }).spec });
  await apply({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMPipeline',
    metadata: meta('rag'),
    spec: { services: [entry('rag-embedding', 'nvcr.io/nim/nvidia/nv-embedqa-e5-v5'), entry('rag-reranking', 'nvcr.io/nim/nvidia/nv-rerankqa-mistral-4b-v3')] },
  });
  await waitState('apps.nvidia.com/nimpipelines', 'rag', 'Ready', 60_000);
  for (const n of ['rag-embedding', 'rag-reranking']) assert.ok(ownedBy(get(NIMS, n), 'rag'), n);
  await c.ok(['patch', 'nimpipeline', 'rag', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/services/1/enabled', value: false }])]);
  await until(() => !get(NIMS, 'rag-reranking') && !get('apps/deployments', 'rag-reranking'), 'rag-reranking and its Deployment deleted');
  await until(() => get('apps.nvidia.com/nimpipelines', 'rag')?.status?.state === 'Ready' && !('rag-reranking' in (get('apps.nvidia.com/nimpipelines', 'rag')!.status.states ?? {})), 'the pipeline Ready without rag-reranking');
});

test('a NIMBuild builds an engine from its NIMCache: build pods, the local manifest, the profile added to the cache', async () => {
  const [repository, tag] = BUILDABLE.split(':');
  await apply(cache('buildable', BUILDABLE, { engine: 'tensorrt_llm' }), {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMBuild',
    metadata: meta('engine'),
    spec: { nimCache: { name: 'buildable' }, image: { repository, tag, pullSecrets: ['ngc-secret'] }, modelName: 'llama-built' },
  });
  const built = await waitState('apps.nvidia.com/nimbuilds', 'engine', 'Ready', 60_000);
  const name = built.status.outputProfile.name as string;
  assert.ok((get('apps.nvidia.com/nimcaches', 'buildable')!.status.profiles as Obj[]).some((p) => p.name === name), 'the cache lists the built profile');
  assert.match(get('/configmaps', 'buildable-manifest')!.data['local_model_manifest.yaml'], new RegExp(name));
  await until(() => !get('/pods', 'engine-engine-build-pod') && !get('/pods', 'engine-local-manifest-pod'), 'the build pods removed');
});

test('a multi-node service with a ComputeDomain of its own: the ComputeDomain and LeaderWorkerSet are applied', async () => {
  // Last: no GPUs are left for it, and it need not be Ready.
  await apply(multiNode('domain', { ray: {}, computeDomain: { create: true } }));
  await until(() => ownedBy(get('resource.nvidia.com/computedomains', 'domain'), 'domain'), 'the ComputeDomain');
  await until(() => ownedBy(get('leaderworkerset.x-k8s.io/leaderworkersets', 'domain-lws'), 'domain'), 'the LeaderWorkerSet');
});

test('the operator stops and releases the Lease', async () => {
  await op!.stop();
  assert.equal(c.get('coordination.k8s.io/leases', OPERATOR_NAMESPACE, LEASE_NAME)?.spec?.holderIdentity ?? '', '');
});

test('RBAC denied none of the operator\'s requests', () => {
  const audit = c.cp.authz.audit({ user: USER });
  assert.equal(audit.dropped, 0);
  assert.deepEqual(denied(), [], `denied:\n${denied().join('\n')}`);
});

test('what a real cluster\'s admission checks of the operator\'s writes: no Role grants more than the operator holds, every blockOwnerDeletion owner\'s finalizers may be updated', (t) => {
  const findings = checks!.findings();
  assert.ok(findings.some((f) => f.check === 'escalation') && findings.some((f) => f.check === 'ownerReferences'), 'both checks saw writes');
  for (const f of findings.filter((x) => x.allowed)) t.diagnostic(`${f.check}: ${f.verb} ${f.group || 'core'}/${f.resource} allowed by ${f.role} rule ${f.rule} (e.g. ${f.what})`);
  const refused = findings.filter((f) => !f.allowed).map((f) => `${f.check}: ${f.what}: the operator lacks ${f.verb} ${f.group || 'core'}/${f.resource}`);
  assert.deepEqual(refused, [], `a real cluster would refuse these writes:\n${refused.join('\n')}`);
});

test('every rule of the generated ClusterRole and leader-election Role was used', (t) => {
  const audit = c.cp.authz.audit({ user: USER });
  const findings = checks!.findings();
  const uses = [...ruleUse(CLUSTER_ROLE_KEY, installed.clusterRole, audit, findings), ...ruleUse(LEADER_ROLE_KEY, installed.leaderRole, audit, findings)];
  for (const line of admissionOnly(uses)) t.diagnostic(`used only by an admission check: ${line}`);
  for (const line of unusedVerbs(uses)) t.diagnostic(`unused verbs: ${line}`);
  const unused = unusedRules(uses);
  assert.deepEqual(unused, [], `rules nothing used (remove them, or exercise them here):\n${unused.join('\n')}`);
});
