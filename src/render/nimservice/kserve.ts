/**
 * The children of a NIMService with `spec.inferencePlatform: kserve` (inventory §2.2.14; §6
 * behaviours 49–53; Appendix A15 fixed): ServiceAccount, Role and RoleBinding as standalone, the
 * model PVC it creates for itself, a ServiceMonitor (Standard mode only), the DRA
 * ResourceClaimTemplates, and the InferenceService `<name>` whose predictor runs the NIM container.
 * KServe makes the Deployment, Service and autoscaler: the standalone Service, Deployment, HPA,
 * Ingress and routes `<name>` are never rendered, and are listed as absent (left from a standalone
 * spec). Pure: the same (svc, facts) always yields deep-equal results.
 */
import type { V1ContainerPort, V1Probe } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { podAnnotations, selectorLabels, serviceAnnotations, serviceLabels, specHash, withHashes } from '../labels.js';
import { apiPort, childMeta, grpcPort, SpecError, type NIMServiceFacts } from './common.js';
import { GATEWAY_API_VERSION, MONITORING_API_VERSION } from './crd-types.js';
import { containerPorts, renderDeployment } from './deployment.js';
import { addClaims, namedDRAResources, renderClaimTemplates, validateDRA } from './dra.js';
import { eppAbsent } from './epp.js';
import { autoscalingEnabled, minReplicas } from './hpa.js';
import type { Child, ChildRef, NIMServiceRender } from './index.js';
import {
  AUTOSCALER_CLASS_ANNOTATION, DEPLOYMENT_MODE_ANNOTATION, KNATIVE_MAX_SCALE, KNATIVE_MIN_SCALE, KSERVE_API_VERSION,
  METRIC_AGGREGATION_ANNOTATION, PROMETHEUS_SCRAPING_ANNOTATION, VISIBILITY_LABEL, knativeScaleBound, kserveMode,
  type InferenceService, type InferenceServiceLike, type KServeDefaultMode, type KServeMode, type Predictor,
} from './kserve-mode.js';
import { LWS_API_VERSION } from './multinode-types.js';
import { lwsName } from './parallelism.js';
import { modelPVCWanted, renderModelPVC } from './pvc.js';
import { renderRole, renderRoleBinding, renderServiceAccount } from './rbac.js';
import { ingressEnabled } from './routes.js';
import { renderServiceMonitor, serviceMonitorEnabled } from './servicemonitor.js';
import { isStorageProblem, resolveModelStore } from './storage.js';

export * from './kserve-mode.js';

export interface KServeFacts extends NIMServiceFacts {
  /** The InferenceService `<name>` as read from the cache; its deployment mode is kept. */
  liveInferenceService?: InferenceServiceLike;
  /** KServe's default mode from its ConfigMap; read only when neither the live object nor the annotation decides. */
  kserveDefaultMode?: KServeDefaultMode;
}

export type KServeChild = Child | InferenceService;

export interface KServeRender extends Omit<NIMServiceRender, 'children'> {
  children: KServeChild[];
  /** The deployment mode written (or kept). */
  mode: KServeMode;
}

type Probe = Wire<V1Probe>;

/**
 * Knative-mode default probes: the numeric API port (Knative forbids named ports), or a gRPC probe on
 * `grpcPort` when set; the startup probe gives up after 30 failures instead of 120.
 */
export function knativeProbe(svc: NIMService, which: 'liveness' | 'readiness' | 'startup'): Probe | undefined {
  const spec = svc.spec[`${which}Probe`];
  if (spec?.enabled === false) return undefined;
  if (spec?.probe) return structuredClone(spec.probe);
  const grpc = grpcPort(svc);
  const action: Probe = grpc !== undefined ? { grpc: { port: grpc } } : { httpGet: { path: which === 'liveness' ? '/v1/health/live' : '/v1/health/ready', port: apiPort(svc) } };
  return {
    ...action,
    initialDelaySeconds: which === 'startup' ? 30 : 15,
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: which === 'startup' ? 30 : 3,
  };
}

/** Knative-mode container ports: unnamed, the API port and the gRPC port. */
function knativePorts(svc: NIMService): Wire<V1ContainerPort>[] {
  const ports: Wire<V1ContainerPort>[] = [{ containerPort: apiPort(svc), protocol: 'TCP' }];
  const grpc = grpcPort(svc);
  if (grpc !== undefined) ports.push({ containerPort: grpc, protocol: 'TCP' });
  return ports;
}

/** A metric target as KServe's integer `scaleTarget` (quantities rounded up, as the API machinery does). */
function integerTarget(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Math.ceil(v);
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(v.trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Math.ceil(Number(m[1]) * scale[m[2] ?? '']!);
}

/**
 * Standard-mode autoscaling: min and max replicas (`scale.hpa` when autoscaling, else
 * `spec.replicas` for both), and the first `Resource` metric on cpu or memory as KServe's
 * scaleMetric/scaleMetricType/scaleTarget (the only metrics its HPA takes).
 */
function standardScaling(svc: NIMService, predictor: Predictor): void {
  if (autoscalingEnabled(svc)) {
    const hpa = svc.spec.scale?.hpa;
    if (!hpa) throw new SpecError('spec.scale.hpa', 'Required value: must be defined if spec.scale.enabled is true');
    predictor.minReplicas = minReplicas(svc);
    predictor.maxReplicas = hpa.maxReplicas;
    const metric = (hpa.metrics ?? []).find((m) => m.type === 'Resource' && (m.resource?.name === 'cpu' || m.resource?.name === 'memory'));
    const target = metric?.resource?.target;
    if (metric && target) {
      const value = target.type === 'Utilization' ? target.averageUtilization : target.type === 'Value' ? integerTarget(target.value) : integerTarget(target.averageValue);
      predictor.scaleMetric = metric.resource!.name as 'cpu' | 'memory';
      predictor.scaleMetricType = target.type;
      if (value !== undefined) predictor.scaleTarget = value;
    }
  } else if (svc.spec.replicas !== undefined) {
    predictor.minReplicas = svc.spec.replicas;
    predictor.maxReplicas = svc.spec.replicas;
  }
}

/**
 * Knative-mode scale bounds (NVIDIA/k8s-nim-operator#890 fixed): KServe strips Knative's
 * min-scale/max-scale annotations from the revision and writes its own from the predictor's typed
 * fields, so the annotations are carried over to `minReplicas` (0 allows scale to zero) and
 * `maxReplicas` (0, Knative's "no limit", is left out).
 */
function knativeScaling(svc: NIMService, predictor: Predictor): void {
  const min = knativeScaleBound(svc, KNATIVE_MIN_SCALE);
  const max = knativeScaleBound(svc, KNATIVE_MAX_SCALE);
  if (min !== undefined) predictor.minReplicas = min;
  if (max !== undefined && max > 0) predictor.maxReplicas = max;
  if (min !== undefined && max !== undefined && max > 0 && min > max) {
    throw new SpecError(`spec.annotations[${KNATIVE_MIN_SCALE[0]!}]`, `Invalid value: ${min}: must not exceed ${KNATIVE_MAX_SCALE[0]!} (${max})`);
  }
}

/** InferenceService `<name>` with the predictor built from the standalone Deployment's pod. */
export function renderInferenceService(svc: NIMService, facts: KServeFacts, mode: KServeMode, pod: Predictor): InferenceService {
  const standard = mode.family === 'Standard';
  const labels = serviceLabels(svc, facts.operatorVersion);
  if (!(VISIBILITY_LABEL in labels) && !ingressEnabled(svc)) labels[VISIBILITY_LABEL] = 'cluster-local';
  const annotations: Record<string, string> = {
    ...serviceAnnotations(svc),
    [METRIC_AGGREGATION_ANNOTATION]: 'true',
    [PROMETHEUS_SCRAPING_ANNOTATION]: 'true',
    [DEPLOYMENT_MODE_ANNOTATION]: mode.mode,
  };
  if (standard && autoscalingEnabled(svc)) annotations[AUTOSCALER_CLASS_ANNOTATION] = 'hpa';
  const predictor: Predictor = structuredClone(pod);
  const main = predictor.containers[0]!;
  main.ports = standard ? containerPorts(svc) : knativePorts(svc);
  if (!standard) {
    for (const which of ['liveness', 'readiness', 'startup'] as const) {
      const probe = knativeProbe(svc, which);
      if (probe) main[`${which}Probe`] = probe;
      else delete main[`${which}Probe`];
    }
    delete predictor.securityContext;
  }
  // The pods carry the service labels, as the standalone Deployment's do: the operator finds them
  // to say why a service is not ready (upstream gives the predictor `app: <name>` only).
  predictor.labels = { ...serviceLabels(svc, facts.operatorVersion), ...selectorLabels(svc) };
  predictor.annotations = podAnnotations(svc);
  if (standard) {
    standardScaling(svc, predictor);
    predictor.deploymentStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } };
  } else if (mode.family === 'Knative') {
    knativeScaling(svc, predictor);
  }
  return {
    apiVersion: KSERVE_API_VERSION,
    kind: 'InferenceService',
    metadata: childMeta(svc, facts, { labels, annotations }),
    spec: { predictor },
  };
}

/** Standalone children `<name>` a KServe service never has (left when the platform was switched). */
function standaloneAbsent(svc: NIMService, facts: KServeFacts, mode: KServeMode): ChildRef[] {
  const name = svc.metadata.name ?? '';
  const absent: ChildRef[] = [
    { apiVersion: 'v1', kind: 'Service', name },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name },
    { apiVersion: GATEWAY_API_VERSION, kind: 'HTTPRoute', name },
    { apiVersion: GATEWAY_API_VERSION, kind: 'GRPCRoute', name },
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name },
    { apiVersion: 'apps/v1', kind: 'Deployment', name },
    { apiVersion: LWS_API_VERSION, kind: 'LeaderWorkerSet', name: lwsName(svc) },
  ];
  if (mode.family !== 'Standard' || !serviceMonitorEnabled(svc)) absent.push({ apiVersion: MONITORING_API_VERSION, kind: 'ServiceMonitor', name });
  // The endpoint picker is standalone only: `eppConfig` is ignored here and its children go.
  const router = svc.spec.expose?.router;
  const noPicker = router?.eppConfig ? { ...svc, spec: { ...svc.spec, expose: { ...svc.spec.expose, router: { ...router, eppConfig: undefined } } } } : svc;
  absent.push(...eppAbsent(noPicker as NIMService, facts));
  return absent;
}

/**
 * Renders a KServe NIMService. Throws a SpecError for an invalid deployment-mode annotation
 * (upstream's message), autoscaling without `scale.hpa`, or Knative scale bounds that are not
 * non-negative integers; an Error when KServe's default mode is needed and cannot be told.
 */
export function renderKServe(svc: NIMService, facts: KServeFacts = {}): KServeRender {
  const mode = kserveMode(svc, facts.liveInferenceService, facts.kserveDefaultMode);
  const dra = validateDRA(svc, facts);
  if (dra) return { children: [], absent: [], blocked: dra, mode };
  const hash = specHash(svc);
  const children: KServeChild[] = [
    withHashes(renderServiceAccount(svc, facts), hash),
    withHashes(renderRole(svc, facts), hash),
    withHashes(renderRoleBinding(svc, facts), hash),
  ];
  const absent = standaloneAbsent(svc, facts, mode);
  if (mode.family === 'Standard' && serviceMonitorEnabled(svc)) children.push(withHashes(renderServiceMonitor(svc, facts), hash));
  if (modelPVCWanted(svc)) children.push(withHashes(renderModelPVC(svc, facts), hash));
  const store = resolveModelStore(svc, facts);
  if (isStorageProblem(store)) return { children, absent, blocked: store, mode };
  const named = namedDRAResources(svc);
  children.push(...renderClaimTemplates(svc, facts, named).map((t) => withHashes(t, hash)));
  // The predictor's pod is the standalone Deployment's: same container, env (Appendix A15 fix: the
  // init containers and sidecars get the NIM's own env, never multi-node variables), volumes,
  // probes, pull secrets and scheduling; `spec.command`/`args` are kept (upstream drops them).
  const pod = renderDeployment(svc, facts, store).spec!.template.spec! as Predictor;
  addClaims(pod, named);
  children.push(withHashes(renderInferenceService(svc, facts, mode, pod), hash));
  return { children, absent, mode };
}
