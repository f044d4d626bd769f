/**
 * System metadata and subresources over HTTP: uid, creationTimestamp, one cluster-wide monotonic
 * resourceVersion, no-op writes, metadata.generation, the status and scale subresources, and
 * dryRun=All.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, configMap, deployment, nimService, path, rvLess, statusOf, watch, type Json, type WatchEvent } from '../helpers/api.js';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
});
after(async () => c?.stop());

/**
 * Runs `writes`, then creates a sentinel object of the same resource, and returns the events a
 * watch of the namespace saw before the sentinel's ADDED: events of one stream are in order, so
 * this asserts that the writes made no event without sleeping.
 */
async function eventsDuring(ns: string, plural: string, writes: () => Promise<void>): Promise<WatchEvent[]> {
  const rv = (await api.get(path(plural, ns))).body.metadata.resourceVersion;
  const w = await watch(c.cp.url, path(plural, ns, undefined, undefined, { watch: 'true', resourceVersion: rv }));
  try {
    await writes();
    const sentinel = `sentinel-${Math.random().toString(36).slice(2, 8)}`;
    await api.create(plural, ns, plural === 'nimservices' ? nimService(sentinel) : configMap(sentinel));
    await w.until((e) => e.object.metadata?.name === sentinel, 'the sentinel event');
    return w.events.slice(0, w.events.findIndex((e) => e.object.metadata?.name === sentinel));
  } finally {
    w.close();
  }
}

describe('system metadata', () => {
  test('uid and creationTimestamp are the server\'s, and survive updates', async () => {
    const ns = await api.namespace('sysmeta');
    const o = await api.create('configmaps', ns, {
      ...configMap('m'),
      metadata: { name: 'm', uid: '00000000-0000-0000-0000-000000000000', creationTimestamp: '2001-01-01T00:00:00Z' },
    });
    assert.notEqual(o.metadata.uid, '00000000-0000-0000-0000-000000000000');
    assert.notEqual(o.metadata.creationTimestamp, '2001-01-01T00:00:00Z');
    assert.ok(Math.abs(Date.parse(o.metadata.creationTimestamp) - Date.now()) < 60_000);
    const next = structuredClone(o);
    next.metadata.creationTimestamp = '2001-01-01T00:00:00Z';
    next.data.a = 'changed';
    const put = await api.put(path('configmaps', ns, 'm'), next);
    assert.equal(put.status, 200);
    assert.equal(put.body.metadata.creationTimestamp, o.metadata.creationTimestamp);
    assert.equal(put.body.metadata.uid, o.metadata.uid);
  });

  test('resourceVersion grows across kinds, and a list reports the latest', async () => {
    const ns = await api.namespace('rv');
    const a = await api.create('configmaps', ns, configMap('a'));
    const b = await api.create('deployments', ns, deployment('b'));
    const n = await api.create('nimservices', ns, nimService('n'));
    const a2 = (await api.patch(path('configmaps', ns, 'a'), { data: { a: '9' } }, CT.merge)).body;
    const rvs = [a, b, n, a2].map((o) => o.metadata.resourceVersion);
    for (let i = 1; i < rvs.length; i++) assert.ok(rvLess(rvs[i - 1], rvs[i]), `${rvs.join(' < ')}`);
    const list = await api.get(path('deployments', ns));
    assert.ok(!rvLess(list.body.metadata.resourceVersion, a2.metadata.resourceVersion));
  });

  test('a no-op update or patch keeps the resourceVersion and makes no watch event', async () => {
    const ns = await api.namespace('noop');
    const cm = await api.create('configmaps', ns, configMap('same', { a: '1' }, { app: 'x' }));
    const nims = await api.create('nimservices', ns, nimService('same'));
    const events = await eventsDuring(ns, 'configmaps', async () => {
      const put = await api.put(path('configmaps', ns, 'same'), cm);
      assert.equal(put.status, 200);
      assert.equal(put.body.metadata.resourceVersion, cm.metadata.resourceVersion);
      const merge = await api.patch(path('configmaps', ns, 'same'), { metadata: { labels: { app: 'x' } }, data: { a: '1' } }, CT.merge);
      assert.equal(merge.status, 200);
      assert.equal(merge.body.metadata.resourceVersion, cm.metadata.resourceVersion);
      const json = await api.patch(path('configmaps', ns, 'same'), [{ op: 'replace', path: '/data/a', value: '1' }], CT.jsonPatch);
      assert.equal(json.status, 200);
      assert.equal(json.body.metadata.resourceVersion, cm.metadata.resourceVersion);
      const strategic = await api.patch(path('configmaps', ns, 'same'), { data: { a: '1' } }, CT.strategic);
      assert.equal(strategic.body.metadata.resourceVersion, cm.metadata.resourceVersion);
    });
    assert.deepEqual(events, []);

    const crEvents = await eventsDuring(ns, 'nimservices', async () => {
      const put = await api.put(path('nimservices', ns, 'same'), nims);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.metadata.resourceVersion, nims.metadata.resourceVersion);
      const merge = await api.patch(path('nimservices', ns, 'same'), { spec: { replicas: 1 } }, CT.merge);
      assert.equal(merge.body.metadata.resourceVersion, nims.metadata.resourceVersion);
    });
    assert.deepEqual(crEvents, []);
  });
});

describe('metadata.generation', () => {
  for (const [plural, make, status1, status2] of [
    ['nimservices', () => nimService('g'), { state: 'NotReady' }, { state: 'Ready' }],
    ['deployments', () => deployment('g'), { observedGeneration: 1 }, { observedGeneration: 2 }],
  ] as const) {
    test(`${plural}: moves on spec changes, not on labels or status`, async () => {
      const ns = await api.namespace(`gen-${plural}`);
      const o = await api.create(plural, ns, make());
      assert.equal(o.metadata.generation, 1);
      const steps: [string, Json, string | undefined, number][] = [
        ['label', { metadata: { labels: { x: 'y' } } }, undefined, 1],
        ['status', { status: status1 }, 'status', 1],
        ['spec', { spec: { replicas: 2 } }, undefined, 2],
        ['status again', { status: status2 }, 'status', 2],
        ['label again', { metadata: { labels: { x: 'z' } } }, undefined, 2],
      ];
      let rv = o.metadata.resourceVersion;
      for (const [what, patch, sub, generation] of steps) {
        const r = await api.patch(path(plural, ns, 'g', sub), patch, CT.merge);
        assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.metadata.generation, generation, what);
        assert.ok(rvLess(rv, r.body.metadata.resourceVersion), `${what} wrote`);
        rv = r.body.metadata.resourceVersion;
      }
    });
  }

  test('a custom resource\'s generation does not move on annotations', async () => {
    const ns = await api.namespace('gen-annot-cr');
    await api.create('nimservices', ns, nimService('g'));
    const r = await api.patch(path('nimservices', ns, 'g'), { metadata: { annotations: { note: 'n' } } }, CT.merge);
    assert.equal(r.body.metadata.generation, 1);
  });

  test(
    'a Deployment\'s generation moves on annotations too (they are copied to its ReplicaSets)',
    async () => {
      const ns = await api.namespace('gen-annot-deploy');
      await api.create('deployments', ns, deployment('g'));
      const r = await api.patch(path('deployments', ns, 'g'), { metadata: { annotations: { note: 'n' } } }, CT.merge);
      assert.equal(r.body.metadata.generation, 2);
    },
  );

  test('a ConfigMap has no generation', async () => {
    const ns = await api.namespace('gen-cm');
    const o = await api.create('configmaps', ns, configMap('g'));
    assert.equal(o.metadata.generation, undefined);
  });
});

describe('status subresource', () => {
  test('NIMService: the main resource ignores status, /status changes only status', async () => {
    const ns = await api.namespace('status-nims');
    const created = await api.create('nimservices', ns, { ...nimService('s'), status: { state: 'Ready' } });
    assert.equal(created.status, undefined);

    const withStatus = structuredClone(created);
    withStatus.spec.replicas = 2;
    withStatus.status = { state: 'Ready' };
    const put = await api.put(path('nimservices', ns, 's'), withStatus);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.spec.replicas, 2);
    assert.equal(put.body.status, undefined);
    assert.equal(put.body.metadata.generation, 2);

    const statusWrite = structuredClone(put.body);
    statusWrite.spec.replicas = 5;
    statusWrite.metadata.labels = { sneaky: 'yes' };
    statusWrite.status = { state: 'NotReady', availableReplicas: 0 };
    const sput = await api.put(path('nimservices', ns, 's', 'status'), statusWrite);
    assert.equal(sput.status, 200, JSON.stringify(sput.body));
    assert.deepEqual(sput.body.status, { state: 'NotReady', availableReplicas: 0 });
    assert.equal(sput.body.spec.replicas, 2);
    assert.equal(sput.body.metadata.labels?.sneaky, undefined);
    assert.equal(sput.body.metadata.generation, 2);

    const spatch = await api.patch(path('nimservices', ns, 's', 'status'), { spec: { replicas: 7 }, status: { state: 'Ready' } }, CT.merge);
    assert.equal(spatch.body.status.state, 'Ready');
    assert.equal(spatch.body.spec.replicas, 2);

    const main = await api.patch(path('nimservices', ns, 's'), { status: { state: 'Failed' } }, CT.merge);
    assert.equal(main.status, 200);
    assert.equal(main.body.status.state, 'Ready');

    const get = await api.get(path('nimservices', ns, 's', 'status'));
    assert.equal(get.status, 200);
    assert.equal(get.body.kind, 'NIMService');
    assert.equal(get.body.status.state, 'Ready');
  });

  test('Deployment: the main resource ignores status, /status changes only status', async () => {
    const ns = await api.namespace('status-deploy');
    const created = await api.create('deployments', ns, { ...deployment('d'), status: { replicas: 9 } });
    assert.equal(created.status?.replicas, undefined);

    const next = structuredClone(created);
    next.spec.replicas = 2;
    next.status = { replicas: 9 };
    const put = await api.put(path('deployments', ns, 'd'), next);
    assert.equal(put.status, 200);
    assert.equal(put.body.spec.replicas, 2);
    assert.equal(put.body.status?.replicas, undefined);

    const s = structuredClone(put.body);
    s.spec.replicas = 4;
    s.status = { replicas: 2, readyReplicas: 1, observedGeneration: 2 };
    const sput = await api.put(path('deployments', ns, 'd', 'status'), s);
    assert.equal(sput.status, 200, JSON.stringify(sput.body));
    assert.equal(sput.body.status.readyReplicas, 1);
    assert.equal(sput.body.spec.replicas, 2);
    assert.equal(sput.body.metadata.generation, 2);

    const spatch = await api.patch(path('deployments', ns, 'd', 'status'), { status: { availableReplicas: 1 } }, CT.merge);
    assert.equal(spatch.body.status.availableReplicas, 1);
    assert.equal(spatch.body.status.readyReplicas, 1);
  });
});

describe('status subresource of a Deployment and metadata', () => {
  test(
    'a /status write on a Deployment keeps spec and labels but may change annotations',
    async () => {
      const ns = await api.namespace('status-deploy-annot');
      const d = await api.create('deployments', ns, deployment('d'));
      const s = structuredClone(d);
      s.metadata.annotations = { 'example.com/seen': 'yes' };
      s.status = { observedGeneration: 1 };
      const r = await api.put(path('deployments', ns, 'd', 'status'), s);
      assert.equal(r.status, 200);
      assert.equal(r.body.metadata.annotations?.['example.com/seen'], 'yes');
    },
  );
});

describe('scale subresource', () => {
  test('GET, PUT and PATCH /scale read and write a Deployment\'s spec.replicas', async () => {
    const ns = await api.namespace('scale');
    const d = await api.create('deployments', ns, deployment('web', 2));
    const get = await api.get(path('deployments', ns, 'web', 'scale'));
    assert.equal(get.status, 200);
    assert.equal(get.body.kind, 'Scale');
    assert.equal(get.body.apiVersion, 'autoscaling/v1');
    assert.equal(get.body.metadata.name, 'web');
    assert.equal(get.body.metadata.namespace, ns);
    assert.equal(get.body.metadata.uid, d.metadata.uid);
    assert.equal(get.body.metadata.resourceVersion, d.metadata.resourceVersion);
    assert.equal(get.body.spec.replicas, 2);

    const put = await api.put(path('deployments', ns, 'web', 'scale'), { ...get.body, spec: { replicas: 4 } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.kind, 'Scale');
    assert.equal(put.body.spec.replicas, 4);
    const after4 = (await api.get(path('deployments', ns, 'web'))).body;
    assert.equal(after4.spec.replicas, 4);
    assert.equal(after4.metadata.generation, 2);
    assert.equal(put.body.metadata.resourceVersion, after4.metadata.resourceVersion);

    const stale = await api.put(path('deployments', ns, 'web', 'scale'), { ...get.body, spec: { replicas: 6 } });
    assert.equal(stale.status, 409);
    assert.equal(statusOf(stale).reason, 'Conflict');

    const patch = await api.patch(path('deployments', ns, 'web', 'scale'), { spec: { replicas: 1 } }, CT.merge);
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal(patch.body.spec.replicas, 1);
    assert.equal((await api.get(path('deployments', ns, 'web'))).body.spec.replicas, 1);

    // A negative count is 422 Invalid, naming the field, by PUT as by PATCH.
    const fresh = (await api.get(path('deployments', ns, 'web', 'scale'))).body;
    for (const bad of [
      await api.put(path('deployments', ns, 'web', 'scale'), { ...fresh, spec: { replicas: -1 } }),
      await api.patch(path('deployments', ns, 'web', 'scale'), { spec: { replicas: -1 } }, CT.merge),
    ]) {
      assert.equal(bad.status, 422, JSON.stringify(bad.body));
      assert.equal(statusOf(bad).message, 'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    }
  });

  test(
    'Scale.status.selector is the Deployment\'s selector as a string',
    async () => {
      const ns = await api.namespace('scale-sel');
      await api.create('deployments', ns, deployment('web', 2));
      const get = await api.get(path('deployments', ns, 'web', 'scale'));
      assert.equal(get.body.status.selector, 'app=web');
    },
  );
});

describe('dryRun=All', () => {
  test('create, update, patch and delete answer as if done, and change nothing', async () => {
    const ns = await api.namespace('dryrun');
    const o = await api.create('configmaps', ns, configMap('keep', { a: '1' }));
    const events = await eventsDuring(ns, 'configmaps', async () => {
      const create = await api.post(path('configmaps', ns, undefined, undefined, { dryRun: 'All' }), configMap('ghost'));
      assert.equal(create.status, 201, JSON.stringify(create.body));
      assert.equal(create.body.metadata.name, 'ghost');
      assert.equal((await api.get(path('configmaps', ns, 'ghost'))).status, 404);

      const next = structuredClone(o);
      next.data.a = '2';
      const put = await api.put(path('configmaps', ns, 'keep', undefined, { dryRun: 'All' }), next);
      assert.equal(put.status, 200);
      assert.equal(put.body.data.a, '2');

      const patch = await api.patch(path('configmaps', ns, 'keep', undefined, { dryRun: 'All' }), { data: { a: '3' } }, CT.merge);
      assert.equal(patch.status, 200);
      assert.equal(patch.body.data.a, '3');

      const del = await api.del(path('configmaps', ns, 'keep', undefined, { dryRun: 'All' }));
      assert.equal(del.status, 200);
    });
    assert.deepEqual(events, []);
    const now = await api.get(path('configmaps', ns, 'keep'));
    assert.equal(now.status, 200);
    assert.deepEqual(now.body, o);
  });

  test('a dry-run create still validates', async () => {
    const ns = await api.namespace('dryrun-invalid');
    const bad = nimService('bad', { scale: { enabled: true, hpa: { maxReplicas: 3 } } });
    const r = await api.post(path('nimservices', ns, undefined, undefined, { dryRun: 'All' }), bad);
    assert.equal(statusOf(r).code, 422);
  });
});
