/**
 * Reading collections over HTTP: label and field selectors, limit/continue pagination, and Table
 * output with a CRD's printer columns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, TABLE, configMap, nimService, path, statusOf, type Json } from '../helpers/api.js';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
});
after(async () => c?.stop());

const names = (r: { body: Json }) => (r.body.items as Json[]).map((i) => i.metadata.name);

describe('label selectors', () => {
  let ns: string;
  before(async () => {
    ns = await api.namespace('labels');
    await api.create('configmaps', ns, configMap('a', {}, { app: 'web', tier: 'front' }));
    await api.create('configmaps', ns, configMap('b', {}, { app: 'web', tier: 'back' }));
    await api.create('configmaps', ns, configMap('c', {}, { app: 'db' }));
    await api.create('configmaps', ns, configMap('d', {}));
  });

  for (const [selector, expected] of [
    ['app=web', ['a', 'b']],
    ['app==web', ['a', 'b']],
    ['app!=web', ['c', 'd']],
    ['tier in (front,back)', ['a', 'b']],
    ['tier notin (front)', ['b', 'c', 'd']],
    ['tier', ['a', 'b']],
    ['!tier', ['c', 'd']],
    ['app=web,tier=back', ['b']],
    ['app in (web,db),!tier', ['c']],
    ['app=nothing', []],
  ] as const) {
    test(`${selector} selects ${expected.join(',') || 'nothing'}`, async () => {
      const r = await api.get(path('configmaps', ns, undefined, undefined, { labelSelector: selector }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(names(r), expected);
    });
  }

  test('a selector that does not parse is 400 BadRequest', async () => {
    const r = await api.get(path('configmaps', ns, undefined, undefined, { labelSelector: 'app in web' }));
    const st = statusOf(r);
    assert.equal(st.code, 400);
    assert.equal(st.reason, 'BadRequest');
  });

  test('selectors apply to custom resources too', async () => {
    const n = await api.namespace('labels-cr');
    await api.create('nimservices', n, { ...nimService('x'), metadata: { name: 'x', labels: { team: 'ai' } } });
    await api.create('nimservices', n, nimService('y'));
    assert.deepEqual(names(await api.get(path('nimservices', n, undefined, undefined, { labelSelector: 'team=ai' }))), ['x']);
    assert.deepEqual(names(await api.get(path('nimservices', n, undefined, undefined, { labelSelector: '!team' }))), ['y']);
  });
});

describe('field selectors', () => {
  let ns: string;
  before(async () => {
    ns = await api.namespace('fields');
    await api.namespace('fields-other');
    for (const n of ['fa', 'fb']) await api.create('configmaps', ns, configMap(n));
    await api.create('configmaps', 'fields-other', configMap('fa'));
  });

  test('metadata.name = and !=', async () => {
    assert.deepEqual(names(await api.get(path('configmaps', ns, undefined, undefined, { fieldSelector: 'metadata.name=fa' }))), ['fa']);
    assert.deepEqual(names(await api.get(path('configmaps', ns, undefined, undefined, { fieldSelector: 'metadata.name!=fa' }))), ['fb']);
  });

  test('metadata.namespace across namespaces', async () => {
    const all = await api.get(`/api/v1/configmaps?${new URLSearchParams({ fieldSelector: 'metadata.namespace=fields-other' })}`);
    assert.equal(all.status, 200);
    assert.deepEqual((all.body.items as Json[]).map((i) => `${i.metadata.namespace}/${i.metadata.name}`), ['fields-other/fa']);
    const byName = await api.get(`/api/v1/configmaps?${new URLSearchParams({ fieldSelector: 'metadata.name=fa' })}`);
    assert.deepEqual((byName.body.items as Json[]).map((i) => i.metadata.namespace).sort(), ['fields', 'fields-other']);
  });

  test('a field the resource does not index is 400 BadRequest', async () => {
    const r = await api.get(path('configmaps', ns, undefined, undefined, { fieldSelector: 'data.a=1' }));
    const st = statusOf(r);
    assert.equal(st.code, 400);
    assert.equal(st.reason, 'BadRequest');
    assert.match(st.message, /data\.a/);
    const cr = await api.get(path('nimservices', ns, undefined, undefined, { fieldSelector: 'spec.replicas=1' }));
    assert.equal(statusOf(cr).code, 400);
    assert.match(statusOf(cr).message, /spec\.replicas/);
  });

  test('custom resources select on metadata.name and metadata.namespace only', async () => {
    await api.create('nimservices', ns, nimService('sel'));
    const byName = await api.get(path('nimservices', ns, undefined, undefined, { fieldSelector: 'metadata.name=sel,metadata.namespace=fields' }));
    assert.deepEqual(names(byName), ['sel']);
    const uid = await api.get(path('nimservices', ns, undefined, undefined, { fieldSelector: 'metadata.uid=x' }));
    const st = statusOf(uid);
    assert.equal(st.code, 400);
    assert.equal(st.reason, 'BadRequest');
    assert.match(st.message, /metadata\.uid/);
  });
});

describe('pagination', () => {
  let ns: string;
  const all = Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
  before(async () => {
    ns = await api.namespace('pages');
    for (const n of all) await api.create('configmaps', ns, configMap(n));
  });

  test('limit and continue return every item exactly once, counting what remains', async () => {
    const seen: string[] = [];
    const remaining: (number | undefined)[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const q: Record<string, string> = { limit: '10', ...(token ? { continue: token } : {}) };
      const r = await api.get(path('configmaps', ns, undefined, undefined, q));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(r.body.items.length <= 10);
      seen.push(...names(r));
      remaining.push(r.body.metadata.remainingItemCount);
      token = r.body.metadata.continue || undefined;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, all);
    assert.deepEqual(remaining, [15, 5, undefined]);
  });

  test('a limit as large as the list gives one page without continue', async () => {
    const r = await api.get(path('configmaps', ns, undefined, undefined, { limit: '25' }));
    assert.equal(r.body.items.length, 25);
    assert.equal(r.body.metadata.continue, undefined);
    assert.equal(r.body.metadata.remainingItemCount, undefined);
  });

  test('a continue token that does not decode is 400', async () => {
    const r = await api.get(path('configmaps', ns, undefined, undefined, { limit: '10', continue: '%%%not-a-token' }));
    assert.equal(statusOf(r).code, 400);
  });

  test(
    'continued pages are a snapshot at the first page\'s resourceVersion',
    async () => {
      const n = await api.namespace('pages-snapshot');
      for (const name of ['p-0', 'p-1', 'p-2', 'p-3']) await api.create('configmaps', n, configMap(name));
      const first = await api.get(path('configmaps', n, undefined, undefined, { limit: '2' }));
      assert.deepEqual(names(first), ['p-0', 'p-1']);
      await api.create('configmaps', n, configMap('p-9'));
      await api.del(path('configmaps', n, 'p-3'));
      const second = await api.get(path('configmaps', n, undefined, undefined, { limit: '2', continue: first.body.metadata.continue }));
      assert.deepEqual(names(second), ['p-2', 'p-3']);
      assert.equal(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
    },
  );
});

describe('table output', () => {
  test('NIMServices print the CRD\'s columns: Name, Status, Age', async () => {
    const ns = await api.namespace('table');
    await api.create('nimservices', ns, nimService('llama'));
    await api.patch(path('nimservices', ns, 'llama', 'status'), { status: { state: 'Ready' } }, CT.merge);
    const r = await api.get(path('nimservices', ns), TABLE);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.kind, 'Table');
    assert.equal(r.body.apiVersion, 'meta.k8s.io/v1');
    assert.match(r.body.metadata.resourceVersion, /^\d+$/);
    const cols = r.body.columnDefinitions as Json[];
    assert.deepEqual(cols.map((x) => x.name), ['Name', 'Status', 'Age']);
    assert.equal(cols[0]!.type, 'string');
    assert.equal(cols[0]!.format, 'name');
    assert.equal(r.body.rows.length, 1);
    const row = r.body.rows[0];
    assert.equal(row.cells[0], 'llama');
    assert.equal(row.cells[1], 'Ready');
    assert.match(String(row.cells[2]), /^\d+s$/);
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.equal(row.object.metadata.name, 'llama');

    const one = await api.get(path('nimservices', ns, 'llama'), TABLE);
    assert.equal(one.body.kind, 'Table');
    assert.deepEqual(one.body.rows.map((x: Json) => x.cells[0]), ['llama']);

    const plain = await api.get(path('nimservices', ns));
    assert.equal(plain.body.kind, 'NIMServiceList');
  });
});
