/** Events with de-duplication, and optional APIs noticed when they are installed later. */
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { after, before, test } from 'node:test';
import { Client, type ResourceRef } from '../../src/runtime/client/client.js';
import { RestClient } from '../../src/runtime/client/rest.js';
import { EVENT, EventRecorder } from '../../src/runtime/events.js';
import { OptionalApis } from '../../src/runtime/optional-apis.js';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
let client: Client;
before(async () => {
  c = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  client = new Client(new RestClient(kc, { userAgent: 'nim-operator/test' }));
});
after(async () => {
  client?.rest.close();
  await c?.stop();
});

test('an event repeated on the same object is counted, not duplicated; kubectl describe shows it', async () => {
  const svc = await client.create({ group: 'apps.nvidia.com', version: 'v1alpha1', plural: 'nimservices', kind: 'NIMService', namespaced: true }, {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'llm', namespace: 'default' },
    spec: { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' } },
  });
  const rec = new EventRecorder(client);
  await rec.record(svc, 'Warning', 'NIMCacheNotReady', 'NIMCache llama-cache is not Ready yet');
  await rec.record(svc, 'Warning', 'NIMCacheNotReady', 'NIMCache llama-cache is not Ready yet');
  await rec.record(svc, 'Normal', 'Ready', 'the model answers');
  const { items } = await client.list(EVENT, { namespace: 'default', fieldSelector: 'involvedObject.name=llm' });
  const byReason = Object.fromEntries(items.map((e) => [e.reason, e]));
  assert.equal(items.length, 2);
  assert.equal(byReason.NIMCacheNotReady.count, 2);
  assert.equal(byReason.NIMCacheNotReady.involvedObject.uid, svc.metadata.uid);
  assert.equal(byReason.Ready.type, 'Normal');
  const r = await c.kubectl(['describe', 'nimservice', 'llm']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Warning\s+NIMCacheNotReady\s+.*NIMCache llama-cache is not Ready yet/);
});

test('an optional API installed after start is noticed by the next check', async () => {
  const lws: ResourceRef = { group: 'leaderworkerset.x-k8s.io', version: 'v1', plural: 'leaderworkersets', kind: 'LeaderWorkerSet', namespaced: true };
  const apis = new OptionalApis(client, [lws]);
  const installed: string[] = [];
  apis.onInstalled((r) => installed.push(r.kind));
  await apis.check();
  assert.equal(apis.has(lws), false);
  await client.create({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false }, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'leaderworkersets.leaderworkerset.x-k8s.io' },
    spec: {
      group: 'leaderworkerset.x-k8s.io',
      scope: 'Namespaced',
      names: { kind: 'LeaderWorkerSet', plural: 'leaderworkersets', singular: 'leaderworkerset', listKind: 'LeaderWorkerSetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  assert.deepEqual((await apis.check()).map((r) => r.kind), ['LeaderWorkerSet']);
  assert.equal(apis.has(lws), true);
  assert.deepEqual(installed, ['LeaderWorkerSet']);
  assert.deepEqual(await apis.check(), [], 'reported once');
});

test('an informer limited to several namespaces ignores the others', async () => {
  const { Informer } = await import('../../src/runtime/informer.js');
  const cm = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
  const ns: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
  for (const n of ['team-a', 'team-b', 'team-c']) {
    await client.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
    await client.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: n } });
  }
  const inf = new Informer(client, cm, { namespaces: ['team-a', 'team-b'] });
  inf.start();
  await inf.waitForSync();
  await client.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y', namespace: 'team-c' } });
  await client.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y', namespace: 'team-b' } });
  const { eventually } = await import('../helpers/devcluster.js');
  await eventually(() => inf.get('team-b', 'y'), 'the event in a watched namespace');
  assert.deepEqual(inf.list().map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort(), ['team-a/x', 'team-b/x', 'team-b/y']);
  await inf.stop();
});

test('finalizers are added and removed with a resourceVersion guard; the last removal lets deletion finish', async () => {
  const { ensureFinalizer, removeFinalizer, hasFinalizer } = await import('../../src/runtime/finalizers.js');
  const { KubeError } = await import('../../src/runtime/client/rest.js');
  const ref = { group: 'apps.nvidia.com', version: 'v1alpha1', plural: 'nimservices', kind: 'NIMService', namespaced: true };
  const svc = await client.create(ref, {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'fin', namespace: 'default' },
    spec: { image: { repository: 'nvcr.io/nim/x', tag: '1' } },
  });
  const withF = await ensureFinalizer(client, ref, svc, 'finalizer.nimservice.apps.nvidia.com', 'nim-operator');
  assert.ok(hasFinalizer(withF, 'finalizer.nimservice.apps.nvidia.com'));
  assert.equal(await ensureFinalizer(client, ref, withF, 'finalizer.nimservice.apps.nvidia.com', 'nim-operator'), withF, 'no write when present');
  // A stale object is a 409 Conflict (which controllers retry quietly), not a lost write.
  await assert.rejects(removeFinalizer(client, ref, { ...withF, metadata: { ...withF.metadata, resourceVersion: svc.metadata.resourceVersion } }, 'finalizer.nimservice.apps.nvidia.com', 'nim-operator'), (e: unknown) => e instanceof KubeError && e.code === 409 && e.reason === 'Conflict');
  await client.delete(ref, 'default', 'fin');
  const deleting = await client.get(ref, 'default', 'fin');
  assert.ok(deleting.metadata.deletionTimestamp);
  await removeFinalizer(client, ref, deleting, 'finalizer.nimservice.apps.nvidia.com', 'nim-operator');
  await assert.rejects(client.get(ref, 'default', 'fin'), (e: unknown) => e instanceof KubeError && e.code === 404);
});
