/** The simulation's options: timings, topology, catalogue, and which parts run. */
import { defaultTopology, type SimNode } from './topology.js';

export interface SimulationParts {
  /** Create the topology's Node objects and keep their status. */
  nodes: boolean;
  /** Bind pending pods to nodes that fit them. */
  scheduler: boolean;
  /** Run bound pods: container states, readiness, exit codes, logs. */
  kubelet: boolean;
  deployments: boolean;
  statefulsets: boolean;
  /** Install a minimal LeaderWorkerSet CRD (leaderworkerset.x-k8s.io/v1) and run its groups. */
  leaderWorkerSets: boolean;
  jobs: boolean;
  /** Default StorageClass, PVC binding and dynamic PVs. */
  storage: boolean;
  /** Cluster IPs and Endpoints. */
  services: boolean;
  hpa: boolean;
  /** An HTTP server on loopback for every running NIM container. */
  nimEndpoints: boolean;
  /**
   * Dynamic Resource Allocation (resource.k8s.io/v1): NVIDIA's DRA driver's DeviceClass and
   * ResourceSlices, the resource-claim controller, and claim allocation in the scheduler.
   */
  dra: boolean;
}

export interface SimulationOptions {
  /**
   * Milliseconds each simulated step takes: binding a pod, pulling an image and starting its
   * containers, a container turning ready, a volume being provisioned. 0 (the default) in tests.
   */
  stepDelayMs: number;
  /**
   * Multiplies the durations the image catalogue gives (a model download, a model load, a script's
   * `sleep`). 0 (the default) makes them instant; 1 is the catalogue's own pace.
   */
  timeScale: number;
  /** First back-off of a crash-looping container (doubles per restart, capped at 5 minutes). */
  crashLoopBackoffMs: number;
  /** First back-off before a Job replaces a failed pod (doubles per failure, capped at 6 minutes). */
  jobBackoffMs: number;
  /** Period of the HPA controller's resync (it also reacts at once to changes of its inputs). */
  hpaSyncMs: number;
  /** The simulated nodes. */
  nodes: SimNode[];
  /** A YAML catalogue whose entries are tried before the built-in one. */
  cataloguePath?: string;
  /**
   * A container whose env, envFrom or volumes name a Secret or ConfigMap that does not exist:
   * 'error' waits with CreateContainerConfigError (or ContainerCreating for volumes) as a kubelet
   * does; 'ignore' starts it anyway.
   */
  missingReferences: 'error' | 'ignore';
  parts: SimulationParts;
  /** Where the simulation's structured log lines go (default: nowhere). */
  log?: (entry: Record<string, unknown>) => void;
}

export const ALL_PARTS: SimulationParts = {
  nodes: true,
  scheduler: true,
  kubelet: true,
  deployments: true,
  statefulsets: true,
  leaderWorkerSets: true,
  jobs: true,
  storage: true,
  services: true,
  hpa: true,
  nimEndpoints: true,
  dra: true,
};

export type SimulationInput = Partial<Omit<SimulationOptions, 'parts'>> & { parts?: Partial<SimulationParts> };

export function resolveOptions(input: SimulationInput = {}): SimulationOptions {
  return {
    stepDelayMs: input.stepDelayMs ?? 0,
    timeScale: input.timeScale ?? 0,
    crashLoopBackoffMs: input.crashLoopBackoffMs ?? 10_000,
    jobBackoffMs: input.jobBackoffMs ?? 0,
    hpaSyncMs: input.hpaSyncMs ?? 15_000,
    nodes: input.nodes ?? defaultTopology(),
    ...(input.cataloguePath ? { cataloguePath: input.cataloguePath } : {}),
    missingReferences: input.missingReferences ?? 'error',
    parts: { ...ALL_PARTS, ...(input.parts ?? {}) },
    ...(input.log ? { log: input.log } : {}),
  };
}

/** The options `nimop dev` should use: a pace a person can follow. */
export function devOptions(overrides: SimulationInput = {}): SimulationInput {
  return { stepDelayMs: 500, timeScale: 1, jobBackoffMs: 10_000, ...overrides };
}
