/**
 * The manager: controllers only on the leader, hand-over on a crash (within the lease) and on a
 * clean stop (at once), readiness and metrics endpoints, and no writes while the cluster rests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Applier, MANAGED_BY_LABEL, MANAGED_BY_VALUE, controllerRef } from '../../src/runtime/apply.js';
import { Controller } from '../../src/runtime/controller.js';
import { leaderElection } from '../../src/runtime/leader.js';
import { Manager } from '../../src/runtime/manager.js';
import { createLogger } from '../../src/runtime/observability.js';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import { CONFIGMAP, NIMSERVICE } from '../helpers/demo-controller.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
});
after(async () => c?.stop());

const silent = createLogger('silent');

/** A manager running a demo controller: each NIMService gets a ConfigMap naming the replica that wrote it. */
function replica(id: string): { m: Manager; controller: Controller } {
  const m = new Manager({ kubeconfig: c.kubeconfig, userAgent: 'nim-operator/test', metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: '127.0.0.1:0', logger: silent });
  const services = m.informer(NIMSERVICE);
  const configmaps = m.informer(CONFIGMAP, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
  const applier: Applier = m.applier;
  const controller = new Controller(
    `demo-${id}`,
    {
      async reconcile(req) {
        const svc = services.get(req.namespace, req.name);
        if (!svc) return;
        const name = `${svc.metadata.name}-owner`;
        const desired = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: svc.metadata.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, ownerReferences: [controllerRef(svc)] },
          data: { tag: svc.spec.image.tag },
        };
        await applier.apply(CONFIGMAP, desired, configmaps.get(svc.metadata.namespace, name));
      },
    },
    m.queue(`demo-${id}`),
  )
    .for(services)
    .owns(configmaps, 'NIMService', 'apps.nvidia.com/v1alpha1');
  m.add(controller);
  m.useLeaderElection(leaderElection(m.client, { namespace: 'kube-system', name: 'demo-lock', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200, logger: silent }));
  return { m, controller };
}

const svc = (name: string, tag = '1.8.4') => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default' },
  spec: { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag } },
});
const child = (name: string) => c.cp.store.get('/configmaps', 'default', `${name}-owner`);

test('only the leader reconciles; a crash hands over within the lease; a clean stop hands over at once', async () => {
  const a = replica('a');
  const b = replica('b');
  await a.m.start();
  await eventually(() => a.m.isLeader(), 'a to lead');
  await b.m.start();
  // Both replicas serve health; only the leader's controller works.
  const ready = await fetch(`http://127.0.0.1:${b.m.addresses.health!.port}/readyz`);
  assert.equal(ready.status, 200);
  await a.m.client.create(NIMSERVICE, svc('one'));
  await eventually(() => child('one')?.data?.tag === '1.8.4', 'the leader to reconcile');
  assert.ok(a.controller.stats.reconciles > 0);
  assert.equal(b.controller.stats.reconciles, 0, 'the follower does not reconcile');
  assert.equal(b.m.isLeader(), false);

  // Crash: a stops without releasing the Lease; b takes over after it expires.
  const crashed = Date.now();
  await a.m.halt();
  await eventually(() => b.m.isLeader(), 'b to take over', 10_000);
  assert.ok(Date.now() - crashed >= 1000, 'not before the lease expired');
  await b.m.client.patch(NIMSERVICE, 'default', 'one', { spec: { image: { tag: '1.9.0' } } });
  await eventually(() => child('one')?.data?.tag === '1.9.0', 'the new leader to reconcile');

  // Clean stop: b releases; a fresh replica leads at once, well before a lease would expire.
  const c2 = replica('c');
  await c2.m.start();
  const released = Date.now();
  await b.m.stop();
  await eventually(() => c2.m.isLeader(), 'c to lead', 5000);
  assert.ok(Date.now() - released < 1500, `handed over in ${Date.now() - released} ms`);
  await c2.m.client.patch(NIMSERVICE, 'default', 'one', { spec: { image: { tag: '2.0.0' } } });
  await eventually(() => child('one')?.data?.tag === '2.0.0', 'c to reconcile');
  const metrics = await (await fetch(`http://127.0.0.1:${c2.m.addresses.metrics!.port}/metrics`)).text();
  assert.match(metrics, /leader_election_master_status\{name="nim-operator"\} 1/);
  assert.match(metrics, /controller_runtime_reconcile_total\{controller="demo-c",result="success"\} [1-9]/);
  assert.match(metrics, /workqueue_adds_total\{name="demo-c"\} [1-9]/);
  assert.match(metrics, /rest_client_requests_total\{method="PATCH",code="200"\} [1-9]/);
  await c2.m.stop();
});

test('after convergence, an idle period sees zero writes from the operator', async () => {
  const r = replica('idle');
  await r.m.start();
  await eventually(() => r.m.isLeader(), 'leadership');
  await r.m.client.create(NIMSERVICE, svc('idle-one'));
  await eventually(() => child('idle-one') !== undefined, 'convergence');
  await eventually(() => r.controller.stats.active === 0 && (r.controller.queue as WorkQueue).len() === 0, 'an idle queue');
  const writes = () => c.cp.metrics.count((l) => l.client === 'nim-operator' && ['create', 'update', 'patch', 'delete'].includes(l.verb!) && l.resource !== 'leases');
  const before = await writes();
  // Idle, but with the periodic machinery running: watches reconnect and every key is requeued.
  for (const res of [...c.cp.hub.open]) res.end();
  for (const o of c.cp.store.list('apps.nvidia.com/nimservices')) r.controller.queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
  await eventually(() => r.controller.stats.active === 0 && (r.controller.queue as WorkQueue).len() === 0, 'the requeued keys processed');
  assert.equal(await writes(), before);
  await r.m.stop();
});
