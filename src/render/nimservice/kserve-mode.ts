/**
 * KServe's InferenceService shape (the fields we write and read) and its deployment mode: which one
 * a NIMService asks for, which one an existing InferenceService has, KServe's own default (its
 * `inferenceservice-config`), and what to write (inventory §2.2.14, §6 behaviours 49, 51, 53;
 * NVIDIA/k8s-nim-operator#735, #762, #890).
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

/** KServe's ConfigMap (in KServe's namespace) whose `deploy` key holds the cluster's default mode. */
export const KSERVE_CONFIGMAP = 'inferenceservice-config';
export const KSERVE_DEPLOY_KEY = 'deploy';

/** KServe's default mode as read from its ConfigMap: the mode, or why it cannot be used; neither when there is none. */
export interface KServeDefaultMode {
  mode?: string;
  error?: string;
  /** `<namespace>/inferenceservice-config`, the ConfigMap looked at. */
  source?: string;
}

/**
 * The default mode in the `deploy` key of KServe's ConfigMap (JSON, field `defaultDeploymentMode`).
 * No `deploy` key: no default (the built-in one applies). Unparsable JSON, a missing or empty
 * field, or a value that names no mode: an error, since KServe itself cannot run with it.
 */
export function defaultModeFromConfig(data: Record<string, string> | undefined): { mode?: string; error?: string } {
  const raw = data?.[KSERVE_DEPLOY_KEY];
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return { error: `its "${KSERVE_DEPLOY_KEY}" key is not valid JSON: ${(e as Error).message}` };
  }
  const mode = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).defaultDeploymentMode : undefined;
  if (typeof mode !== 'string' || mode === '') return { error: `its "${KSERVE_DEPLOY_KEY}" key sets no defaultDeploymentMode` };
  if (!isKnownMode(mode)) return { error: `its defaultDeploymentMode "${mode}" is none of ${KSERVE_MODES.join(', ')}` };
  return { mode };
}

/** The mode the NIMService's annotation asks for; an empty annotation asks for none. */
export function requestedMode(svc: NIMService): string | undefined {
  const v = svc.spec.annotations?.[DEPLOYMENT_MODE_ANNOTATION];
  return v === undefined || v === '' ? undefined : v;
}

/** The mode an existing InferenceService runs in: its annotation, else the one its status records. */
export function liveMode(live: InferenceServiceLike | undefined): string | undefined {
  const mode = live?.metadata?.annotations?.[DEPLOYMENT_MODE_ANNOTATION] || live?.status?.deploymentMode;
  return mode && isKnownMode(mode) ? mode : undefined;
}

export interface KServeMode {
  /** The spelling written into the InferenceService's annotation. */
  mode: string;
  family: KServeFamily;
  /** Set when the spec asks for another mode than the existing InferenceService has (kept). */
  note?: string;
}

/**
 * The deployment mode to write, first hit wins: an existing InferenceService's own annotation (or,
 * without one, the mode its status records), spelling included — KServe refuses any change of mode,
 * even `RawDeployment` → `Standard` (#735), so when the spec asks for another family the mode is
 * kept all the same and `note` says so; then the NIMService's annotation as the user spelled it (so
 * a KServe that knows only `RawDeployment`/`Serverless` accepts it, #762); then KServe's default
 * from its ConfigMap, spelled as KServe's config spells it; else `Standard`.
 * Throws a SpecError (upstream's message) for an annotation that names no mode, and an Error when
 * KServe's default is needed but cannot be told (a broken ConfigMap, KServe's namespace unclear).
 */
export function kserveMode(svc: NIMService, live?: InferenceServiceLike, kserveDefault?: KServeDefaultMode): KServeMode {
  const requested = requestedMode(svc);
  if (requested !== undefined && !isKnownMode(requested)) {
    throw new SpecError(`spec.annotations[${DEPLOYMENT_MODE_ANNOTATION}]`, `deployment mode annotation found but value is invalid: ${requested}`);
  }
  const kept = live ? liveMode(live) : undefined;
  if (kept) {
    const family = modeFamily(kept);
    const out: KServeMode = { mode: kept, family };
    if (requested !== undefined && modeFamily(requested) !== family) {
      out.note =
        `spec.annotations asks for KServe deployment mode ${requested}, but InferenceService ${svc.metadata.name ?? ''} runs in ${kept} mode ` +
        'and KServe refuses to change the mode of an existing InferenceService, so it is kept; delete the InferenceService to have it re-created in the new mode';
    }
    return out;
  }
  if (requested === undefined && kserveDefault?.error) {
    const where = kserveDefault.source ? `ConfigMap ${kserveDefault.source}: ` : '';
    throw new Error(
      `failed to determine KServe deployment mode: ${where}${kserveDefault.error}; ` +
        `fix it, or choose the mode with the annotation ${DEPLOYMENT_MODE_ANNOTATION} in spec.annotations`,
    );
  }
  const mode = requested ?? kserveDefault?.mode ?? 'Standard';
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
