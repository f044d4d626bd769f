/**
 * The embedded control plane's verbs over HTTP, as kube-apiserver answers them: create, get, list,
 * update, patch, delete and deletecollection on built-in and custom resources, and the Status
 * bodies of NotFound, AlreadyExists, Conflict, Invalid and strict field validation.
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

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

interface Kind {
  plural: string;
  kind: string;
  apiVersion: string;
  /** `plural.group` as it appears in messages. */
  qualified: string;
  group?: string;
  make: (name: string) => Json;
  /** A change to the object's content, in place. */
  change: (o: Json) => void;
  read: (o: Json) => unknown;
}

const KINDS: Kind[] = [
  {
    plural: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', qualified: 'configmaps',
    make: (n) => configMap(n),
    change: (o) => (o.data.a = '2'),
    read: (o) => o.data.a,
  },
  {
    plural: 'deployments', kind: 'Deployment', apiVersion: 'apps/v1', qualified: 'deployments.apps', group: 'apps',
    make: (n) => deployment(n),
    change: (o) => (o.spec.replicas = 3),
    read: (o) => o.spec.replicas,
  },
  {
    plural: 'nimservices', kind: 'NIMService', apiVersion: 'apps.nvidia.com/v1alpha1', qualified: 'nimservices.apps.nvidia.com', group: 'apps.nvidia.com',
    make: (n) => nimService(n),
    change: (o) => (o.spec.replicas = 3),
    read: (o) => o.spec.replicas,
  },
];

for (const k of KINDS) {
  describe(`${k.kind}: the verbs`, () => {
    test('create, get, list, update, merge patch, delete', async () => {
      const ns = await api.namespace(`verbs-${k.plural}`);
      const created = await api.post(path(k.plural, ns), k.make('one'));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const o = created.body;
      assert.equal(o.kind, k.kind);
      assert.equal(o.apiVersion, k.apiVersion);
      assert.equal(o.metadata.namespace, ns);
      assert.match(o.metadata.uid, UUID);
      assert.match(o.metadata.creationTimestamp, RFC3339);
      assert.match(o.metadata.resourceVersion, /^[1-9]\d*$/);

      const got = await api.get(path(k.plural, ns, 'one'));
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, o);

      const list = await api.get(path(k.plural, ns));
      assert.equal(list.status, 200);
      assert.equal(list.body.kind, `${k.kind}List`);
      assert.equal(list.body.apiVersion, k.apiVersion);
      assert.match(list.body.metadata.resourceVersion, /^\d+$/);
      assert.deepEqual(list.body.items.map((i: Json) => i.metadata.name), ['one']);

      const next = structuredClone(o);
      k.change(next);
      const put = await api.put(path(k.plural, ns, 'one'), next);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(k.read(put.body), k.read(next));
      assert.ok(Number(put.body.metadata.resourceVersion) > Number(o.metadata.resourceVersion));
      assert.equal(put.body.metadata.uid, o.metadata.uid);

      const patched = await api.patch(path(k.plural, ns, 'one'), { metadata: { labels: { patched: 'yes' } } }, CT.merge);
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.metadata.labels.patched, 'yes');
      assert.equal(k.read(patched.body), k.read(next));

      const del = await api.del(path(k.plural, ns, 'one'));
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.equal((await api.get(path(k.plural, ns, 'one'))).status, 404);
    });

    test('deletecollection deletes what the selector selects, in the namespace only', async () => {
      const ns = await api.namespace(`dc-${k.plural}`);
      const other = await api.namespace(`dc-${k.plural}-other`);
      for (const [name, tier] of [['a', 'x'], ['b', 'x'], ['c', 'y']] as const) {
        const obj = k.make(name);
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), tier };
        await api.create(k.plural, ns, obj);
      }
      const elsewhere = k.make('a');
      elsewhere.metadata.labels = { tier: 'x' };
      await api.create(k.plural, other, elsewhere);
      const r = await api.del(path(k.plural, ns, undefined, undefined, { labelSelector: 'tier=x' }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.kind, `${k.kind}List`);
      const left = await api.get(path(k.plural, ns));
      assert.deepEqual(left.body.items.map((i: Json) => i.metadata.name), ['c']);
      assert.equal((await api.get(path(k.plural, other, 'a'))).status, 200);
    });

    test('404 NotFound, 409 AlreadyExists and 409 Conflict carry kube-apiserver\'s Status', async () => {
      const ns = await api.namespace(`errs-${k.plural}`);
      const missing = statusOf(await api.get(path(k.plural, ns, 'missing')));
      assert.deepEqual(missing, {
        code: 404,
        reason: 'NotFound',
        message: `${k.qualified} "missing" not found`,
        details: { name: 'missing', ...(k.group ? { group: k.group } : {}), kind: k.plural },
      });

      const first = await api.create(k.plural, ns, k.make('dup'));
      const again = await api.post(path(k.plural, ns), k.make('dup'));
      assert.equal(again.status, 409);
      assert.deepEqual(statusOf(again), {
        code: 409,
        reason: 'AlreadyExists',
        message: `${k.qualified} "dup" already exists`,
        details: { name: 'dup', ...(k.group ? { group: k.group } : {}), kind: k.plural },
      });

      const fresh = structuredClone(first);
      k.change(fresh);
      assert.equal((await api.put(path(k.plural, ns, 'dup'), fresh)).status, 200);
      const stale = structuredClone(first);
      k.change(stale);
      const conflictPut = await api.put(path(k.plural, ns, 'dup'), stale);
      assert.equal(conflictPut.status, 409);
      const st = statusOf(conflictPut);
      assert.equal(st.reason, 'Conflict');
      assert.equal(st.message, `Operation cannot be fulfilled on ${k.qualified} "dup": ${STALE}`);

      const conflictPatch = await api.patch(
        path(k.plural, ns, 'dup'),
        { metadata: { resourceVersion: first.metadata.resourceVersion, labels: { late: 'yes' } } },
        CT.merge,
      );
      assert.equal(conflictPatch.status, 409);
      assert.equal(statusOf(conflictPatch).reason, 'Conflict');
      const now = await api.get(path(k.plural, ns, 'dup'));
      assert.equal(now.body.metadata.labels?.late, undefined);
    });
  });
}

describe('names', () => {
  test('generateName gives a random five-character suffix', async () => {
    const ns = await api.namespace('gen');
    const a = await api.create('configmaps', ns, { metadata: { generateName: 'gen-' }, data: {} });
    const b = await api.create('configmaps', ns, { metadata: { generateName: 'gen-' }, data: {} });
    assert.match(a.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(a.metadata.generateName, 'gen-');
    assert.notEqual(a.metadata.name, b.metadata.name);
    const n = await api.create('nimservices', ns, { ...nimService('x'), metadata: { generateName: 'llm-' } });
    assert.match(n.metadata.name, /^llm-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test('a namespace that does not exist is NotFound', async () => {
    const r = await api.post(path('configmaps', 'nowhere'), configMap('x'));
    assert.deepEqual(statusOf(r), {
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "nowhere" not found',
      details: { name: 'nowhere', kind: 'namespaces' },
    });
  });
});

describe('unconditional updates', () => {
  test('PUT without resourceVersion replaces a ConfigMap', async () => {
    const ns = await api.namespace('uncond-cm');
    await api.create('configmaps', ns, configMap('u'));
    const r = await api.put(path('configmaps', ns, 'u'), configMap('u', { a: 'new' }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.a, 'new');
  });

  test('PUT without resourceVersion on a custom resource is 422 Invalid', async () => {
    const ns = await api.namespace('uncond-cr');
    await api.create('nimservices', ns, nimService('u'));
    const r = await api.put(path('nimservices', ns, 'u'), nimService('u', { replicas: 2 }));
    const st = statusOf(r);
    assert.equal(st.code, 422);
    assert.equal(st.reason, 'Invalid');
    assert.match(st.message, /^NIMService\.apps\.nvidia\.com "u" is invalid: metadata\.resourceVersion: Invalid value: .*must be specified for an update$/);
    assert.deepEqual(st.details?.causes?.map((x: Json) => [x.reason, x.field]), [['FieldValueInvalid', 'metadata.resourceVersion']]);
    assert.equal((await api.get(path('nimservices', ns, 'u'))).body.spec.replicas, 1);
  });
});

describe('validation', () => {
  test('a NIMService breaking a CEL rule is 422 Invalid with the cause', async () => {
    const ns = await api.namespace('invalid-nims');
    const bad = nimService('bad', { scale: { enabled: true, hpa: { maxReplicas: 3 } } });
    const st = statusOf(await api.post(path('nimservices', ns), bad));
    assert.deepEqual(st, {
      code: 422,
      reason: 'Invalid',
      message: 'NIMService.apps.nvidia.com "bad" is invalid: spec: Invalid value: "object": spec.replicas cannot be set when spec.scale.enabled is true',
      details: {
        name: 'bad',
        group: 'apps.nvidia.com',
        kind: 'NIMService',
        causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": spec.replicas cannot be set when spec.scale.enabled is true', field: 'spec' }],
      },
    });
    assert.equal((await api.get(path('nimservices', ns, 'bad'))).status, 404);
  });

  test('a NIMService missing a required field or below a minimum lists every cause', async () => {
    const ns = await api.namespace('invalid-nims2');
    const bad = nimService('bad', { image: { repository: 'nvcr.io/nim/x' }, replicas: -1 });
    const st = statusOf(await api.post(path('nimservices', ns), bad));
    assert.equal(st.code, 422);
    // A missing required value stops the CEL rules, and the API server says so in a third cause.
    const causes = (st.details?.causes ?? []).map((x: Json) => `${x.reason} ${x.field}: ${x.message}`);
    assert.deepEqual(causes.sort(), [
      'FieldValueInvalid : Invalid value: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      'FieldValueInvalid spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
      'FieldValueRequired spec.image.tag: Required value',
    ]);
  });

  test('a Deployment whose container has no name is 422 Invalid', async () => {
    const ns = await api.namespace('invalid-deploy');
    const bad = deployment('bad');
    delete bad.spec.template.spec.containers[0].name;
    const st = statusOf(await api.post(path('deployments', ns), bad));
    assert.equal(st.code, 422);
    assert.equal(st.reason, 'Invalid');
    assert.match(st.message, /^Deployment\.apps "bad" is invalid: /);
    assert.equal(st.details?.kind, 'Deployment');
    assert.equal(st.details?.group, 'apps');
    assert.ok(
      st.details?.causes?.some((x: Json) => x.reason === 'FieldValueRequired' && x.field === 'spec.template.spec.containers[0].name' && x.message === 'Required value'),
      JSON.stringify(st.details?.causes),
    );
  });

  test('fieldValidation=Strict refuses an unknown field with 400', async () => {
    const ns = await api.namespace('strict');
    const typo = nimService('typo');
    typo.spec.replica = 2;
    const r = await api.post(path('nimservices', ns, undefined, undefined, { fieldValidation: 'Strict' }), typo);
    const st = statusOf(r);
    assert.equal(st.code, 400);
    assert.equal(st.reason, 'BadRequest');
    assert.match(st.message, /strict decoding error: .*unknown field "spec\.replica"/);
    assert.equal((await api.get(path('nimservices', ns, 'typo'))).status, 404);

    const d = deployment('typo');
    d.spec.replica = 2;
    const rd = await api.post(path('deployments', ns, undefined, undefined, { fieldValidation: 'Strict' }), d);
    assert.equal(rd.status, 400);
    assert.match(statusOf(rd).message, /unknown field "spec\.replica"/);
  });

  test('fieldValidation=Warn stores without the unknown field and says so in a Warning header', async () => {
    const ns = await api.namespace('warn');
    const typo = nimService('typo');
    typo.spec.replica = 2;
    const r = await api.post(path('nimservices', ns, undefined, undefined, { fieldValidation: 'Warn' }), typo);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.headers.get('warning') ?? '', /^299 - "unknown field \\"spec\.replica\\""$/);
    assert.equal(r.body.spec.replica, undefined);
    assert.equal((await api.get(path('nimservices', ns, 'typo'))).body.spec.replica, undefined);

    const quiet = nimService('quiet');
    quiet.spec.replica = 2;
    const ri = await api.post(path('nimservices', ns, undefined, undefined, { fieldValidation: 'Ignore' }), quiet);
    assert.equal(ri.status, 201);
    assert.equal(ri.headers.get('warning'), null);
  });
});

describe('delete responses', () => {
  test('deleting an object with finalizers answers with the object, marked for deletion', async () => {
    const ns = await api.namespace('delresp');
    await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const r = await api.del(path('configmaps', ns, 'held'));
    assert.equal(r.status, 200);
    assert.equal(r.body.kind, 'ConfigMap');
    assert.match(r.body.metadata.deletionTimestamp, RFC3339);
  });

  test('an immediate delete answers with a Success Status (kinds without ReturnDeletedObject)', async () => {
    const ns = await api.namespace('delresp2');
    for (const k of KINDS) {
      const o = await api.create(k.plural, ns, k.make('gone'));
      const r = await api.del(path(k.plural, ns, 'gone'));
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: 'gone', ...(k.group ? { group: k.group } : {}), kind: k.plural, uid: o.metadata.uid },
      });
    }
  });
});
