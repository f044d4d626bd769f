/**
 * Dynamic Resource Allocation in the simulated cluster: NVIDIA's DRA driver's DeviceClass and
 * ResourceSlices, the resource-claim controller making a pod's claims from templates, the
 * scheduler allocating devices by class and CEL selectors, shared claims, and the release of
 * devices when pods go.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const CLAIM = 'resource.k8s.io/resourceclaims';
const NS = 'dra';
let c: SimCluster;

before(async () => {
  c = await startSimCluster();
  await c.ok(['create', 'namespace', NS]);
});
after(async () => {
  await c?.stop();
});

function exactly(count: number, expressions: string[] = []): Obj {
  return { deviceClassName: 'gpu.nvidia.com', count, ...(expressions.length ? { selectors: expressions.map((expression) => ({ cel: { expression } })) } : {}) };
}

async function template(name: string, req: Obj): Promise<void> {
  const t = { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaimTemplate', metadata: { name, namespace: NS }, spec: { spec: { devices: { requests: [{ name: 'gpu', exactly: req }] } } } };
  await c.ok(['create', '-f', '-'], JSON.stringify(t));
}

async function pod(name: string, claim: Obj): Promise<void> {
  const p = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { resourceClaims: [{ name: 'gpus', ...claim }], containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { claims: [{ name: 'gpus' }] } }] },
  };
  await c.ok(['create', '-f', '-'], JSON.stringify(p));
}

const running = (name: string) => eventually(() => (c.get('/pods', NS, name)?.status?.phase === 'Running' ? c.get('/pods', NS, name) : undefined), `${name} to run`);

async function unschedulable(name: string): Promise<string> {
  return eventually(() => {
    const cond = condition(c.get('/pods', NS, name), 'PodScheduled');
    return cond?.status === 'False' && cond.reason === 'Unschedulable' ? (cond.message as string) : undefined;
  }, `${name} to be unschedulable`);
}

describe('the DRA driver', () => {
  test('publishes the gpu.nvidia.com DeviceClass and a ResourceSlice per GPU node', async () => {
    const cls = await c.json(['get', 'deviceclass', 'gpu.nvidia.com']);
    assert.match(cls.spec.selectors[0].cel.expression, /device\.driver == 'gpu\.nvidia\.com'/);
    const slices = await eventually(() => (c.list('resource.k8s.io/resourceslices').length === 5 ? c.list('resource.k8s.io/resourceslices') : undefined), 'five slices');
    assert.deepEqual(slices.map((s) => s.spec.nodeName).sort(), ['gpu-a100-0', 'gpu-h100-0', 'gpu-h100-1', 'gpu-l40s-0', 'gpu-vgpu-0']);
    const h100 = (await c.json(['get', 'resourceslices'])).items.find((s: Obj) => s.spec.nodeName === 'gpu-h100-0');
    assert.equal(h100.spec.driver, 'gpu.nvidia.com');
    assert.deepEqual(h100.spec.pool, { name: 'gpu-h100-0', generation: 1, resourceSliceCount: 1 });
    assert.equal(h100.spec.devices.length, 8);
    const d = h100.spec.devices[0];
    assert.equal(d.name, 'gpu-0');
    assert.equal(d.attributes.productName.string, 'NVIDIA H100 80GB HBM3');
    assert.equal(d.attributes.architecture.string, 'Hopper');
    assert.equal(d.attributes.cudaComputeCapability.version, '9.0.0');
    assert.equal(d.capacity.memory.value, '81559Mi');
    assert.equal(h100.metadata.ownerReferences[0].kind, 'Node');
  });
});

describe('claims from templates', () => {
  test('a pod gets its claim, allocated on a matching node, and runs; the claim goes with the pod', async () => {
    await template('two-hopper', exactly(2, ['device.attributes["gpu.nvidia.com"].architecture == "Hopper"', 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("79Gi")) >= 0']));
    await pod('trainer', { resourceClaimTemplateName: 'two-hopper' });
    const p = await running('trainer');
    assert.match(p.spec.nodeName, /^gpu-h100-/);
    const [st] = p.status.resourceClaimStatuses;
    assert.equal(st.name, 'gpus');
    assert.match(st.resourceClaimName, /^trainer-gpus-[a-z0-9]{5}$/);
    const claim = c.get(CLAIM, NS, st.resourceClaimName)!;
    assert.equal(claim.metadata.annotations['resource.kubernetes.io/pod-claim-name'], 'gpus');
    assert.equal(claim.metadata.ownerReferences[0].uid, p.metadata.uid);
    assert.ok(claim.metadata.finalizers.includes('resource.kubernetes.io/delete-protection'));
    const results = claim.status.allocation.devices.results;
    assert.equal(results.length, 2);
    for (const r of results) assert.deepEqual({ ...r, device: 'x' }, { request: 'gpu', driver: 'gpu.nvidia.com', pool: p.spec.nodeName, device: 'x' });
    assert.notEqual(results[0].device, results[1].device);
    assert.deepEqual(claim.status.allocation.nodeSelector.nodeSelectorTerms[0].matchFields[0].values, [p.spec.nodeName]);
    assert.deepEqual(claim.status.reservedFor, [{ resource: 'pods', name: 'trainer', uid: p.metadata.uid }]);
    await c.ok(['delete', 'pod', 'trainer', '-n', NS, '--wait=false']);
    await eventually(() => !c.get(CLAIM, NS, st.resourceClaimName), 'the claim to be deleted with its pod');
  });

  test('a request no node can satisfy stays Pending with the scheduler message', async () => {
    await template('sixteen', exactly(16));
    await pod('greedy', { resourceClaimTemplateName: 'sixteen' });
    const msg = await unschedulable('greedy');
    assert.equal(msg, '0/6 nodes are available: 6 cannot allocate all claims. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.');
    const name = c.get('/pods', NS, 'greedy')!.status.resourceClaimStatuses[0].resourceClaimName;
    assert.equal(c.get(CLAIM, NS, name)!.status?.allocation, undefined);
    await c.ok(['delete', 'pod', 'greedy', '-n', NS, '--wait=false']);
  });

  test('a selector that cannot be evaluated matches nothing and says why', async () => {
    await template('bad-attr', exactly(1, ['device.attributes["gpu.nvidia.com"].noSuchAttribute == "x"']));
    await pod('odd', { resourceClaimTemplateName: 'bad-attr' });
    const msg = await unschedulable('odd');
    // gpu-cc-0 publishes no devices; on the other five the selector fails.
    assert.match(msg, /^0\/6 nodes are available: 1 cannot allocate all claims, 5 cannot allocate all claims \(claim odd-gpus-\w+, request gpu: CEL runtime error: No such key: noSuchAttribute\)\. preemption: /);
    await c.ok(['delete', 'pod', 'odd', '-n', NS, '--wait=false']);
  });
});

describe('shared claims', () => {
  test('a claim named by two pods serves both, and is released when they go', async () => {
    const claim = {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaim',
      metadata: { name: 'shared-l40s', namespace: NS },
      spec: { devices: { requests: [{ name: 'gpu', exactly: exactly(1, ['device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA L40S")']) }] } },
    };
    await c.ok(['create', '-f', '-'], JSON.stringify(claim));
    await pod('reader-a', { resourceClaimName: 'shared-l40s' });
    await pod('reader-b', { resourceClaimName: 'shared-l40s' });
    const [a, b] = [await running('reader-a'), await running('reader-b')];
    assert.equal(a.spec.nodeName, 'gpu-l40s-0');
    assert.equal(b.spec.nodeName, 'gpu-l40s-0');
    const shared = c.get(CLAIM, NS, 'shared-l40s')!;
    assert.deepEqual(shared.status.allocation.devices.results, [{ request: 'gpu', driver: 'gpu.nvidia.com', pool: 'gpu-l40s-0', device: 'gpu-0' }]);
    assert.deepEqual(shared.status.reservedFor.map((r: Obj) => r.name).sort(), ['reader-a', 'reader-b']);
    await c.ok(['delete', 'pod', 'reader-a', '-n', NS, '--wait=false']);
    await eventually(() => c.get(CLAIM, NS, 'shared-l40s')?.status?.reservedFor?.length === 1, 'reader-a released');
    await c.ok(['delete', 'pod', 'reader-b', '-n', NS, '--wait=false']);
    const released = await eventually(() => {
      const x = c.get(CLAIM, NS, 'shared-l40s');
      return x && !x.status?.allocation && !x.metadata.finalizers ? x : undefined;
    }, 'the shared claim deallocated');
    assert.equal(released.status?.reservedFor, undefined);
  });
});
