/**
 * Simulated GPU nodes and the scheduler: node labels and capacity as GPU Feature Discovery and the
 * device plugin publish them, binding by GPU requests, node selectors, affinity and taints, and
 * kube-scheduler's Unschedulable message for pods that fit nowhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster();
});
after(async () => {
  await c?.stop();
});

function pod(name: string, ns: string, spec: Obj = {}, gpus?: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ...(gpus ? { resources: { limits: { 'nvidia.com/gpu': gpus } } } : {}) }],
      ...spec,
    },
  });
}

async function scheduled(ns: string, name: string): Promise<string> {
  return eventually(() => c.get('/pods', ns, name)?.spec?.nodeName as string | undefined, `${name} to be bound`);
}

async function unschedulable(ns: string, name: string): Promise<string> {
  return eventually(() => {
    const cond = condition(c.get('/pods', ns, name), 'PodScheduled');
    return cond?.status === 'False' && cond.reason === 'Unschedulable' ? (cond.message as string) : undefined;
  }, `${name} to be unschedulable`);
}

describe('nodes', () => {
  test('GPU nodes carry GFD labels and advertise nvidia.com/gpu', async () => {
    const h100 = await c.json(['get', 'nodes', '-l', 'nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3']);
    assert.deepEqual(h100.items.map((n: Obj) => n.metadata.name), ['gpu-h100-0', 'gpu-h100-1']);
    const n = h100.items[0];
    assert.equal(n.metadata.labels['nvidia.com/gpu.count'], '8');
    assert.equal(n.metadata.labels['nvidia.com/gpu.memory'], '81559');
    assert.equal(n.metadata.labels['feature.node.kubernetes.io/pci-10de.present'], 'true');
    assert.equal(n.metadata.labels['nvidia.com/mig.capable'], 'true');
    assert.equal(n.status.capacity['nvidia.com/gpu'], '8');
    assert.equal(n.status.allocatable['nvidia.com/gpu'], '8');
    assert.equal(condition(n, 'Ready')?.status, 'True');
    const vgpu = await c.json(['get', 'node', 'gpu-vgpu-0']);
    assert.equal(vgpu.metadata.labels['nvidia.com/vgpu.present'], 'true');
    const products = (await c.json(['get', 'nodes'])).items.map((x: Obj) => x.metadata.labels['nvidia.com/gpu.product']).filter(Boolean);
    assert.deepEqual(products.sort(), ['NVIDIA-A10-24Q', 'NVIDIA-A100-SXM4-80GB', 'NVIDIA-H100-80GB-HBM3', 'NVIDIA-H100-80GB-HBM3', 'NVIDIA-L40S']);
    // A node for confidential computing passes its GPUs through to sandboxes.
    const cc = await c.json(['get', 'node', 'gpu-cc-0']);
    assert.equal(cc.status.capacity['nvidia.com/pgpu'], '2');
    assert.equal(cc.status.capacity['nvidia.com/gpu'], undefined);
    assert.equal(n.status.capacity['rdma/rdma_shared_device_a'], '63');
  });
});

describe('scheduler', () => {
  test('a pod asking for more GPUs than any node has stays Pending with kube-scheduler\'s message', async () => {
    await c.ok(['create', 'namespace', 'sch-big']);
    await c.ok(['apply', '-f', '-'], pod('huge', 'sch-big', {}, 16));
    const msg = await unschedulable('sch-big', 'huge');
    assert.equal(msg, '0/6 nodes are available: 6 Insufficient nvidia.com/gpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.');
    const p = c.get('/pods', 'sch-big', 'huge')!;
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.spec.nodeName, undefined);
    const events = await c.ok(['get', 'events', '-n', 'sch-big', '--field-selector', 'reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /6 Insufficient nvidia\.com\/gpu/);
  });

  test('GPUs are accounted: the node selector picks the L40S node until its 4 GPUs are taken', async () => {
    await c.ok(['create', 'namespace', 'sch-l40s']);
    const sel = { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L40S' } };
    await c.ok(['apply', '-f', '-'], pod('a', 'sch-l40s', sel, 3));
    assert.equal(await scheduled('sch-l40s', 'a'), 'gpu-l40s-0');
    await c.ok(['apply', '-f', '-'], pod('b', 'sch-l40s', sel, 2));
    assert.equal(
      await unschedulable('sch-l40s', 'b'),
      "0/6 nodes are available: 1 Insufficient nvidia.com/gpu, 5 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: 1 No preemption victims found for incoming pod, 5 Preemption is not helpful for scheduling.",
    );
    // Freeing the GPUs lets the pending pod in.
    await c.ok(['delete', 'pod', 'a', '-n', 'sch-l40s', '--wait=false']);
    assert.equal(await scheduled('sch-l40s', 'b'), 'gpu-l40s-0');
    await eventually(() => c.get('/pods', 'sch-l40s', 'b')?.status?.phase === 'Running', 'b running');
  });

  test('required node affinity and CPU/memory requests are honoured', async () => {
    await c.ok(['create', 'namespace', 'sch-aff']);
    const affinity = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'nvidia.com/gpu.family', operator: 'In', values: ['ampere'] }, { key: 'nvidia.com/gpu.count', operator: 'Gt', values: ['4'] }] }],
          },
        },
      },
    };
    await c.ok(['apply', '-f', '-'], pod('amp', 'sch-aff', affinity, 1));
    assert.equal(await scheduled('sch-aff', 'amp'), 'gpu-a100-0');
    const greedy = JSON.parse(pod('cpu', 'sch-aff'));
    greedy.spec.containers[0].resources = { requests: { cpu: '1000' } };
    await c.ok(['apply', '-f', '-'], JSON.stringify(greedy));
    assert.match(await unschedulable('sch-aff', 'cpu'), /^0\/6 nodes are available: 6 Insufficient cpu\./);
  });

  test('a pod whose PVC does not exist, or is unbound, is not scheduled', async () => {
    await c.ok(['create', 'namespace', 'sch-pvc']);
    const spec = { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'missing' } }] };
    await c.ok(['apply', '-f', '-'], pod('p', 'sch-pvc', spec));
    assert.equal(
      await unschedulable('sch-pvc', 'p'),
      '0/6 nodes are available: persistentvolumeclaim "missing" not found. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.',
    );
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'missing', namespace: 'sch-pvc' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await c.ok(['apply', '-f', '-'], JSON.stringify(claim));
    await scheduled('sch-pvc', 'p');
  });
});

describe('custom topology', () => {
  test('taints keep pods off a node unless tolerated; MIG partitions are what the device plugin advertises', async () => {
    const t = await startSimCluster({
      nodes: [
        { name: 'tainted', gpu: { product: 'NVIDIA-H100-80GB-HBM3', count: 8, memoryMiB: 81559 }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
        { name: 'mig', gpu: { product: 'NVIDIA-A100-SXM4-40GB', count: 1, memoryMiB: 40960, mig: { capable: true, strategy: 'single', profile: '1g.5gb', perGpu: 7 } } },
      ],
    });
    try {
      const mig = await t.json(['get', 'node', 'mig']);
      assert.equal(mig.metadata.labels['nvidia.com/gpu.product'], 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb');
      assert.equal(mig.metadata.labels['nvidia.com/mig.strategy'], 'single');
      assert.equal(mig.status.allocatable['nvidia.com/gpu'], '7');
      await t.ok(['apply', '-f', '-'], pod('needs-8', 'default', {}, 8));
      await eventually(() => condition(t.get('/pods', 'default', 'needs-8'), 'PodScheduled')?.message === '0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.', 'the taint message');
      await t.ok(['apply', '-f', '-'], pod('tolerant', 'default', { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }, 8));
      await eventually(() => t.get('/pods', 'default', 'tolerant')?.spec?.nodeName === 'tainted', 'the tolerant pod on the tainted node');
    } finally {
      await t.stop();
    }
  });
});
