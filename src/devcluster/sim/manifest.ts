/**
 * NIM model manifests the simulated images carry: profiles across engines, precisions, tensor
 * parallelism and GPUs, with LoRA and buildable variants, written in NIM's v1 format (a map of
 * profile id → model, release, tags, container_url, workspace) or v2 (schema_version 2 and a list of
 * profiles), and read back from either.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { ProfileSpec } from './catalogue.js';

export interface Profile {
  id: string;
  /** What `list-model-profiles` shows beside the id (tensorrt_llm-h100-fp8-tp1-pp1-throughput). */
  name: string;
  tags: Record<string, string>;
  model: string;
  release: string;
}

export type NimKind = 'llm' | 'embedding' | 'reranking' | 'speech';

interface GpuInfo {
  device: string;
  fp8: boolean;
  maxTp: number;
  /** The product label GFD gives it. */
  label: string;
}

/** GPUs the generated profiles can target: their PCI id and what they can run. */
export const GPU_TABLE: Record<string, GpuInfo> = {
  H100: { device: '2330:10de', fp8: true, maxTp: 8, label: 'NVIDIA-H100-80GB-HBM3' },
  H200: { device: '2335:10de', fp8: true, maxTp: 8, label: 'NVIDIA-H200' },
  A100: { device: '20b2:10de', fp8: false, maxTp: 8, label: 'NVIDIA-A100-SXM4-80GB' },
  L40S: { device: '26b9:10de', fp8: true, maxTp: 4, label: 'NVIDIA-L40S' },
  A10G: { device: '2237:10de', fp8: false, maxTp: 4, label: 'NVIDIA-A10G' },
  L4: { device: '27b8:10de', fp8: true, maxTp: 4, label: 'NVIDIA-L4' },
};

export const DEFAULT_PROFILES: Required<ProfileSpec> = {
  engines: ['tensorrt_llm', 'vllm'],
  precisions: ['fp8', 'bf16'],
  tensorParallelism: [1, 2, 4, 8],
  pipelineParallelism: [1],
  gpus: ['H100', 'A100', 'L40S'],
  lora: true,
  buildable: true,
};

function profileId(model: string, release: string, name: string): string {
  return createHash('sha256').update(`${model}\u0000${release}\u0000${name}`).digest('hex');
}

/** The profiles of a model, per the catalogue's profile settings. */
export function generateProfiles(kind: NimKind, model: string, release: string, spec: ProfileSpec = {}): Profile[] {
  const p = { ...DEFAULT_PROFILES, ...spec };
  const out: Profile[] = [];
  const add = (name: string, tags: Record<string, string>) => out.push({ id: profileId(model, release, name), name, tags, model, release });
  if (kind !== 'llm') {
    // Embedding, reranking and speech NIMs: a TensorRT engine per GPU family, plus a portable one.
    for (const g of p.gpus) {
      const info = GPU_TABLE[g];
      if (!info) continue;
      add(`${kind === 'speech' ? 'triton' : 'tensorrt'}-${g.toLowerCase()}-fp16`, {
        backend: kind === 'speech' ? 'triton' : 'tensorrt',
        key: `${info.label}_10.0.1_12`,
        precision: 'fp16',
        product_name_regex: `^${info.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*`,
      });
    }
    add(`onnx-fp16`, { backend: 'onnx', precision: 'fp16' });
    return out;
  }
  for (const pp of p.pipelineParallelism) {
    if (p.engines.includes('tensorrt_llm')) {
      for (const g of p.gpus) {
        const info = GPU_TABLE[g];
        if (!info) continue;
        for (const precision of p.precisions) {
          if (precision === 'fp8' && !info.fp8) continue;
          for (const tp of p.tensorParallelism) {
            if (tp > info.maxTp) continue;
            for (const qos of tp >= 2 ? ['throughput', 'latency'] : ['throughput']) {
              add(`tensorrt_llm-${g.toLowerCase()}-${precision}-tp${tp}-pp${pp}-${qos}`, {
                feat_lora: 'false',
                gpu: g,
                gpu_device: info.device,
                llm_engine: 'tensorrt_llm',
                pp: String(pp),
                precision,
                profile: qos,
                tp: String(tp),
              });
            }
          }
        }
        if (p.lora && p.precisions.includes('bf16')) {
          for (const tp of p.tensorParallelism.filter((t) => t <= 2 && t <= info.maxTp)) {
            add(`tensorrt_llm-${g.toLowerCase()}-bf16-tp${tp}-pp${pp}-throughput-lora`, {
              feat_lora: 'true',
              feat_lora_max_rank: '32',
              gpu: g,
              gpu_device: info.device,
              llm_engine: 'tensorrt_llm',
              pp: String(pp),
              precision: 'bf16',
              profile: 'throughput',
              tp: String(tp),
            });
          }
        }
      }
      if (p.buildable) {
        for (const precision of p.precisions.filter((x) => x === 'bf16' || x === 'fp8')) {
          for (const tp of p.tensorParallelism.filter((t) => t <= 2)) {
            add(`tensorrt_llm-trtllm_buildable-${precision}-tp${tp}-pp${pp}`, {
              feat_lora: 'false',
              llm_engine: 'tensorrt_llm',
              pp: String(pp),
              precision,
              tp: String(tp),
              trtllm_buildable: 'true',
            });
          }
        }
      }
    }
    for (const engine of p.engines.filter((e) => e !== 'tensorrt_llm')) {
      for (const tp of p.tensorParallelism) {
        add(`${engine}-bf16-tp${tp}-pp${pp}`, { feat_lora: 'false', llm_engine: engine, pp: String(pp), precision: 'bf16', tp: String(tp) });
      }
      if (p.lora) {
        add(`${engine}-bf16-tp1-pp${pp}-lora`, { feat_lora: 'true', feat_lora_max_rank: '32', llm_engine: engine, pp: String(pp), precision: 'bf16', tp: '1' });
      }
    }
  }
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

function filesOf(p: Profile): string[] {
  const engine = p.tags.llm_engine ?? p.tags.backend ?? '';
  if (p.tags.trtllm_buildable === 'true' || engine === 'vllm' || engine === 'sglang') {
    return ['config.json', 'generation_config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json'];
  }
  if (engine === 'tensorrt_llm') return ['LICENSE.txt', 'checksums.blake3', 'config.json', 'metadata.json', 'rank0.engine', 'tokenizer.json', 'tokenizer_config.json'];
  return ['model.plan', 'config.json'];
}

function repoId(p: Profile): string {
  return `ngc://nim/${p.model}:${p.release}-${p.name}`;
}

/** A manifest in NIM's v1 format (with its custom YAML tags). */
export function renderV1(profiles: Profile[], containerUrl: string): string {
  const lines: string[] = [];
  for (const p of profiles) {
    lines.push(`${p.id}:`);
    if (p.model) lines.push(`  model: ${p.model}`);
    if (p.release) lines.push(`  release: ${q(p.release)}`);
    lines.push('  tags:');
    for (const [k, v] of Object.entries(p.tags).sort(([a], [b]) => a.localeCompare(b))) lines.push(`    ${k}: ${q(v)}`);
    lines.push(`  container_url: ${containerUrl}`);
    lines.push('  workspace: !workspace');
    lines.push('    components:');
    lines.push(`    - dst: ${p.tags.llm_engine === 'tensorrt_llm' && p.tags.trtllm_buildable !== 'true' ? 'trtllm_engine' : "''"}`);
    lines.push('      src:');
    lines.push('        files:');
    for (const f of filesOf(p)) lines.push(`          - !name ${q(f)}`);
    lines.push(`        repo_id: ${repoId(p)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A manifest in NIM's v2 format. */
export function renderV2(profiles: Profile[]): string {
  const lines: string[] = ["schema_version: '2.0.0'", 'profile_selection_criteria: default', 'profiles:'];
  for (const p of profiles) {
    lines.push(`  - id: ${p.id}`);
    lines.push('    tags:');
    for (const [k, v] of Object.entries(p.tags).sort(([a], [b]) => a.localeCompare(b))) lines.push(`      ${k}: ${q(v)}`);
    lines.push('    workspace:');
    lines.push('      files:');
    for (const f of filesOf(p)) lines.push(`        ${q(f)}: {uri: ${q(`${repoId(p)}/${f}`)}}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Which format a manifest is in, by NIM's rule: a schema_version containing "2" means v2. */
export function manifestVersion(text: string): 'v1' | 'v2' {
  try {
    const doc = parse(stripTags(text)) as Record<string, unknown> | null;
    const v = doc?.schema_version;
    return v !== undefined && /2/.test(String(v).trim()) ? 'v2' : 'v1';
  } catch {
    return 'v1';
  }
}

function stripTags(text: string): string {
  return text.replace(/(^|[\s:-])!(?!!)[A-Za-z_][\w-]*(?=\s)/g, '$1');
}

/** The profiles of a manifest of either format (model and release empty for v2). */
export function parseManifest(text: string): Profile[] {
  const doc = parse(stripTags(text)) as Record<string, any> | null;
  if (!doc || typeof doc !== 'object') return [];
  if (manifestVersion(text) === 'v2') {
    return ((doc.profiles ?? []) as Record<string, any>[]).map((p) => ({
      id: String(p.id),
      name: profileName(stringTags(p.tags)),
      tags: stringTags(p.tags),
      model: '',
      release: '',
    }));
  }
  return Object.entries(doc).map(([id, p]) => ({
    id,
    name: profileName(stringTags(p?.tags)),
    tags: stringTags(p?.tags),
    model: String(p?.model ?? ''),
    release: String(p?.release ?? ''),
  }));
}

function stringTags(t: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((t ?? {}) as Record<string, unknown>)) out[k] = String(v);
  return out;
}

/** A readable name from tags, as list-model-profiles prints it. */
export function profileName(tags: Record<string, string>): string {
  const engine = tags.llm_engine ?? tags.backend ?? 'unknown';
  const parts = [engine];
  if (tags.trtllm_buildable === 'true') parts.push('trtllm_buildable');
  if (tags.gpu) parts.push(tags.gpu.toLowerCase());
  if (tags.precision) parts.push(tags.precision);
  if (tags.tp) parts.push(`tp${tags.tp}`);
  if (tags.pp) parts.push(`pp${tags.pp}`);
  if (tags.profile) parts.push(tags.profile);
  if (tags.feat_lora === 'true') parts.push('lora');
  return parts.join('-');
}

/** Whether a profile can run on a GPU product label with `gpus` devices. */
export function profileFits(p: Profile, product: string | undefined, gpus: number): boolean {
  const tp = Number(p.tags.tp ?? 1) || 1;
  if (gpus > 0 && tp > gpus) return false;
  const label = (product ?? '').toLowerCase();
  if (p.tags.gpu) return label.includes(p.tags.gpu.toLowerCase());
  if (p.tags.product_name_regex) {
    try {
      return new RegExp(p.tags.product_name_regex.replace(/\(\?![^)]*\)/g, '')).test(product ?? '');
    } catch {
      return false;
    }
  }
  return true;
}
