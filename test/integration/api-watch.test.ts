/**
 * Watch streams over HTTP: resuming from a resourceVersion, initial ADDED events, bookmarks,
 * timeoutSeconds, selectors applied to events, and 410 Gone once the history is exhausted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, configMap, nimService, path, rvLess, watch, type Json, type Watch } from '../helpers/api.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
const open: Watch[] = [];
before(async () => {
  c = await startCluster({ bookmarkIntervalMs: 50 });
  api = new Api(c.cp.url);
});
after(async () => {
  for (const w of open) w.close();
  await c?.stop();
});

async function watchOf(base: string, p: string): Promise<Watch> {
  const w = await watch(base, p);
  open.push(w);
  return w;
}

const q = (extra: Record<string, string>) => ({ watch: 'true', ...extra });
const tag = (e: { type: string; object: Json }) => `${e.type} ${e.object.metadata?.name ?? ''}`;

describe('watch', () => {
  test('from a resourceVersion: only later events, MODIFIED and DELETED with the last state', async () => {
    const ns = await api.namespace('w-rv');
    const a = await api.create('configmaps', ns, configMap('a'));
    await api.create('configmaps', ns, configMap('b'));
    const w = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: a.metadata.resourceVersion })));
    assert.equal(w.status, 200);
    await api.patch(path('configmaps', ns, 'a'), { data: { a: '2' } }, CT.merge);
    const del = await api.del(path('configmaps', ns, 'b'));
    assert.equal(del.status, 200);
    await w.until((e) => e.type === 'DELETED', 'DELETED b');
    assert.deepEqual(w.events.map(tag), ['ADDED b', 'MODIFIED a', 'DELETED b']);
    assert.equal(w.events[1]!.object.data.a, '2');
    const deleted = w.events[2]!.object;
    assert.equal(deleted.kind, 'ConfigMap');
    assert.deepEqual(deleted.data, { a: '1' });
    assert.ok(rvLess(w.events[1]!.object.metadata.resourceVersion, deleted.metadata.resourceVersion));
  });

  test('from 0: ADDED for what exists, then what happens', async () => {
    const ns = await api.namespace('w-zero');
    await api.create('nimservices', ns, nimService('one'));
    await api.create('nimservices', ns, nimService('two'));
    for (const rv of ['0', undefined]) {
      const w = await watchOf(c.cp.url, path('nimservices', ns, undefined, undefined, q(rv ? { resourceVersion: rv } : {})));
      await w.until((e) => e.object.metadata?.name === 'two', 'ADDED two');
      assert.deepEqual(w.events.map(tag).sort(), ['ADDED one', 'ADDED two']);
      w.close();
    }
    const w = await watchOf(c.cp.url, path('nimservices', ns, undefined, undefined, q({ resourceVersion: '0' })));
    await w.until((e) => e.object.metadata?.name === 'two', 'ADDED two');
    await api.create('nimservices', ns, nimService('three'));
    await w.until((e) => e.object.metadata?.name === 'three', 'ADDED three');
    assert.deepEqual(w.events.map(tag).slice(2), ['ADDED three']);
  });

  test('the legacy /watch/ prefix streams the same events', async () => {
    const ns = await api.namespace('w-prefix');
    const w = await watchOf(c.cp.url, `/api/v1/watch/namespaces/${ns}/configmaps`);
    await api.create('configmaps', ns, configMap('p'));
    await w.until((e) => e.type === 'ADDED' && e.object.metadata.name === 'p', 'ADDED p');
  });

  test('allowWatchBookmarks brings BOOKMARK events carrying only a resourceVersion', async () => {
    const ns = await api.namespace('w-bookmarks');
    const rv = (await api.get(path('configmaps', ns))).body.metadata.resourceVersion;
    const plain = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: rv })));
    const w = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: rv, allowWatchBookmarks: 'true' })));
    await eventually(() => w.events.filter((e) => e.type === 'BOOKMARK').length >= 3, 'three bookmarks');
    const b = w.events.find((e) => e.type === 'BOOKMARK')!.object;
    assert.equal(b.kind, 'ConfigMap');
    assert.equal(b.apiVersion, 'v1');
    assert.deepEqual(Object.keys(b).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.equal(b.metadata.name, undefined);
    assert.match(b.metadata.resourceVersion, /^\d+$/);
    assert.ok(!rvLess(b.metadata.resourceVersion, rv));
    assert.deepEqual(plain.events, []);
  });

  test('timeoutSeconds ends the stream', async () => {
    const ns = await api.namespace('w-timeout');
    const w = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ timeoutSeconds: '1' })));
    assert.equal(w.status, 200);
    await eventually(() => w.ended(), 'the stream to end', 5_000);
  });

  test('a label-selector watch sees DELETED when an object stops matching, ADDED when it matches again', async () => {
    const ns = await api.namespace('w-labels');
    const rv = (await api.get(path('configmaps', ns))).body.metadata.resourceVersion;
    const w = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: rv, labelSelector: 'app=web' })));
    await api.create('configmaps', ns, configMap('x', {}, { app: 'web' }));
    await api.create('configmaps', ns, configMap('other', {}, { app: 'db' }));
    const moved = await api.patch(path('configmaps', ns, 'x'), { metadata: { labels: { app: 'db' } } }, CT.merge);
    await w.until((e) => e.type === 'DELETED', 'DELETED x');
    await api.patch(path('configmaps', ns, 'x'), { metadata: { labels: { app: 'web' } } }, CT.merge);
    await w.until((e) => e.type === 'ADDED' && w.events.indexOf(e) > 0, 'ADDED x again');
    assert.deepEqual(w.events.map(tag), ['ADDED x', 'DELETED x', 'ADDED x']);
    // Like the watch cache, the DELETED event carries the object as the watcher last saw it (still
    // matching the selector), at the resourceVersion of the change that made it leave.
    const gone = w.events[1]!.object;
    assert.equal(gone.metadata.labels.app, 'web');
    assert.equal(gone.metadata.resourceVersion, moved.body.metadata.resourceVersion);
  });

  test('a field-selector watch follows one object by name', async () => {
    const ns = await api.namespace('w-fields');
    const w = await watchOf(c.cp.url, path('configmaps', ns, undefined, undefined, q({ fieldSelector: 'metadata.name=mine' })));
    await api.create('configmaps', ns, configMap('theirs'));
    await api.create('configmaps', ns, configMap('mine'));
    await api.del(path('configmaps', ns, 'theirs'));
    await api.del(path('configmaps', ns, 'mine'));
    await w.until((e) => e.type === 'DELETED', 'DELETED mine');
    assert.deepEqual(w.events.map(tag), ['ADDED mine', 'DELETED mine']);
  });
});

describe('watch history', () => {
  let small: TestCluster;
  before(async () => {
    small = await startCluster({ historySize: 5 });
  });
  after(async () => small?.stop());

  test('a resourceVersion older than the history is 410 Gone, as an ERROR event', async () => {
    const sapi = new Api(small.cp.url);
    const ns = await sapi.namespace('w-gone');
    const first = await sapi.create('configmaps', ns, configMap('first'));
    for (let i = 0; i < 10; i++) await sapi.patch(path('configmaps', ns, 'first'), { data: { a: String(i) } }, CT.merge);
    const w = await watchOf(small.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: first.metadata.resourceVersion })));
    assert.equal(w.status, 200);
    const err = await w.until((e) => e.type === 'ERROR', 'an ERROR event');
    assert.equal(err.object.kind, 'Status');
    assert.equal(err.object.status, 'Failure');
    assert.equal(err.object.code, 410);
    assert.equal(err.object.reason, 'Expired');
    assert.match(err.object.message, /too old resource version/);
    await eventually(() => w.ended(), 'the stream to end');
    assert.deepEqual(w.events.map((e) => e.type), ['ERROR']);

    const recent = (await sapi.get(path('configmaps', ns, 'first'))).body.metadata.resourceVersion;
    const ok = await watchOf(small.cp.url, path('configmaps', ns, undefined, undefined, q({ resourceVersion: recent })));
    await sapi.patch(path('configmaps', ns, 'first'), { data: { a: 'last' } }, CT.merge);
    await ok.until((e) => e.type === 'MODIFIED', 'MODIFIED first');
    assert.deepEqual(ok.events.map((e) => e.type), ['MODIFIED']);
  });
});
