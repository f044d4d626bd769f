/**
 * What the NIMBuild renders share (inventory §2.4): child names, labels and annotations, the owner
 * reference, the cache volume, and the GPU count a build needs.
 */
import type { V1OwnerReference, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMProfile } from '../../api/v1alpha1/common.js';
import { API_VERSION, type NIMBuild, type NIMCache } from '../../api/v1alpha1/kinds.js';
import { pvcName } from '../nimcache/common.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../labels.js';

/** Facts the reconciler reads from its caches; the renders do no I/O. */
export interface NIMBuildFacts {
  /** Orchestrator detected from node labels (§2.0.6): `TKGS` adds seccomp, `OpenShift` SCC annotations. */
  orchestrator?: string;
}

export const BUILD_CONTAINER = 'nim-build-ctr';
export const MANIFEST_CONTAINER = 'nim-build-manifest-ctr';
export const MODEL_STORE = '/model-store';
export const API_PORT = 8000;
export const GPU = 'nvidia.com/gpu';
/** Where a build leaves the manifest of what it built, relative to the cache root. */
export const LOCAL_MANIFEST_PATH = `${MODEL_STORE}/local_cache/local_manifest.yaml`;
/** The key of the `<cache>-manifest` ConfigMap that keeps the built profiles. */
export const LOCAL_MANIFEST_KEY = 'local_model_manifest.yaml';
/** The tag that marks a profile an engine can be built from. */
export const BUILDABLE_TAG = 'trtllm_buildable';
/** The tag of a built profile that names the engine (NIM_CUSTOM_MODEL_NAME). */
export const MODEL_NAME_TAG = 'model_name';
/** The tag the operator adds to a built profile: the profile it was built from. */
export const INPUT_PROFILE_TAG = 'input_profile';
/** kubectl's copy of the applied object: never worth copying onto a pod. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export class NIMBuildRenderError extends Error {
  override name = 'NIMBuildRenderError';
}

export const engineBuildPodName = (b: NIMBuild) => `${b.metadata.name}-engine-build-pod`;
export const localManifestPodName = (b: NIMBuild) => `${b.metadata.name}-local-manifest-pod`;
/** The name given to the built engine: `spec.modelName`, else the NIMBuild's name. */
export const modelName = (b: NIMBuild) => b.spec.modelName || b.metadata.name || '';
/** The claim of the cache: what its status says, else what its spec names. */
export const cacheClaim = (c: NIMCache) => c.status?.pvc || pvcName(c);
export const isBuildable = (p: NIMProfile) => (p.config?.[BUILDABLE_TAG] ?? '').toLowerCase() === 'true';

/** The three labels every NIMBuild pod carries. */
export function standardLabels(b: NIMBuild): Record<string, string> {
  return { app: 'k8s-nim-operator', 'app.kubernetes.io/name': b.metadata.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY };
}

/**
 * Labels of the engine build pod: the NIMBuild's own labels (as upstream), then `spec.labels`
 * (which upstream ignores), then the standard ones, which win.
 */
export function buildPodLabels(b: NIMBuild): Record<string, string> {
  return { ...(b.metadata.labels ?? {}), ...(b.spec.labels ?? {}), ...standardLabels(b) };
}

/**
 * Annotations of the engine build pod: the NIMBuild's own (without kubectl's last-applied copy),
 * then `spec.annotations`, then the operator's — `sidecar.istio.io/inject: "false"`, and
 * `openshift.io/scc: nonroot` on OpenShift — which win.
 */
export function buildPodAnnotations(b: NIMBuild, facts: NIMBuildFacts): Record<string, string> {
  const own = { ...(b.metadata.annotations ?? {}) };
  delete own[LAST_APPLIED];
  const out: Record<string, string> = { ...own, ...(b.spec.annotations ?? {}), 'sidecar.istio.io/inject': 'false' };
  if (facts.orchestrator === 'OpenShift') out['openshift.io/scc'] = 'nonroot';
  return out;
}

export function ownerReference(b: NIMBuild): Wire<V1OwnerReference> {
  return { apiVersion: API_VERSION, kind: 'NIMBuild', name: b.metadata.name ?? '', uid: b.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The cache's claim as the pod's `nim-cache-volume`. */
export function cacheVolume(c: NIMCache): Wire<V1Volume> {
  return { name: 'nim-cache-volume', persistentVolumeClaim: { claimName: cacheClaim(c) } };
}

/** The cache mounted at /model-store (with the cache's subPath). */
export function cacheMount(c: NIMCache): Wire<V1VolumeMount> {
  const m: Wire<V1VolumeMount> = { name: 'nim-cache-volume', mountPath: MODEL_STORE };
  const sub = c.spec.storage?.pvc?.subPath;
  if (sub) m.subPath = sub;
  return m;
}

/** The tensor parallelism a profile's tags declare (`tensorParallelism`, else `tp`). */
export function profileTP(p: NIMProfile): string | undefined {
  const tp = p.config?.tensorParallelism ?? p.config?.tp;
  return tp === undefined || tp === '' ? undefined : tp;
}

type Quantities = Record<string, string>;

/**
 * Requests and limits of the build container: `spec.resources`, with `nvidia.com/gpu` set to the
 * profile's tensor parallelism in both. A GPU count given in `spec.resources` must agree with it
 * (upstream refuses any); without a tp tag the spec must give the count.
 */
export function buildResources(b: NIMBuild, input: NIMProfile): { requests: Quantities; limits: Quantities } {
  const str = (m: Record<string, number | string> | undefined): Quantities => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
  const requests = str(b.spec.resources?.requests);
  const limits = str(b.spec.resources?.limits);
  const given = requests[GPU] ?? limits[GPU];
  const tp = profileTP(input);
  const id = input.name ?? '';
  if (tp !== undefined) {
    if (!/^[1-9]\d*$/.test(tp)) throw new NIMBuildRenderError(`profile ${id} has tensor parallelism "${tp}", which is not a GPU count`);
    for (const [where, m] of [['requests', requests], ['limits', limits]] as const) {
      if (m[GPU] !== undefined && m[GPU] !== tp) {
        throw new NIMBuildRenderError(
          `spec.resources.${where}: ${GPU} is ${m[GPU]}, but profile ${id} has tensor parallelism ${tp} and builds on ${tp} GPU(s); leave ${GPU} out of spec.resources (the operator sets it from the profile) and re-create the NIMBuild`,
        );
      }
    }
    requests[GPU] = tp;
    limits[GPU] = tp;
  } else {
    if (given === undefined) {
      throw new NIMBuildRenderError(`profile ${id} has no tensor parallelism tag (tp): set ${GPU} in spec.resources.requests to the number of GPUs the build needs, and re-create the NIMBuild`);
    }
    requests[GPU] ??= given;
    limits[GPU] ??= given;
  }
  return { requests, limits };
}
