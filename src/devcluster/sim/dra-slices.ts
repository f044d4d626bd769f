/**
 * What NVIDIA's DRA driver for GPUs (k8s-dra-driver-gpu) publishes in the simulated cluster: the
 * DeviceClass `gpu.nvidia.com` its Helm chart installs, and one ResourceSlice per GPU node (pool =
 * node name, one device `gpu-<i>` per GPU with the attributes and capacity the kubelet plugin
 * advertises), owned by its Node like a kubelet plugin's slices. Nodes whose GPUs are passed
 * through to sandboxes run no driver and publish nothing.
 */
import { createHash } from 'node:crypto';
import type { ChangeEvent, Obj } from '../store.js';
import { NODE, randomSuffix, type Controller, type Engine } from './engine.js';
import type { SimGpu, SimNode } from './topology.js';

export const DRIVER = 'gpu.nvidia.com';
export const CLASS = 'resource.k8s.io/deviceclasses';
export const SLICE = 'resource.k8s.io/resourceslices';
export const CLAIM = 'resource.k8s.io/resourceclaims';
export const TEMPLATE = 'resource.k8s.io/resourceclaimtemplates';
const MANAGER = 'nvidia-dra-driver-gpu';
const KEY = 'slices';

const ARCH: Record<string, string> = { hopper: 'Hopper', ampere: 'Ampere', 'ada-lovelace': 'Ada Lovelace', blackwell: 'Blackwell', turing: 'Turing', volta: 'Volta' };

/** The DeviceClass the driver's chart installs for whole GPUs. */
export function gpuDeviceClass(): Obj {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name: DRIVER },
    spec: { selectors: [{ cel: { expression: `device.driver == '${DRIVER}' && device.attributes['${DRIVER}'].type == 'gpu'` } }] },
  };
}

function uuid(node: string, i: number): string {
  const h = createHash('sha256').update(`${node}/${i}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One device per GPU, as the kubelet plugin publishes it. */
export function gpuDevices(node: string, g: SimGpu): Obj[] {
  const productName = g.product.replace(/-/g, ' ');
  const compute = g.compute ? `${g.compute[0]}.${g.compute[1]}.0` : '8.0.0';
  return Array.from({ length: g.count }, (_, i) => {
    const bus = `0000:${(0x18 + i * 0x10).toString(16).padStart(2, '0')}:00.0`;
    return {
      name: `gpu-${i}`,
      attributes: {
        type: { string: 'gpu' },
        uuid: { string: uuid(node, i) },
        productName: { string: productName },
        brand: { string: 'Nvidia' },
        architecture: { string: ARCH[g.family ?? ''] ?? 'Unknown' },
        cudaComputeCapability: { version: compute },
        driverVersion: { version: '550.90.7' },
        cudaDriverVersion: { version: '12.4.0' },
        index: { int: i },
        minor: { int: i },
        pcieBusID: { string: bus },
        'resource.kubernetes.io/pcieRoot': { string: `pci0000:${bus.slice(5, 7)}` },
      },
      capacity: { memory: { value: `${g.memoryMiB}Mi` } },
    };
  });
}

export function gpuSlice(node: Obj, sim: SimNode): Obj {
  const name = String(node.metadata.name);
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: {
      name: `${name}-${DRIVER}-${randomSuffix()}`,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid, controller: true }],
    },
    spec: { driver: DRIVER, nodeName: name, pool: { name, generation: 1, resourceSliceCount: 1 }, devices: gpuDevices(name, sim.gpu!) },
  };
}

/** The driver's DaemonSet and chart: keeps the DeviceClass and each GPU node's ResourceSlice. */
export class DraDriver implements Controller {
  readonly name = 'dra-driver';

  constructor(
    private readonly e: Engine,
    private readonly nodes: SimNode[],
  ) {}

  initialKeys(): Iterable<string> {
    return [KEY];
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === NODE || ev.resource === SLICE || (ev.resource === CLASS && ev.type === 'DELETED')) yield KEY;
  }

  reconcile(): void {
    if (!this.e.type(SLICE)) return;
    if (!this.e.get(CLASS, undefined, DRIVER)) this.e.create(CLASS, gpuDeviceClass(), MANAGER);
    const slices = this.e.list(SLICE).filter((s) => s.spec?.driver === DRIVER);
    for (const sim of this.nodes) {
      if (!sim.gpu || sim.gpu.passthrough || sim.gpu.count <= 0) continue;
      const node = this.e.get(NODE, undefined, sim.name);
      if (!node || node.metadata.deletionTimestamp) continue;
      if (slices.some((s) => s.spec?.nodeName === sim.name && !s.metadata.deletionTimestamp)) continue;
      this.e.create(SLICE, gpuSlice(node, sim), MANAGER);
    }
  }
}
