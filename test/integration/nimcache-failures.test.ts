/**
 * NIMCache paths that go wrong, and sources other than NGC (inventory §2.1; behaviours 60, 62, 64,
 * 66; Appendix A4, A23): a download that keeps failing is Failed only once the Job gives up, a
 * manifest probe that cannot run says why, a Hugging Face model from a model-free NIM, and the
 * shared Role of a namespace with a proxied cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { setupNIMCacheController } from '../../src/controllers/nimcache/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { Client } from '../../src/runtime/client/client.js';
import { RestClient } from '../../src/runtime/client/rest.js';
import { Informer } from '../../src/runtime/informer.js';
import { NIMCACHE } from '../../src/controllers/refs.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
let op: RunningOperator;

const BROKEN = 'nvcr.io/nim/test/broken-llm:1.0';
const LLAMA = 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0';

before(async () => {
  c = await startSimCluster({ timeScale: 1, jobBackoffMs: 0 });
  // Its manifest can be read, but every download fails after a moment.
  c.sim.catalogue.prepend({
    match: 'nvcr.io/nim/test/broken-llm:*',
    run: [{ when: { command: 'download-to-cache' }, exit: 1, afterMs: 400, log: 'ERROR cannot reach the model registry: connection refused' }],
  });
  op = await startOperator(c, { setups: [setupNIMCacheController] });
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

async function namespace(ns: string): Promise<void> {
  await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', 'secret', 'generic', 'ngc-api', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
}

const apply = (o: Obj) => c.ok(['apply', '-f', '-'], JSON.stringify(o));
const cacheOf = (ns: string, name: string) => c.get('apps.nvidia.com/nimcaches', ns, name);
const stateOf = (ns: string, name: string) => cacheOf(ns, name)?.status?.state as string | undefined;
const PVC = { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' };

function cache(ns: string, name: string, source: Obj, extra: Obj = {}): Obj {
  return { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMCache', metadata: { name, namespace: ns }, spec: { source, storage: { pvc: PVC }, ...extra } };
}

describe('a download that keeps failing (Appendix A4)', () => {
  const ns = 'broken';
  const seen: { state: string; message: string; jobFailed: number; jobGaveUp: boolean }[] = [];
  let watcher: Informer;
  let client: Client;

  before(async () => {
    await namespace(ns);
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    client = new Client(new RestClient(kc, { userAgent: 'test/watch' }));
    // Every version of the NIMCache the API server hands out, with the Job as it was at that moment.
    watcher = new Informer(client, NIMCACHE, { namespace: ns });
    const record = (o: Obj) => {
      const job = c.get('batch/jobs', ns, 'flaky-job');
      const gaveUp = ((job?.status?.conditions ?? []) as Obj[]).some((x) => x.type === 'Failed' && x.status === 'True');
      const cond = condition(o, 'NIM_CACHE_JOB_PENDING') ?? condition(o, 'NIM_CACHE_JOB_COMPLETED');
      seen.push({ state: o.status?.state ?? '', message: cond?.message ?? '', jobFailed: job?.status?.failed ?? 0, jobGaveUp: gaveUp });
    };
    watcher.on({ add: record, update: (_old, o) => record(o) });
    watcher.start();
    await watcher.waitForSync();
    await apply(cache(ns, 'flaky', { ngc: { authSecret: 'ngc-api', modelPuller: BROKEN, model: { profiles: ['all'] } } }));
  });
  after(async () => {
    await watcher.stop();
    client.rest.close();
  });

  test('retries are InProgress or Pending and say so; Failed comes only when the Job has used its retries (behaviour 62)', async () => {
    const failed = await eventually(() => (stateOf(ns, 'flaky') === 'Failed' ? cacheOf(ns, 'flaky') : undefined), 'the cache to fail', 30_000);
    const job = c.get('batch/jobs', ns, 'flaky-job')!;
    assert.equal(job.status.failed, 6, 'backoffLimit 5: six attempts');
    const cond = condition(failed, 'NIM_CACHE_JOB_COMPLETED')!;
    assert.deepEqual([cond.status, cond.reason], ['False', 'JobFailed']);
    assert.match(cond.message, /^The Job to cache NIM has failed: BackoffLimitExceeded: Job has reached the specified backoff limit; 6 attempt\(s\) failed; the last with exit code 1: .*connection refused/);
    await eventually(() => seen.some((s) => s.state === 'Failed'), 'the watch to see Failed');
    const early = seen.filter((s) => s.state === 'Failed' && !s.jobGaveUp);
    assert.deepEqual(early, [], 'never Failed while the Job could still retry');
    assert.ok(seen.some((s) => ['InProgress', 'Pending'].includes(s.state) && /\d of 6 attempts failed, the last with exit code 1/.test(s.message)), JSON.stringify(seen.map((s) => [s.state, s.message])));
    const events = c.list('/events', ns).filter((e) => e.involvedObject?.name === 'flaky' && e.reason === 'Failed');
    assert.deepEqual(events.map((e) => e.type), ['Warning']);
  });
});

describe('manifest probes that cannot run', () => {
  const ns = 'probes';
  before(() => namespace(ns));

  test('an image that cannot be pulled: NotReady, saying which pod and why', async () => {
    await apply(cache(ns, 'nopull', { ngc: { authSecret: 'ngc-api', modelPuller: 'nimop.dev/sim/unpullable:1', model: { profiles: ['all'] } } }));
    const nr = await eventually(() => (stateOf(ns, 'nopull') === 'NotReady' ? cacheOf(ns, 'nopull') : undefined), 'NotReady');
    assert.match(condition(nr, 'NIM_CACHE_RECONCILE_FAILED')!.message, /^the manifest probe pod nopull-pod \(image nimop\.dev\/sim\/unpullable:1\) cannot run: container nim-cache-ctr: (ErrImagePull|ImagePullBackOff): .*not found/);
    assert.equal(c.get('batch/jobs', ns, 'nopull-job'), undefined);
  });

  test('an image whose probe fails: NotReady with its exit code and log, tried again after a back-off', async () => {
    await apply(cache(ns, 'crash', { ngc: { authSecret: 'ngc-api', modelPuller: 'nimop.dev/sim/failing:1', model: { profiles: ['all'] } } }));
    const nr = await eventually(() => (stateOf(ns, 'crash') === 'NotReady' ? cacheOf(ns, 'crash') : undefined), 'NotReady');
    assert.match(
      condition(nr, 'NIM_CACHE_RECONCILE_FAILED')!.message,
      /^the manifest probe pod crash-pod \(image nimop\.dev\/sim\/failing:1\) failed with exit code 1: Error: simulated failure .*\(attempt 1; tried again after a back-off\)$/,
    );
    const first = c.get('/pods', ns, 'crash-pod')!.metadata.uid;
    await eventually(() => {
      const p = c.get('/pods', ns, 'crash-pod');
      return p && p.metadata.uid !== first;
    }, 'a new probe pod');
    await eventually(() => /\(attempt 2;/.test(condition(cacheOf(ns, 'crash'), 'NIM_CACHE_RECONCILE_FAILED')?.message ?? ''), 'the second attempt counted');
  });

  test('the deprecated certConfig: NotReady with the migration message (behaviour 64)', async () => {
    await apply(cache(ns, 'oldca', { ngc: { authSecret: 'ngc-api', modelPuller: LLAMA, model: { profiles: ['all'] } } }, { certConfig: { name: 'ca', mountPath: '/certs' } }));
    const nr = await eventually(() => (stateOf(ns, 'oldca') === 'NotReady' ? cacheOf(ns, 'oldca') : undefined), 'NotReady');
    assert.match(condition(nr, 'NIM_CACHE_RECONCILE_FAILED')!.message, /^Deprecated field 'CertConfig' is used/);
  });
});

describe('other sources and the shared Role', () => {
  const ns = 'sources';
  before(async () => {
    await namespace(ns);
    await c.ok(['create', 'secret', 'generic', 'hf-token', '--from-literal=HF_TOKEN=hf_test', '-n', ns]);
  });

  test('Hugging Face through a model-free NIM: download-to-cache --model-uri, Ready (behaviour 60)', async () => {
    const hf = { endpoint: 'https://huggingface.co', namespace: 'meta-llama', modelName: 'Llama-3.2-1B-Instruct', authSecret: 'hf-token', modelPuller: 'nvcr.io/nim/nvidia/llm-nim:1.14.0', pullSecret: 'ngc-secret' };
    await apply(cache(ns, 'hf', { hf }));
    const ready = await eventually(() => (stateOf(ns, 'hf') === 'Ready' ? cacheOf(ns, 'hf') : undefined), 'Ready', 20_000);
    assert.equal(ready.status.type, 'model-free');
    assert.equal(c.get('/configmaps', ns, 'hf-manifest'), undefined);
    const ctr = c.get('batch/jobs', ns, 'hf-job')!.spec.template.spec.containers[0];
    assert.deepEqual(ctr.command, ['download-to-cache', '--model-uri', 'hf://meta-llama/Llama-3.2-1B-Instruct', '--manifest-file', '/model-store/model_manifest.json']);
    assert.deepEqual(ctr.envFrom, [{ secretRef: { name: 'hf-token' } }]);
  });

  test('a proxied cache beside a plain one: the shared Role grants anyuid and nonroot, whatever reconciled last (Appendix A23, behaviour 66)', async () => {
    await apply(cache(ns, 'proxied', { ngc: { authSecret: 'ngc-api', modelPuller: LLAMA, model: { profiles: ['all'] } } }, { proxy: { httpsProxy: 'http://proxy:3128', noProxy: '.svc' } }));
    await eventually(() => stateOf(ns, 'proxied') === 'Ready', 'Ready', 20_000);
    const names = () => c.get('rbac.authorization.k8s.io/roles', ns, 'nim-cache-role')?.rules?.[0]?.resourceNames;
    assert.deepEqual(names(), ['anyuid', 'nonroot']);
    await c.ok(['annotate', 'nimcache', 'hf', '-n', ns, 'poke=1']);
    await c.ok(['annotate', 'nimcache', 'proxied', '-n', ns, 'poke=1']);
    await eventually(() => c.list('/events', ns).length > 0, 'events');
    assert.deepEqual(names(), ['anyuid', 'nonroot']);
    const env = c.get('batch/jobs', ns, 'proxied-job')!.spec.template.spec.containers[0].env as Obj[];
    assert.deepEqual(env.slice(0, 7).map((e) => e.name), ['NIM_SDK_USE_NATIVE_TLS', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy']);
  });
});
