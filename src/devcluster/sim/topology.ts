/**
 * The simulated cluster's nodes: what a GPU node looks like once NVIDIA's GPU Feature Discovery and
 * Node Feature Discovery have labelled it, and the device plugin advertises `nvidia.com/gpu`.
 */
import type { Obj } from '../store.js';

export interface SimGpu {
  /** `nvidia.com/gpu.product`, e.g. NVIDIA-H100-80GB-HBM3. */
  product: string;
  count: number;
  /** `nvidia.com/gpu.memory` in MiB. */
  memoryMiB: number;
  /** `nvidia.com/gpu.family` (hopper, ampere, ada-lovelace …). */
  family?: string;
  compute?: [number, number];
  /** PCI device id (e.g. 2330 for H100 SXM5), for `gpu_device` matching. */
  deviceId?: string;
  /** GPUs joined by NVLink/NVSwitch (informational label). */
  nvlink?: boolean;
  /** MIG: `capable` only, or partitioned with the single or mixed strategy. */
  mig?: { capable: boolean; strategy?: 'single' | 'mixed'; profile?: string; perGpu?: number };
  /** A vGPU guest (GFD's nvidia.com/vgpu.* labels). */
  vgpu?: { hostDriverVersion: string; hostDriverBranch: string };
  /**
   * GPUs passed through to sandboxed VMs (Kata, confidential computing): the sandbox device plugin
   * advertises them as `nvidia.com/pgpu`, and GPU Feature Discovery does not run.
   */
  passthrough?: boolean;
}

export interface SimNode {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  zone?: string;
  instanceType?: string;
  gpu?: SimGpu;
  /** Other extended resources the node advertises (e.g. rdma/rdma_shared_device_a from the Network Operator). */
  resources?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Obj[];
}

const H100: SimGpu = { product: 'NVIDIA-H100-80GB-HBM3', count: 8, memoryMiB: 81559, family: 'hopper', compute: [9, 0], deviceId: '2330', nvlink: true, mig: { capable: true } };
const A100: SimGpu = { product: 'NVIDIA-A100-SXM4-80GB', count: 8, memoryMiB: 81920, family: 'ampere', compute: [8, 0], deviceId: '20b2', nvlink: true, mig: { capable: true } };
const L40S: SimGpu = { product: 'NVIDIA-L40S', count: 4, memoryMiB: 46068, family: 'ada-lovelace', compute: [8, 9], deviceId: '26b9' };
const A10_VGPU: SimGpu = {
  product: 'NVIDIA-A10-24Q',
  count: 2,
  memoryMiB: 24576,
  family: 'ampere',
  compute: [8, 6],
  deviceId: '2236',
  vgpu: { hostDriverVersion: '550.90.05', hostDriverBranch: 'r550_00' },
};

const H100_PCIE_PASSTHROUGH: SimGpu = { product: 'NVIDIA-H100-PCIe', count: 2, memoryMiB: 81559, family: 'hopper', compute: [9, 0], deviceId: '2331', passthrough: true };

/** RDMA devices the Network Operator's shared device plugin advertises on the DGX nodes. */
const RDMA = { 'rdma/rdma_shared_device_a': '63' };

/**
 * Two DGX-class H100 nodes, an A100 node (all three with RDMA), an L40S node, a vGPU virtual
 * machine, and a node whose GPUs are passed through to confidential-computing sandboxes.
 */
export function defaultTopology(): SimNode[] {
  return [
    { name: 'gpu-h100-0', cpu: '224', memory: '2063Gi', zone: 'us-west-2a', instanceType: 'dgx-h100', gpu: H100, resources: RDMA },
    { name: 'gpu-h100-1', cpu: '224', memory: '2063Gi', zone: 'us-west-2b', instanceType: 'dgx-h100', gpu: H100, resources: RDMA },
    { name: 'gpu-a100-0', cpu: '256', memory: '2015Gi', zone: 'us-west-2a', instanceType: 'dgx-a100', gpu: A100, resources: RDMA },
    { name: 'gpu-l40s-0', cpu: '128', memory: '1007Gi', zone: 'us-west-2b', instanceType: 'l40s-server', gpu: L40S },
    { name: 'gpu-vgpu-0', cpu: '32', memory: '251Gi', zone: 'us-west-2a', instanceType: 'vm-a10-24q', gpu: A10_VGPU },
    { name: 'gpu-cc-0', cpu: '64', memory: '503Gi', zone: 'us-west-2b', instanceType: 'h100-pcie-cc', gpu: H100_PCIE_PASSTHROUGH },
  ];
}

/** What GFD labels a MIG partition's product with under the single strategy. */
function migProduct(g: SimGpu): string {
  return `${g.product}-MIG-${g.mig?.profile ?? '1g.10gb'}`;
}

/** The node's labels, as kubelet, NFD and GFD would set them. */
export function nodeLabels(n: SimNode): Record<string, string> {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
  };
  if (n.zone) {
    labels['topology.kubernetes.io/zone'] = n.zone;
    labels['topology.kubernetes.io/region'] = n.zone.replace(/[a-z]$/, '');
  }
  if (n.instanceType) labels['node.kubernetes.io/instance-type'] = n.instanceType;
  const g = n.gpu;
  if (g?.passthrough) {
    // No driver on the host: no GFD labels, only what the GPU Operator's sandbox components set.
    Object.assign(labels, {
      'feature.node.kubernetes.io/pci-10de.present': 'true',
      'nvidia.com/gpu.workload.config': 'vm-passthrough',
      'nvidia.com/gpu.deploy.sandbox-device-plugin': 'true',
      'nvidia.com/cc.capable': 'true',
    });
  } else if (g) {
    const split = g.mig?.strategy === 'single' ? (g.mig.perGpu ?? 7) : 1;
    Object.assign(labels, {
      'feature.node.kubernetes.io/pci-10de.present': 'true',
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.deploy.device-plugin': 'true',
      'nvidia.com/gpu.deploy.gpu-feature-discovery': 'true',
      'nvidia.com/gpu.product': g.mig?.strategy === 'single' ? migProduct(g) : g.product,
      'nvidia.com/gpu.count': String(g.count * split),
      'nvidia.com/gpu.memory': String(g.memoryMiB),
      'nvidia.com/gpu.replicas': '1',
      'nvidia.com/gpu.sharing-strategy': 'none',
      'nvidia.com/cuda.driver.major': '550',
      'nvidia.com/cuda.driver.minor': '90',
      'nvidia.com/cuda.driver.rev': '07',
      'nvidia.com/cuda.runtime.major': '12',
      'nvidia.com/cuda.runtime.minor': '4',
    });
    if (g.family) labels['nvidia.com/gpu.family'] = g.family;
    if (g.compute) {
      labels['nvidia.com/gpu.compute.major'] = String(g.compute[0]);
      labels['nvidia.com/gpu.compute.minor'] = String(g.compute[1]);
    }
    if (g.nvlink) labels['nvidia.com/gpu.machine'] = n.instanceType?.toUpperCase() ?? 'NVLINK-SYSTEM';
    if (g.mig) {
      labels['nvidia.com/mig.capable'] = String(g.mig.capable);
      labels['nvidia.com/mig.strategy'] = g.mig.strategy ?? 'none';
      labels['nvidia.com/mig.config'] = g.mig.strategy ? `all-${g.mig.profile ?? '1g.10gb'}` : 'all-disabled';
    } else labels['nvidia.com/mig.capable'] = 'false';
    if (g.vgpu) {
      labels['nvidia.com/vgpu.present'] = 'true';
      labels['nvidia.com/vgpu.host-driver-version'] = g.vgpu.hostDriverVersion;
      labels['nvidia.com/vgpu.host-driver-branch'] = g.vgpu.hostDriverBranch;
    }
  }
  return { ...labels, ...(n.labels ?? {}) };
}

/** Capacity: CPU, memory, pods and the device plugin's GPUs (or MIG devices). */
export function nodeCapacity(n: SimNode): Record<string, string> {
  const cap: Record<string, string> = {
    cpu: n.cpu ?? '32',
    memory: n.memory ?? '128Gi',
    pods: String(n.pods ?? 110),
    'ephemeral-storage': '1843Gi',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
  };
  const g = n.gpu;
  if (g?.passthrough) cap['nvidia.com/pgpu'] = String(g.count);
  else if (g) {
    if (g.mig?.strategy === 'mixed') cap[`nvidia.com/mig-${g.mig.profile ?? '1g.10gb'}`] = String(g.count * (g.mig.perGpu ?? 7));
    else cap['nvidia.com/gpu'] = String(g.count * (g.mig?.strategy === 'single' ? (g.mig.perGpu ?? 7) : 1));
  }
  return { ...cap, ...(n.resources ?? {}) };
}

/** The Node object the simulation creates. */
export function nodeObject(n: SimNode): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: nodeLabels(n),
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'sim.nimop.dev/simulated': 'true',
      },
    },
    spec: { podCIDR: '', ...(n.taints?.length ? { taints: n.taints } : {}) },
  };
}

/** The status a kubelet reports for the node. */
export function nodeStatus(n: SimNode, index: number, since: string): Obj {
  const cap = nodeCapacity(n);
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: since,
    lastTransitionTime: since,
    reason,
    message,
  });
  return {
    capacity: cap,
    allocatable: { ...cap },
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: nodeIP(index) },
      { type: 'Hostname', address: n.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: `sim${index.toString(16).padStart(29, '0')}`,
      systemUUID: `00000000-0000-0000-0000-${index.toString(16).padStart(12, '0')}`,
      bootID: `00000000-0000-0000-0001-${index.toString(16).padStart(12, '0')}`,
      kernelVersion: '6.8.0-nimop-sim',
      osImage: 'Ubuntu 22.04.4 LTS',
      containerRuntimeVersion: 'containerd://1.7.20',
      kubeletVersion: 'v1.34.0',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

export function nodeIP(index: number): string {
  return `10.0.0.${10 + index}`;
}

/** The GPU of a node object, read back from its labels (nodes users create work too). */
export function gpuOfNode(node: Obj | undefined): { product: string; count: number; memoryMiB: number } | undefined {
  const labels: Record<string, string> = node?.metadata?.labels ?? {};
  const product = labels['nvidia.com/gpu.product'];
  if (!product) return undefined;
  return { product, count: Number(labels['nvidia.com/gpu.count'] ?? 0), memoryMiB: Number(labels['nvidia.com/gpu.memory'] ?? 0) };
}
