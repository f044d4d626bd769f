/**
 * Multi-node NIMServices: LeaderWorkerSet, MPI objects, Ray, ComputeDomain, Service selector and
 * LWS readiness (inventory §2.2.8, §2.2.12; §6 behaviours 40–44; Appendix A7, A9).
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import type { V1ConfigMap, V1Container, V1PodSpec, V1Secret, V1Service } from '@kubernetes/client-node';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';
import {
  generateSSHKey,
  isCreateOnly,
  lwsReadiness,
  renderNIMService,
  sshKeyFromSecret,
  type Child,
  type ComputeDomain,
  type LeaderWorkerSet,
  type NIMServiceFacts,
} from '../../../src/render/nimservice/index.js';
import { assertAllValid, envValue, find, fixture, loadExample, readyCache } from './nimservice-fixtures.js';

type Container = Wire<V1Container>;

const validators = new Map<string, StructuralValidator>();
/** Checks an object against a Kubernetes model's schema: no errors, no unknown fields. */
function assertSchema(obj: unknown, model: string): void {
  let v = validators.get(model);
  if (!v) validators.set(model, (v = new StructuralValidator(k8sSchema(model))));
  const r = v.admit(obj);
  assert.deepEqual(r.errors, [], `${model} ${JSON.stringify(r.errors)}`);
  assert.deepEqual(r.unknownFields, [], `${model} has unknown fields`);
}

/** Every built-in child valid; the LWS pod templates valid as PodTemplateSpecs. */
function assertChildrenValid(children: Child[]): void {
  assertAllValid(children);
  for (const c of children) {
    if (c.kind === 'ConfigMap') assertSchema(c, 'V1ConfigMap');
    if (c.kind === 'Secret') assertSchema(c, 'V1Secret');
    if (c.kind === 'LeaderWorkerSet') {
      const t = (c as LeaderWorkerSet).spec.leaderWorkerTemplate;
      // Checked as stand-alone PodTemplates, which need a name.
      for (const tpl of [t.leaderTemplate!, t.workerTemplate]) assertSchema({ ...tpl, metadata: { ...tpl.metadata, name: 'x' } }, 'V1PodTemplateSpec');
    }
  }
}

const MN = { parallelism: { pipeline: 2, tensor: 8 } };
const lwsOf = (svc: NIMService, facts?: NIMServiceFacts) => find<LeaderWorkerSet>(renderNIMService(svc, facts).children, 'LeaderWorkerSet');
const leaderPod = (l: LeaderWorkerSet) => l.spec.leaderWorkerTemplate.leaderTemplate!.spec! as Wire<V1PodSpec>;
const workerPod = (l: LeaderWorkerSet) => l.spec.leaderWorkerTemplate.workerTemplate.spec! as Wire<V1PodSpec>;
const value = (c: Container, name: string) => envValue(c.env ?? [], name).map((e) => e.value ?? e.valueFrom);
const mounts = (c: Container) => (c.volumeMounts ?? []).map((m) => m.mountPath);

describe('multi-node MPI group (behaviours 40, 41)', () => {
  const key = generateSSHKey();
  const svc = fixture({ multiNode: MN });
  const r = renderNIMService(svc, { sshPrivateKey: key });
  const lws = find<LeaderWorkerSet>(r.children, 'LeaderWorkerSet');
  const leader = leaderPod(lws).containers[0]!;
  const worker = workerPod(lws).containers[0]!;

  test('children: no Deployment (listed absent); MPI objects before the LWS <name>-lws', () => {
    assert.deepEqual(r.children.map((c) => `${c.kind}/${c.metadata!.name}`), [
      'ServiceAccount/llm', 'Role/llm', 'RoleBinding/llm', 'Service/llm',
      'ConfigMap/llm-mpi-config', 'ConfigMap/llm-mpi-start-script', 'Secret/llm-ssh-pk', 'LeaderWorkerSet/llm-lws',
    ]);
    assert.ok(r.absent.some((a) => a.kind === 'Deployment' && a.name === 'llm'));
    assert.equal(r.blocked, undefined);
    assertChildrenValid(r.children);
  });

  test('LWS spec: size 2, replicas 1, recreate group, shared subdomain, rolling 0/1, leader first', () => {
    assert.equal(lws.apiVersion, 'leaderworkerset.x-k8s.io/v1');
    const { leaderWorkerTemplate: t, ...rest } = lws.spec;
    assert.equal(t.size, 2);
    assert.equal(t.restartPolicy, 'RecreateGroupOnPodRestart');
    assert.deepEqual(rest, {
      replicas: 1,
      networkConfig: { subdomainPolicy: 'Shared' },
      rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 1 } },
      startupPolicy: 'LeaderCreated',
    });
    assert.equal(lws.metadata.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
    assert.ok(lws.metadata.annotations!['nvidia.com/last-applied-hash']);
    assert.equal(t.leaderTemplate!.metadata!.labels!.app, 'llm-lws');
    assert.equal(t.leaderTemplate!.metadata!.labels!['nim-llm-role'], 'leader');
    assert.equal(t.workerTemplate.metadata!.labels!['nim-llm-role'], undefined);
    assert.equal(t.leaderTemplate!.metadata!.annotations!['nvidia.com/parent-spec-hash'], undefined);
  });

  test('containers nim-leader and nim-worker with the multi-node env', () => {
    assert.equal(leader.name, 'nim-leader');
    assert.equal(worker.name, 'nim-worker');
    for (const c of [leader, worker]) {
      assert.deepEqual(value(c, 'NIM_MULTI_NODE'), ['1']);
      assert.deepEqual(value(c, 'NIM_NUM_COMPUTE_NODES'), ['2']);
      assert.deepEqual(value(c, 'NIM_TENSOR_PARALLEL_SIZE'), ['8']);
      assert.deepEqual(value(c, 'NIM_PIPELINE_PARALLEL_SIZE'), ['2']);
      assert.deepEqual(value(c, 'NIM_MPI_ALLOW_RUN_AS_ROOT'), ['0']);
      assert.deepEqual(value(c, 'NIM_NODE_RANK'), [{ fieldRef: { fieldPath: "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']" } }]);
      assert.deepEqual(value(c, 'NIM_SERVER_PORT'), ['8000']);
      assert.deepEqual(value(c, 'NGC_API_KEY'), [{ secretKeyRef: { name: 'ngc-api', key: 'NGC_API_KEY' } }]);
    }
    assert.deepEqual(value(leader, 'NIM_LEADER_ROLE'), ['1']);
    assert.deepEqual(value(leader, 'GPUS_PER_NODE'), ['8']);
    assert.deepEqual(value(leader, 'CLUSTER_START_TIMEOUT'), ['300']);
    assert.deepEqual(value(leader, 'OMPI_MCA_orte_keep_fqdn_hostnames'), ['true']);
    assert.deepEqual(value(leader, 'OMPI_MCA_plm_rsh_args'), ['-o ConnectionAttempts=20']);
    assert.deepEqual(value(leader, 'CLUSTER_SIZE'), [{ fieldRef: { fieldPath: "metadata.annotations['leaderworkerset.sigs.k8s.io/size']" } }]);
    assert.deepEqual(value(leader, 'GROUP_INDEX'), [{ fieldRef: { fieldPath: "metadata.labels['leaderworkerset.sigs.k8s.io/group-index']" } }]);
    assert.deepEqual(value(worker, 'NIM_LEADER_ROLE'), ['0']);
    assert.deepEqual(value(worker, 'LEADER_NAME'), [{ fieldRef: { fieldPath: "metadata.annotations['leaderworkerset.sigs.k8s.io/leader-name']" } }]);
    assert.deepEqual(value(worker, 'NAMESPACE'), [{ fieldRef: { fieldPath: 'metadata.namespace' } }]);
    assert.deepEqual(value(worker, 'LWS_NAME'), [{ fieldRef: { fieldPath: "metadata.labels['leaderworkerset.sigs.k8s.io/name']" } }]);
  });

  test('probes on the leader only; ports api on both', () => {
    assert.equal(leader.readinessProbe!.httpGet!.path, '/v1/health/ready');
    assert.equal(leader.startupProbe!.failureThreshold, 120);
    assert.equal(worker.readinessProbe, undefined);
    assert.equal(worker.startupProbe, undefined);
    assert.deepEqual(worker.ports, [{ name: 'api', containerPort: 8000, protocol: 'TCP' }]);
  });

  test('Service selects the leaders (behaviour 40)', () => {
    assert.deepEqual(find<Wire<V1Service>>(r.children, 'Service').spec!.selector, { app: 'llm-lws', 'nim-llm-role': 'leader' });
  });

  test('host file per group; start script; SSH key Secret (behaviour 41)', () => {
    assert.deepEqual(find<Wire<V1ConfigMap>>(r.children, 'ConfigMap').data, {
      'hostfile-0': 'localhost slots=8\nllm-lws-0-1.llm-lws.ns.svc slots=8\n',
    });
    const script = r.children.find((c) => c.metadata!.name === 'llm-mpi-start-script') as Wire<V1ConfigMap>;
    const text = script.data!['start-mpi-cluster.sh']!;
    assert.match(text, /^#!\/bin\/bash\n/);
    assert.match(text, /-m "\$server"/);
    assert.match(text, /nim_llm_sdk\.entrypoints\.openai\.api_server/);
    assert.match(text, /NIM_JSONL_LOGGING/);
    const secret = find<Wire<V1Secret>>(r.children, 'Secret');
    assert.deepEqual(Object.keys(secret.data!), ['private.key']);
    assert.equal(sshKeyFromSecret(secret), key);
    assert.equal(isCreateOnly(secret), true);
  });

  test('generateSSHKey: RSA 2048, PKCS#1 PEM', () => {
    assert.match(key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const k = createPrivateKey(key);
    assert.equal(k.asymmetricKeyType, 'rsa');
    assert.equal(k.asymmetricKeyDetails!.modulusLength, 2048);
    assert.notEqual(generateSSHKey(), key);
  });

  test('without the key fact the Secret is left out; the same key renders the same Secret', () => {
    assert.equal(renderNIMService(svc).children.some((c) => c.kind === 'Secret'), false);
    assert.deepEqual(renderNIMService(svc, { sshPrivateKey: key }), r);
  });

  test('MPI mounts and volumes (modes 0555 and 0400)', () => {
    assert.deepEqual(mounts(leader), ['/model-store', '/dev/shm', '/etc/mpi', '/opt/nim/llm/.ssh', '/opt/nim/llm/pk', '/opt/nim/start-mpi-cluster.sh']);
    assert.deepEqual(mounts(worker), ['/model-store', '/dev/shm', '/ssh-confs', '/opt/nim/llm/.ssh', '/opt/nim/llm/pk', '/opt/nim/start-mpi-cluster.sh']);
    assert.equal(leader.volumeMounts!.at(-1)!.subPath, 'start-mpi-cluster.sh');
    const vols = (p: Wire<V1PodSpec>) => Object.fromEntries((p.volumes ?? []).map((v) => [v.name, v]));
    assert.deepEqual(vols(leaderPod(lws))['mpi-config']!.configMap, { name: 'llm-mpi-config', defaultMode: 0o555 });
    assert.deepEqual(vols(leaderPod(lws))['ssh-pk']!.secret, { secretName: 'llm-ssh-pk', defaultMode: 0o400 });
    assert.deepEqual(vols(workerPod(lws))['start-mpi-script']!.configMap, { name: 'llm-mpi-start-script', defaultMode: 0o555 });
    assert.ok(vols(workerPod(lws))['ssh-confs']!.emptyDir);
    assert.equal(vols(workerPod(lws))['mpi-config'], undefined);
  });

  test('mpiStartTimeout and several groups: one host file each', () => {
    const s = fixture({ multiNode: { ...MN, parallelism: { pipeline: 3, tensor: 4 }, mpi: { mpiStartTimeout: 1800 } }, replicas: 2 });
    const rr = renderNIMService(s);
    assert.deepEqual(value(leaderPod(find<LeaderWorkerSet>(rr.children, 'LeaderWorkerSet')).containers[0]!, 'CLUSTER_START_TIMEOUT'), ['1800']);
    assert.deepEqual(find<Wire<V1ConfigMap>>(rr.children, 'ConfigMap').data, {
      'hostfile-0': 'localhost slots=4\nllm-lws-0-1.llm-lws.ns.svc slots=4\nllm-lws-0-2.llm-lws.ns.svc slots=4\n',
      'hostfile-1': 'localhost slots=4\nllm-lws-1-1.llm-lws.ns.svc slots=4\nllm-lws-1-2.llm-lws.ns.svc slots=4\n',
    });
  });
});

describe('Ray mode (behaviour 42)', () => {
  const svc = fixture({ multiNode: { ...MN, ray: {} }, args: ['--log', 'debug'] });
  const r = renderNIMService(svc);
  const lws = find<LeaderWorkerSet>(r.children, 'LeaderWorkerSet');
  const leader = leaderPod(lws).containers[0]!;
  const worker = workerPod(lws).containers[0]!;

  test('no MPI objects or volumes', () => {
    assert.equal(r.children.some((c) => c.kind === 'ConfigMap' || c.kind === 'Secret'), false);
    assert.deepEqual(mounts(leader), ['/model-store', '/dev/shm']);
    assert.deepEqual(mounts(worker), ['/model-store', '/dev/shm']);
    assertChildrenValid(r.children);
  });

  test('head and worker args (spec.args after them), port ray 6379, worker startup probe', () => {
    assert.deepEqual(leader.args, ['nim-serve-ray', '--head', '--port', '6379', '--log', 'debug']);
    assert.deepEqual(worker.args, ['nim-serve-ray', '--head-address', '$(LWS_LEADER_ADDRESS):6379', '--log', 'debug']);
    for (const c of [leader, worker]) assert.deepEqual(c.ports!.at(-1), { name: 'ray', containerPort: 6379, protocol: 'TCP' });
    assert.deepEqual(worker.startupProbe, { exec: { command: ['/bin/sh', '-c', 'ray status'] }, initialDelaySeconds: 30, timeoutSeconds: 5, periodSeconds: 10, failureThreshold: 3 });
    assert.equal(leader.startupProbe!.httpGet!.path, '/v1/health/ready');
  });

  test('rayPort', () => {
    const l = lwsOf(fixture({ multiNode: { ...MN, ray: { rayPort: 7000 } } }));
    assert.deepEqual(leaderPod(l).containers[0]!.args, ['nim-serve-ray', '--head', '--port', '7000']);
  });
});

describe('ComputeDomain (behaviour 44)', () => {
  test('create: ComputeDomain <name>, numNodes, channel template cd-claimtemplate-<hash>, claims in both pods', () => {
    const svc = fixture({ multiNode: { ...MN, computeDomain: { create: true } } }, 'test-service');
    const r = renderNIMService(svc);
    const cd = find<ComputeDomain>(r.children, 'ComputeDomain');
    assert.equal(cd.apiVersion, 'resource.nvidia.com/v1beta1');
    assert.equal(cd.metadata.name, 'test-service');
    assert.deepEqual(cd.spec, { numNodes: 2, channel: { resourceClaimTemplate: { name: 'cd-claimtemplate-8568b4fb55' }, allocationMode: 'Single' } });
    const lws = find<LeaderWorkerSet>(r.children, 'LeaderWorkerSet');
    for (const pod of [leaderPod(lws), workerPod(lws)]) {
      assert.equal(pod.resourceClaims!.length, 1);
      const claim = pod.resourceClaims![0]!;
      assert.match(claim.name, /^claim-8568b4fb55-2-[b-z2-9]+-0$/);
      assert.equal(claim.resourceClaimTemplateName, 'cd-claimtemplate-8568b4fb55');
      for (const c of pod.containers) assert.deepEqual(c.resources!.claims, [{ name: claim.name }]);
    }
    assertChildrenValid(r.children);
  });

  test('an existing domain: its channel template is claimed; missing → blocked, no LWS', () => {
    const svc = fixture({ multiNode: { ...MN, ray: {}, computeDomain: { name: 'rack-a' } } });
    const missing = renderNIMService(svc);
    assert.deepEqual(missing.blocked?.reason, 'ComputeDomainFailed');
    assert.match(missing.blocked!.message, /ComputeDomain rack-a not found/);
    assert.equal(missing.children.some((c) => c.kind === 'LeaderWorkerSet' || c.kind === 'ComputeDomain'), false);
    const cd = { metadata: { name: 'rack-a' }, spec: { channel: { resourceClaimTemplate: { name: 'rack-a-channel' } } } };
    const r = renderNIMService(svc, { computeDomain: cd });
    assert.equal(r.children.some((c) => c.kind === 'ComputeDomain'), false);
    assert.equal(leaderPod(find<LeaderWorkerSet>(r.children, 'LeaderWorkerSet')).resourceClaims![0]!.resourceClaimTemplateName, 'rack-a-channel');
  });
});

describe('upstream quirks fixed (Appendix A7, A9)', () => {
  test('A7: replicas unset → LWS replicas 1 and one host file', () => {
    const r = renderNIMService(fixture({ multiNode: MN, replicas: undefined }));
    assert.equal(find<LeaderWorkerSet>(r.children, 'LeaderWorkerSet').spec.replicas, 1);
    assert.deepEqual(Object.keys(find<Wire<V1ConfigMap>>(r.children, 'ConfigMap').data!), ['hostfile-0']);
  });

  test('A7: pipeline 1 is single-node in every respect (Deployment, Service selector, no LWS)', () => {
    const r = renderNIMService(fixture({ multiNode: { parallelism: { pipeline: 1, tensor: 8 }, computeDomain: { create: true } } }));
    assert.deepEqual(r.children.map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'Service', 'Deployment']);
    assert.deepEqual(find<Wire<V1Service>>(r.children, 'Service').spec!.selector, { app: 'llm' });
    assert.equal(r.absent.some((a) => a.kind === 'Deployment'), false);
  });

  test('A9: service account, runtime class, affinity, pull policy, command, args and scheduler on both roles', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }] } } };
    const svc = fixture({
      multiNode: MN,
      image: { repository: 'nvcr.io/nim/x', tag: '1.0', pullPolicy: 'Always', pullSecrets: ['ngc'] },
      runtimeClassName: 'nvidia',
      schedulerName: 'volcano',
      priorityClassName: 'high',
      affinity,
      command: ['/opt/nim/start.sh'],
      args: ['--verbose'],
      nodeSelector: { pool: 'gpu' },
    });
    const lws = lwsOf(svc);
    for (const pod of [leaderPod(lws), workerPod(lws)]) {
      assert.equal(pod.serviceAccountName, 'llm');
      assert.equal(pod.runtimeClassName, 'nvidia');
      assert.equal(pod.schedulerName, 'volcano');
      assert.equal(pod.priorityClassName, 'high');
      assert.deepEqual(pod.affinity, affinity);
      assert.deepEqual(pod.nodeSelector, { pool: 'gpu' });
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'ngc' }]);
      assert.deepEqual(pod.securityContext, { runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 });
      const c = pod.containers[0]!;
      assert.equal(c.imagePullPolicy, 'Always');
      assert.deepEqual(c.command, ['/opt/nim/start.sh']);
      assert.deepEqual(c.args, ['--verbose']);
    }
  });
});

describe('model env, GPUs, init and sidecar containers', () => {
  const { services, caches } = loadExample('examples/advanced/multi-node-mpi.yaml');
  const svc = services[0]!;
  const cache = readyCache(caches[0]!, { profiles: [{ name: 'p1', config: { tp: '4' } }] });

  test('profile: NIM_MODEL_PROFILE; GPUs sized to parallelism.tensor, not the profile tag (§2.2.9)', () => {
    const s = structuredClone(svc);
    s.spec.storage!.nimCache!.profile = 'p1';
    delete s.spec.resources;
    const lws = lwsOf(s, { nimCache: cache });
    for (const pod of [leaderPod(lws), workerPod(lws)]) {
      const c = pod.containers[0]!;
      assert.deepEqual(value(c, 'NIM_MODEL_PROFILE'), ['p1']);
      assert.deepEqual({ ...c.resources, claims: undefined }, { limits: { 'nvidia.com/gpu': '8' }, requests: { 'nvidia.com/gpu': '8' }, claims: undefined });
    }
  });

  test('a universal (Hugging Face) cache: NIM_MODEL_NAME=/model-store, user env wins', () => {
    const ray = loadExample('examples/advanced/multi-node-ray.yaml');
    const s = ray.services[0]!;
    s.spec.env = [{ name: 'NIM_MULTI_NODE', value: 'user' }];
    const cd = { metadata: { name: 'nvl72-rack-a' }, spec: { channel: { resourceClaimTemplate: { name: 't' } } } };
    const lws = lwsOf(s, { nimCache: readyCache(ray.caches[0]!), computeDomain: cd });
    const c = leaderPod(lws).containers[0]!;
    assert.deepEqual(value(c, 'NIM_MODEL_NAME'), ['/model-store']);
    assert.deepEqual(value(c, 'NIM_MULTI_NODE'), ['user']);
    assert.deepEqual(value(c, 'HF_TOKEN'), [{ secretKeyRef: { name: 'hf-token', key: 'HF_TOKEN' } }]);
  });

  test('init containers and sidecars get the multi-node env under their own; sidecars mount the role\'s volumes', () => {
    const s = fixture({
      multiNode: MN,
      initContainers: [{ name: 'fetch', image: { repository: 'busybox', tag: '1' }, env: [{ name: 'NIM_MULTI_NODE', value: 'mine' }] }],
      sidecarContainers: [{ name: 'log', image: { repository: 'fluent', tag: '2' } }],
    });
    const lws = lwsOf(s);
    const leader = leaderPod(lws);
    assert.deepEqual(value(leader.initContainers![0]!, 'NIM_MULTI_NODE'), ['mine']);
    assert.deepEqual(value(leader.initContainers![0]!, 'NIM_NUM_COMPUTE_NODES'), ['2']);
    const side = leader.containers[1]!;
    assert.equal(side.name, 'log');
    assert.deepEqual(value(side, 'NIM_MULTI_NODE'), ['1']);
    assert.deepEqual(side.volumeMounts, leader.containers[0]!.volumeMounts);
    assert.deepEqual(workerPod(lws).containers[1]!.volumeMounts, workerPod(lws).containers[0]!.volumeMounts);
  });
});

describe('LWS readiness (behaviour 43, §2.2.12)', () => {
  const lws = (status: object, replicas = 1) => ({ metadata: { name: 'llm-lws' }, spec: { replicas }, status });
  test('Available True → ready; otherwise not ready; missing; scaled down', () => {
    assert.deepEqual(lwsReadiness(lws({ conditions: [{ type: 'Available', status: 'True' }] }), 'llm-lws'), {
      ready: true, message: 'leaderworkerset "llm-lws" is ready', started: true,
    });
    const not = lwsReadiness(lws({ replicas: 1, conditions: [{ type: 'Available', status: 'False' }] }), 'llm-lws');
    assert.equal(not.ready, false);
    assert.match(not.message, /^leaderworkerset "llm-lws" is not ready/);
    assert.equal(lwsReadiness(undefined, 'llm-lws').ready, false);
    assert.deepEqual(lwsReadiness(lws({}, 0), 'llm-lws'), { ready: false, message: 'leaderworkerset "llm-lws" is scaled down', started: true });
  });
});

describe('changing shape prunes what the other shape made', () => {
  const multi = fixture({ multiNode: { backendType: 'lws', parallelism: { pipeline: 2, tensor: 8 }, mpi: {}, computeDomain: { create: true } } }) as NIMService;
  const single = fixture({}) as NIMService;
  const refs = (svc: NIMService) => renderNIMService(svc, { sshPrivateKey: 'k' }).absent.map((a) => `${a.kind}/${a.name}`);
  test('a single-node service lists the LeaderWorkerSet, MPI ConfigMaps and ComputeDomain as absent', () => {
    const name = single.metadata.name;
    const absent = refs(single);
    for (const r of [`LeaderWorkerSet/${name}-lws`, `ConfigMap/${name}-mpi-config`, `ConfigMap/${name}-mpi-start-script`, `ComputeDomain/${name}`]) assert.ok(absent.includes(r), `${r} absent`);
    assert.equal(absent.includes(`Deployment/${name}`), false);
  });
  test('a multi-node MPI service with a ComputeDomain lists the Deployment as absent, and none of its own children', () => {
    const name = multi.metadata.name;
    const absent = refs(multi);
    assert.ok(absent.includes(`Deployment/${name}`));
    for (const r of [`LeaderWorkerSet/${name}-lws`, `ConfigMap/${name}-mpi-config`, `ComputeDomain/${name}`]) assert.equal(absent.includes(r), false, r);
  });
});
