/**
 * KServe's InferenceService shape (the fields we write and read) and its deployment mode: which one
 * a NIMService asks for, which one an existing InferenceService has, and what to write (inventory
 * §2.2.14, §6 behaviours 49, 51, 53; NVIDIA/k8s-nim-operator#735, #762, #890).
 */
import type { V1Container, V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { SpecError } from './common.js';

export const KSERVE_API_VERSION = 'serving.kserve.io/v1beta1';
export const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
export const AUTOSCALER_CLASS_ANNOTATION = 'serving.kserve.io/autoscalerClass';
export const METRIC_AGGREGATION_ANNOTATION = 'serving.kserve.io/enable-metric-aggregation';
export const PROMETHEUS_SCRAPING_ANNOTATION = 'serving.kserve.io/enable-prometheus-scraping';
export const VISIBILITY_LABEL = 'networking.kserve.io/visibility';
/** Knative's scale bounds; KServe drops them from the revision and writes its own from minReplicas/maxReplicas. */
export const KNATIVE_MIN_SCALE = ['autoscaling.knative.dev/min-scale', 'autoscaling.knative.dev/minScale'];
export const KNATIVE_MAX_SCALE = ['autoscaling.knative.dev/max-scale', 'autoscaling.knative.dev/maxScale'];

/** Every spelling KServe accepts: the current names and the ones before KServe 0.16's rename. */
export const KSERVE_MODES = ['Standard', 'Knative', 'ModelMesh', 'RawDeployment', 'Serverless'] as const;
/** The mode family: Standard (= RawDeployment), Knative (= Serverless), or ModelMesh. */
export type KServeFamily = 'Standard' | 'Knative' | 'ModelMesh';

/** The predictor: a pod spec inlined, plus KServe's component fields. */
export type Predictor = Wire<V1PodSpec> & {
  containers: Wire<V1Container>[];
  minReplicas?: number;
  maxReplicas?: number;
  scaleMetric?: 'cpu' | 'memory';
  scaleMetricType?: string;
  scaleTarget?: number;
  deploymentStrategy?: { type: string; rollingUpdate?: { maxUnavailable?: string | number; maxSurge?: string | number } };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

export interface InferenceService {
  apiVersion: typeof KSERVE_API_VERSION;
  kind: 'InferenceService';
  metadata: Wire<V1ObjectMeta>;
  spec: { predictor: Predictor };
}

/** What the reconciler reads of a live InferenceService. */
export interface InferenceServiceLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: {
    deploymentMode?: string;
    url?: string;
    address?: { url?: string };
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export function modeFamily(mode: string): KServeFamily {
  if (mode === 'Standard' || mode === 'RawDeployment') return 'Standard';
  if (mode === 'Knative' || mode === 'Serverless') return 'Knative';
  return 'ModelMesh';
}

const isKnownMode = (v: string): boolean => (KSERVE_MODES as readonly string[]).includes(v);

export interface KServeMode {
  /** The spelling written into the InferenceService's annotation. */
  mode: string;
  family: KServeFamily;
  /** Set when the spec asks for another mode than the existing InferenceService has (kept). */
  note?: string;
}

/**
 * The deployment mode to write. A new InferenceService gets the annotation's value as the user
 * spelled it (so a KServe that knows only `RawDeployment`/`Serverless` accepts it, #762), else
 * `Standard`. An existing one keeps its own annotation (or, without one, the mode its status
 * records), spelling included: KServe refuses any change of mode, even `RawDeployment` → `Standard`
 * (#735). When the spec asks for another family, the mode is kept all the same and `note` says so.
 * Throws a SpecError (upstream's message) for an annotation that names no mode.
 */
export function kserveMode(svc: NIMService, live?: InferenceServiceLike): KServeMode {
  const requested = svc.spec.annotations?.[DEPLOYMENT_MODE_ANNOTATION];
  if (requested !== undefined && !isKnownMode(requested)) {
    throw new SpecError(`spec.annotations[${DEPLOYMENT_MODE_ANNOTATION}]`, `deployment mode annotation found but value is invalid: ${requested}`);
  }
  const liveMode = live?.metadata?.annotations?.[DEPLOYMENT_MODE_ANNOTATION] || live?.status?.deploymentMode;
  if (live && liveMode && isKnownMode(liveMode)) {
    const family = modeFamily(liveMode);
    const out: KServeMode = { mode: liveMode, family };
    if (requested !== undefined && modeFamily(requested) !== family) {
      out.note =
        `spec.annotations asks for KServe deployment mode ${requested}, but InferenceService ${svc.metadata.name ?? ''} runs in ${liveMode} mode ` +
        'and KServe refuses to change the mode of an existing InferenceService, so it is kept; delete the InferenceService to have it re-created in the new mode';
    }
    return out;
  }
  const mode = requested ?? 'Standard';
  return { mode, family: modeFamily(mode) };
}

/** A Knative scale bound from the annotations (first spelling found); undefined when absent or empty. */
export function knativeScaleBound(svc: NIMService, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const raw = svc.spec.annotations?.[key];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) > 2_147_483_647) {
      throw new SpecError(`spec.annotations[${key}]`, `Invalid value: "${raw}": must be a non-negative integer`);
    }
    return Number(raw);
  }
  return undefined;
}
