/**
 * The NIMCache controller against the simulated cluster (inventory §2.1; behaviours 54, 55, 57, 58,
 * 63, 65, 67): an NGC cache goes Started → InProgress → Ready with the profiles that fit the
 * cluster's GPUs, a settled cache costs no writes, deleting it removes what it made, and
 * `kubectl get nimcaches` shows its state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nimCacheController } from '../../src/controllers/nimcache/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { inspectorFromLabels } from '../../src/nim/inspect.js';
import type { Controller } from '../../src/runtime/controller.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
let op: RunningOperator;
let controller: Controller;

const SLOW = 'nvcr.io/nim/test/slow-llm:1.0';
const NATIVE = 'nvcr.io/nim/test/native-llm:1.0';

before(async () => {
  // Durations as the catalogue says (timeScale 1): the slow model downloads for a moment, so the
  // cache is seen InProgress; everything else is instant.
  c = await startSimCluster({ timeScale: 1, jobBackoffMs: 0 });
  c.sim.catalogue.prepend({ match: 'nvcr.io/nim/test/slow-llm:*', nim: { manifest: 'v1', downloadMs: 1500 } });
  c.sim.catalogue.prepend({ match: 'nvcr.io/nim/test/native-llm:*', labels: { 'com.nvidia.nim.model_download_protocol': 'native-v1' }, nim: { manifest: 'v1', downloadMs: 0 } });
  // nimop dev answers image inspection from the simulation's catalogue, as here.
  const setup = nimCacheController({ inspector: inspectorFromLabels((image) => c.sim.imageLabels(image)) });
  op = await startOperator(c, { setups: [(ctx) => (controller = setup(ctx))] });
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

async function namespace(ns: string): Promise<void> {
  await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', 'secret', 'generic', 'ngc-api', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
}

function nimCache(ns: string, name: string, ngc: Obj, pvc: Obj = { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' }): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMCache',
    metadata: { name, namespace: ns },
    spec: { source: { ngc: { authSecret: 'ngc-api', pullSecret: 'ngc-secret', ...ngc } }, storage: { pvc } },
  };
}

const apply = (o: Obj) => c.ok(['apply', '-f', '-'], JSON.stringify(o));
const cacheOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimcaches', ns, name);
const stateOf = (ns: string, name: string) => cacheOf(ns, name)?.status?.state as string | undefined;
const reasons = (ns: string, name: string) => c.list('/events', ns).filter((e) => e.involvedObject?.name === name && e.involvedObject?.kind === 'NIMCache').map((e) => e.reason as string);

/** Writes (non-GET requests) the operator has made so far. */
async function operatorWrites(): Promise<number> {
  const m = await op.manager.metrics.restRequests.get();
  return m.values.filter((v) => v.labels.method !== 'GET').reduce((n, v) => n + v.value, 0);
}

describe('an NGC cache on the default topology', () => {
  const ns = 'ngc';
  before(async () => {
    await namespace(ns);
    await apply(nimCache(ns, 'llama', { modelPuller: SLOW, model: { engine: 'tensorrt_llm', tensorParallelism: '1', precision: 'fp8' } }));
  });

  test('goes Started → InProgress → Ready, with the profiles that fit the GPUs in status (behaviours 55, 57)', async () => {
    const ready = await eventually(() => (stateOf(ns, 'llama') === 'Ready' ? cacheOf(ns, 'llama') : undefined), 'the cache to be Ready', 30_000);
    const seen = await eventually(() => {
      const r = reasons(ns, 'llama');
      return r.includes('Ready') ? r : undefined;
    }, 'the Ready event');
    assert.deepEqual(seen.filter((r) => ['Started', 'InProgress', 'Ready'].includes(r)), ['Started', 'InProgress', 'Ready']);
    assert.equal(ready.status.pvc, 'llama-pvc');
    await eventually(async () => /nimCache_status_total\{status="Ready"\} [1-9]/.test(await op.manager.metrics.registry.metrics()), 'the Ready gauge');
    // tensorrt_llm, fp8, tp 1 on H100/A100/L40S nodes: H100 and L40S (A100 has no fp8), and the
    // buildable profile, whose empty gpu tag matches any GPU in a v1 manifest.
    const profiles = ready.status.profiles as Obj[];
    assert.deepEqual(profiles.map((p) => p.config.gpu ?? (p.config.trtllm_buildable === 'true' ? 'buildable' : '?')).sort(), ['H100', 'L40S', 'buildable']);
    for (const p of profiles) {
      assert.deepEqual([p.config.llm_engine, p.config.precision, p.config.tp, p.config.feat_lora], ['tensorrt_llm', 'fp8', '1', 'false']);
      assert.equal(p.model, 'test/slow-llm');
    }
    assert.equal(condition(ready, 'NIM_CACHE_PVC_CREATED')?.status, 'True');
    assert.equal(condition(ready, 'NIM_CACHE_JOB_CREATED')?.reason, 'JobCreated');
    assert.deepEqual([condition(ready, 'NIM_CACHE_JOB_COMPLETED')?.status, condition(ready, 'NIM_CACHE_JOB_COMPLETED')?.reason], ['True', 'JobCompleted']);
    assert.equal(condition(ready, 'NIM_CACHE_JOB_COMPLETED')?.observedGeneration, 1);
    assert.deepEqual(ready.metadata.finalizers, ['finalizer.nimcache.apps.nvidia.com']);
  });

  test('what it made: the Job with those profiles, the manifest ConfigMap, the shared RBAC; the probe pod is gone (behaviour 54)', async () => {
    const cache = cacheOf(ns, 'llama')!;
    const job = c.get('batch/jobs', ns, 'llama-job')!;
    const ctr = job.spec.template.spec.containers[0];
    assert.deepEqual(ctr.command, ['download-to-cache']);
    assert.deepEqual(ctr.args, ['--profiles', ...(cache.status.profiles as Obj[]).map((p) => p.name).sort()]);
    assert.deepEqual(ctr.envFrom, [{ secretRef: { name: 'ngc-api' } }]);
    assert.match(c.get('/configmaps', ns, 'llama-manifest')!.data['model_manifest.yaml'], /tensorrt_llm/);
    assert.equal(c.get('/pods', ns, 'llama-pod'), undefined);
    for (const r of ['/serviceaccounts', 'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings']) {
      const name = r === '/serviceaccounts' ? 'nim-cache-sa' : r.endsWith('roles') ? 'nim-cache-role' : 'nim-cache-rolebinding';
      assert.ok(c.get(r, ns, name), `${r} ${name}`);
    }
  });

  test('kubectl get nimcaches shows the state and the PVC', async () => {
    const out = await c.ok(['get', 'nimcaches', '-n', ns]);
    assert.match(out, /^NAME\s+STATUS\s+PVC\s+AGE$/m);
    assert.match(out, /^llama\s+Ready\s+llama-pvc\s+/m);
  });

  test('a settled cache causes no writes, however often it is reconciled', async () => {
    const kinds = ['apps.nvidia.com/nimcaches', 'batch/jobs', '/persistentvolumeclaims', '/configmaps', 'rbac.authorization.k8s.io/roles'];
    const names = ['llama', 'llama-job', 'llama-pvc', 'llama-manifest', 'nim-cache-role'];
    const rvs = () => kinds.map((k, i) => c.get(k, ns, names[i]!)?.metadata.resourceVersion as string);
    const before = rvs();
    const writes = await operatorWrites();
    for (let i = 0; i < 3; i++) {
      const done = controller.stats.reconciles;
      await c.ok(['annotate', 'nimcache', 'llama', '-n', ns, `poke=${i}`, '--overwrite']);
      await eventually(() => controller.stats.reconciles > done && controller.stats.active === 0, 'a reconcile of the settled cache');
    }
    assert.equal(await operatorWrites(), writes, 'the operator wrote nothing');
    // The NIMCache itself changed (the annotations); its children did not.
    assert.deepEqual(rvs().slice(1), before.slice(1));
    assert.equal(stateOf(ns, 'llama'), 'Ready');
  });

  test('deleting the cache removes the Job, PVC and ConfigMap; the shared RBAC stays (behaviour 65)', async () => {
    await c.ok(['delete', 'nimcache', 'llama', '-n', ns, '--wait=false']);
    await eventually(() => !cacheOf(ns, 'llama'), 'the NIMCache to be gone', 15_000);
    await eventually(() => !c.get('batch/jobs', ns, 'llama-job') && !c.get('/configmaps', ns, 'llama-manifest') && !c.get('/persistentvolumeclaims', ns, 'llama-pvc'), 'the children to be gone', 15_000);
    assert.ok(c.get('/serviceaccounts', ns, 'nim-cache-sa'));
    assert.ok(c.get('rbac.authorization.k8s.io/roles', ns, 'nim-cache-role'));
  });
});

describe('other paths', () => {
  const ns = 'paths';
  before(() => namespace(ns));

  test('no profile fits: NotReady with a message saying why, and no Job (behaviour 58)', async () => {
    await apply(nimCache(ns, 'nofit', { modelPuller: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0', model: { engine: 'tensorrt_llm', precision: 'int3' } }));
    const cache = await eventually(() => (stateOf(ns, 'nofit') === 'NotReady' ? cacheOf(ns, 'nofit') : undefined), 'NotReady');
    const cond = condition(cache, 'NIM_CACHE_RECONCILE_FAILED')!;
    assert.deepEqual([cond.status, cond.reason], ['True', 'ReconcileFailed']);
    assert.match(cond.message, /^no profiles are selected for caching: none of the \d+ profiles .* matches .*precision="int3"/);
    assert.equal(c.get('batch/jobs', ns, 'nofit-job'), undefined);
    await eventually(() => reasons(ns, 'nofit').includes('ReconcileFailed'), 'a ReconcileFailed event');
  });

  test('a PVC that does not exist waits, and the cache proceeds once it is created (behaviour 63)', async () => {
    await apply(nimCache(ns, 'byo', { modelPuller: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0', model: { profiles: ['all'] } }, { name: 'models' }));
    const waiting = await eventually(() => (stateOf(ns, 'byo') === 'NotReady' ? cacheOf(ns, 'byo') : undefined), 'NotReady');
    assert.match(condition(waiting, 'NIM_CACHE_RECONCILE_FAILED')!.message, /PersistentVolumeClaim models not found/);
    await apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'models', namespace: ns }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '100Gi' } } } });
    const ready = await eventually(() => (stateOf(ns, 'byo') === 'Ready' ? cacheOf(ns, 'byo') : undefined), 'Ready', 20_000);
    assert.equal(ready.status.pvc, 'models');
    assert.equal(ready.status.profiles, undefined, '--all lists no profiles');
    assert.deepEqual(condition(ready, 'NIM_CACHE_RECONCILE_FAILED')?.status, 'False');
    assert.deepEqual(c.get('batch/jobs', ns, 'byo-job')!.spec.template.spec.containers[0].args, ['--all']);
    assert.equal(c.get('/persistentvolumeclaims', ns, 'models')!.metadata.ownerReferences, undefined, 'a claim the user made stays the user\'s');
  });

  test('a native image: no manifest probe, the image\'s own download into /model/<cache> (behaviour 67)', async () => {
    await apply(nimCache(ns, 'native', { modelPuller: NATIVE }));
    const ready = await eventually(() => (stateOf(ns, 'native') === 'Ready' ? cacheOf(ns, 'native') : undefined), 'Ready', 20_000);
    assert.equal(ready.status.type, 'native');
    assert.equal(ready.status.profiles, undefined);
    assert.equal(c.get('/configmaps', ns, 'native-manifest'), undefined, 'no manifest was read');
    const ctr = c.get('batch/jobs', ns, 'native-job')!.spec.template.spec.containers[0];
    assert.equal(ctr.command, undefined);
    assert.deepEqual(ctr.env.slice(0, 2), [{ name: 'NIM_ENGINE_MODEL_DOWNLOAD_ONLY', value: '1' }, { name: 'NIM_ENGINE_MODEL_PATH', value: '/model/native' }]);
    assert.deepEqual(ctr.volumeMounts.map((m: Obj) => m.mountPath), ['/model', '/opt/cache', '/scratch']);
  });
});
