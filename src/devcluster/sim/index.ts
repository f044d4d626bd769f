/**
 * The simulated cluster behind the embedded control plane: nodes with GPUs, a scheduler, kubelets
 * running containers as the image catalogue says, the built-in controllers whose effects an
 * operator reads (Deployments, StatefulSets, LeaderWorkerSets, Jobs, PVCs, Services, HPAs), and a
 * live HTTP endpoint for every running NIM. They act only through the control plane's verbs, as
 * kube-controller-manager, kube-scheduler and kubelets act through kube-apiserver.
 *
 *   const sim = startSimulation(cp, devOptions({ cataloguePath }));   // nimop dev
 *   const sim = startSimulation(cp);                                  // tests: no delays
 */
import type { ControlPlane } from '../server.js';
import type { Obj } from '../store.js';
import { installApiServerHooks } from './apiserver-hooks.js';
import { Catalogue, type CatalogueEntry } from './catalogue.js';
import { Deployments } from './deployments.js';
import { ResourceClaimController } from './dra.js';
import { DraAllocator } from './dra-allocator.js';
import { DraDriver } from './dra-slices.js';
import { Engine, LWS, POD, SC, splitKey } from './engine.js';
import { Hpas, type MetricSetting } from './hpa.js';
import { Jobs } from './jobs.js';
import { Kubelet } from './kubelet.js';
import { podLogs } from './logs.js';
import { LeaderWorkerSets, lwsCRD } from './lws.js';
import { NimFleet, type LoadTarget } from './nim-fleet.js';
import type { NimLoad } from './nim-endpoint.js';
import { Nodes } from './nodes.js';
import { resolveOptions, type SimulationInput, type SimulationOptions } from './options.js';
import { Scheduler } from './scheduler.js';
import { Endpoints, kubernetesService } from './services.js';
import { StatefulSets } from './statefulsets.js';
import { Storage, standardClass } from './storage.js';
import { Volumes } from './vfs.js';

export { devOptions, resolveOptions, ALL_PARTS, type SimulationInput, type SimulationOptions, type SimulationParts } from './options.js';
export { defaultTopology, type SimGpu, type SimNode } from './topology.js';
export { Catalogue, CatalogueError, parseCatalogue, type CatalogueEntry } from './catalogue.js';
export { installApiServerHooks } from './apiserver-hooks.js';
export type { MetricSetting } from './hpa.js';
export type { LoadTarget } from './nim-fleet.js';
export type { NimLoad } from './nim-endpoint.js';

export interface ImageFailure {
  /** Exit code of every container of the image (default 1). */
  exitCode?: number;
  /** When it exits, ms after it starts (scaled by timeScale; default 0). */
  afterMs?: number;
  log?: string;
  /** Fail the pull instead (ErrImagePull / ImagePullBackOff). */
  pullError?: string;
}

export interface SimulationStats {
  nodes: number;
  pods: { pending: number; running: number; succeeded: number; failed: number };
  nimEndpoints: number;
}

export interface Simulation {
  readonly options: SimulationOptions;
  readonly catalogue: Catalogue;
  /** Stops every controller and NIM endpoint (objects stay as they are). */
  stop(): Promise<void>;
  /** Resolves once no reconcile is queued (timers for delayed steps may still be pending). */
  idle(): Promise<void>;
  /** Sets a metric value the HPAs read (later settings win). */
  setMetric(m: MetricSetting): void;
  clearMetrics(): void;
  /** Sets the load simulated NIMs report (and HPAs on their pod metrics read). */
  setNimLoad(target: LoadTarget, load: Partial<NimLoad>, spread?: 'perPod' | 'total'): void;
  clearNimLoad(): void;
  /** Makes NIMs' /v1/health/live or /v1/health/ready fail (their pods turn unready). */
  setNimHealth(target: LoadTarget, health: { live?: boolean; ready?: boolean }): void;
  /** Makes containers of images matching a glob fail; returns a function that undoes it. */
  failImage(pattern: string, failure?: ImageFailure): () => void;
  /** The live address of a pod's simulated NIM endpoint. */
  nimEndpoint(namespace: string, pod: string): { host: string; port: number } | undefined;
  /** What `kubectl logs` would show. */
  podLog(namespace: string, pod: string, container?: string): string | undefined;
  /** OCI config labels of an image, per the catalogue (what a registry inspection would read). */
  imageLabels(image: string): Record<string, string>;
  stats(): SimulationStats;
}

const running = new WeakMap<ControlPlane, { fleet?: NimFleet }>();

/**
 * The address at which the operator, running inside `nimop dev`, reaches a Service's port: the live
 * simulated NIM endpoint of one of the Service's ready pods (round robin), or undefined when the
 * Service does not exist, no ready pod serves that port, or no simulation runs. This is the one
 * resolver the dev mode uses, so the code path that probes a model is the one the tests exercise.
 */
export function resolveServiceAddress(cp: ControlPlane, namespace: string, service: string, port: number | string): { host: string; port: number } | undefined {
  return running.get(cp)?.fleet?.resolveService(namespace, service, port);
}

export function startSimulation(cp: ControlPlane, input: SimulationInput = {}): Simulation {
  const options = resolveOptions(input);
  const log = options.log ?? (() => {});
  const catalogue = Catalogue.load(options.cataloguePath);
  const parts = options.parts;
  const engine = new Engine(cp, log);
  if (parts.services || parts.storage || parts.jobs) installApiServerHooks(cp);
  const volumes = new Volumes();
  let hpas: Hpas | undefined;
  const fleet = parts.nimEndpoints
    ? new NimFleet(cp.store, (ns, pod) => {
        engine.enqueue('kubelet', `${ns}/${pod}`);
        hpas?.poke(ns);
      })
    : undefined;
  const kubelet = new Kubelet(engine, options, catalogue, volumes, fleet);
  // What exists before anything runs: nodes, the default StorageClass, the LWS API.
  if (parts.nodes) {
    const nodes = new Nodes(engine, options.nodes);
    nodes.register();
    engine.add(nodes);
  }
  if (parts.storage && !engine.get(SC, undefined, 'standard')) engine.create(SC, standardClass(), 'kube-controller-manager');
  if (parts.services) kubernetesService(engine, cp.port);
  if (parts.leaderWorkerSets && !cp.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, 'leaderworkersets.leaderworkerset.x-k8s.io')) {
    engine.create('apiextensions.k8s.io/customresourcedefinitions', lwsCRD(), 'nimop-simulation');
  }
  if (parts.dra) engine.add(new DraDriver(engine, options.nodes));
  if (parts.dra) engine.add(new ResourceClaimController(engine));
  if (parts.scheduler) engine.add(new Scheduler(engine, options.stepDelayMs, parts.dra ? new DraAllocator(engine) : undefined));
  if (parts.kubelet) engine.add(kubelet);
  if (parts.deployments) engine.add(new Deployments(engine));
  if (parts.statefulsets) engine.add(new StatefulSets(engine));
  if (parts.leaderWorkerSets) engine.add(new LeaderWorkerSets(engine));
  if (parts.jobs) engine.add(new Jobs(engine, options.jobBackoffMs));
  if (parts.storage) engine.add(new Storage(engine, options.stepDelayMs));
  if (parts.services) engine.add(new Endpoints(engine));
  if (parts.hpa) engine.add((hpas = new Hpas(engine, fleet, options.hpaSyncMs)));
  engine.start();
  const previousLogs = cp.podLogs;
  if (parts.kubelet) {
    cp.podLogs = (pod: Obj, q: URLSearchParams) => podLogs(kubelet, pod, q) ?? (previousLogs ? previousLogs(pod, q) : String(pod.metadata?.annotations?.['nimop.dev/log'] ?? ''));
  }
  running.set(cp, { ...(fleet ? { fleet } : {}) });
  log({ level: 'info', msg: 'simulation started', nodes: options.nodes.length, parts: Object.entries(parts).filter(([, on]) => on).map(([k]) => k) });

  return {
    options,
    catalogue,
    async stop() {
      engine.stop();
      if (cp.podLogs && parts.kubelet) cp.podLogs = previousLogs;
      running.delete(cp);
      await fleet?.stopAll();
    },
    idle: () => engine.idle(),
    setMetric: (m) => hpas?.setMetric(m),
    clearMetrics: () => hpas?.clearMetrics(),
    setNimLoad: (target, load, spread) => fleet?.setLoad(target, load, spread),
    clearNimLoad: () => fleet?.clearLoad(),
    setNimHealth: (target, health) => fleet?.setHealth(target, health),
    failImage(pattern, failure = {}) {
      const entry: CatalogueEntry = failure.pullError
        ? { match: pattern, pullError: failure.pullError }
        : { match: pattern, run: [{ exit: failure.exitCode ?? 1, afterMs: failure.afterMs ?? 0, log: failure.log ?? `Error: simulated failure of ${pattern}` }] };
      return catalogue.prepend(entry);
    },
    nimEndpoint(namespace, pod) {
      const ep = fleet?.get(namespace, pod);
      return ep?.listening ? { host: '127.0.0.1', port: ep.port } : undefined;
    },
    podLog(namespace, pod, container) {
      const lines = kubelet.logs(namespace, pod, container, false);
      return lines ? (lines.length ? `${lines.join('\n')}\n` : '') : undefined;
    },
    imageLabels: (image) => catalogue.imageLabels(image),
    stats() {
      const pods = cp.store.list(POD);
      const phase = (p: string) => pods.filter((x) => (x.status?.phase ?? 'Pending') === p).length;
      return {
        nodes: cp.store.list('/nodes').length,
        pods: { pending: phase('Pending'), running: phase('Running'), succeeded: phase('Succeeded'), failed: phase('Failed') },
        nimEndpoints: fleet?.endpoints.size ?? 0,
      };
    },
  };
}

export { LWS, splitKey };
