/** The NIMService controller against the test control plane and the simulated cluster, through kubectl. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLAMA_IMAGE, testNIMService } from '../helpers/nim.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { writesBy } from '../helpers/writes.js';

const IMAGE = LLAMA_IMAGE;
const svc = testNIMService;

describe('NIMService controller', () => {
  let c: SimCluster;
  let op: RunningOperator;
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', 'default', name);
  const stateOf = (name: string) => nimService(name)?.status?.state;
  const reasonOf = (name: string) => {
    const o = nimService(name);
    return condition(o, o?.status?.state === 'Failed' ? 'Failed' : 'Ready')?.reason;
  };
  const apply = (obj: unknown) => c.ok(['apply', '-f', '-'], JSON.stringify(obj));
  const waitState = (name: string, state: string, timeoutMs = 30_000) =>
    eventually(() => (stateOf(name) === state ? nimService(name) : undefined), `${name} ${state} (now ${String(stateOf(name))} ${String(reasonOf(name))})`, timeoutMs);

  before(async () => {
    c = await startSimCluster();
    // The NIMService controller alone: the NIMCache below is made Ready by hand.
    op = await startOperator(c, { only: ['nimservice'] });
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('a NIMService becomes Ready once the model answers, with status.model, availableReplicas and the finalizer', async () => {
    await apply(svc('plain'));
    const ready = await waitState('plain', 'Ready');
    assert.equal(condition(ready, 'Ready')?.status, 'True');
    assert.equal(condition(ready, 'Failed')?.status, 'False');
    assert.equal(condition(ready, 'Ready')?.observedGeneration, ready.metadata.generation);
    assert.equal(ready.status.model.name, 'meta/llama-3.1-8b-instruct');
    assert.match(ready.status.model.clusterEndpoint, /^10\.\d+\.\d+\.\d+:8000$/);
    assert.equal(ready.status.availableReplicas, 1);
    assert.deepEqual(ready.metadata.finalizers, ['finalizer.nimservice.apps.nvidia.com']);
    const out = await c.ok(['get', 'nimservices']);
    assert.match(out, /^NAME\s+STATUS\s+AGE\n/);
    assert.match(out, /\nplain\s+Ready\s+/);
    const metrics = await op.manager.metrics.registry.metrics();
    assert.match(metrics, /nimService_status_total\{status="Ready"\} [1-9]/);
    assert.match(metrics, /nimService_status_total\{status="all"\} [1-9]/);
    const events = await c.ok(['get', 'events', '--field-selector', 'involvedObject.name=plain,involvedObject.kind=NIMService', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /\bReady\b/);
  });

  test('a settled NIMService causes no writes when it is reconciled again', async () => {
    await waitState('plain', 'Ready');
    const before = op.manager.metrics;
    const reconciles = async () => Number(/controller_runtime_reconcile_total\{controller="nimservice",result="success"\} (\d+)/.exec(await before.registry.metrics())?.[1] ?? 0);
    const writes0 = await writesBy(c.cp.url, 'nim-operator');
    const n0 = await reconciles();
    // A change of a child wakes its owner: label the Service (a field the operator does not set).
    await c.ok(['label', 'service', 'plain', 'touched=yes']);
    await eventually(async () => (await reconciles()) > n0, 'a reconcile after the label');
    assert.equal(await writesBy(c.cp.url, 'nim-operator'), writes0);
  });

  test('editing the image rolls the Deployment to the new image', async () => {
    await waitState('plain', 'Ready');
    await c.ok(['patch', 'nimservice', 'plain', '--type=merge', '-p', JSON.stringify({ spec: { image: { tag: '1.3.4' } } })]);
    await eventually(() => c.get('apps/deployments', 'default', 'plain')?.spec.template.spec.containers[0].image === `${IMAGE.repository}:1.3.4`, 'new image in the Deployment');
    await c.ok(['rollout', 'status', 'deployment/plain', '--timeout=30s']);
    const ready = await waitState('plain', 'Ready');
    assert.equal(condition(ready, 'Ready')?.observedGeneration, 2);
    const pods = c.list('/pods', 'default').filter((p) => p.metadata.labels?.app === 'plain' && !p.metadata.deletionTimestamp);
    assert.ok(pods.length >= 1);
    for (const p of pods) assert.equal(p.spec.containers[0].image, `${IMAGE.repository}:1.3.4`);
  });

  test('a missing NIMCache fails with NIMCacheNotFound, and its arrival as Ready wakes the service at once', async () => {
    await apply(svc('cached', { storage: { nimCache: { name: 'later' } } }));
    await waitState('cached', 'Failed');
    assert.equal(reasonOf('cached'), 'NIMCacheNotFound');
    assert.match(condition(nimService('cached'), 'Failed')!.message, /NIMCache later not found/);
    assert.equal(c.get('apps/deployments', 'default', 'cached'), undefined);
    // A cache that exists but is not Ready: NotReady.
    await c.ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMCache', metadata: { name: 'later', namespace: 'default' },
      spec: { source: { ngc: { modelPuller: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3', authSecret: 'ngc-api-secret' } }, storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } } },
    }));
    await waitState('cached', 'NotReady');
    assert.equal(reasonOf('cached'), 'NIMCacheNotReady');
    // Marked Ready by hand (no NIMCache controller in this test): the service goes on without a poll.
    await c.ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'later-pvc', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } } }));
    const cache = JSON.parse(await c.ok(['get', 'nimcache', 'later', '-o', 'json']));
    cache.status = { state: 'Ready', pvc: 'later-pvc', profiles: [] };
    await c.ok(['replace', '--subresource=status', '-f', '-'], JSON.stringify(cache));
    await eventually(() => c.get('apps/deployments', 'default', 'cached'), 'the Deployment once the cache is Ready', 5_000);
    const d = c.get('apps/deployments', 'default', 'cached')!;
    assert.equal(d.spec.template.spec.volumes.find((v: any) => v.name === 'model-store').persistentVolumeClaim.claimName, 'later-pvc');
    await waitState('cached', 'Ready');
  });

  test('a missing Secret is reported with the kubelet\'s words, and other services keep converging', async () => {
    await apply(svc('nosecret', { authSecret: 'does-not-exist' }));
    await apply(svc('neighbour'));
    await eventually(() => reasonOf('nosecret') === 'ContainerConfigError', 'ContainerConfigError');
    assert.equal(stateOf('nosecret'), 'NotReady');
    assert.match(condition(nimService('nosecret'), 'Ready')!.message, /secret "does-not-exist" not found/);
    await waitState('neighbour', 'Ready');
    const warning = await c.ok(['get', 'events', '--field-selector', 'involvedObject.name=nosecret,type=Warning', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(warning, /ContainerConfigError/);
  });

  test('pods that need more GPUs than any node has are Pending with InsufficientGPU', async () => {
    await apply(svc('huge', { resources: { limits: { 'nvidia.com/gpu': 16 } } }));
    await waitState('huge', 'Pending');
    await eventually(() => reasonOf('huge') === 'InsufficientGPU', 'InsufficientGPU');
    const msg = condition(nimService('huge'), 'Ready')!.message;
    assert.match(msg, /asks for 16 nvidia\.com\/gpu/);
    assert.match(msg, /Insufficient nvidia\.com\/gpu/);
  });

  test('an image that cannot be pulled is ImagePullFailed, naming the image', async () => {
    await apply(svc('nopull', { image: { repository: 'nimop.dev/sim/unpullable', tag: '1.0' } }));
    await eventually(() => reasonOf('nopull') === 'ImagePullFailed', 'ImagePullFailed');
    assert.match(condition(nimService('nopull'), 'Ready')!.message, /cannot pull image nimop\.dev\/sim\/unpullable:1\.0/);
  });

  test('deleting a NIMService removes every child; foreground deletion completes without re-creation', async () => {
    await apply(svc('gone'));
    await waitState('gone', 'Ready');
    const kinds = ['/serviceaccounts', 'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings', '/services', 'apps/deployments'];
    for (const k of kinds) assert.ok(c.get(k, 'default', 'gone'), `${k} exists`);
    const creates = () => writesBy(c.cp.url, 'nim-operator', (l) => (l.verb === 'APPLY' || l.verb === 'CREATE') && l.resource !== 'events');
    const creates0 = await creates();
    await c.ok(['delete', 'nimservice', 'gone', '--cascade=foreground', '--timeout=30s']);
    assert.equal(nimService('gone'), undefined);
    for (const k of kinds) assert.equal(c.get(k, 'default', 'gone'), undefined, `${k} deleted`);
    const pods = c.list('/pods', 'default').filter((p) => p.metadata.labels?.app === 'gone');
    assert.deepEqual(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name), []);
    assert.equal(await creates(), creates0, 'nothing applied or created while the owner was being deleted');
  });
});
