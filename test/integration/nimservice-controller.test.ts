/** The NIMService controller against the test control plane and the simulated cluster. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const svc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default' },
  spec: {
    image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' },
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '50Gi' } },
    resources: { limits: { 'nvidia.com/gpu': 1 } },
    expose: { service: { type: 'ClusterIP', port: 8000 } },
    ...spec,
  },
});

describe('NIMService controller', () => {
  let c: SimCluster;
  let op: RunningOperator;
  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('an emptyDir NIMService becomes Ready once the model answers, with status.model', async () => {
    await c.ok(['apply', '-f', '-'], JSON.stringify(svc('plain')));
    const ready = await eventually(() => {
      const o = c.get('apps.nvidia.com/nimservices', 'default', 'plain');
      return o?.status?.state === 'Ready' ? o : undefined;
    }, 'plain Ready', 30_000);
    assert.equal(condition(ready, 'Ready')?.status, 'True');
    assert.equal(condition(ready, 'Failed')?.status, 'False');
    assert.ok(ready.status.model.name);
    assert.match(ready.status.model.clusterEndpoint, /^10\.\d+\.\d+\.\d+:8000$/);
    assert.equal(ready.status.availableReplicas, 1);
    assert.deepEqual(ready.metadata.finalizers, ['finalizer.nimservice.apps.nvidia.com']);
  });
});
