/**
 * KServe NIMServices end to end: the operator writes the InferenceService, the `kserve` add-on's
 * simulated KServe controller makes the predictor, and the NIMService is Ready once the predictor is
 * and the model answers (§6 behaviours 49–52; NVIDIA/k8s-nim-operator#890, #907).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { installAddons } from '../../src/devcluster/ecosystem/index.js';
import { startKServeSimulation, type RunningAddon } from '../../src/devcluster/ecosystem/kserve-sim.js';
import { testNIMService } from '../helpers/nim.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { writesBy } from '../helpers/writes.js';

const ISVC = 'serving.kserve.io/inferenceservices';

const svc = (name: string, spec: Record<string, unknown> = {}) => testNIMService(name, { inferencePlatform: 'kserve', ...spec });

describe('NIMService on KServe', () => {
  let c: SimCluster;
  let op: RunningOperator;
  let kserve: RunningAddon | undefined;
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', 'default', name);
  const apply = (obj: unknown) => c.ok(['apply', '-f', '-'], JSON.stringify(obj));
  const waitState = (name: string, state: string, reason?: string) =>
    eventually(
      () => {
        const s = nimService(name);
        return s?.status?.state === state && (!reason || condition(s, state === 'Failed' ? 'Failed' : 'Ready')?.reason === reason) ? s : undefined;
      },
      `${name} ${state}${reason ? ` (${reason})` : ''} (now ${String(nimService(name)?.status?.state)}: ${String(condition(nimService(name), 'Ready')?.message)})`,
      30_000,
    );

  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    kserve?.stop();
    await op?.stop();
    await c?.stop();
  });

  test('without KServe: OptionalAPIMissing; once KServe is installed the same service carries on to Ready (#907)', async () => {
    await apply(svc('early', { annotations: { 'serving.kserve.io/deploymentMode': 'RawDeployment' } }));
    const failed = await waitState('early', 'Failed', 'OptionalAPIMissing');
    assert.match(condition(failed, 'Failed')!.message, /InferenceService early needs KServe/);
    // The rest is applied all the same.
    assert.ok(c.get('/serviceaccounts', 'default', 'early'));
    installAddons(c.cp, ['kserve']);
    kserve = startKServeSimulation(c.cp);
    await waitState('early', 'Ready');
    assert.equal(c.get(ISVC, 'default', 'early')!.metadata.annotations['serving.kserve.io/deploymentMode'], 'RawDeployment');
  });

  test('Standard: Ready from the predictor\'s PredictorReady and the model answering; endpoints from the InferenceService; NotReady with its message when the predictor is not ready', async () => {
    await apply(svc('raw', { replicas: 1 }));
    const ready = await waitState('raw', 'Ready');
    const isvc = c.get(ISVC, 'default', 'raw')!;
    // No annotation: KServe's default from its ConfigMap (the add-on's, RawDeployment), spelled as KServe's config spells it.
    assert.equal(isvc.metadata.annotations['serving.kserve.io/deploymentMode'], 'RawDeployment');
    assert.equal(condition(isvc, 'PredictorReady')?.status, 'True');
    assert.deepEqual([isvc.spec.predictor.minReplicas, isvc.spec.predictor.maxReplicas], [1, 1]);
    // KServe's objects, not ours: no Deployment or Service `raw`.
    assert.equal(c.get('apps/deployments', 'default', 'raw'), undefined);
    assert.equal(c.get('/services', 'default', 'raw'), undefined);
    assert.ok(c.get('apps/deployments', 'default', 'raw-predictor'));
    assert.equal(ready.status.model.clusterEndpoint, 'http://raw-predictor.default.svc.cluster.local');
    assert.equal(ready.status.model.externalEndpoint, isvc.status.url);
    assert.equal(ready.status.model.name, 'meta/llama-3.1-8b-instruct');
    assert.equal(ready.status.availableReplicas, 1);
    assert.match(condition(ready, 'Ready')!.message, /InferenceService "raw" is ready \(RawDeployment mode\)/);
    // At rest: a change of the InferenceService wakes the NIMService, which writes nothing.
    const reconciles = async () => Number(/controller_runtime_reconcile_total\{controller="nimservice",result="success"\} (\d+)/.exec(await op.manager.metrics.registry.metrics())?.[1] ?? 0);
    const writes0 = await writesBy(c.cp.url, 'nim-operator');
    const n0 = await reconciles();
    await c.ok(['label', 'inferenceservice', 'raw', 'touched=yes']);
    await eventually(async () => (await reconciles()) > n0, 'a reconcile after the label');
    assert.equal(await writesBy(c.cp.url, 'nim-operator'), writes0);
    // The predictor's pods turn unready: KServe reports PredictorReady False, the NIMService follows.
    c.sim.setNimHealth({ namespace: 'default', service: 'raw-predictor' }, { ready: false });
    await eventually(() => condition(c.get(ISVC, 'default', 'raw'), 'PredictorReady')?.status === 'False', 'PredictorReady False');
    // The pods' own trouble says more than KServe's condition: their readiness probe fails.
    const notReady = await waitState('raw', 'NotReady', 'ProbeFailing');
    assert.equal(notReady.status.model, undefined);
    assert.match(condition(notReady, 'Ready')!.message, /readiness probe fails/);
    c.sim.setNimHealth({ namespace: 'default', service: 'raw-predictor' }, { ready: true });
    await waitState('raw', 'Ready');
  });

  test('Knative: the scale bounds reach the predictor\'s minReplicas/maxReplicas (#890) and the service becomes Ready', async () => {
    const annotations = {
      'serving.kserve.io/deploymentMode': 'Knative',
      'autoscaling.knative.dev/min-scale': '2',
      'autoscaling.knative.dev/max-scale': '3',
    };
    await apply(svc('serverless', { annotations }));
    const isvc = await eventually(() => c.get(ISVC, 'default', 'serverless'), 'the InferenceService');
    assert.deepEqual([isvc.spec.predictor.minReplicas, isvc.spec.predictor.maxReplicas], [2, 3]);
    assert.equal(isvc.spec.predictor.deploymentStrategy, undefined);
    const ready = await waitState('serverless', 'Ready');
    assert.equal(c.get('apps/deployments', 'default', 'serverless-predictor')!.spec.replicas, 2);
    assert.equal(ready.status.availableReplicas, 2);
    assert.match(condition(ready, 'Ready')!.message, /\(Knative mode\)/);
  });
});
