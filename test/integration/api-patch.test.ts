/**
 * PATCH over HTTP: JSON patch, JSON merge patch, strategic merge patch, and server-side apply with
 * field managers, conflicts, force and removal of fields a manager stops applying.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, configMap, deployment, nimService, path, statusOf, type Json } from '../helpers/api.js';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
});
after(async () => c?.stop());

describe('JSON patch', () => {
  test('add, replace, remove and a passing test apply in order', async () => {
    const ns = await api.namespace('jsonpatch');
    await api.create('configmaps', ns, configMap('j', { a: '1', c: '3' }));
    const r = await api.patch(
      path('configmaps', ns, 'j'),
      [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'replace', path: '/data/a', value: '2' },
        { op: 'add', path: '/data/b', value: 'new' },
        { op: 'remove', path: '/data/c' },
      ],
      CT.jsonPatch,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { a: '2', b: 'new' });
  });

  test('a failing test op is 422 and changes nothing', async () => {
    const ns = await api.namespace('jsonpatch-fail');
    const o = await api.create('configmaps', ns, configMap('j', { a: '1' }));
    const r = await api.patch(
      path('configmaps', ns, 'j'),
      [
        { op: 'replace', path: '/data/a', value: '2' },
        { op: 'test', path: '/data/a', value: '1' },
      ],
      CT.jsonPatch,
    );
    assert.deepEqual(statusOf(r), { code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
    assert.deepEqual((await api.get(path('configmaps', ns, 'j'))).body, o);
  });

  test('works on a custom resource', async () => {
    const ns = await api.namespace('jsonpatch-cr');
    await api.create('nimservices', ns, nimService('n'));
    const r = await api.patch(path('nimservices', ns, 'n'), [{ op: 'replace', path: '/spec/replicas', value: 4 }], CT.jsonPatch);
    assert.equal(r.status, 200);
    assert.equal(r.body.spec.replicas, 4);
    assert.equal(r.body.metadata.generation, 2);
  });
});

describe('merge patch', () => {
  test('null deletes a key; other keys merge', async () => {
    const ns = await api.namespace('merge');
    await api.create('configmaps', ns, configMap('m', { a: '1', b: '2' }, { keep: 'k', drop: 'd' }));
    const r = await api.patch(path('configmaps', ns, 'm'), { metadata: { labels: { drop: null, add: 'a' } }, data: { a: null, c: '3' } }, CT.merge);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { b: '2', c: '3' });
    assert.deepEqual(r.body.metadata.labels, { keep: 'k', add: 'a' });
  });

  test('on a custom resource, null removes a spec field and lists are replaced whole', async () => {
    const ns = await api.namespace('merge-cr');
    await api.create('nimservices', ns, nimService('m', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }));
    const r = await api.patch(path('nimservices', ns, 'm'), { spec: { replicas: null, env: [{ name: 'C', value: '3' }] } }, CT.merge);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.spec.replicas, undefined);
    assert.deepEqual(r.body.spec.env, [{ name: 'C', value: '3' }]);
  });
});

describe('strategic merge patch', () => {
  test('a Deployment\'s containers merge by name, and their env by name', async () => {
    const ns = await api.namespace('smp');
    await api.create('deployments', ns, deployment('web'));
    const r = await api.patch(
      path('deployments', ns, 'web'),
      { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } } },
      CT.strategic,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const containers = r.body.spec.template.spec.containers as Json[];
    assert.deepEqual(containers.map((x) => x.name), ['app', 'sidecar']);
    const env = Object.fromEntries((containers[0]!.env as Json[]).map((e) => [e.name, e.value]));
    assert.deepEqual(env, { A: '1', B: '3', C: '4' });
    assert.equal(containers[0]!.image, 'nginx:1.27');
    assert.equal(r.body.metadata.generation, 2);
  });

  test('$patch: delete removes one container by name', async () => {
    const ns = await api.namespace('smp-delete');
    await api.create('deployments', ns, deployment('web'));
    const r = await api.patch(
      path('deployments', ns, 'web'),
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      CT.strategic,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((r.body.spec.template.spec.containers as Json[]).map((x) => x.name), ['app']);
  });

  test('a custom resource refuses it with 415', async () => {
    const ns = await api.namespace('smp-cr');
    await api.create('nimservices', ns, nimService('n'));
    const r = await api.patch(path('nimservices', ns, 'n'), { spec: { replicas: 2 } }, CT.strategic);
    const st = statusOf(r);
    assert.equal(st.code, 415);
    assert.equal(st.reason, 'UnsupportedMediaType');
    assert.match(st.message, /application\/merge-patch\+json/);
    assert.doesNotMatch(st.message, /strategic/);
    assert.equal((await api.get(path('nimservices', ns, 'n'))).body.spec.replicas, 1);
  });

  test('an unknown patch content type is 415', async () => {
    const ns = await api.namespace('patch-unknown');
    await api.create('configmaps', ns, configMap('u'));
    const r = await api.patch(path('configmaps', ns, 'u'), { data: { a: '2' } }, 'application/x-whatever');
    assert.equal(statusOf(r).code, 415);
  });
});

describe('server-side apply', () => {
  const applyPath = (ns: string, name: string, manager: string, extra: Record<string, string> = {}) =>
    path('configmaps', ns, name, undefined, { fieldManager: manager, ...extra });
  const entry = (o: Json, manager: string) => (o.metadata.managedFields as Json[] | undefined)?.find((m) => m.manager === manager);

  test('creates, re-applies without a write, conflicts with another manager, forces, and drops fields', async () => {
    const ns = await api.namespace('ssa');
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { x: '1', y: '2' } };

    const created = await api.patch(applyPath(ns, 'cfg', 'alice'), config, CT.apply);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.data, { x: '1', y: '2' });
    const mine = entry(created.body, 'alice');
    assert.equal(mine?.operation, 'Apply');
    assert.equal(mine?.apiVersion, 'v1');
    assert.equal(mine?.fieldsType, 'FieldsV1');
    assert.ok(mine?.fieldsV1?.['f:data']?.['f:x'] && mine.fieldsV1['f:data']['f:y'], JSON.stringify(mine));

    const again = await api.patch(applyPath(ns, 'cfg', 'alice'), config, CT.apply);
    assert.equal(again.status, 200);
    assert.equal(again.body.metadata.resourceVersion, created.body.metadata.resourceVersion);

    const bob = await api.patch(path('configmaps', ns, 'cfg', undefined, { fieldManager: 'bob' }), { data: { x: 'bob' } }, CT.merge);
    assert.equal(bob.status, 200);
    const bobs = entry(bob.body, 'bob');
    assert.equal(bobs?.operation, 'Update');
    assert.ok(bobs?.fieldsV1?.['f:data']?.['f:x'], JSON.stringify(bobs));
    assert.equal(entry(bob.body, 'alice')?.fieldsV1?.['f:data']?.['f:x'], undefined);

    const clash = await api.patch(applyPath(ns, 'cfg', 'alice'), config, CT.apply);
    const st = statusOf(clash);
    assert.equal(st.code, 409);
    assert.equal(st.reason, 'Conflict');
    assert.equal(st.message, 'Apply failed with 1 conflict: conflict with "bob" using v1: .data.x');
    assert.deepEqual(st.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "bob" using v1', field: '.data.x' }]);
    assert.equal((await api.get(path('configmaps', ns, 'cfg'))).body.data.x, 'bob');

    const forced = await api.patch(applyPath(ns, 'cfg', 'alice', { force: 'true' }), config, CT.apply);
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.data.x, '1');
    assert.ok(entry(forced.body, 'alice')?.fieldsV1?.['f:data']?.['f:x']);
    assert.equal(entry(forced.body, 'bob')?.fieldsV1?.['f:data']?.['f:x'], undefined);

    const smaller = await api.patch(applyPath(ns, 'cfg', 'alice'), { ...config, data: { x: '1' } }, CT.apply);
    assert.equal(smaller.status, 200, JSON.stringify(smaller.body));
    assert.deepEqual(smaller.body.data, { x: '1' });
    assert.equal(entry(smaller.body, 'alice')?.fieldsV1?.['f:data']?.['f:y'], undefined);
  });

  test('apply needs a fieldManager', async () => {
    const ns = await api.namespace('ssa-nomgr');
    const r = await api.patch(path('configmaps', ns, 'x'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, CT.apply);
    assert.equal(statusOf(r).code, 400);
  });

  test('a YAML body is accepted', async () => {
    const ns = await api.namespace('ssa-yaml');
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: "v"\n';
    const r = await api.patch(applyPath(ns, 'from-yaml', 'alice'), yaml, CT.apply);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { k: 'v' });
  });

  test('on a NIMService: create, idempotent re-apply, and a dropped field is removed', async () => {
    const ns = await api.namespace('ssa-cr');
    const p = path('nimservices', ns, 'llm', undefined, { fieldManager: 'operator' });
    const cfg = nimService('llm', { replicas: 2 });
    const created = await api.patch(p, cfg, CT.apply);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.metadata.generation, 1);
    assert.equal(created.body.spec.replicas, 2);
    const again = await api.patch(p, cfg, CT.apply);
    assert.equal(again.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
    const { replicas, ...rest } = cfg.spec;
    void replicas;
    const dropped = await api.patch(p, { ...cfg, spec: rest }, CT.apply);
    assert.equal(dropped.status, 200, JSON.stringify(dropped.body));
    assert.equal(dropped.body.spec.replicas, undefined);
    assert.equal(dropped.body.metadata.generation, 2);

    const other = await api.patch(path('nimservices', ns, 'llm', undefined, { fieldManager: 'user' }), { spec: { image: { tag: '2.0.0' } } }, CT.merge);
    assert.equal(other.status, 200);
    const clash = await api.patch(p, { ...cfg, spec: rest }, CT.apply);
    const st = statusOf(clash);
    assert.equal(st.code, 409);
    assert.deepEqual(st.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "user" using apps.nvidia.com/v1alpha1', field: '.spec.image.tag' }]);
  });

  test('apply to /status changes only status, under its own managedFields entry', async () => {
    const ns = await api.namespace('ssa-status');
    await api.create('nimservices', ns, nimService('s'));
    const r = await api.patch(
      path('nimservices', ns, 's', 'status', { fieldManager: 'controller' }),
      { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', metadata: { name: 's' }, spec: { replicas: 9 }, status: { state: 'Ready' } },
      CT.apply,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status.state, 'Ready');
    assert.equal(r.body.spec.replicas, 1);
    const e = entry(r.body, 'controller');
    assert.equal(e?.operation, 'Apply');
    assert.equal(e?.subresource, 'status');
  });
});
