/**
 * Facts about a NIMCache's source that several places need: the cache Job and probe pod, and the
 * NIMService that serves the cache.
 */
import type { NIMCache } from '../api/v1alpha1/kinds.js';

type Spec = NIMCache['spec'];

export type SourceKind = 'ngc' | 'hf' | 'dataStore';

export interface ActiveSource {
  kind: SourceKind;
  /** The image that reads the manifest and downloads. */
  modelPuller: string;
  pullSecret?: string;
  /** Secret mounted with envFrom (NGC_API_KEY or HF_TOKEN). */
  authSecret: string;
}

/** The one source set in `spec.source` (ngc first, as upstream checks); undefined when none is. */
export function activeSource(spec: Spec): ActiveSource | undefined {
  const s = spec.source;
  const pick = (kind: SourceKind, v: { modelPuller: string; pullSecret?: string; authSecret: string }): ActiveSource => {
    const out: ActiveSource = { kind, modelPuller: v.modelPuller, authSecret: v.authSecret };
    if (v.pullSecret) out.pullSecret = v.pullSecret;
    return out;
  };
  if (s?.ngc) return pick('ngc', s.ngc);
  if (s?.dataStore) return pick('dataStore', s.dataStore);
  if (s?.hf) return pick('hf', s.hf);
  return undefined;
}

/** An NGC cache of engine profiles chosen from the manifest (no `modelEndpoint`). */
export function isOptimizedNIM(spec: Spec): boolean {
  return !!spec.source?.ngc && !spec.source.ngc.modelEndpoint;
}

/** An NGC multi-model ("universal") NIM cache, downloaded with `create-model-store`. */
export function isUniversalNGC(spec: Spec): boolean {
  return !!spec.source?.ngc?.modelEndpoint;
}

/**
 * The URI of the model a cache holds, as a multi-model NIM takes it in `NIM_MODEL_PATH`:
 * `hf://<namespace>/<modelName>` for Hugging Face and NeMo Data Store models, the `modelEndpoint`
 * (e.g. `ngc://org/team/model:version`) for a universal NGC cache, undefined otherwise (an optimized
 * NGC cache, or a dataset, which is not a model to serve). Upstream yields "" for the NGC case and
 * dereferences a missing modelName for datasets (Appendix A16).
 */
export function cacheModelURI(spec: Spec): string | undefined {
  const s = spec.source;
  if (s?.ngc?.modelEndpoint) return s.ngc.modelEndpoint;
  const hf = s?.hf ?? s?.dataStore;
  if (hf?.modelName) return `hf://${hf.namespace}/${hf.modelName}`;
  return undefined;
}
