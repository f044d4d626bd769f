/**
 * A multi-node NIMService (pipeline 2 × tensor 8) served with a LeaderWorkerSet: Ready on simulated
 * nodes with 8 GPUs each, Pending with a reason on nodes with 4.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { SimNode } from '../../src/devcluster/sim/topology.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const multiNode = (name: string, mode: Record<string, unknown> = { mpi: { mpiStartTimeout: 300 } }) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default' },
  spec: {
    image: { repository: 'nvcr.io/nim/deepseek-ai/deepseek-r1', tag: '1.7.3' },
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '100Gi' } },
    replicas: 1,
    multiNode: { backendType: 'lws', parallelism: { pipeline: 2, tensor: 8 }, ...mode },
    resources: { limits: { 'nvidia.com/gpu': 8 } },
    expose: { service: { type: 'ClusterIP', port: 8000 } },
  },
});

async function start(nodes?: SimNode[]): Promise<{ c: SimCluster; op: RunningOperator }> {
  const c = await startSimCluster(nodes ? { nodes } : {});
  const op = await startOperator(c);
  await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  return { c, op };
}

describe('multi-node NIMService on 8-GPU nodes', () => {
  let env: { c: SimCluster; op: RunningOperator } | undefined;
  after(async () => {
    await env?.op.stop();
    await env?.c.stop();
  });

  test('MPI: the LeaderWorkerSet, its hostfile ConfigMap, start script and SSH key; Ready once the leader\'s model answers', async () => {
    env = await start();
    const { c } = env;
    await c.ok(['apply', '-f', '-'], JSON.stringify(multiNode('ds')));
    await c.ok(['wait', 'nimservice/ds', '--for=jsonpath={.status.state}=Ready', '--timeout=60s']);
    const lws = c.get('leaderworkerset.x-k8s.io/leaderworkersets', 'default', 'ds-lws')!;
    assert.equal(lws.spec.leaderWorkerTemplate.size, 2);
    assert.equal(c.get('apps/deployments', 'default', 'ds'), undefined, 'no Deployment for a multi-node service');
    const hostfile = c.get('/configmaps', 'default', 'ds-mpi-config')!.data['hostfile-0'] as string;
    assert.match(hostfile, /^localhost slots=8\nds-lws-0-1\.ds-lws\.default\.svc slots=8\n?$/);
    assert.ok(c.get('/configmaps', 'default', 'ds-mpi-start-script'));
    const secret = c.get('/secrets', 'default', 'ds-ssh-pk')!;
    const key = secret.data['private.key'] as string;
    assert.match(Buffer.from(key, 'base64').toString(), /^-----BEGIN RSA PRIVATE KEY-----/);
    const pods = c.list('/pods', 'default').filter((p) => p.metadata.name.startsWith('ds-lws-0'));
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.spec.containers[0].resources.limits['nvidia.com/gpu'], '8');
    const svc = c.get('apps.nvidia.com/nimservices', 'default', 'ds')!;
    assert.equal(condition(svc, 'Ready')?.status, 'True');
    assert.ok(svc.status.model.name);
    // The key is made once: another reconcile (a spec edit) keeps the same Secret.
    await c.ok(['patch', 'nimservice', 'ds', '--type=merge', '-p', '{"spec":{"env":[{"name":"X","value":"1"}]}}']);
    await eventually(() => c.get('leaderworkerset.x-k8s.io/leaderworkersets', 'default', 'ds-lws')?.spec.leaderWorkerTemplate.leaderTemplate.spec.containers[0].env.some((e: any) => e.name === 'X'), 'the edit in the LWS');
    assert.equal(c.get('/secrets', 'default', 'ds-ssh-pk')!.data['private.key'], key);
    // Single-node again: the LeaderWorkerSet and its ConfigMaps go (their GPUs are freed), a Deployment comes.
    await c.ok(['patch', 'nimservice', 'ds', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/multiNode' }])]);
    await eventually(() => !c.get('leaderworkerset.x-k8s.io/leaderworkersets', 'default', 'ds-lws') && !c.get('/configmaps', 'default', 'ds-mpi-config'), 'the LWS and MPI ConfigMaps pruned');
    await eventually(() => c.get('apps/deployments', 'default', 'ds'), 'a Deployment');
  });
});

describe('multi-node NIMService on 4-GPU nodes', () => {
  let env: { c: SimCluster; op: RunningOperator } | undefined;
  after(async () => {
    await env?.op.stop();
    await env?.c.stop();
  });

  test('stays Pending with InsufficientGPU: no node has 8 GPUs', async () => {
    const l40s = (i: number): SimNode => ({ name: `gpu-l40s-${i}`, gpu: { product: 'NVIDIA-L40S', count: 4, memoryMiB: 46068, family: 'ada-lovelace', compute: [8, 9], deviceId: '26b9' } });
    env = await start([l40s(0), l40s(1), l40s(2), l40s(3)]);
    const { c } = env;
    await c.ok(['apply', '-f', '-'], JSON.stringify(multiNode('big', { ray: { rayPort: 6379 } })));
    const svc = await eventually(() => {
      const o = c.get('apps.nvidia.com/nimservices', 'default', 'big');
      return condition(o, 'Ready')?.reason === 'InsufficientGPU' ? o : undefined;
    }, 'InsufficientGPU', 30_000);
    assert.equal(svc.status.state, 'Pending');
    assert.match(condition(svc, 'Ready')!.message, /asks for 8 nvidia\.com\/gpu/);
    assert.match(condition(svc, 'Ready')!.message, /4 Insufficient nvidia\.com\/gpu/);
  });
});
