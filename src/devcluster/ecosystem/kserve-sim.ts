/**
 * A simulated KServe controller for `nimop dev`: what the NIM operator reads of KServe, no more.
 * It runs on an engine of its own (the simulation's queue and write helpers, over the same control
 * plane), and for each InferenceService:
 *  - settles the deployment mode once, as KServe does (status.deploymentMode, else the
 *    `serving.kserve.io/deploymentMode` annotation in either spelling, else the default of its
 *    ConfigMap `kserve/inferenceservice-config`, else Standard) and keeps it;
 *  - makes Deployment `<name>-predictor` from `spec.predictor` (the pod spec, labels, annotations,
 *    `minReplicas` replicas, at least one: Knative's scale-to-zero and KServe's HPA are not
 *    simulated) and Service `<name>-predictor` (port 80 to the container's first port), both owned
 *    by the InferenceService, in every mode (Knative mode too: there is no real Knative here);
 *  - reports `PredictorReady`, `IngressReady` and `Ready` from the Deployment's availability, with
 *    `status.url`, `status.address.url` and `status.observedGeneration`.
 * The simulation's Deployment controller, kubelet and endpoints do the rest (pods, NIM endpoints).
 * Started, it makes KServe's namespace `kserve` and ConfigMap `inferenceservice-config` (key `deploy`,
 * `defaultDeploymentMode: RawDeployment`) as KServe's install does, unless they exist.
 */
import type { ControlPlane } from '../server.js';
import type { ChangeEvent, Obj } from '../store.js';
import { CONFIGMAP, DEPLOY, Engine, NAMESPACE, SVC, controllerOf, ownerRef, setCondition, splitKey, templateHash, type Controller } from '../sim/engine.js';
import { ISVC } from './kserve.js';

const MANAGER = 'kserve-controller-manager';
const MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
const HASH_ANNOTATION = 'sim.nimop.dev/kserve-hash';
const ISVC_LABEL = 'serving.kserve.io/inferenceservice';
/** KServe's component fields of a predictor; everything else is the pod spec. */
const COMPONENT_FIELDS = new Set([
  'minReplicas', 'maxReplicas', 'scaleMetric', 'scaleMetricType', 'scaleTarget', 'containerConcurrency', 'timeout', 'canaryTrafficPercent',
  'logger', 'batcher', 'labels', 'annotations', 'deploymentStrategy', 'autoScaling', 'model', 'workerSpec', 'storageUri',
]);

/** KServe's mode, with the spellings before its rename folded into the current names. */
export function normalizeMode(mode: string | undefined): string | undefined {
  if (mode === 'RawDeployment') return 'Standard';
  if (mode === 'Serverless') return 'Knative';
  return mode;
}

const KNOWN = new Set(['Standard', 'Knative', 'ModelMesh']);

/** KServe's namespace and ConfigMap, as its install makes them. */
export const KSERVE_NAMESPACE = 'kserve';
export const KSERVE_CONFIGMAP = 'inferenceservice-config';
export const KSERVE_INSTALL_DEFAULT_MODE = 'RawDeployment';

/** The `defaultDeploymentMode` of KServe's ConfigMap, when it has a usable one. */
function configuredDefault(e: Engine): string | undefined {
  const raw = e.get(CONFIGMAP, KSERVE_NAMESPACE, KSERVE_CONFIGMAP)?.data?.deploy;
  if (typeof raw !== 'string') return undefined;
  try {
    const mode = (JSON.parse(raw) as { defaultDeploymentMode?: unknown }).defaultDeploymentMode;
    return typeof mode === 'string' && mode ? mode : undefined;
  } catch {
    return undefined;
  }
}

/** Makes KServe's namespace and its ConfigMap (`deploy.defaultDeploymentMode`) unless they exist. */
export function ensureKServeConfig(e: Engine, defaultDeploymentMode = KSERVE_INSTALL_DEFAULT_MODE): void {
  if (!e.get(NAMESPACE, undefined, KSERVE_NAMESPACE)) e.create(NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KSERVE_NAMESPACE } }, MANAGER);
  if (e.get(CONFIGMAP, KSERVE_NAMESPACE, KSERVE_CONFIGMAP)) return;
  e.create(
    CONFIGMAP,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: KSERVE_CONFIGMAP, namespace: KSERVE_NAMESPACE }, data: { deploy: JSON.stringify({ defaultDeploymentMode }) } },
    MANAGER,
  );
}

export class SimulatedKServe implements Controller {
  readonly name = 'kserve';

  constructor(private readonly e: Engine) {}

  *initialKeys(): Iterable<string> {
    for (const o of this.e.list(ISVC)) yield `${o.metadata.namespace}/${o.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === ISVC) yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    else if (ev.resource === DEPLOY || ev.resource === SVC) {
      const ref = controllerOf(ev.object);
      if (ref?.kind === 'InferenceService') yield `${ev.object.metadata.namespace}/${ref.name}`;
    }
  }

  reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const isvc = this.e.get(ISVC, ns, name);
    if (!isvc || isvc.metadata.deletionTimestamp) return;
    const mode = normalizeMode(isvc.status?.deploymentMode || isvc.metadata.annotations?.[MODE_ANNOTATION] || configuredDefault(this.e)) ?? 'Standard';
    if (!KNOWN.has(mode)) {
      this.status(isvc, mode, false, { reason: 'InvalidDeploymentMode', message: `invalid deployment mode ${mode}: supported modes are Standard (RawDeployment), Knative (Serverless) and ModelMesh` });
      return;
    }
    const predictor: Obj = isvc.spec?.predictor ?? {};
    const component = `${name}-predictor`;
    const selector = { app: `isvc.${component}` };
    const podSpec: Obj = Object.fromEntries(Object.entries(predictor).filter(([k]) => !COMPONENT_FIELDS.has(k)));
    const podLabels = { ...(predictor.labels ?? {}), [ISVC_LABEL]: name, component: 'predictor', ...selector };
    const spec: Obj = {
      replicas: Math.max(1, Number(predictor.minReplicas ?? 1)),
      selector: { matchLabels: selector },
      template: { metadata: { labels: podLabels, ...(predictor.annotations ? { annotations: predictor.annotations } : {}) }, spec: podSpec },
      ...(mode === 'Standard' && predictor.deploymentStrategy ? { strategy: predictor.deploymentStrategy } : {}),
    };
    const labels = { ...(isvc.metadata.labels ?? {}), [ISVC_LABEL]: name, component: 'predictor' };
    const deployment = this.ensure(DEPLOY, isvc, component, labels, spec);
    const port = Number(((podSpec.containers ?? [])[0]?.ports ?? [])[0]?.containerPort ?? 8080);
    this.ensure(SVC, isvc, component, labels, { selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: port }] });
    const st = deployment.status ?? {};
    const observed = (st.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0);
    const available = observed && (st.availableReplicas ?? 0) >= 1 && (st.updatedReplicas ?? 0) >= (deployment.spec?.replicas ?? 1);
    this.status(isvc, mode, available, available ? {} : { reason: 'MinimumReplicasUnavailable', message: `Deployment ${component} does not have minimum availability` });
  }

  /** Creates `kind` `<name>` owned by the InferenceService, or rewrites it when what we want changed. */
  private ensure(resource: string, isvc: Obj, name: string, labels: Record<string, string>, spec: Obj): Obj {
    const ns = isvc.metadata.namespace;
    const hash = templateHash(spec);
    const current = this.e.get(resource, ns, name);
    if (current && current.metadata.annotations?.[HASH_ANNOTATION] === hash) return current;
    const metadata = { name, namespace: ns, labels, annotations: { [HASH_ANNOTATION]: hash }, ownerReferences: [ownerRef(isvc)] };
    if (!current) return this.e.create(resource, { metadata, spec }, MANAGER);
    return this.e.update(resource, current, { ...structuredClone(current), metadata: { ...current.metadata, ...metadata }, spec: { ...current.spec, ...spec } }, MANAGER);
  }

  private status(isvc: Obj, mode: string, ready: boolean, why: { reason?: string; message?: string }): void {
    const ns = isvc.metadata.namespace;
    const name = isvc.metadata.name;
    const clusterLocal = isvc.metadata.labels?.['networking.kserve.io/visibility'] === 'cluster-local';
    const internal = `http://${name}-predictor.${ns}.svc.cluster.local`;
    const url = mode === 'Standard' ? (clusterLocal ? internal : `http://${name}-${ns}.example.com`) : clusterLocal ? `http://${name}.${ns}.svc.cluster.local` : `http://${name}.${ns}.example.com`;
    const cond = (type: string, ok: boolean) => (ok ? { type, status: 'True' } : { type, status: 'False', ...why });
    let conditions: Obj[] = isvc.status?.conditions ?? [];
    conditions = setCondition(conditions, cond('IngressReady', KNOWN.has(mode)));
    conditions = setCondition(conditions, cond('PredictorReady', ready));
    conditions = setCondition(conditions, cond('Ready', ready));
    const status: Obj = {
      ...(isvc.status ?? {}),
      conditions,
      deploymentMode: isvc.status?.deploymentMode ?? mode,
      observedGeneration: isvc.metadata.generation,
      ...(KNOWN.has(mode) ? { url, address: { url: internal } } : {}),
    };
    this.e.writeStatus(ISVC, isvc, status, MANAGER);
  }
}

export interface RunningAddon {
  stop(): void;
  /** Resolves once nothing is queued. */
  idle(): Promise<void>;
}

/**
 * Starts the simulated KServe controller on the control plane. A watcher of the store, with an
 * engine of its own (not one of the simulation's parts), so the add-on stays self-contained: it
 * acts only through the control plane's verbs, like a controller of a real cluster.
 */
export function startKServeSimulation(cp: ControlPlane, log: (entry: Record<string, unknown>) => void = () => {}): RunningAddon {
  const engine = new Engine(cp, log);
  ensureKServeConfig(engine);
  engine.add(new SimulatedKServe(engine));
  engine.start();
  return { stop: () => engine.stop(), idle: () => engine.idle() };
}
