/**
 * Deletion over HTTP: finalizers, the garbage collector's propagation policies over owner
 * references (Background, Foreground with blockOwnerDeletion, Orphan), and namespace deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, CT, configMap, deployment, nimService, found, path, statusOf, watch, type Json } from '../helpers/api.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let api: Api;
before(async () => {
  c = await startCluster();
  api = new Api(c.cp.url);
});
after(async () => c?.stop());

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const HOLD = 'example.com/hold';

const ownerRef = (owner: Json, extra: Json = {}) => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name,
  uid: owner.metadata.uid,
  ...extra,
});

const gone = (p: string) => async () => (await api.get(p)).status === 404;

describe('finalizers', () => {
  test('keep a deleted object, marked and with generation bumped, until the last is removed', async () => {
    const ns = await api.namespace('fin');
    const o = await api.create('nimservices', ns, { ...nimService('held'), metadata: { name: 'held', finalizers: [HOLD] } });
    assert.equal(o.metadata.generation, 1);
    const w = await watch(c.cp.url, path('nimservices', ns, undefined, undefined, { watch: 'true', resourceVersion: o.metadata.resourceVersion }));
    try {
      const del = await api.del(path('nimservices', ns, 'held'));
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.equal(del.body.kind, 'NIMService');
      assert.match(del.body.metadata.deletionTimestamp, RFC3339);
      assert.equal(del.body.metadata.deletionGracePeriodSeconds, 0);
      assert.equal(del.body.metadata.generation, 2);
      assert.deepEqual(del.body.metadata.finalizers, [HOLD]);

      const still = await api.get(path('nimservices', ns, 'held'));
      assert.equal(still.status, 200);
      assert.equal(still.body.metadata.deletionTimestamp, del.body.metadata.deletionTimestamp);

      const again = await api.del(path('nimservices', ns, 'held'));
      assert.equal(again.status, 200);
      assert.equal(again.body.metadata.deletionTimestamp, del.body.metadata.deletionTimestamp);
      assert.equal(again.body.metadata.resourceVersion, del.body.metadata.resourceVersion, 'a second DELETE writes nothing');

      const spec = await api.patch(path('nimservices', ns, 'held'), { metadata: { labels: { still: 'writable' } } }, CT.merge);
      assert.equal(spec.status, 200);

      const released = await api.patch(path('nimservices', ns, 'held'), { metadata: { finalizers: null } }, CT.merge);
      assert.equal(released.status, 200, JSON.stringify(released.body));
      await eventually(gone(path('nimservices', ns, 'held')), 'the object to go');
      await w.until((e) => e.type === 'DELETED', 'a DELETED event');
      // Marked for deletion, then labelled (the second DELETE made no event).
      assert.deepEqual(w.events.slice(0, 2).map((e) => e.type), ['MODIFIED', 'MODIFIED']);
      assert.ok(w.events[0]!.object.metadata.deletionTimestamp);
      assert.equal(w.events[1]!.object.metadata.labels?.still, 'writable');
    } finally {
      w.close();
    }
  });

  test(
    'removing the last finalizer deletes at once: watchers see DELETED and no finalizer-less MODIFIED',
    async () => {
      const ns = await api.namespace('fin-events');
      const o = await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: [HOLD] } });
      const w = await watch(c.cp.url, path('configmaps', ns, undefined, undefined, { watch: 'true', resourceVersion: o.metadata.resourceVersion }));
      try {
        await api.del(path('configmaps', ns, 'held'));
        await api.patch(path('configmaps', ns, 'held'), { metadata: { finalizers: null } }, CT.merge);
        await w.until((e) => e.type === 'DELETED', 'a DELETED event');
        assert.deepEqual(w.events.map((e) => e.type), ['MODIFIED', 'DELETED']);
      } finally {
        w.close();
      }
    },
  );

  test('the garbage collector\'s own finalizer goes without a finalizer-less MODIFIED', async () => {
    const ns = await api.namespace('fin-gc-events');
    const owner = await api.create('configmaps', ns, configMap('owner'));
    await api.create('configmaps', ns, { ...configMap('dep'), metadata: { name: 'dep', ownerReferences: [ownerRef(owner)] } });
    const w = await watch(c.cp.url, path('configmaps', ns, undefined, undefined, { watch: 'true', resourceVersion: owner.metadata.resourceVersion, fieldSelector: 'metadata.name=owner' }));
    try {
      await api.del(path('configmaps', ns, 'owner', undefined, { propagationPolicy: 'Orphan' }));
      await w.until((e) => e.type === 'DELETED', 'the owner\'s DELETED event');
      assert.deepEqual(w.events.map((e) => e.type), ['MODIFIED', 'DELETED']);
      assert.deepEqual(w.events[0]!.object.metadata.finalizers, ['orphan']);
    } finally {
      w.close();
    }
  });

  test('adding a finalizer to an object being deleted is refused with 422', async () => {
    const ns = await api.namespace('fin-add');
    await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: [HOLD] } });
    await api.del(path('configmaps', ns, 'held'));
    const r = await api.patch(path('configmaps', ns, 'held'), { metadata: { finalizers: [HOLD, 'example.com/new'] } }, CT.merge);
    const st = statusOf(r);
    assert.equal(st.code, 422);
    assert.equal(st.reason, 'Invalid');
    assert.deepEqual(st.details?.causes?.map((x: Json) => [x.reason, x.field]), [['FieldValueForbidden', 'metadata.finalizers']]);
    assert.deepEqual((await api.get(path('configmaps', ns, 'held'))).body.metadata.finalizers, [HOLD]);
  });

  test(
    'the refusal names the new finalizers as kube-apiserver formats them',
    async () => {
      const ns = await api.namespace('fin-msg');
      await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: [HOLD] } });
      await api.del(path('configmaps', ns, 'held'));
      const r = await api.patch(path('configmaps', ns, 'held'), { metadata: { finalizers: [HOLD, 'example.com/new'] } }, CT.merge);
      assert.equal(
        statusOf(r).message,
        'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/new"}',
      );
    },
  );
});

describe('garbage collection', () => {
  test('Background (the default): dependents go after their owner', async () => {
    const ns = await api.namespace('gc-bg');
    const owner = await api.create('configmaps', ns, configMap('owner'));
    const other = await api.create('configmaps', ns, configMap('other-owner'));
    await api.create('configmaps', ns, { ...configMap('dep1'), metadata: { name: 'dep1', ownerReferences: [ownerRef(owner)] } });
    await api.create('deployments', ns, { ...deployment('dep2'), metadata: { name: 'dep2', ownerReferences: [ownerRef(owner, { controller: true })] } });
    await api.create('configmaps', ns, {
      ...configMap('shared'),
      metadata: { name: 'shared', ownerReferences: [ownerRef(owner), ownerRef(other)] },
    });
    const del = await api.del(path('configmaps', ns, 'owner'));
    assert.equal(del.status, 200);
    await eventually(gone(path('configmaps', ns, 'dep1')), 'dep1 to be collected');
    await eventually(gone(path('deployments', ns, 'dep2')), 'dep2 to be collected');
    // A dependent with another owner that still exists stays, and loses the dangling reference.
    const shared = await found(async () => {
      const r = await api.get(path('configmaps', ns, 'shared'));
      return r.status === 200 && r.body.metadata.ownerReferences?.length === 1 ? r.body : undefined;
    }, 'the dangling owner reference to be removed');
    assert.deepEqual(shared.metadata.ownerReferences.map((r: Json) => r.name), ['other-owner']);
  });

  test('Foreground: the owner waits, with the foregroundDeletion finalizer, for blocking dependents', async () => {
    const ns = await api.namespace('gc-fg');
    const owner = await api.create('configmaps', ns, configMap('owner'));
    await api.create('configmaps', ns, {
      ...configMap('dep'),
      metadata: { name: 'dep', finalizers: [HOLD], ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })] },
    });
    await api.create('configmaps', ns, { ...configMap('free'), metadata: { name: 'free', ownerReferences: [ownerRef(owner)] } });
    const del = await api.del(path('configmaps', ns, 'owner', undefined, { propagationPolicy: 'Foreground' }));
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.ok(del.body.metadata.deletionTimestamp);
    assert.ok(del.body.metadata.finalizers?.includes('foregroundDeletion'), JSON.stringify(del.body.metadata));

    await eventually(async () => (await api.get(path('configmaps', ns, 'dep'))).body.metadata?.deletionTimestamp, 'the dependent to be deleted');
    await eventually(gone(path('configmaps', ns, 'free')), 'the non-blocking dependent to go');
    const waiting = await api.get(path('configmaps', ns, 'owner'));
    assert.equal(waiting.status, 200);
    assert.deepEqual(waiting.body.metadata.finalizers, ['foregroundDeletion']);

    await api.patch(path('configmaps', ns, 'dep'), { metadata: { finalizers: null } }, CT.merge);
    await eventually(gone(path('configmaps', ns, 'dep')), 'the dependent to go');
    await eventually(gone(path('configmaps', ns, 'owner')), 'the owner to go');
  });

  test('Orphan: the owner goes, dependents stay without the owner reference', async () => {
    const ns = await api.namespace('gc-orphan');
    const owner = await api.create('configmaps', ns, configMap('owner'));
    await api.create('configmaps', ns, { ...configMap('dep'), metadata: { name: 'dep', labels: { keep: 'me' }, ownerReferences: [ownerRef(owner)] } });
    const del = await api.req('DELETE', path('configmaps', ns, 'owner'), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.kind, 'ConfigMap');
    assert.ok(del.body.metadata.deletionTimestamp);
    assert.deepEqual(del.body.metadata.finalizers, ['orphan']);
    await eventually(gone(path('configmaps', ns, 'owner')), 'the owner to go');
    const dep = await found(async () => {
      const r = await api.get(path('configmaps', ns, 'dep'));
      return r.status === 200 && r.body.metadata.ownerReferences === undefined ? r.body : undefined;
    }, 'the dependent to lose its owner reference');
    assert.deepEqual(dep.metadata.labels, { keep: 'me' });
  });

  test('a precondition on uid or resourceVersion that does not hold is 409 Conflict', async () => {
    const ns = await api.namespace('gc-pre');
    const o = await api.create('configmaps', ns, configMap('p'));
    const r = await api.del(path('configmaps', ns, 'p'), { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } });
    assert.equal(statusOf(r).code, 409);
    assert.equal(statusOf(r).reason, 'Conflict');
    const r2 = await api.del(path('configmaps', ns, 'p'), { preconditions: { resourceVersion: '1' } });
    assert.equal(statusOf(r2).code, 409);
    const ok = await api.del(path('configmaps', ns, 'p'), { preconditions: { uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion } });
    assert.equal(ok.status, 200);
  });
});

describe('namespaces', () => {
  test('a namespace is born Active, with the kubernetes finalizer in its spec', async () => {
    const ns = await api.namespace('newborn');
    const r = await api.get(path('namespaces', undefined, ns));
    assert.equal(r.body.status.phase, 'Active');
    assert.deepEqual(r.body.spec.finalizers, ['kubernetes']);
    assert.equal(r.body.metadata.labels['kubernetes.io/metadata.name'], ns);
    const def = await api.get(path('namespaces', undefined, 'default'));
    assert.equal(def.body.status.phase, 'Active');
  });

  test('deleting a namespace removes everything in it, then the namespace', async () => {
    const ns = await api.namespace('doomed');
    await api.create('configmaps', ns, configMap('cm'));
    await api.create('deployments', ns, deployment('d'));
    await api.create('nimservices', ns, nimService('n'));
    const keep = await api.namespace('spared');
    await api.create('configmaps', keep, configMap('cm'));
    const del = await api.del(path('namespaces', undefined, ns));
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.kind, 'Namespace');
    assert.equal(del.body.status?.phase, 'Terminating');
    for (const [plural, name] of [['configmaps', 'cm'], ['deployments', 'd'], ['nimservices', 'n']] as const) {
      await eventually(gone(path(plural, ns, name)), `${plural}/${name} to go`);
    }
    await eventually(gone(path('namespaces', undefined, ns)), 'the namespace to go');
    assert.equal((await api.get(path('configmaps', keep, 'cm'))).status, 200);
  });

  test('a namespace held by a finalizer of its content stays Terminating until it is released', async () => {
    const ns = await api.namespace('held-ns');
    await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: [HOLD] } });
    await api.del(path('namespaces', undefined, ns));
    const terminating = await api.get(path('namespaces', undefined, ns));
    assert.equal(terminating.status, 200);
    assert.equal(terminating.body.status.phase, 'Terminating');
    const again = statusOf(await api.del(path('namespaces', undefined, ns)));
    assert.equal(again.code, 409);
    assert.equal(again.reason, 'Conflict');
    assert.equal(
      again.message,
      `Operation cannot be fulfilled on namespaces "${ns}": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.`,
    );
    assert.ok((await api.get(path('configmaps', ns, 'held'))).body.metadata.deletionTimestamp);
    await api.patch(path('configmaps', ns, 'held'), { metadata: { finalizers: null } }, CT.merge);
    await eventually(gone(path('namespaces', undefined, ns)), 'the namespace to go');
  });

  test(
    'nothing new can be created in a terminating namespace',
    async () => {
      const ns = await api.namespace('closing');
      await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: [HOLD] } });
      await api.del(path('namespaces', undefined, ns));
      const r = await api.post(path('configmaps', ns), configMap('late'));
      const st = statusOf(r);
      assert.equal(st.code, 403);
      assert.equal(st.reason, 'Forbidden');
      assert.equal(st.message, `configmaps "late" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
    },
  );
});
