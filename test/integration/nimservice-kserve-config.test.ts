/**
 * KServe's default deployment mode (inventory §2.2.14, step 3): a NIMService whose annotations ask
 * for no mode gets the one KServe's ConfigMap `kserve/inferenceservice-config` names, spelled as
 * KServe spells it; the annotation still wins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { installAddons } from '../../src/devcluster/ecosystem/index.js';
import { startKServeSimulation, type RunningAddon } from '../../src/devcluster/ecosystem/kserve-sim.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const ISVC = 'serving.kserve.io/inferenceservices';
const MODE = 'serving.kserve.io/deploymentMode';

const svc = (name: string, annotations?: Record<string, string>) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default' },
  spec: {
    inferencePlatform: 'kserve',
    image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' },
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '50Gi' } },
    resources: { limits: { 'nvidia.com/gpu': 1 } },
    expose: { service: { type: 'ClusterIP', port: 8000 } },
    ...(annotations ? { annotations } : {}),
  },
});

describe('NIMService on KServe: KServe\'s default deployment mode', () => {
  let c: SimCluster;
  let op: RunningOperator | undefined;
  let kserve: RunningAddon | undefined;
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', 'default', name);
  const apply = (obj: unknown) => c.ok(['apply', '-f', '-'], JSON.stringify(obj));
  const waitReady = (name: string) =>
    eventually(
      () => (nimService(name)?.status?.state === 'Ready' ? nimService(name) : undefined),
      `${name} Ready (now ${String(nimService(name)?.status?.state)}: ${String(condition(nimService(name), 'Ready')?.message ?? condition(nimService(name), 'Failed')?.message)})`,
      30_000,
    );

  before(async () => {
    c = await startSimCluster();
    // KServe installed with Knative as its default (KServe's own default before its rename).
    installAddons(c.cp, ['kserve']);
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kserve' } });
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'inferenceservice-config', namespace: 'kserve' },
      data: { deploy: JSON.stringify({ defaultDeploymentMode: 'Serverless' }) },
    });
    kserve = startKServeSimulation(c.cp);
    op = await startOperator(c);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    kserve?.stop();
    await op?.stop();
    await c?.stop();
  });

  test('the simulated KServe keeps a ConfigMap that exists', () => {
    assert.equal(JSON.parse(c.get('/configmaps', 'kserve', 'inferenceservice-config')!.data.deploy).defaultDeploymentMode, 'Serverless');
  });

  test('no annotation: a Knative-mode InferenceService, annotated Serverless as KServe\'s config spells it; Ready', async () => {
    await apply(svc('knative-default'));
    const isvc = await eventually(() => c.get(ISVC, 'default', 'knative-default'), 'the InferenceService');
    assert.equal(isvc.metadata.annotations[MODE], 'Serverless');
    const predictor = isvc.spec.predictor;
    assert.deepEqual(predictor.containers[0].ports, [{ containerPort: 8000, protocol: 'TCP' }], 'Knative: unnamed ports');
    assert.equal(predictor.deploymentStrategy, undefined);
    assert.equal(predictor.maxReplicas, undefined);
    assert.equal(predictor.securityContext, undefined);
    assert.equal(predictor.containers[0].startupProbe.failureThreshold, 30);
    const ready = await waitReady('knative-default');
    assert.match(condition(ready, 'Ready')!.message, /\(Serverless mode\)/);
    assert.equal(c.get(ISVC, 'default', 'knative-default')!.status.deploymentMode, 'Knative');
    // Knative mode: no ServiceMonitor is made.
    assert.equal(c.get('monitoring.coreos.com/servicemonitors', 'default', 'knative-default'), undefined);
  });

  test('the annotation wins over KServe\'s default', async () => {
    await apply(svc('raw-annotated', { [MODE]: 'RawDeployment' }));
    const isvc = await eventually(() => c.get(ISVC, 'default', 'raw-annotated'), 'the InferenceService');
    assert.equal(isvc.metadata.annotations[MODE], 'RawDeployment');
    assert.deepEqual(isvc.spec.predictor.containers[0].ports, [{ name: 'api', containerPort: 8000, protocol: 'TCP' }]);
    await waitReady('raw-annotated');
  });
});
