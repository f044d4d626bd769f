/**
 * Profile selection (inventory §2.1.4): which profiles of a model manifest a NIMCache downloads when
 * `spec.source.ngc.model` describes them instead of naming them. The two manifest formats have
 * different rules, kept as upstream has them because users' caches depend on them:
 *
 * - v1 compares precision, tp and profile case-sensitively, leaves LoRA profiles out unless `lora`
 *   is set, matches the engine as a case-sensitive substring, filters by GPU only for TensorRT
 *   engines or when GPUs are named, and an empty `gpu` tag matches any GPU found on the nodes.
 * - v2 compares case-insensitively, filters LoRA and buildable only when asked, reads the engine
 *   from `llm_engine`, `model_type` or `backend` (`triton` counts as `tensorrt`), always applies the
 *   GPU check, and keeps a buildable profile that fails only the GPU check.
 */
import type { ManifestProfile, NimManifest } from './manifest.js';

export interface GPUSelector {
  product?: string;
  /** PCI device ids, e.g. "2330". */
  ids?: string[];
}

/** The selection fields of `spec.source.ngc.model` (profiles excluded). */
export interface ModelSelector {
  precision?: string;
  engine?: string;
  tensorParallelism?: string;
  qosProfile?: string;
  gpus?: GPUSelector[];
  lora?: boolean;
  /** v2 manifests only. */
  buildable?: boolean;
}

const lower = (s: string | undefined) => (s ?? '').toLowerCase();
const deviceId = (tags: Record<string, string>) => (tags.gpu_device ?? '').replace(/:10de$/, '');

/** A regular expression tag tested against a node's GPU label; an empty or invalid one never matches. */
function regexMatches(pattern: string | undefined, label: string): boolean {
  if (!pattern) return false;
  try {
    return new RegExp(pattern).test(label);
  } catch {
    return false;
  }
}

// ---- v1 -------------------------------------------------------------------------------------------

const isTensorRT = (engine: string | undefined) => !!engine && lower(engine).includes('tensorrt');

function gpuMatchesV1(sel: ModelSelector, tags: Record<string, string>, discovered: string[]): boolean {
  for (const gpu of sel.gpus ?? []) {
    if (!gpu.product) continue;
    const product = lower(gpu.product);
    const matched = lower(tags.gpu).includes(product) || lower(tags.key).includes(product);
    if (!matched) continue;
    // A named GPU that matches but whose device ids do not: the profile is out.
    if (gpu.ids?.length && !gpu.ids.includes(deviceId(tags))) return false;
    return true;
  }
  for (const label of discovered) {
    if (!label) continue;
    // Upstream's substring test: an empty `gpu` tag is contained in every label, so it matches.
    if (lower(label).includes(lower(tags.gpu))) return true;
    if (regexMatches(tags.product_name_regex, label)) return true;
  }
  return false;
}

function keepV1(sel: ModelSelector, p: ManifestProfile, discovered: string[]): boolean {
  const t = p.tags;
  if (sel.precision && t.precision !== sel.precision) return false;
  if (sel.tensorParallelism && t.tp !== sel.tensorParallelism) return false;
  if (sel.qosProfile && t.profile !== sel.qosProfile) return false;
  if (sel.lora === undefined && t.feat_lora === 'true') return false;
  if (sel.lora !== undefined && t.feat_lora !== String(sel.lora)) return false;
  const backend = t.llm_engine || t.backend || '';
  if (sel.engine && !backend.includes(sel.engine.replace(/_llm$/, ''))) return false;
  if (isTensorRT(sel.engine) || (sel.gpus?.length ?? 0) > 0) {
    if (!isTensorRT(backend)) return false;
    if ((sel.gpus?.length ?? 0) > 0 || discovered.length > 0) {
      if (!gpuMatchesV1(sel, t, discovered)) return false;
    }
  }
  return true;
}

// ---- v2 -------------------------------------------------------------------------------------------

const eqFold = (a: string | undefined, b: string) => lower(a) === lower(b);

function nonGPUMatchesV2(sel: ModelSelector, t: Record<string, string>): boolean {
  if (sel.precision && !eqFold(t.precision, sel.precision)) return false;
  if (sel.tensorParallelism && !eqFold(t.tp, sel.tensorParallelism)) return false;
  if (sel.qosProfile && !eqFold(t.profile, sel.qosProfile)) return false;
  if (sel.lora !== undefined && !eqFold(t.feat_lora, String(sel.lora))) return false;
  if (sel.buildable !== undefined && !eqFold(t.trtllm_buildable, String(sel.buildable))) return false;
  return true;
}

function engineMatchesV2(engine: string | undefined, t: Record<string, string>): boolean {
  let backend = t.llm_engine || t.model_type || t.backend || '';
  if (eqFold(backend, 'triton')) backend = 'tensorrt';
  if (!engine) return true;
  return lower(backend).includes(lower(engine).replace(/_llm$/, ''));
}

function gpuMatchesV2(sel: ModelSelector, t: Record<string, string>, discovered: string[]): boolean {
  const gpus = sel.gpus ?? [];
  const identity = !!(t.gpu || t.key || t.product_name_regex);
  if (gpus.length === 0 && (!identity || discovered.length === 0)) return true;
  if (gpus.some((g) => g.ids?.length)) {
    const id = deviceId(t);
    if (!id || !gpus.some((g) => g.ids?.includes(id))) return false;
  }
  const products = gpus.filter((g) => g.product).map((g) => lower(g.product));
  if (products.length > 0) {
    const gpu = lower(t.gpu);
    const key = lower(t.key);
    if (!products.some((p) => (gpu !== '' && gpu.includes(p)) || (key !== '' && key.includes(p)))) return false;
  }
  if (gpus.length === 0) {
    const gpu = lower(t.gpu);
    const key = lower(t.key);
    return discovered.some((label) => {
      const l = lower(label);
      return (gpu !== '' && l.includes(gpu)) || (key !== '' && l.includes(key)) || regexMatches(t.product_name_regex, label);
    });
  }
  return true;
}

function keepV2(sel: ModelSelector, p: ManifestProfile, discovered: string[]): boolean {
  if (!nonGPUMatchesV2(sel, p.tags)) return false;
  if (!engineMatchesV2(sel.engine, p.tags)) return false;
  if (gpuMatchesV2(sel, p.tags, discovered)) return true;
  // A buildable profile is built for the GPU it runs on, so the GPU check does not bind it.
  return eqFold(p.tags.trtllm_buildable, 'true');
}

/**
 * The ids of the profiles that `sel` selects, in manifest order. `discoveredGPUs` are the values of
 * the nodes' `nvidia.com/gpu.product` label; pass none when `sel.gpus` names the GPUs.
 */
export function matchProfiles(manifest: NimManifest, sel: ModelSelector, discoveredGPUs: readonly string[] = []): string[] {
  const discovered = discoveredGPUs.filter((g) => g !== '');
  const keep = manifest.version === 'v2' ? keepV2 : keepV1;
  return manifest.profiles.filter((p) => keep(sel, p, discovered)).map((p) => p.id);
}

/** The distinct non-blank `nvidia.com/gpu.product` labels of the nodes, sorted. */
export function discoverGPUs(nodes: readonly { metadata?: { labels?: Record<string, string> } }[]): string[] {
  const set = new Set<string>();
  for (const n of nodes) {
    const v = n.metadata?.labels?.['nvidia.com/gpu.product'];
    if (v && v.trim()) set.add(v);
  }
  return [...set].sort();
}
