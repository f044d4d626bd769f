/** A NIM image as the catalogue describes it: its model, kind, manifest and profiles. */
import { repositoryOf, tagOf, type Catalogue, type NimSpec } from './catalogue.js';
import { generateProfiles, parseManifest, renderV1, renderV2, type NimKind, type Profile } from './manifest.js';

export interface NimImage {
  image: string;
  kind: NimKind;
  /** The model it serves. */
  model: string;
  release: string;
  /** model_manifest.yaml, or undefined for a model-free NIM. */
  manifestText?: string;
  format: 'v1' | 'v2' | 'custom' | 'none';
  profiles: Profile[];
  downloadMs: number;
  loadMs: number;
  buildMs: number;
  maxModelLen: number;
}

/** Where NIM images keep their manifest (the manifest-probe pod cats it from there). */
export const MANIFEST_PATH = '/opt/nim/etc/default/model_manifest.yaml';

/** `nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0` → `meta/llama-3.1-8b-instruct`. */
export function modelOfImage(image: string): string {
  const repo = repositoryOf(image);
  const parts = repo.split('/').slice(1);
  const nim = parts.findIndex((p) => p === 'nim' || p === 'nim-internal');
  const rest = nim >= 0 ? parts.slice(nim + 1) : parts.slice(-2);
  return rest.join('/') || repo;
}

const cache = new WeakMap<Catalogue, Map<string, NimImage | null>>();

export function nimImage(catalogue: Catalogue, image: string): NimImage | undefined {
  let byImage = cache.get(catalogue);
  if (!byImage) cache.set(catalogue, (byImage = new Map()));
  const hit = byImage.get(image);
  if (hit !== undefined) return hit ?? undefined;
  const spec = catalogue.nimOf(image);
  const built = spec ? build(image, spec) : undefined;
  byImage.set(image, built ?? null);
  return built;
}

function build(image: string, spec: NimSpec): NimImage {
  const kind = spec.kind ?? 'llm';
  const model = spec.model ?? modelOfImage(image);
  const release = tagOf(image).replace(/^sha256:.*/, 'latest');
  const containerUrl = `${repositoryOf(image)}:${release}`;
  const base = {
    image,
    kind,
    model,
    release,
    downloadMs: spec.downloadMs ?? 3000,
    loadMs: spec.loadMs ?? 5000,
    buildMs: spec.buildMs ?? 10_000,
    maxModelLen: spec.maxModelLen ?? 131_072,
  };
  const manifest = spec.manifest ?? 'v1';
  if (manifest === 'none') return { ...base, format: 'none', profiles: [] };
  if (manifest === 'v1' || manifest === 'v2') {
    const profiles = generateProfiles(kind, model, release, spec.profiles);
    const text = manifest === 'v1' ? renderV1(profiles, containerUrl) : renderV2(profiles);
    return { ...base, format: manifest, manifestText: text, profiles };
  }
  return { ...base, format: 'custom', manifestText: manifest, profiles: parseManifest(manifest) };
}
