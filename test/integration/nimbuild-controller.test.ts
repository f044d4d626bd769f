/**
 * The NIMBuild controller against the simulated cluster (inventory §2.4; behaviours 80–82a,
 * Appendix A2): a build waits, Pending, for its NIMCache, starts as soon as the cache is Ready (the
 * cache's change wakes it), runs the engine build pod with the GPUs the profile's tp asks for, reads
 * the built profile back from the local manifest, and adds it to the cache; a cache with no
 * buildable profile, or several, is refused with a message that says what to do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setupNIMBuildController } from '../../src/controllers/nimbuild/index.js';
import { nimCacheController } from '../../src/controllers/nimcache/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { inspectorFromLabels } from '../../src/nim/inspect.js';
import type { Controller } from '../../src/runtime/controller.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
let op: RunningOperator;
let builds: Controller;

/** One TensorRT-LLM engine for H100 at tp 2, and the buildable bf16 tp 2 profile. */
const BUILDABLE = 'nvcr.io/nim/test/buildable-llm:1.0';
/** Engines only: nothing to build from. */
const PREBUILT = 'nvcr.io/nim/test/prebuilt-llm:1.0';
/** Two buildable profiles (bf16 and fp8, tp 1). */
const TWO_BUILDABLE = 'nvcr.io/nim/test/two-buildable-llm:1.0';

before(async () => {
  // Durations as the catalogue says: the download and the engine build take a moment, so the
  // build is seen Pending (cache downloading) and InProgress (engine building).
  c = await startSimCluster({ timeScale: 1, jobBackoffMs: 0 });
  const llm = { engines: ['tensorrt_llm'], precisions: ['bf16'], tensorParallelism: [2], gpus: ['H100'], lora: false };
  c.sim.catalogue.prepend({ match: 'nvcr.io/nim/test/buildable-llm:*', nim: { manifest: 'v1', profiles: { ...llm, buildable: true }, downloadMs: 1500, loadMs: 0, buildMs: 1000 } });
  c.sim.catalogue.prepend({ match: 'nvcr.io/nim/test/prebuilt-llm:*', nim: { manifest: 'v1', profiles: { ...llm, buildable: false }, downloadMs: 0 } });
  c.sim.catalogue.prepend({
    match: 'nvcr.io/nim/test/two-buildable-llm:*',
    nim: { manifest: 'v1', profiles: { ...llm, precisions: ['bf16', 'fp8'], tensorParallelism: [1], buildable: true }, downloadMs: 0 },
  });
  const cacheSetup = nimCacheController({ inspector: inspectorFromLabels((image) => c.sim.imageLabels(image)) });
  op = await startOperator(c, { setups: [cacheSetup, (ctx) => (builds = setupNIMBuildController(ctx))] });
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

async function namespace(ns: string): Promise<void> {
  await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', 'secret', 'generic', 'ngc-api', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
}

function nimCache(ns: string, name: string, image: string): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMCache',
    metadata: { name, namespace: ns },
    spec: {
      source: { ngc: { authSecret: 'ngc-api', pullSecret: 'ngc-secret', modelPuller: image, model: { engine: 'tensorrt_llm' } } },
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
    },
  };
}

function nimBuild(ns: string, name: string, cache: string, image: string, extra: Obj = {}): Obj {
  const [repository, tag] = image.split(':');
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMBuild',
    metadata: { name, namespace: ns, labels: { team: 'ml' } },
    spec: { nimCache: { name: cache }, image: { repository, tag, pullSecrets: ['ngc-secret'] }, ...extra },
  };
}

const apply = (o: Obj) => c.ok(['apply', '-f', '-'], JSON.stringify(o));
const buildOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimbuilds', ns, name);
const cacheOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimcaches', ns, name);
const stateOf = (o: Obj | undefined) => o?.status?.state as string | undefined;
const events = (ns: string, name: string) =>
  c.list('/events', ns).filter((e) => e.involvedObject?.name === name && e.involvedObject?.kind === 'NIMBuild').map((e) => e.reason as string);

async function operatorWrites(): Promise<number> {
  const m = await op.manager.metrics.restRequests.get();
  return m.values.filter((v) => v.labels.method !== 'GET').reduce((n, v) => n + v.value, 0);
}

describe('a build from a cache with one buildable profile (behaviours 80, 81)', () => {
  const ns = 'build';
  let enginePod: Obj;
  before(async () => {
    await namespace(ns);
    await apply(nimCache(ns, 'llama', BUILDABLE));
    await apply(nimBuild(ns, 'engine', 'llama', BUILDABLE, {
      modelName: 'llama-h100',
      resources: { requests: { cpu: '2' } },
      // Build on the GPU the engine will serve on.
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
    }));
  });

  test('waits Pending for the cache, then builds (InProgress) with the engine build pod', async () => {
    const pending = await eventually(() => (stateOf(buildOf(ns, 'engine')) === 'Pending' ? buildOf(ns, 'engine') : undefined), 'the build to be Pending');
    const waiting = condition(pending, 'NIM_BUILD_WAIT_FOR_NIM_CACHE_READY');
    assert.deepEqual([waiting?.status, waiting?.reason], ['True', 'NIMCacheNotReady']);
    assert.match(waiting?.message, /^Waiting for NIMCache to be ready before building engines: NIMCache llama is /);
    assert.equal(c.get('/pods', ns, 'engine-engine-build-pod'), undefined, 'no build before the cache is Ready');
    enginePod = await eventually(() => c.get('/pods', ns, 'engine-engine-build-pod'), 'the engine build pod', 20_000);
    assert.equal(stateOf(cacheOf(ns, 'llama')), 'Ready');
    const inProgress = await eventually(() => (stateOf(buildOf(ns, 'engine')) === 'InProgress' ? buildOf(ns, 'engine') : undefined), 'InProgress');
    assert.equal(condition(inProgress, 'NIM_BUILD_WAIT_FOR_NIM_CACHE_READY')?.status, 'False');
    assert.deepEqual([condition(inProgress, 'NIM_BUILD_SINGLE_BUILDABLE_PROFILE_FOUND')?.status, condition(inProgress, 'NIM_BUILD_SINGLE_BUILDABLE_PROFILE_FOUND')?.reason], ['True', 'BuildableProfileFound']);
    assert.equal(condition(inProgress, 'NIM_BUILD_ENGINE_BUILD_POD_CREATED')?.reason, 'EngineBuildPodCreated');
    assert.equal(inProgress.status.inputProfile.config.trtllm_buildable, 'true');
  });

  test('the engine build pod: NIM image, profile and model name, 2 GPUs from tp, the cache PVC (behaviour 80)', () => {
    const build = buildOf(ns, 'engine')!;
    const input = build.status.inputProfile.name as string;
    const ctr = enginePod.spec.containers[0];
    assert.equal(ctr.name, 'nim-build-ctr');
    assert.equal(ctr.image, BUILDABLE);
    const env = Object.fromEntries((ctr.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.NIM_MODEL_PROFILE, input);
    assert.equal(env.NIM_CUSTOM_MODEL_NAME, 'llama-h100');
    assert.equal(env.NIM_CACHE_PATH, '/model-store');
    assert.deepEqual(env.NGC_API_KEY, { secretKeyRef: { name: 'ngc-api', key: 'NGC_API_KEY' } });
    assert.deepEqual(ctr.resources, { requests: { cpu: '2', 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
    assert.deepEqual(ctr.volumeMounts, [{ name: 'nim-cache-volume', mountPath: '/model-store' }]);
    assert.deepEqual(enginePod.spec.volumes, [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'llama-pvc' } }]);
    assert.deepEqual(enginePod.spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    assert.equal(enginePod.metadata.labels.team, 'ml');
    assert.equal(enginePod.metadata.ownerReferences[0].kind, 'NIMBuild');
  });

  test('Ready with status.outputProfile, which the NIMCache now lists; the pods are gone (behaviour 81)', async () => {
    const ready = await eventually(() => (stateOf(buildOf(ns, 'engine')) === 'Ready' ? buildOf(ns, 'engine') : undefined), 'the build to be Ready', 20_000);
    const out = ready.status.outputProfile;
    assert.equal(out.config.model_name, 'llama-h100');
    assert.equal(out.config.input_profile, ready.status.inputProfile.name);
    assert.equal(out.config.gpu, 'H100', 'built for the GPU of the node it ran on');
    assert.equal(out.config.tp, '2');
    assert.equal(condition(ready, 'NIM_BUILD_ENGINE_BUILD_POD_COMPLETED')?.reason, 'PodReady');
    assert.deepEqual([condition(ready, 'NIM_BUILD_MODEL_MANIFEST_POD_COMPLETED')?.status, condition(ready, 'NIM_BUILD_MODEL_MANIFEST_POD_COMPLETED')?.reason], ['True', 'PodCompleted']);
    const cache = cacheOf(ns, 'llama')!;
    const listed = (cache.status.profiles as Obj[]).find((p) => p.name === out.name);
    assert.deepEqual(listed, out, 'the NIMCache lists the built profile');
    assert.equal(stateOf(cache), 'Ready');
    assert.match(c.get('/configmaps', ns, 'llama-manifest')!.data['local_model_manifest.yaml'], new RegExp(out.name));
    await eventually(() => !c.get('/pods', ns, 'engine-engine-build-pod') && !c.get('/pods', ns, 'engine-local-manifest-pod'), 'the build pods to be gone');
    const seen = events(ns, 'engine');
    assert.deepEqual(seen.filter((r) => ['Pending', 'InProgress', 'Ready'].includes(r)), ['Pending', 'InProgress', 'Ready']);
    assert.ok(!seen.includes('ReconcileFailed'), `no failed reconcile: ${seen.join(', ')}`);
    assert.deepEqual(ready.metadata.finalizers, ['finalizer.nimbuild.apps.nvidia.com']);
  });

  test('the built profile survives the next NIMCache reconciles', async () => {
    const name = buildOf(ns, 'engine')!.status.outputProfile.name;
    await c.ok(['annotate', 'nimcache', 'llama', '-n', ns, 'poke=1', '--overwrite']);
    await c.ok(['annotate', 'nimcache', 'llama', '-n', ns, 'poke=2', '--overwrite']);
    await eventually(() => cacheOf(ns, 'llama')?.metadata.annotations?.poke === '2', 'the annotation');
    assert.ok((cacheOf(ns, 'llama')!.status.profiles as Obj[]).some((p) => p.name === name));
  });

  test('a settled build causes no writes, however often it is reconciled', async () => {
    const before = buildOf(ns, 'engine')!.metadata.resourceVersion;
    const cacheRV = cacheOf(ns, 'llama')!.metadata.resourceVersion;
    const writes = await operatorWrites();
    for (let i = 0; i < 3; i++) {
      const done = builds.stats.reconciles;
      await c.ok(['annotate', 'nimbuild', 'engine', '-n', ns, `poke=${i}`, '--overwrite']);
      await eventually(() => builds.stats.reconciles > done && builds.stats.active === 0, 'a reconcile of the settled build');
    }
    assert.equal(await operatorWrites(), writes, 'the operator wrote nothing');
    assert.notEqual(buildOf(ns, 'engine')!.metadata.resourceVersion, before, 'the annotations changed the NIMBuild');
    assert.equal(cacheOf(ns, 'llama')!.metadata.resourceVersion, cacheRV);
    assert.equal(stateOf(buildOf(ns, 'engine')), 'Ready');
  });

  test('kubectl get nimbuilds shows the state; deleting the build removes it', async () => {
    assert.match(await c.ok(['get', 'nimbuilds', '-n', ns]), /^engine\s+Ready\s+/m);
    await c.ok(['delete', 'nimbuild', 'engine', '-n', ns, '--wait=false']);
    await eventually(() => !buildOf(ns, 'engine'), 'the NIMBuild to be gone');
  });
});

describe('a build created before its cache (behaviour 82a, Appendix A2)', () => {
  const ns = 'early';
  before(() => namespace(ns));

  test('stays Pending, without retries, and starts as soon as the cache is Ready', async () => {
    await apply(nimBuild(ns, 'early', 'later', BUILDABLE));
    const pending = await eventually(() => (stateOf(buildOf(ns, 'early')) === 'Pending' ? buildOf(ns, 'early') : undefined), 'Pending');
    const missing = condition(pending, 'NIM_BUILD_NIM_CACHE_NOT_FOUND');
    assert.deepEqual([missing?.status, missing?.reason], ['True', 'NIMCacheNotFound']);
    assert.match(missing?.message, /NIMCache later does not exist in this namespace; the build starts once it exists and is Ready/);
    const errors = builds.stats.errors;
    await apply(nimCache(ns, 'later', BUILDABLE));
    const cacheReady = await eventually(() => stateOf(cacheOf(ns, 'later')) === 'Ready' && Date.now(), 'the cache to be Ready', 20_000);
    // Woken by the cache's change: no poll, no error backoff (upstream waits for its retries).
    const started = await eventually(() => c.get('/pods', ns, 'early-engine-build-pod') && Date.now(), 'the engine build pod');
    assert.ok(started - cacheReady < 2_000, `the build started ${started - cacheReady} ms after the cache was Ready`);
    assert.equal(builds.stats.errors, errors, 'no failed reconcile');
    const ready = await eventually(() => (stateOf(buildOf(ns, 'early')) === 'Ready' ? buildOf(ns, 'early') : undefined), 'Ready', 20_000);
    assert.equal(condition(ready, 'NIM_BUILD_NIM_CACHE_NOT_FOUND')?.status, 'False');
    assert.equal(ready.status.outputProfile.config.model_name, 'early', 'the engine is named after the NIMBuild by default');
  });

  test('a build pod that fails: Failed, quoting it; deleting the pod builds again', async () => {
    await apply(nimBuild(ns, 'broken', 'later', 'nimop.dev/sim/failing:1.0'));
    const failed = await eventually(() => (stateOf(buildOf(ns, 'broken')) === 'Failed' ? buildOf(ns, 'broken') : undefined), 'Failed');
    const cond = condition(failed, 'NIM_BUILD_ENGINE_BUILD_POD_COMPLETED')!;
    assert.deepEqual([cond.status, cond.reason], ['False', 'PodFailed']);
    assert.match(cond.message, /^The pod to build engine has failed: exit code 1: Error: simulated failure .*; delete pod broken-engine-build-pod to build again$/);
    await eventually(() => events(ns, 'broken').includes('Failed'), 'a Failed event');
    const first = c.get('/pods', ns, 'broken-engine-build-pod')!.metadata.uid;
    await c.ok(['delete', 'pod', 'broken-engine-build-pod', '-n', ns]);
    await eventually(() => {
      const pod = c.get('/pods', ns, 'broken-engine-build-pod');
      return pod && pod.metadata.uid !== first;
    }, 'a new engine build pod');
  });
});

describe('caches a build cannot use (behaviour 82)', () => {
  const ns = 'refused';
  before(() => namespace(ns));

  test('no buildable profile: Failed, with a message naming the fix, and no pod', async () => {
    await apply(nimCache(ns, 'engines', PREBUILT));
    await apply(nimBuild(ns, 'none', 'engines', PREBUILT));
    const failed = await eventually(() => (stateOf(buildOf(ns, 'none')) === 'Failed' ? buildOf(ns, 'none') : undefined), 'Failed', 20_000);
    const cond = condition(failed, 'NIM_BUILD_NO_BUILDABLE_PROFILE_FOUND')!;
    assert.deepEqual([cond.status, cond.reason], ['True', 'NoBuildableProfilesFound']);
    assert.match(cond.message, /^No buildable profiles found for NIM Cache: NIMCache engines holds no profile tagged trtllm_buildable: "true"/);
    assert.match(cond.message, /spec\.source\.ngc\.model\.buildable: true/);
    assert.equal(c.get('/pods', ns, 'none-engine-build-pod'), undefined);
    await eventually(() => events(ns, 'none').includes('Failed'), 'a Failed event');
  });

  test('two buildable profiles and none named: Failed, naming both', async () => {
    await apply(nimCache(ns, 'two', TWO_BUILDABLE));
    await apply(nimBuild(ns, 'which', 'two', TWO_BUILDABLE));
    const failed = await eventually(() => (stateOf(buildOf(ns, 'which')) === 'Failed' ? buildOf(ns, 'which') : undefined), 'Failed', 20_000);
    const cond = condition(failed, 'NIM_BUILD_MULTIPLE_BUILDABLE_PROFILES_FOUND')!;
    assert.deepEqual([cond.status, cond.reason], ['True', 'MultipleBuildableProfilesFound']);
    const ids = (cacheOf(ns, 'two')!.status.profiles as Obj[]).filter((p) => p.config.trtllm_buildable === 'true').map((p) => p.name as string);
    assert.equal(ids.length, 2);
    for (const id of ids) assert.ok(cond.message.includes(id), `the message names ${id}`);
    assert.match(cond.message, /spec\.nimCache\.profile/);
    assert.equal(c.get('/pods', ns, 'which-engine-build-pod'), undefined);
  });
});
