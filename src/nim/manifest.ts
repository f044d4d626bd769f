/**
 * NIM model manifests (inventory §2.1.4): the file a NIM image carries at
 * /opt/nim/etc/default/model_manifest.yaml, listing the model's profiles and their tags.
 *
 * Two formats exist. v1 is a map of profile id → {model, release, tags, container_url, workspace}
 * (the workspace uses custom YAML tags such as `!workspace` and `!name`). v2 has `schema_version`,
 * `profile_selection_criteria` and a list `profiles` of {id, tags, workspace}. Everything is read as
 * text (YAML's failsafe schema), so `tp: 1` and `feat_lora: false` are the strings "1" and "false",
 * exactly as written.
 */
import { parseDocument, stringify } from 'yaml';

export type ManifestVersion = 'v1' | 'v2';

export interface ManifestProfile {
  id: string;
  /** v1 only ('' in v2). */
  model: string;
  /** v1 only ('' in v2). */
  release: string;
  tags: Record<string, string>;
  /** v1 only. */
  containerUrl?: string;
}

export interface NimManifest {
  version: ManifestVersion;
  /** v2: `schema_version` as written. */
  schemaVersion?: string;
  /** v2: `profile_selection_criteria`. */
  selectionCriteria?: string;
  /**
   * The profiles. v1: sorted by id, because a YAML map has no order that upstream relies on (Go
   * iterates it at random), and a stable order keeps the Job's arguments the same on every render.
   * v2: in the order of the list.
   */
  profiles: ManifestProfile[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

type Doc = Record<string, unknown>;

const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses YAML with every scalar kept as text; unknown tags (`!workspace`) are read as plain nodes. */
function load(text: string): unknown {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false });
  if (doc.errors.length) throw new ManifestError(`the model manifest is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  return doc.toJS({ maxAliasCount: 1000 });
}

function versionOf(doc: unknown): ManifestVersion {
  if (!isMap(doc)) return 'v1';
  const v = doc.schema_version;
  // Upstream's rule: an unanchored match of `2\.*\.*`, i.e. any "2" in the trimmed value.
  return typeof v === 'string' && /2/.test(v.trim()) ? 'v2' : 'v1';
}

/** Which format a manifest is in: v2 when its `schema_version` contains a "2", else v1 (also when it does not parse). */
export function manifestVersion(text: string): ManifestVersion {
  try {
    return versionOf(load(text));
  } catch {
    return 'v1';
  }
}

function tagsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isMap(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Parses a manifest of either format. Entries that are not profiles (a v1 key whose value is not a
 * map, a v2 item without an id) are skipped; a text with no profile at all is an error, so that
 * something that is not a manifest (an error message printed by the image) is never taken for one.
 */
export function parseManifest(text: string): NimManifest {
  const doc = load(text);
  if (!isMap(doc)) throw new ManifestError('the model manifest is not a YAML map of profiles');
  const version = versionOf(doc);
  let manifest: NimManifest;
  if (version === 'v2') {
    const items = Array.isArray(doc.profiles) ? doc.profiles : [];
    const profiles = items.filter(isMap).filter((p) => str(p.id) !== '').map((p) => ({ id: str(p.id), model: '', release: '', tags: tagsOf(p.tags) }));
    manifest = { version, schemaVersion: str(doc.schema_version), profiles };
    if (typeof doc.profile_selection_criteria === 'string') manifest.selectionCriteria = doc.profile_selection_criteria;
  } else {
    const profiles: ManifestProfile[] = [];
    for (const [id, p] of Object.entries(doc)) {
      if (!isMap(p)) continue;
      const profile: ManifestProfile = { id, model: str(p.model), release: str(p.release), tags: tagsOf(p.tags) };
      if (typeof p.container_url === 'string') profile.containerUrl = p.container_url;
      profiles.push(profile);
    }
    profiles.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    manifest = { version, profiles };
  }
  if (manifest.profiles.length === 0) throw new ManifestError(`the model manifest (${version}) lists no profiles`);
  return manifest;
}

/**
 * The minimal manifest kept in the `<cache>-manifest` ConfigMap: v1 keeps model, release, tags and
 * container_url of each profile; v2 keeps schema_version, profile_selection_criteria and each
 * profile's id and tags. The workspaces (file lists) are dropped. It parses back to the same profiles.
 */
export function minimalManifestYAML(m: NimManifest): string {
  if (m.version === 'v2') {
    const out: Doc = { schema_version: m.schemaVersion ?? '2' };
    if (m.selectionCriteria !== undefined) out.profile_selection_criteria = m.selectionCriteria;
    out.profiles = m.profiles.map((p) => ({ id: p.id, tags: { ...p.tags } }));
    return stringify(out);
  }
  const out: Doc = {};
  for (const p of m.profiles) {
    const entry: Doc = {};
    if (p.model) entry.model = p.model;
    if (p.release) entry.release = p.release;
    entry.tags = { ...p.tags };
    if (p.containerUrl) entry.container_url = p.containerUrl;
    out[p.id] = entry;
  }
  return stringify(out);
}

export function findProfile(m: NimManifest, id: string): ManifestProfile | undefined {
  return m.profiles.find((p) => p.id === id);
}
