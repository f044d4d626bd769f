/** The model manifests of test/fixtures/manifests/, and readable names for their profiles. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseManifest, type ManifestProfile, type NimManifest } from '../../../src/nim/manifest.js';

export function fixtureText(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/manifests/${file}`, import.meta.url)), 'utf8');
}

export const v1 = (): NimManifest => parseManifest(fixtureText('v1-llm.yaml'));
export const v2 = (): NimManifest => parseManifest(fixtureText('v2-llm.yaml'));

/** A name from tags, e.g. tensorrt_llm-h100-fp8-tp1-throughput, vllm-bf16-tp1-lora, tensorrt_llm-buildable-bf16-tp1. */
export function nameOf(p: ManifestProfile): string {
  const t = p.tags;
  return [
    t.llm_engine ?? t.model_type ?? t.backend,
    /^true$/i.test(t.trtllm_buildable ?? '') ? 'buildable' : undefined,
    (t.gpu ?? t.key?.split('_')[0])?.toLowerCase(),
    t.precision?.toLowerCase(),
    `tp${t.tp}`,
    t.profile?.toLowerCase(),
    /^true$/i.test(t.feat_lora ?? '') ? 'lora' : undefined,
  ]
    .filter(Boolean)
    .join('-');
}

/** Names of the profiles with these ids, sorted. */
export function names(m: NimManifest, ids: string[]): string[] {
  return ids.map((id) => nameOf(m.profiles.find((p) => p.id === id)!)).sort();
}

/** The GPU product labels of the default simulated topology. */
export const CLUSTER_GPUS = ['NVIDIA-A10-24Q', 'NVIDIA-A100-SXM4-80GB', 'NVIDIA-H100-80GB-HBM3', 'NVIDIA-H100-PCIe', 'NVIDIA-L40S'];

/** A one-profile-per-entry manifest written inline, v1 or v2. */
export function inline(version: 'v1' | 'v2', profiles: Record<string, Record<string, string>>): NimManifest {
  const entries = Object.entries(profiles);
  const tagsYaml = (t: Record<string, string>, pad: string) => Object.entries(t).map(([k, v]) => `${pad}${k}: '${v}'`).join('\n');
  const text =
    version === 'v1'
      ? entries.map(([id, t]) => `${id}:\n  tags:\n${tagsYaml(t, '    ')}`).join('\n')
      : `schema_version: '2.0.0'\nprofiles:\n${entries.map(([id, t]) => `  - id: ${id}\n    tags:\n${tagsYaml(t, '      ')}`).join('\n')}`;
  return parseManifest(text);
}
