/**
 * The steps of a NIMCache reconcile that need facts beyond the object itself: the image's download
 * protocol (registry inspection), the model manifest (the probe pod and its log), and the profiles
 * to download (the manifest and the nodes' GPUs). Each works on the informers and tells the
 * reconciler what it found, or throws a CacheProblem.
 */
import { isControlledBy } from '../../runtime/apply.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { ManifestError, parseManifest, type NimManifest } from '../../nim/manifest.js';
import { parseDockerConfig, resolveProtocol, type DockerConfig, type DownloadProtocol, type ImageInspector } from '../../nim/inspect.js';
import { discoverGPUs, matchProfiles, type ModelSelector } from '../../nim/profiles.js';
import { activeSource } from '../../nim/source.js';
import { CONTAINER_NAME, MANIFEST_KEY, NO_MANIFEST, probePodName, renderProbePod, type NIMCacheFacts } from '../../render/nimcache/index.js';
import { isNotFound, type Json } from '../../runtime/client/rest.js';
import type { Informer } from '../../runtime/informer.js';
import type { ControllerContext } from '../context.js';
import { POD, SECRET } from '../refs.js';
import { readPodLog } from './logs.js';
import { needsFix, retryLater } from './problems.js';
import { describeFailure, podFailure, podProblem } from './status.js';

export const SELECTED_PROFILES_ANNOTATION = 'nvidia.com/selected-profiles';


type ProbeOutcome = NimManifest | 'model-free' | { failed: string } | { invalid: string };

export class CacheSteps {
  /** Download protocol per cache uid and image: the registry is asked once per cache. */
  private readonly protocols = new Map<string, DownloadProtocol>();
  /** Per cache uid: what its probe pod (by uid) said, and how many probes failed. */
  private readonly probeResults = new Map<string, { podUid: string; outcome: ProbeOutcome; failures: number; at: number }>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly pods: Informer,
    private readonly nodes: Informer,
    private readonly inspector?: ImageInspector,
  ) {}

  forget(uid: string | undefined): void {
    for (const k of this.protocols.keys()) if (k.startsWith(`${uid}/`)) this.protocols.delete(k);
    this.probeResults.delete(uid ?? '');
  }

  private get client() {
    return this.ctx.manager.client;
  }

  /** The pull secrets' docker configs; a missing or malformed one is logged and skipped. */
  private async dockerConfigs(namespace: string, names: string[]): Promise<DockerConfig[]> {
    const out: DockerConfig[] = [];
    for (const name of names.filter(Boolean)) {
      try {
        const s = await this.client.get(SECRET, namespace, name);
        const data = s.data?.['.dockerconfigjson'];
        if (typeof data !== 'string') throw new Error('it has no .dockerconfigjson key');
        out.push(parseDockerConfig(data));
      } catch (e) {
        this.ctx.manager.log.warn({ namespace, secret: name, err: isNotFound(e) ? 'not found' : String(e) }, 'image pull secret unusable for registry inspection');
      }
    }
    return out;
  }

  /** The download protocol of an optimized NGC cache's image (legacy when nothing can say). */
  async protocol(cache: NIMCache): Promise<DownloadProtocol> {
    const src = activeSource(cache.spec);
    if (!this.inspector || !src) return 'legacy';
    const key = `${cache.metadata.uid}/${src.modelPuller}`;
    const known = this.protocols.get(key);
    if (known) return known;
    const ns = cache.metadata.namespace ?? 'default';
    const secrets = await this.dockerConfigs(ns, src.pullSecret ? [src.pullSecret] : []);
    const p = await resolveProtocol(this.inspector, src.modelPuller, secrets, (err) =>
      this.ctx.manager.log.info({ namespace: ns, name: cache.metadata.name, image: src.modelPuller, err: String(err) }, 'image inspection failed; assuming the legacy download protocol'),
    );
    this.protocols.set(key, p);
    return p;
  }

  /**
   * Runs the manifest probe. Resolves with the manifest, with `'model-free'` when the image has
   * none, or with `undefined` while the pod has not finished (its events wake the cache).
   *
   * A probe that fails (or prints nothing) is tried again after a back-off that doubles from the
   * poll period up to five minutes; the failed pod is kept until then, so that a failing image
   * does not turn into a loop of pods. Output that is not a manifest is reported, and the pod is
   * kept: trying again would print the same.
   */
  async probe(cache: NIMCache, facts: NIMCacheFacts): Promise<NimManifest | 'model-free' | undefined> {
    const ns = cache.metadata.namespace ?? 'default';
    const name = probePodName(cache);
    const image = activeSource(cache.spec)?.modelPuller ?? '';
    const pod = this.pods.get(ns, name);
    if (!pod) {
      const desired = renderProbePod(cache, facts);
      await this.ctx.manager.applier.apply(POD, desired as Json);
      return undefined;
    }
    if (!isControlledBy(pod, cache)) throw needsFix(`Pod ${name} exists and does not belong to this NIMCache; delete it so that the model manifest can be read`);
    if (pod.metadata.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') {
      const problem = podProblem(pod);
      if (problem) throw needsFix(`the manifest probe pod ${name} (image ${image}) cannot run: ${problem}`);
      return undefined;
    }
    const seen = this.probeResults.get(cache.metadata.uid ?? '');
    let outcome = seen && seen.podUid === pod.metadata.uid ? seen.outcome : undefined;
    if (!outcome) {
      outcome = await this.readProbe(pod, phase, image);
      const failures = (seen?.failures ?? 0) + (typeof outcome === 'object' && 'failed' in outcome ? 1 : 0);
      this.probeResults.set(cache.metadata.uid ?? '', { podUid: pod.metadata.uid, outcome, failures, at: Date.now() });
    }
    const entry = this.probeResults.get(cache.metadata.uid ?? '')!;
    if (typeof outcome === 'object' && 'failed' in outcome) {
      const delay = Math.min(300_000, this.ctx.pollMs * 2 ** (entry.failures - 1));
      const left = entry.at + delay - Date.now();
      if (left > 0) throw retryLater(`${outcome.failed} (attempt ${entry.failures}; tried again after a back-off)`, left);
      await this.client.delete(POD, ns, name);
      return undefined;
    }
    if (typeof outcome === 'object' && 'invalid' in outcome) throw needsFix(outcome.invalid);
    return outcome;
  }

  /** What a finished probe pod says. */
  private async readProbe(pod: Json, phase: string, image: string): Promise<ProbeOutcome> {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    if (phase === 'Failed') {
      const log = await readPodLog(this.client, ns, name, { container: CONTAINER_NAME, tailLines: 5 }).catch(() => '');
      return { failed: `the manifest probe pod ${name} (image ${image}) failed with ${describeFailure(podFailure(pod, CONTAINER_NAME), log)}` };
    }
    let text: string;
    try {
      text = await readPodLog(this.client, ns, name, { container: CONTAINER_NAME });
    } catch (e) {
      return { failed: `cannot read the log of the manifest probe pod ${name}: ${(e as Error).message}` };
    }
    if (text.includes(NO_MANIFEST)) return 'model-free';
    if (!text.trim()) return { failed: `the manifest probe pod ${name} (image ${image}) printed nothing` };
    try {
      return parseManifest(text);
    } catch (e) {
      const why = e instanceof ManifestError ? e.message : String(e);
      return { invalid: `cannot read the model manifest of ${image}: ${why} (the probe printed: ${JSON.stringify(text.trim().slice(0, 200))})` };
    }
  }

  /** Deletes the probe pod once its manifest is kept (NIM images are large: it should not linger). */
  async removeProbe(cache: NIMCache): Promise<void> {
    this.probeResults.delete(cache.metadata.uid ?? '');
    await this.client.delete(POD, cache.metadata.namespace, probePodName(cache));
  }

  /**
   * The profiles an optimized NGC cache downloads: `model.profiles`, else the ids in the
   * `nvidia.com/selected-profiles` annotation, else those of the manifest that match `model` on the
   * GPUs named there or, when none are, on the nodes' GPUs.
   */
  select(cache: NIMCache, manifest: NimManifest | undefined): string[] {
    const model = cache.spec.source.ngc?.model;
    if (model?.profiles?.length) return [...model.profiles];
    const annotation = cache.metadata.annotations?.[SELECTED_PROFILES_ANNOTATION];
    if (annotation !== undefined) {
      let ids: unknown;
      try {
        ids = JSON.parse(annotation);
      } catch {
        ids = undefined;
      }
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
        throw needsFix(`annotation ${SELECTED_PROFILES_ANNOTATION} must be a JSON list of profile ids, e.g. ["<id>"]`);
      }
      if (ids.length === 0) throw needsFix(`no profiles are selected for caching: annotation ${SELECTED_PROFILES_ANNOTATION} is an empty list`);
      return ids as string[];
    }
    if (!manifest) {
      throw needsFix('no profiles are selected for caching: the image has no model manifest (status.type is model-free); name the profiles in spec.source.ngc.model.profiles, or use spec.source.ngc.modelEndpoint');
    }
    const sel: ModelSelector = {};
    for (const k of ['precision', 'engine', 'tensorParallelism', 'qosProfile'] as const) if (model?.[k]) sel[k] = model[k];
    if (model?.gpus?.length) sel.gpus = model.gpus.map((g) => ({ ...(g.product ? { product: g.product } : {}), ...(g.ids ? { ids: g.ids } : {}) }));
    if (model?.lora !== undefined) sel.lora = model.lora;
    if (model?.buildable !== undefined) sel.buildable = model.buildable;
    const discovered = sel.gpus?.length ? [] : discoverGPUs(this.nodes.list());
    const ids = matchProfiles(manifest, sel, discovered);
    if (ids.length === 0) {
      const asked = Object.entries(sel).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') || 'no filters';
      const gpus = sel.gpus?.length ? 'the GPUs named in spec.source.ngc.model.gpus' : discovered.length ? `the nodes' GPUs (${discovered.join(', ')})` : 'no GPU found on the nodes';
      throw needsFix(`no profiles are selected for caching: none of the ${manifest.profiles.length} profiles of the model manifest (${manifest.version}) matches ${asked} on ${gpus}`);
    }
    return ids;
  }
}

/** The manifest kept in the `<cache>-manifest` ConfigMap. */
export function manifestFromConfigMap(cm: Json): NimManifest {
  const text = cm.data?.[MANIFEST_KEY];
  if (typeof text !== 'string') throw needsFix(`ConfigMap ${cm.metadata?.name} has no ${MANIFEST_KEY}; delete it so that the manifest is read again`);
  try {
    return parseManifest(text);
  } catch (e) {
    throw needsFix(`ConfigMap ${cm.metadata?.name} does not hold a model manifest (${(e as Error).message}); delete it so that the manifest is read again`);
  }
}
