/**
 * From a buildable profile to a served engine, with the operator's NIMCache, NIMBuild and NIMService
 * controllers against the simulated cluster, through kubectl: the NIMCache downloads a buildable
 * profile, a NIMBuild builds an engine for L40S GPUs (a GPU NVIDIA's manifest has no engine for) into
 * the cache volume, and a NIMService with `storage.nimCache.profile` = the build's
 * `status.outputProfile.name` serves that engine — NIM_MODEL_PROFILE set to it, GPUs from its tp
 * tag, the cache PVC mounted — and the simulated NIM says it selected the built engine (its log and
 * /v1/metadata), with no download and no second build. Editing the NIMService never loses the
 * profile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { inspectorFromLabels } from '../../src/nim/inspect.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
let op: RunningOperator;

/** v1 manifest: TensorRT-LLM engines for H100 only (bf16, tp 2), and the buildable bf16 tp 2 profile. */
const V1 = { repository: 'nvcr.io/nim/test/serve-built-v1', tag: '1.0' };
/** v2 manifest: the same at tp 1. */
const V2 = { repository: 'nvcr.io/nim/test/serve-built-v2', tag: '1.0' };
const L40S = { 'nvidia.com/gpu.product': 'NVIDIA-L40S' };

before(async () => {
  c = await startSimCluster();
  const profiles = { engines: ['tensorrt_llm'], precisions: ['bf16'], gpus: ['H100'], lora: false, buildable: true };
  c.sim.catalogue.prepend({ match: `${V1.repository}:*`, nim: { manifest: 'v1', model: 'test/llm', profiles: { ...profiles, tensorParallelism: [2] } } });
  c.sim.catalogue.prepend({ match: `${V2.repository}:*`, nim: { manifest: 'v2', model: 'test/llm', profiles: { ...profiles, tensorParallelism: [1] } } });
  op = await startOperator(c, { only: ['nimcache', 'nimbuild', 'nimservice'], inspector: inspectorFromLabels((image) => c.sim.imageLabels(image)) });
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

const apply = (o: Obj) => c.ok(['apply', '-f', '-'], JSON.stringify(o));
const stateOf = (o: Obj | undefined) => o?.status?.state as string | undefined;
const cacheOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimcaches', ns, name);
const buildOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimbuilds', ns, name);
const serviceOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimservices', ns, name);
const deploymentOf = (ns: string, name: string) => c.get('apps/deployments', ns, name);
const envOf = (ctr: Obj) => Object.fromEntries(((ctr.env ?? []) as Obj[]).map((e) => [e.name as string, e.value ?? e.valueFrom]));

async function namespace(ns: string): Promise<void> {
  await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
}

function nimCache(ns: string, name: string, image: typeof V1, model: Obj): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMCache',
    metadata: { name, namespace: ns },
    spec: {
      source: { ngc: { modelPuller: `${image.repository}:${image.tag}`, pullSecret: 'ngc-secret', authSecret: 'ngc-api-secret', model } },
      storage: { pvc: { create: true, size: '80Gi', volumeAccessMode: 'ReadWriteOnce' } },
    },
  };
}

function nimBuild(ns: string, name: string, cache: string, image: typeof V1, modelName: string): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMBuild',
    metadata: { name, namespace: ns },
    spec: { nimCache: { name: cache }, modelName, image: { ...image, pullSecrets: ['ngc-secret'] }, nodeSelector: L40S },
  };
}

/** A NIMService on the cache; `profile` pins the served profile. No GPUs asked: the profile sizes them. */
function nimService(ns: string, name: string, cache: string, image: typeof V1, profile?: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name, namespace: ns },
    spec: {
      image: { ...image, pullSecrets: ['ngc-secret'] },
      authSecret: 'ngc-api-secret',
      storage: { nimCache: profile ? { name: cache, profile } : { name: cache } },
      nodeSelector: L40S,
      replicas: 1,
      expose: { service: { type: 'ClusterIP', port: 8000 } },
      ...extra,
    },
  };
}

/** The NIMService Ready for its current generation. */
async function serviceReady(ns: string, name: string): Promise<Obj> {
  return eventually(() => {
    const s = serviceOf(ns, name);
    const ready = condition(s, 'Ready');
    return stateOf(s) === 'Ready' && ready?.observedGeneration === s!.metadata.generation ? s : undefined;
  }, `NIMService ${name} to be Ready for its generation`, 30_000);
}

/** The service's pods once its Deployment has rolled out: all current and ready. */
async function rolledOut(ns: string, name: string): Promise<Obj[]> {
  await c.ok(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=30s']);
  const d = deploymentOf(ns, name)!;
  return eventually(() => {
    const pods = c.list('/pods', ns).filter((p) => p.metadata.labels?.app === name && !p.metadata.deletionTimestamp);
    const ready = pods.filter((p) => condition(p, 'Ready')?.status === 'True');
    return pods.length === d.spec.replicas && ready.length === pods.length ? pods : undefined;
  }, `the pods of ${name}`);
}

async function getJSON(ns: string, pod: string, path: string): Promise<Obj> {
  const addr = c.sim.nimEndpoint(ns, pod);
  assert.ok(addr, `pod ${pod} runs a NIM endpoint`);
  const r = await fetch(`http://${addr.host}:${addr.port}${path}`);
  assert.equal(r.status, 200, `${path} of ${pod}`);
  return (await r.json()) as Obj;
}

/** What the NIM of a pod says it serves: its log and /v1/metadata name `profile`, built, not downloaded or built again. */
async function assertServes(ns: string, pod: Obj, profile: Obj, model: string): Promise<void> {
  const name = pod.metadata.name as string;
  const log = await c.ok(['logs', name, '-n', ns]);
  const label = `tensorrt_llm-l40s-${profile.config.precision}-tp${profile.config.tp}-pp${profile.config.pp}-throughput`;
  assert.match(log, new RegExp(`Selected profile: ${profile.name} \\(${label}\\)`), `${name} selected the built engine:\n${log}`);
  assert.match(log, new RegExp(`model_name: ${profile.config.model_name}\\b`), 'its metadata names the engine');
  assert.match(log, /trtllm_buildable: false/);
  assert.doesNotMatch(log, /download|Fetching|Building TensorRT-LLM engine/i, `${name} neither downloads nor builds`);
  assert.match(log, /Uvicorn running on http:\/\/0\.0\.0\.0:8000/);
  assert.equal(pod.spec.nodeName, 'gpu-l40s-0', 'on the L40S node the engine was built for');
  const metadata = await getJSON(ns, name, '/v1/metadata');
  assert.equal(metadata.selectedModelProfileId, profile.name);
  const models = await getJSON(ns, name, '/v1/models');
  assert.deepEqual(models.data.map((m: Obj) => m.id), [model]);
}

/** The Deployment's NIM container: the built profile, GPUs = tp, the cache's PVC at /model-store. */
function assertDeployment(ns: string, name: string, profile: Obj, claim: string): Obj {
  const d = deploymentOf(ns, name)!;
  const pod = d.spec.template.spec;
  const ctr = (pod.containers as Obj[])[0]!;
  const env = envOf(ctr);
  assert.equal(env.NIM_MODEL_PROFILE, profile.name, 'NIM_MODEL_PROFILE is the built profile');
  assert.equal(env.NIM_CACHE_PATH, '/model-store');
  assert.equal(((ctr.env ?? []) as Obj[]).filter((e) => e.name === 'NIM_MODEL_PROFILE').length, 1);
  const tp = profile.config.tp as string;
  assert.equal(ctr.resources?.limits?.['nvidia.com/gpu'], tp, 'GPU limit from the profile\'s tp');
  assert.equal(ctr.resources?.requests?.['nvidia.com/gpu'], tp, 'GPU request from the profile\'s tp');
  const store = (pod.volumes as Obj[]).find((v) => v.name === 'model-store');
  assert.deepEqual(store?.persistentVolumeClaim, { claimName: claim, readOnly: false });
  assert.ok((ctr.volumeMounts as Obj[]).some((m) => m.name === 'model-store' && m.mountPath === '/model-store'), 'the cache is mounted at /model-store');
  assert.deepEqual(pod.nodeSelector, L40S);
  return ctr;
}

describe('serving an engine a NIMBuild built (v1 manifest, tp 2, L40S)', () => {
  const ns = 'serve-built';
  let built: Obj;
  let claim: string;
  after(async () => {
    // Free the L40S GPUs for the next scenario.
    await c.ok(['delete', 'nimservices', '--all', '-n', ns, '--wait=false']);
    await eventually(() => !c.list('/pods', ns).some((p) => ['llm', 'implicit'].includes(p.metadata.labels?.app)), 'the NIMServices\' pods to be gone', 20_000);
  });

  before(async () => {
    await namespace(ns);
    await apply(nimCache(ns, 'llm', V1, { buildable: true, precision: 'bf16', tensorParallelism: '2' }));
    await apply(nimBuild(ns, 'llm-l40s', 'llm', V1, 'llm-l40s-engine'));
  });

  test('the NIMCache is Ready with a buildable profile and no L40S engine; the NIMBuild builds one for L40S', async () => {
    const cache = await eventually(() => (stateOf(cacheOf(ns, 'llm')) === 'Ready' ? cacheOf(ns, 'llm') : undefined), 'the NIMCache to be Ready', 30_000);
    const profiles = cache.status.profiles as Obj[];
    assert.equal(profiles.filter((p) => p.config?.trtllm_buildable === 'true').length, 1, 'one buildable profile');
    assert.ok(!profiles.some((p) => p.config?.gpu === 'L40S'), 'no pre-built L40S engine');
    const build = await eventually(() => (stateOf(buildOf(ns, 'llm-l40s')) === 'Ready' ? buildOf(ns, 'llm-l40s') : undefined), 'the NIMBuild to be Ready', 30_000);
    built = build.status.outputProfile;
    assert.equal(built.config.model_name, 'llm-l40s-engine');
    assert.equal(built.config.gpu, 'L40S');
    assert.equal(built.config.tp, '2');
    assert.equal(built.config.trtllm_buildable, 'false');
    assert.equal(built.config.input_profile, build.status.inputProfile.name);
    const listed = cacheOf(ns, 'llm')!;
    assert.ok((listed.status.profiles as Obj[]).some((p) => p.name === built.name), 'the NIMCache lists the built engine');
    claim = listed.status.pvc;
    assert.ok(claim);
    await eventually(() => !c.get('/pods', ns, 'llm-l40s-engine-build-pod') && !c.get('/pods', ns, 'llm-l40s-local-manifest-pod'), 'the build pods to be gone');
  });

  test('a NIMService with storage.nimCache.profile = the built profile is Ready and serves that engine', async () => {
    await apply(nimService(ns, 'llm', 'llm', V1, built.name));
    const ready = await serviceReady(ns, 'llm');
    assert.equal(ready.status.model.name, 'test/llm');
    assertDeployment(ns, 'llm', built, claim);
    const pods = await rolledOut(ns, 'llm');
    assert.equal(pods.length, 1);
    assert.equal(pods[0]!.spec.containers[0].resources.limits['nvidia.com/gpu'], '2');
    await assertServes(ns, pods[0]!, built, 'test/llm');
    // The engine is not one of the image's: the NIM found it in local_cache/local_manifest.yaml of the
    // cache volume, which the build wrote and the operator copied into the cache's manifest ConfigMap.
    const cm = c.get('/configmaps', ns, 'llm-manifest')!;
    assert.match(cm.data['local_model_manifest.yaml'], new RegExp(`^${built.name}:`, 'm'));
    assert.ok(!Object.entries(cm.data as Record<string, string>).some(([k, v]) => k !== 'local_model_manifest.yaml' && v.includes(built.name)), 'the image\'s manifest has no such profile');
  });

  test('editing the NIMService never loses the profile: env added, resources, env removed, replicas', async () => {
    const edits: [string, string[]][] = [
      ['env added', ['--type=merge', '-p', JSON.stringify({ spec: { env: [{ name: 'NIM_LOG_LEVEL', value: 'DEBUG' }, { name: 'EXTRA', value: '1' }] } })]],
      ['resources without GPUs', ['--type=merge', '-p', JSON.stringify({ spec: { resources: { requests: { cpu: '4', memory: '32Gi' }, limits: { memory: '64Gi' } } } })]],
      ['env removed', ['--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/env' }])]],
      ['labels and annotations', ['--type=merge', '-p', JSON.stringify({ spec: { labels: { team: 'ml' }, annotations: { 'example.com/owner': 'ml' } } })]],
      ['replicas 2', ['--type=merge', '-p', JSON.stringify({ spec: { replicas: 2 } })]],
    ];
    for (const [what, patch] of edits) {
      const generation = serviceOf(ns, 'llm')!.metadata.generation as number;
      await c.ok(['patch', 'nimservice', 'llm', '-n', ns, ...patch]);
      await eventually(() => (serviceOf(ns, 'llm')!.metadata.generation as number) > generation, `the edit "${what}"`);
      await serviceReady(ns, 'llm');
      const ctr = assertDeployment(ns, 'llm', built, claim);
      const env = envOf(ctr);
      if (what === 'env added') assert.deepEqual([env.NIM_LOG_LEVEL, env.EXTRA], ['DEBUG', '1'], 'the user env is there');
      if (what === 'env removed') assert.deepEqual([env.NIM_LOG_LEVEL, env.EXTRA], ['INFO', undefined], 'the user env is gone');
      if (what === 'resources without GPUs') {
        assert.deepEqual(ctr.resources, { limits: { memory: '64Gi', 'nvidia.com/gpu': '2' }, requests: { cpu: '4', memory: '32Gi', 'nvidia.com/gpu': '2' } });
      }
      const pods = await rolledOut(ns, 'llm');
      for (const pod of pods) {
        assert.equal(envOf(pod.spec.containers[0]).NIM_MODEL_PROFILE, built.name, `${what}: pod ${pod.metadata.name} has the profile`);
        await assertServes(ns, pod, built, 'test/llm');
      }
      if (what === 'replicas 2') assert.equal(pods.length, 2);
    }
    const seen = c.list('/events', ns).filter((e) => e.involvedObject?.kind === 'NIMService' && e.type === 'Warning').map((e) => `${e.reason as string}: ${e.message as string}`);
    assert.deepEqual(seen, [], 'no warnings on the NIMService');
  });

  test('the NIMCache still lists the built engine after all this', () => {
    const cache = cacheOf(ns, 'llm')!;
    assert.equal(stateOf(cache), 'Ready');
    assert.ok((cache.status.profiles as Obj[]).some((p) => p.name === built.name));
  });

  test(
    'a NIMService on the cache without a profile, on L40S, also picks the built engine (docs/nimbuild.md "Serving the engine")',
    async () => {
      // The L40S node's 4 GPUs are taken by the two replicas above: one is enough now.
      await c.ok(['patch', 'nimservice', 'llm', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { replicas: 1 } })]);
      await rolledOut(ns, 'llm');
      await apply(nimService(ns, 'implicit', 'llm', V1, undefined, { resources: { limits: { 'nvidia.com/gpu': 2 } } }));
      await serviceReady(ns, 'implicit');
      const [pod] = await rolledOut(ns, 'implicit');
      const metadata = await getJSON(ns, pod!.metadata.name, '/v1/metadata');
      assert.equal(metadata.selectedModelProfileId, built.name);
    },
  );
});

describe('serving an engine a NIMBuild built (v2 manifest, tp 1, L40S)', () => {
  const ns = 'serve-built-v2';

  test('NIMCache (buildable: true) → NIMBuild → NIMService on the built profile, 1 GPU', async () => {
    await namespace(ns);
    await apply(nimCache(ns, 'small', V2, { buildable: true }));
    await apply(nimBuild(ns, 'small-l40s', 'small', V2, 'small-l40s'));
    const cache = await eventually(() => (stateOf(cacheOf(ns, 'small')) === 'Ready' ? cacheOf(ns, 'small') : undefined), 'the NIMCache to be Ready', 30_000);
    assert.ok((cache.status.profiles as Obj[]).every((p) => p.config?.trtllm_buildable === 'true'), 'buildable profiles only');
    const build = await eventually(() => (stateOf(buildOf(ns, 'small-l40s')) === 'Ready' ? buildOf(ns, 'small-l40s') : undefined), 'the NIMBuild to be Ready', 30_000);
    const built = build.status.outputProfile;
    assert.deepEqual([built.config.gpu, built.config.tp, built.config.model_name], ['L40S', '1', 'small-l40s']);
    await apply(nimService(ns, 'small', 'small', V2, built.name));
    await serviceReady(ns, 'small');
    assertDeployment(ns, 'small', built, cacheOf(ns, 'small')!.status.pvc);
    const [pod] = await rolledOut(ns, 'small');
    await assertServes(ns, pod!, built, 'test/llm');
  });
});
