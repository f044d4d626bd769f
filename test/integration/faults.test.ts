/**
 * Fault injection, as clients see it: latency, errors with kube-apiserver's Status bodies (429 with
 * Retry-After, 500, 503, 409), deterministic and seeded-random rates, errors after the write was
 * committed, watches closed early, 410 Gone on resume, a pause, and a restart that drops every
 * watch — through `cp.faults`, the admin endpoint and ControlPlaneOptions.faults.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ApiException, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { Api, CT, configMap, found, path, statusOf, watch, type Watch as RawWatch } from '../helpers/api.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
const open: RawWatch[] = [];
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
  for (const ns of ['lat', 'err', 'wat', 'pau', 'rst', 'adm']) await api.namespace(ns);
});
afterEach(() => c.cp.faults.clear());
after(async () => {
  for (const w of open) w.close();
  await c?.stop();
});

async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await call();
  return { ms: performance.now() - t0, value };
}

async function watchOf(p: string): Promise<RawWatch> {
  const w = await watch(c.cp.url, p);
  open.push(w);
  return w;
}

describe('latency', () => {
  test('global latency delays every request; per verb and resource only the matching ones', async () => {
    c.cp.faults.latency(250);
    assert.ok((await timed(() => api.get('/version'))).ms >= 250);
    assert.ok((await timed(() => api.get(path('configmaps', 'lat')))).ms >= 250);
    c.cp.faults.clear();
    c.cp.faults.latency(300, { verb: 'list', resource: 'configmaps' });
    const slow = await timed(() => api.get(path('configmaps', 'lat')));
    assert.equal(slow.value.status, 200);
    assert.ok(slow.ms >= 300, `list configmaps took ${slow.ms} ms`);
    assert.ok((await timed(() => api.get(path('namespaces')))).ms < 300, 'list namespaces is not delayed');
    assert.ok((await timed(() => api.get(path('configmaps', 'lat', 'none')))).ms < 300, 'get configmaps is not delayed');
  });
});

describe('errors', () => {
  test('429 TooManyRequests with Retry-After for the next N matching requests, as client-node sees it', async () => {
    c.cp.faults.error(429, { verb: 'create', resource: 'configmaps', count: 2, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const r = await api.post(path('configmaps', 'err'), configMap('limited'));
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '3');
      const s = statusOf(r);
      assert.equal(s.reason, 'TooManyRequests');
      assert.deepEqual(s.details, { retryAfterSeconds: 3 });
    }
    assert.equal((await api.get(path('configmaps', 'err'))).status, 200, 'other verbs pass');
    assert.equal((await api.post(path('configmaps', 'err'), configMap('limited'))).status, 201, 'the third create passes');

    c.cp.faults.error(429, { verb: 'create', resource: 'configmaps', count: 1 });
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await assert.rejects(core.createNamespacedConfigMap({ namespace: 'err', body: { metadata: { name: 'typed' } } }), (e: unknown) => {
      assert.ok(e instanceof ApiException);
      assert.equal(e.code, 429);
      assert.equal(e.headers['retry-after'], '1');
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      assert.equal(body.reason, 'TooManyRequests');
      assert.equal(body.details.retryAfterSeconds, 1);
      return true;
    });
    await core.createNamespacedConfigMap({ namespace: 'err', body: { metadata: { name: 'typed' } } });
  });

  test('500 InternalError on every Nth request; 503 and 409 with their Status bodies', async () => {
    await api.create('configmaps', 'err', configMap('target'));
    c.cp.faults.error(500, { verb: 'get', resource: 'configmaps', every: 2, message: 'etcdserver: leader changed' });
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await api.get(path('configmaps', 'err', 'target'))).status);
    assert.deepEqual(codes, [200, 500, 200, 500, 200, 500]);
    assert.equal((await api.get(path('configmaps', 'err', 'target'))).status, 200);
    assert.deepEqual(statusOf(await api.get(path('configmaps', 'err', 'target'))), {
      code: 500,
      reason: 'InternalError',
      message: 'Internal error occurred: etcdserver: leader changed',
      details: { causes: [{ message: 'etcdserver: leader changed' }] },
    });
    c.cp.faults.clear();

    c.cp.faults.error(409, { verb: ['update', 'patch'], resource: 'configmaps', count: 1 });
    const conflict = await api.patch(path('configmaps', 'err', 'target'), { data: { a: '2' } }, CT.merge);
    assert.deepEqual(statusOf(conflict), {
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "target": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'target', kind: 'configmaps' },
    });
    assert.equal((await api.get(path('configmaps', 'err', 'target'))).body.data.a, '1', 'the failed write changed nothing');
    assert.equal((await api.patch(path('configmaps', 'err', 'target'), { data: { a: '2' } }, CT.merge)).status, 200);

    c.cp.faults.error(503, { resource: 'configmaps', namespace: 'err', count: 1, retryAfterSeconds: 2 });
    const unavailable = await api.get(path('configmaps', 'err'));
    assert.equal(statusOf(unavailable).reason, 'ServiceUnavailable');
    assert.equal(unavailable.headers.get('retry-after'), '2');
  });

  test('a rate with a seed fails the same requests every run; skip lets the first ones pass', async () => {
    const run = async () => {
      c.cp.faults.clear();
      c.cp.faults.add({ seed: 7, errors: [{ verb: 'list', resource: 'configmaps', code: 500, rate: 0.5 }] });
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) codes.push((await api.get(path('configmaps', 'err'))).status);
      return codes;
    };
    const first = await run();
    assert.ok(first.includes(500) && first.includes(200), first.join(','));
    assert.deepEqual(await run(), first);
    c.cp.faults.clear();
    c.cp.faults.error(500, { verb: 'list', resource: 'configmaps', skip: 2, count: 1 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await api.get(path('configmaps', 'err'))).status);
    assert.deepEqual(codes, [200, 200, 500, 200]);
  });

  test('afterCommit: the write is carried out, and the client is told it failed', async () => {
    c.cp.faults.error(500, { verb: 'create', resource: 'configmaps', count: 1, afterCommit: true });
    const r = await api.post(path('configmaps', 'err'), configMap('ambiguous'));
    assert.equal(statusOf(r).reason, 'InternalError');
    assert.equal((await api.get(path('configmaps', 'err', 'ambiguous'))).status, 200);
    assert.equal(statusOf(await api.post(path('configmaps', 'err'), configMap('ambiguous'))).reason, 'AlreadyExists');
  });

  test('subresources match only when named: status writes fail, main writes pass', async () => {
    await api.create('nimservices', 'err', { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', metadata: { name: 'llm' }, spec: { image: { repository: 'nvcr.io/nim/x', tag: '1' }, expose: { service: {} } } });
    c.cp.faults.error(409, { resource: 'nimservices.apps.nvidia.com/status' });
    const status = await api.req('PATCH', '/apis/apps.nvidia.com/v1alpha1/namespaces/err/nimservices/llm/status', { status: { state: 'Ready' } }, { contentType: CT.merge });
    assert.equal(status.status, 409);
    const main = await api.req('PATCH', '/apis/apps.nvidia.com/v1alpha1/namespaces/err/nimservices/llm', { metadata: { labels: { a: 'b' } } }, { contentType: CT.merge });
    assert.equal(main.status, 200);
  });
});

describe('watches', () => {
  test('a watch is closed after N events', async () => {
    c.cp.faults.closeWatches({ resource: 'configmaps', afterEvents: 2 });
    const w = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true' }));
    for (const n of ['a', 'b', 'c']) await api.create('configmaps', 'wat', configMap(n));
    await eventually(() => w.ended(), 'the watch to end');
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'ADDED b']);
    // The rule had no count: the next watch is cut too (after the two existing objects it lists).
    const again = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true' }));
    await eventually(() => again.ended(), 'the second watch to end');
    assert.equal(again.events.length, 2);
  });

  test('a watch is closed after a time, once (count)', async () => {
    c.cp.faults.closeWatches({ resource: 'configmaps', afterMs: 100, count: 1 });
    const cut = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true' }));
    await eventually(() => cut.ended(), 'the watch to end');
    const kept = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true' }));
    await api.create('configmaps', 'wat', configMap('later'));
    await kept.until((e) => e.object.metadata?.name === 'later', 'ADDED later');
    assert.equal(kept.ended(), false);
    assert.equal(c.cp.faults.state().rules[0]!.fired, 1);
  });

  test('a watch resuming from a resourceVersion gets 410 Gone; one from the start does not', async () => {
    const rv = (await api.get(path('configmaps', 'wat'))).body.metadata.resourceVersion;
    c.cp.faults.goneOnResume({ resource: 'configmaps', count: 1 });
    const fresh = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true' }));
    assert.equal(fresh.status, 200);
    const gone = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true', resourceVersion: rv }));
    const err = await gone.until((e) => e.type === 'ERROR', 'an ERROR event');
    assert.equal(err.object.code, 410);
    assert.equal(err.object.reason, 'Expired');
    await eventually(() => gone.ended(), 'the gone watch to end');
    assert.equal(fresh.ended(), false);
    const resumed = await watchOf(path('configmaps', 'wat', undefined, undefined, { watch: 'true', resourceVersion: rv }));
    await api.create('configmaps', 'wat', configMap('resumed'));
    await resumed.until((e) => e.object.metadata?.name === 'resumed', 'ADDED resumed');
  });

  test('restart drops every open watch at once (client-node sees its watches end)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const ended: string[] = [];
    for (const p of ['/api/v1/namespaces/rst/configmaps', '/api/v1/namespaces/rst/secrets', '/apis/apps/v1/namespaces/rst/deployments']) {
      await new Watch(kc).watch(p, {}, () => undefined, () => ended.push(p));
    }
    const raw = await watchOf(path('configmaps', 'rst', undefined, undefined, { watch: 'true' }));
    await eventually(() => c.cp.hub.open.size >= 4, 'four watches open');
    const r = await api.post('/nimop/faults/restart', {});
    assert.equal(r.status, 200);
    assert.ok(r.body.dropped >= 4);
    await eventually(() => ended.length === 3 && raw.ended(), 'every watch to end');
    assert.equal(c.cp.hub.open.size, 0);
    // reset mode destroys the connections instead of ending the responses.
    const reset = await watchOf(path('configmaps', 'rst', undefined, undefined, { watch: 'true' }));
    assert.equal(c.cp.faults.restart('reset'), 1);
    await eventually(() => reset.ended(), 'the reset watch to end');
  });
});

describe('pause', () => {
  test('every request hangs while paused, admin requests answer, and resume releases them', async () => {
    assert.equal((await api.post('/nimop/faults/pause', {})).status, 200);
    let done = false;
    const pending = Promise.all([api.get(path('configmaps', 'pau')), api.get('/version'), api.post(path('configmaps', 'pau'), configMap('p'))]).then((rs) => {
      done = true;
      return rs;
    });
    const state = await found(async () => {
      const s = await api.get('/nimop/faults');
      return s.body.waiting === 3 ? s.body : undefined;
    }, 'three requests waiting');
    assert.equal(state.paused, true);
    assert.equal(done, false);
    assert.equal(c.cp.store.get('/configmaps', 'pau', 'p'), undefined, 'the paused create has not happened');
    const resumed = await api.post('/nimop/faults/resume', {});
    assert.equal(resumed.body.released, 3);
    assert.deepEqual((await pending).map((r) => r.status), [200, 200, 201]);
  });

  test('a pause for a time ends by itself', async () => {
    c.cp.faults.pause(200);
    const { ms, value } = await timed(() => api.get('/version'));
    assert.equal(value.status, 200);
    assert.ok(ms >= 150, `${ms} ms`);
    assert.equal(c.cp.faults.paused, false);
  });
});

describe('admin endpoint', () => {
  test('POST adds rules (validated), GET lists them with counters, DELETE removes one or all; admin requests are never faulted', async () => {
    const bad = await api.post('/nimop/faults', { errors: [{ code: 418 }] });
    assert.equal(bad.status, 400);
    assert.match(statusOf(bad).message, /errors\/0\/code/);
    assert.equal((await api.post('/nimop/faults', { latncy: [] })).status, 400);
    const added = await api.post('/nimop/faults', {
      latency: [{ ms: 1 }],
      errors: [{ code: 500 }, { code: 429, verb: 'get', resource: 'namespaces', count: 1 }],
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.ids.length, 3);
    assert.equal(statusOf(await api.get(path('configmaps', 'adm'))).reason, 'InternalError');
    const listed = await api.get('/nimop/faults');
    assert.equal(listed.status, 200);
    const rule = listed.body.rules.find((r: { id: string }) => r.id === added.body.ids[1]);
    assert.deepEqual({ kind: rule.kind, code: rule.code, fired: rule.fired }, { kind: 'errors', code: 500, fired: 1 });
    assert.equal((await api.del(`/nimop/faults/${added.body.ids[1]}`)).status, 200);
    assert.equal((await api.get(path('configmaps', 'adm'))).status, 200);
    assert.equal((await api.del('/nimop/faults/nope')).status, 404);
    const yaml = await api.req('POST', '/nimop/faults', 'watchGone:\n- resource: pods\n', { contentType: 'application/yaml' });
    assert.equal(yaml.status, 201);
    const cleared = await api.del('/nimop/faults');
    assert.deepEqual(cleared.body, { paused: false, waiting: 0, rules: [] });
    assert.equal((await api.get('/nimop/nothing')).status, 404);
  });

  test('faults given at start (ControlPlaneOptions.faults) apply at once', async () => {
    const other = await startCluster({ faults: { errors: [{ code: 503, verb: 'list', resource: 'namespaces', count: 1 }] } });
    try {
      const a = new Api(other.cp.url);
      assert.equal((await a.get(path('namespaces'))).status, 503);
      assert.equal((await a.get(path('namespaces'))).status, 200);
    } finally {
      await other.stop();
    }
  });
});
