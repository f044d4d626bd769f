/**
 * The controller machinery (informers, queue, controller, apply and prune, status) against the
 * embedded control plane, with a small demo controller: convergence, zero writes at rest,
 * de-duplication of bursts, retries with backoff, recovery from 410 Gone and dropped watches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExponentialFailureRateLimiter, WorkQueue } from '../../src/runtime/workqueue.js';
import { NIMSERVICE, startDemo, type Demo } from '../helpers/demo-controller.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

type Obj = Record<string, any>;
let c: TestCluster;
let demo: Demo;

const svc = (name: string, extra: Obj = {}) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default', ...extra },
  spec: { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' } },
});

/** Write requests the operator made, counted by the control plane. */
const operatorWrites = () =>
  c.cp.metrics.count((l) => l.client === 'nim-operator' && ['create', 'update', 'patch', 'delete'].includes(l.verb!));

before(async () => {
  c = await startCluster({ historySize: 50 });
  demo = await startDemo(c.kubeconfig, new WorkQueue({ name: 'demo', rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 400 }) }));
});
after(async () => {
  await demo?.stop();
  await c?.stop();
});

const child = (name: string) => c.cp.store.get('/configmaps', 'default', `${name}-model`);
const stored = (name: string) => c.cp.store.get('apps.nvidia.com/nimservices', 'default', name);

describe('controller runtime', () => {
  test('a new object converges: child applied with owner reference, status Ready', async () => {
    await demo.client.create(NIMSERVICE, svc('alpha'));
    await eventually(() => child('alpha')?.data?.image === 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.4', 'the child ConfigMap');
    await eventually(() => stored('alpha')?.status?.state === 'Ready', 'the Ready status');
    const cm = child('alpha')!;
    assert.equal(cm.metadata.ownerReferences[0].uid, stored('alpha')!.metadata.uid);
    assert.equal(cm.metadata.managedFields.find((m: Obj) => m.manager === 'nim-operator')?.operation, 'Apply');
    const cond = stored('alpha')!.status.conditions[0];
    assert.deepEqual([cond.type, cond.status, cond.observedGeneration], ['Ready', 'True', 1]);
  });

  test('at rest, reconciling again writes nothing', async () => {
    const q = demo.controller.queue as WorkQueue;
    await eventually(
      () =>
        stored('alpha')?.status?.state === 'Ready' &&
        demo.services.get('default', 'alpha')?.metadata?.resourceVersion === stored('alpha')?.metadata?.resourceVersion &&
        demo.controller.stats.active === 0 &&
        q.len() === 0,
      'convergence, with the cache caught up and the queue empty',
    );
    const before = await operatorWrites();
    const reconciles = demo.reconciled.length;
    for (let i = 0; i < 5; i++) demo.controller.queue.add('default/alpha');
    await eventually(() => demo.reconciled.length >= reconciles + 1, 'the extra reconciles');
    await eventually(async () => demo.controller.stats.active === 0, 'idle workers');
    assert.equal(await operatorWrites(), before);
  });

  test('a spec change reaches the child; a status-only change does not wake the controller', async () => {
    await demo.client.patch(NIMSERVICE, 'default', 'alpha', { spec: { image: { tag: '1.9.0' } } });
    await eventually(() => child('alpha')?.data?.image?.endsWith(':1.9.0'), 'the updated child');
    await eventually(() => stored('alpha')?.status?.conditions?.[0]?.observedGeneration === 2, 'observedGeneration 2');
    // Let the echoes of that change (the child's and the status' own events) settle first.
    const q = demo.controller.queue as WorkQueue;
    await eventually(
      () =>
        demo.services.get('default', 'alpha')?.metadata?.resourceVersion === stored('alpha')?.metadata?.resourceVersion &&
        demo.configmaps.get('default', 'alpha-model')?.metadata?.resourceVersion === child('alpha')?.metadata?.resourceVersion &&
        demo.controller.stats.active === 0 &&
        q.len() === 0,
      'an idle controller',
    );
    const n = demo.reconciled.length;
    await demo.client.patch(NIMSERVICE, 'default', 'alpha', { status: { state: 'Ready', extra: 'x' } }, 'merge', { subresource: 'status' });
    await demo.client.create(NIMSERVICE, svc('probe-after-status'));
    await eventually(() => demo.reconciled.some((r) => r.name === 'probe-after-status'), 'a later event');
    assert.equal(demo.reconciled.slice(n).filter((r) => r.name === 'alpha').length, 0, 'no reconcile for a status-only write');
  });

  test('a child deleted by someone else is recreated; an unwanted child is pruned', async () => {
    await demo.client.delete({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true }, 'default', 'alpha-model');
    await eventually(() => child('alpha') !== undefined, 'the recreated child');
    await demo.client.patch(NIMSERVICE, 'default', 'alpha', { metadata: { annotations: { 'demo/no-child': 'true' } } });
    await eventually(() => child('alpha') === undefined, 'the pruned child');
  });

  test('a burst of 1,000 updates to one object causes far fewer reconciles, never two at once for it', async () => {
    await demo.client.create(NIMSERVICE, svc('busy'));
    await eventually(() => child('busy') !== undefined, 'convergence');
    const n = demo.reconciled.length;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => demo.client.patch(NIMSERVICE, 'default', 'busy', { metadata: { labels: { round: String(i) } } })),
    );
    await eventually(() => demo.services.get('default', 'busy')?.metadata?.labels?.round !== undefined && demo.controller.stats.active === 0, 'the burst to settle');
    const forBusy = demo.reconciled.slice(n).filter((r) => r.name === 'busy').length;
    assert.ok(forBusy > 0 && forBusy < 200, `reconciles for the burst: ${forBusy}`);
    assert.equal(demo.overlaps.count, 0, 'never two reconciles of one key at once');
  });

  test('a failing reconcile is retried with growing delays; success resets them', async () => {
    await demo.client.create(NIMSERVICE, svc('flaky', { annotations: { 'demo/fail': 'yes' } }));
    await eventually(() => demo.reconciled.filter((r) => r.name === 'flaky').length >= 5, 'several retries', 15_000);
    assert.ok(demo.controller.queue instanceof WorkQueue);
    const q = demo.controller.queue as WorkQueue;
    assert.ok(q.numRequeues('default/flaky') >= 4, 'failures are counted per key');
    await demo.client.patch(NIMSERVICE, 'default', 'flaky', { metadata: { annotations: { 'demo/fail': null } } });
    await eventually(() => child('flaky') !== undefined, 'convergence after the fix', 15_000);
    await eventually(() => q.numRequeues('default/flaky') === 0, 'the backoff forgotten');
  });

  test('a dropped watch and a 410 Gone are recovered without losing an event', async () => {
    const listsBefore = demo.services.stats.lists;
    for (const res of [...c.cp.hub.open]) res.end();
    await demo.client.create(NIMSERVICE, svc('after-drop'));
    await eventually(() => child('after-drop') !== undefined, 'convergence after the dropped watch');
    // Expire the informer's resourceVersion: end its watch and, before it can come back (the
    // server runs in this process, so nothing else runs meanwhile), make more changes than the
    // history holds. Its re-watch then gets 410 Gone and it must relist.
    c.cp.store.setHistorySize(3);
    for (const res of [...c.cp.hub.open]) res.end();
    const nimservices = c.cp.registry.get('apps.nvidia.com', 'v1alpha1', 'nimservices')!;
    for (let i = 0; i < 10; i++) c.cp.objects.create(nimservices, 'default', svc(`gone-${i}`));
    await eventually(() => Array.from({ length: 10 }, (_, i) => child(`gone-${i}`)).every(Boolean), 'every object converged', 15_000);
    assert.ok(demo.services.stats.lists > listsBefore, 'the informer relisted after 410 Gone');
    c.cp.store.setHistorySize(50);
  });
});
