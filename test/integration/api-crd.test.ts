/**
 * CustomResourceDefinitions over HTTP: a new CRD becomes Established, is served in discovery and
 * OpenAPI, validates with its schema and CEL rules, defaults fields, serves its status subresource
 * and printer columns; deleting it takes its objects and its discovery entries away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, TABLE, found, path, statusOf, watch, type Json } from '../helpers/api.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
});
after(async () => c?.stop());

const CRDS = path('customresourcedefinitions');

function crd(group: string, kind: string, plural: string): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, shortNames: [kind.toLowerCase().slice(0, 2)] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {
                    size: { type: 'integer', minimum: 1 },
                    color: { type: 'string', default: 'blue' },
                  },
                  'x-kubernetes-validations': [{ rule: 'self.size <= 10', message: 'size must be at most 10' }],
                },
                status: { type: 'object', properties: { ready: { type: 'boolean' } } },
              },
            },
          },
        },
      ],
    },
  };
}

const widgets = (ns?: string, name?: string, sub?: string) =>
  `/apis/example.com/v1${ns ? `/namespaces/${ns}` : ''}/widgets${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
const widget = (name: string, spec: Json) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec });

const established = (name: string) =>
  found(async () => {
    const r = await api.get(`${CRDS}/${name}`);
    const conds: Json[] = r.body.status?.conditions ?? [];
    return conds.some((x) => x.type === 'Established' && x.status === 'True') ? r.body : undefined;
  }, `${name} to be Established`);

describe('a new CRD', () => {
  let ns: string;
  before(async () => {
    const r = await api.post(CRDS, crd('example.com', 'Widget', 'widgets'));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ns = await api.namespace('widgets');
  });

  test('becomes Established with its names accepted', async () => {
    const body = await established('widgets.example.com');
    const conds = body.status.conditions as Json[];
    assert.ok(conds.some((x) => x.type === 'NamesAccepted' && x.status === 'True'));
    assert.equal(body.status.acceptedNames.kind, 'Widget');
    assert.equal(body.status.acceptedNames.plural, 'widgets');
    assert.deepEqual(body.status.storedVersions, ['v1']);
  });

  test('appears in /apis discovery with its status subresource', async () => {
    await established('widgets.example.com');
    const groups = await api.get('/apis');
    const g = (groups.body.groups as Json[]).find((x) => x.name === 'example.com');
    assert.deepEqual(g?.preferredVersion, { groupVersion: 'example.com/v1', version: 'v1' });
    const group = await api.get('/apis/example.com');
    assert.equal(group.body.kind, 'APIGroup');
    const list = await api.get('/apis/example.com/v1');
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'APIResourceList');
    assert.equal(list.body.groupVersion, 'example.com/v1');
    const res = list.body.resources as Json[];
    const main = res.find((x) => x.name === 'widgets');
    assert.equal(main?.kind, 'Widget');
    assert.equal(main?.singularName, 'widget');
    assert.equal(main?.namespaced, true);
    assert.deepEqual(main?.shortNames, ['wi']);
    assert.deepEqual([...(main?.verbs ?? [])].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    assert.ok(res.some((x) => x.name === 'widgets/status'));
  });

  test('appears in /openapi/v3 with its schema and group-version-kind', async () => {
    await established('widgets.example.com');
    const index = await api.get('/openapi/v3');
    const entry = index.body.paths['apis/example.com/v1'];
    assert.match(entry?.serverRelativeURL ?? '', /^\/openapi\/v3\/apis\/example\.com\/v1\?hash=[0-9A-F]+$/);
    const doc = await api.get(entry.serverRelativeURL);
    assert.equal(doc.status, 200);
    const schema = doc.body.components.schemas['com.example.v1.Widget'];
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
    assert.equal(schema.properties.spec.properties.size.type, 'integer');
    assert.ok(Object.keys(doc.body.paths).includes('/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'));
  });

  test('validates with its schema and its CEL rule', async () => {
    await established('widgets.example.com');
    const big = statusOf(await api.post(widgets(ns), widget('big', { size: 20 })));
    assert.equal(big.code, 422);
    assert.equal(big.message, 'Widget.example.com "big" is invalid: spec: Invalid value: "object": size must be at most 10');
    assert.deepEqual(big.details?.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": size must be at most 10', field: 'spec' }]);

    const small = statusOf(await api.post(widgets(ns), widget('small', { size: 0 })));
    assert.deepEqual(small.details?.causes, [
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: spec.size in body should be greater than or equal to 1', field: 'spec.size' },
    ]);

    const ok = await api.post(widgets(ns), widget('ok', { size: 3 }));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const tooBig = structuredClone(ok.body);
    tooBig.spec.size = 11;
    const put = statusOf(await api.put(widgets(ns, 'ok'), tooBig));
    assert.equal(put.code, 422);
    assert.match(put.message, /size must be at most 10/);
  });

  test(
    'a missing required field stops the CEL rules, with the API server\'s note instead of their errors',
    async () => {
      await established('widgets.example.com');
      const none = statusOf(await api.post(widgets(ns), widget('none', { color: 'red' })));
      assert.equal(none.code, 422);
      const causes = (none.details?.causes ?? []) as Json[];
      assert.ok(causes.some((x) => x.reason === 'FieldValueRequired' && x.field === 'spec.size'), JSON.stringify(causes));
      assert.ok(!causes.some((x) => /size must be at most 10/.test(x.message)), JSON.stringify(causes));
      assert.ok(causes.some((x) => /some validation rules were not checked because the object was invalid/.test(x.message)), JSON.stringify(causes));
    },
  );

  test('defaults a field and prunes unknown ones', async () => {
    await established('widgets.example.com');
    const r = await api.post(widgets(ns), widget('defaulted', { size: 2, extra: 'dropped' }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.spec, { size: 2, color: 'blue' });
    assert.equal(r.body.metadata.generation, 1);
    const red = await api.post(widgets(ns), widget('red', { size: 2, color: 'red' }));
    assert.equal(red.body.spec.color, 'red');
  });

  test('serves its status subresource and its printer columns', async () => {
    await established('widgets.example.com');
    await api.post(widgets(ns), widget('shown', { size: 4 }));
    const main = await api.patch(widgets(ns, 'shown'), { status: { ready: true } }, CT.merge);
    assert.equal(main.body.status, undefined);
    const st = await api.patch(widgets(ns, 'shown', 'status'), { status: { ready: true } }, CT.merge);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.deepEqual(st.body.status, { ready: true });
    assert.equal(st.body.metadata.generation, 1);

    const table = await api.get(widgets(ns, 'shown'), TABLE);
    assert.equal(table.body.kind, 'Table');
    assert.deepEqual((table.body.columnDefinitions as Json[]).map((x) => x.name), ['Name', 'Size', 'Age']);
    assert.equal(table.body.rows[0].cells[0], 'shown');
    assert.equal(table.body.rows[0].cells[1], 4);
  });
});

describe('deleting a CRD', () => {
  const sprocket = (name: string, finalizers?: string[]) => ({
    apiVersion: 'sprockets.test.io/v1',
    kind: 'Sprocket',
    metadata: { name, ...(finalizers ? { finalizers } : {}) },
    spec: { size: 1 },
  });

  test('waits for custom resources that finalizers hold', async (t) => {
    await api.post(CRDS, crd('sprockets.test.io', 'Sprocket', 'sprockets'));
    await established('sprockets.sprockets.test.io');
    const ns = await api.namespace('sprockets');
    const base = `/apis/sprockets.test.io/v1/namespaces/${ns}/sprockets`;
    const s = await api.post(base, sprocket('s', ['example.com/hold']));
    assert.equal(s.status, 201, JSON.stringify(s.body));
    await api.del(`${CRDS}/sprockets.sprockets.test.io`);
    const held = await api.get(`${base}/s`);
    assert.equal(held.status, 200);
    assert.ok(held.body.metadata.deletionTimestamp);
    const crdNow = await api.get(`${CRDS}/sprockets.sprockets.test.io`);
    assert.equal(crdNow.status, 200);
    assert.ok(crdNow.body.metadata.deletionTimestamp);
    assert.equal((await api.get('/apis/sprockets.test.io/v1')).status, 200);
    await t.test(
      'and refuses new ones meanwhile',
      async () => {
        const st = statusOf(await api.post(base, sprocket('late')));
        assert.equal(st.code, 405);
        assert.equal(st.reason, 'MethodNotAllowed');
        assert.equal(st.message, 'create not allowed while custom resource definition is terminating');
      },
    );
    await api.del(`${base}/late`);
    await api.patch(`${base}/s`, { metadata: { finalizers: null } }, CT.merge);
    await eventually(async () => (await api.get(`${CRDS}/sprockets.sprockets.test.io`)).status === 404, 'the CRD to go');
    assert.equal((await api.get('/apis/sprockets.test.io/v1')).status, 404);
  });

  test('removes its objects (watchers see them DELETED) and its discovery and OpenAPI entries', async () => {
    const created = await api.post(CRDS, crd('gadgets.test.io', 'Gadget', 'gadgets'));
    assert.equal(created.status, 201);
    await established('gadgets.gadgets.test.io');
    const ns = await api.namespace('gadgets');
    const base = `/apis/gadgets.test.io/v1/namespaces/${ns}/gadgets`;
    const g = await api.post(base, { apiVersion: 'gadgets.test.io/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 1 } });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const w = await watch(c.cp.url, `${base}?watch=true&resourceVersion=${g.body.metadata.resourceVersion}`);
    try {
      const del = await api.del(`${CRDS}/gadgets.gadgets.test.io`);
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.equal(del.body.kind, 'CustomResourceDefinition');
      assert.ok(del.body.metadata.deletionTimestamp);
      assert.deepEqual(del.body.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
      await w.until((e) => e.type === 'DELETED' && e.object.metadata?.name === 'g', 'the gadget\'s DELETED event');
    } finally {
      w.close();
    }
    await eventually(async () => (await api.get(`${CRDS}/gadgets.gadgets.test.io`)).status === 404, 'the CRD to go');
    assert.equal((await api.get(`${base}/g`)).status, 404);
    assert.equal((await api.get('/apis/gadgets.test.io/v1')).status, 404);
    const groups = (await api.get('/apis')).body.groups as Json[];
    assert.ok(!groups.some((x) => x.name === 'gadgets.test.io'));
    const index = (await api.get('/openapi/v3')).body.paths as Json;
    assert.equal(index['apis/gadgets.test.io/v1'], undefined);

    // Re-creating the CRD starts empty.
    assert.equal((await api.post(CRDS, crd('gadgets.test.io', 'Gadget', 'gadgets'))).status, 201);
    await established('gadgets.gadgets.test.io');
    const list = await api.get(base);
    assert.deepEqual(list.body.items, []);
  });
});
