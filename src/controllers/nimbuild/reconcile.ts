/**
 * One pass over one NIMBuild (inventory §2.4): finalizer; wait for the NIMCache to be Ready; choose
 * the buildable profile; run the engine build pod until it is ready (built); then the local
 * manifest pod, whose log names the built profile: it goes into the cache's manifest ConfigMap, the
 * NIMCache's `status.profiles` and the build's `status.outputProfile`. Pods are created only when
 * missing, and deleted only after the status that records their outcome is written, so a retried
 * pass never builds twice. A settled build costs no writes.
 */
import type { NIMBuild, NIMCache } from '../../api/v1alpha1/kinds.js';
import { ManifestError, minimalManifestYAML, parseManifest, type NimManifest } from '../../nim/manifest.js';
import {
  BUILD_CONTAINER, LOCAL_MANIFEST_KEY, LOCAL_MANIFEST_PATH, MANIFEST_CONTAINER, NIMBuildRenderError, engineBuildPodName, localManifestPodName, modelName,
  renderEngineBuildPod, renderLocalManifestPod, type NIMBuildFacts,
} from '../../render/nimbuild/index.js';
import { manifestConfigMapName } from '../../render/nimcache/index.js';
import { isControlledBy, FIELD_MANAGER } from '../../runtime/apply.js';
import { isConflict, isNotFound, type Json } from '../../runtime/client/rest.js';
import type { Request, Result } from '../../runtime/controller.js';
import { ensureFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { Informer } from '../../runtime/informer.js';
import { getCondition, updateStatusIfChanged } from '../../runtime/status.js';
import type { ControllerContext } from '../context.js';
import { readPodLog } from '../nimcache/logs.js';
import { detectOrchestrator } from '../orchestrator.js';
import { CacheProblem, needsFix, retryLater } from '../nimcache/problems.js';
import { describeFailure, podFailure, podProblem } from '../nimcache/status.js';
import { CONFIGMAP, NIMBUILD, NIMCACHE, POD } from '../refs.js';
import {
  COND_MANIFEST_COMPLETED, COND_MULTIPLE, COND_NONE, COND_POD_COMPLETED, COND_POD_CREATED, COND_POD_PENDING, COND_RECONCILE_FAILED, COND_SINGLE,
  cacheGate, chooseInputProfile, clearCondition, condition, enginePodOutcome, findOutputProfile, isTrue, withBuiltProfile, type BuildStatus,
} from './status.js';

export const FINALIZER = 'finalizer.nimbuild.apps.nvidia.com';

export interface NIMBuildCaches {
  builds: Informer;
  caches: Informer;
  pods: Informer;
  configMaps: Informer;
  nodes: Informer;
}

/** What a pass leaves for after its status is written, and why it failed the build. */
interface Pass {
  after: (() => Promise<unknown>)[];
  why?: string;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class NIMBuildReconciler {
  constructor(
    private readonly ctx: ControllerContext,
    private readonly c: NIMBuildCaches,
  ) {}

  private get client() {
    return this.ctx.manager.client;
  }

  private get recorder() {
    return this.ctx.recorder('nimbuild-controller');
  }

  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.c.builds.get(req.namespace, req.name);
    if (!cached) return;
    if (cached.metadata.deletionTimestamp) {
      if (!hasFinalizer(cached, FINALIZER)) return;
      await this.cleanup(cached);
      try {
        await removeFinalizer(this.client, NIMBUILD, cached, FINALIZER, FIELD_MANAGER);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    let build: Json;
    try {
      build = await ensureFinalizer(this.client, NIMBUILD, cached, FINALIZER, FIELD_MANAGER);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    const previous = (build.status ?? {}) as BuildStatus;
    const status = structuredClone(previous);
    const generation: number | undefined = build.metadata.generation;
    const pass: Pass = { after: [] };
    let failure: unknown;
    try {
      await this.sync(build as NIMBuild, status, pass);
      clearCondition(status, generation, COND_RECONCILE_FAILED, 'Reconciled', '');
    } catch (e) {
      // The NIMCache moved under us (its status write): look again.
      if (isConflict(e)) return { requeueAfterMs: 50 };
      failure = e;
      condition(status, generation, COND_RECONCILE_FAILED, 'True', 'ReconcileFailed', messageOf(e));
      // What the user must fix fails the build; anything else is retried and leaves the state be.
      if (e instanceof CacheProblem && e.kind === 'fix') {
        if (status.state !== 'Ready') status.state = 'Failed';
        pass.why = messageOf(e);
      } else status.state ||= 'Pending';
      pass.after = [];
    }
    let wrote: boolean;
    try {
      wrote = await updateStatusIfChanged(this.client, NIMBUILD, build, status as Json, FIELD_MANAGER);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    if (wrote) await this.announce(build, previous, status, failure, pass.why);
    // The status now says what these pods did: they can go.
    for (const action of pass.after) await action();
    if (failure instanceof CacheProblem && failure.retryAfterMs !== undefined) return { requeueAfterMs: failure.retryAfterMs };
    if (failure && !(failure instanceof CacheProblem && failure.kind === 'fix')) throw failure;
  }

  private async announce(build: Json, previous: BuildStatus, status: BuildStatus, failure: unknown, why: string | undefined): Promise<void> {
    const name = build.metadata.name;
    if (failure) {
      await this.recorder.record(build, 'Warning', 'ReconcileFailed', `NIMBuild ${name} reconcile failed, msg: ${messageOf(failure)}`);
    } else if (status.state && status.state !== previous.state) {
      const failed = status.state === 'Failed';
      const message = failed && why ? `NIMBuild ${name} failed: ${why}` : `NIMBuild ${name} reconcile success, new state: ${status.state}`;
      await this.recorder.record(build, failed ? 'Warning' : 'Normal', status.state, message);
    }
  }

  private facts(): NIMBuildFacts {
    return { orchestrator: detectOrchestrator(this.c.nodes.list()) };
  }

  /** Schedules the deletion of one of the build's pods, when it is there. */
  private removeLater(pass: Pass, b: NIMBuild, name: string): void {
    const pod = this.c.pods.get(b.metadata.namespace, name);
    if (!pod || pod.metadata.deletionTimestamp || !isControlledBy(pod, b)) return;
    pass.after.push(() => this.client.delete(POD, b.metadata.namespace, name));
  }

  private async sync(b: NIMBuild, status: BuildStatus, pass: Pass): Promise<void> {
    // Built: nothing more to do than to remove what is left.
    if (isTrue(status, COND_MANIFEST_COMPLETED)) {
      this.removeLater(pass, b, engineBuildPodName(b));
      this.removeLater(pass, b, localManifestPodName(b));
      return;
    }
    const cacheName = b.spec.nimCache.name;
    const cache = cacheGate(status, b.metadata.generation, cacheName, this.c.caches.get(b.metadata.namespace, cacheName) as NIMCache | undefined);
    if (!cache) return;
    if (!isTrue(status, COND_POD_COMPLETED)) return this.buildEngine(b, cache, status, pass);
    this.removeLater(pass, b, engineBuildPodName(b));
    return this.readManifest(b, cache, status, pass);
  }

  /** Step 3–4: the input profile, then the engine build pod until it is ready. */
  private async buildEngine(b: NIMBuild, cache: NIMCache, status: BuildStatus, pass: Pass): Promise<void> {
    const gen = b.metadata.generation;
    const ns = b.metadata.namespace;
    const name = engineBuildPodName(b);
    const pod = this.c.pods.get(ns, name);
    // A build under way keeps its input, whatever the cache lists meanwhile.
    const choice = pod && status.inputProfile?.name ? { profile: status.inputProfile, message: '' } : chooseInputProfile(cache, b.spec.nimCache.profile);
    if ('refused' in choice) {
      condition(status, gen, choice.refused, 'True', choice.reason, choice.message);
      for (const other of [COND_NONE, COND_MULTIPLE]) if (other !== choice.refused) clearCondition(status, gen, other, choice.reason, choice.message);
      clearCondition(status, gen, COND_SINGLE, choice.reason, choice.message);
      status.state = 'Failed';
      pass.why = choice.message;
      return;
    }
    if (choice.message) {
      condition(status, gen, COND_SINGLE, 'True', 'BuildableProfileFound', choice.message);
      for (const t of [COND_NONE, COND_MULTIPLE]) clearCondition(status, gen, t, 'BuildableProfileFound', choice.message);
      status.inputProfile = choice.profile;
    }
    if (!pod) {
      // Missing: never made, or deleted (by hand, to build again after a failure).
      const desired = wrap(() => renderEngineBuildPod(b, cache, choice.profile, this.facts()));
      await this.ctx.manager.applier.apply(POD, desired as Json);
      condition(status, gen, COND_POD_CREATED, 'True', 'EngineBuildPodCreated', 'The pod to build engine has been created');
      clearCondition(status, gen, COND_POD_COMPLETED, 'EngineBuildPodCreated', `The pod to build engine has been created again`);
      status.state = 'InProgress';
      return;
    }
    if (!isControlledBy(pod, b)) throw needsFix(`Pod ${name} exists and does not belong to this NIMBuild; delete it`);
    if (pod.metadata.deletionTimestamp) return;
    const outcome = enginePodOutcome(pod);
    switch (outcome.state) {
      case 'Ready':
        condition(status, gen, COND_POD_COMPLETED, 'True', 'PodReady', 'The Pod to build engine has successfully completed');
        clearCondition(status, gen, COND_POD_PENDING, 'PodReady', 'The Pod to build engine is ready');
        status.state = 'InProgress';
        // Deleted once this is written; its deletion wakes the next step.
        this.removeLater(pass, b, name);
        return;
      case 'Failed': {
        const previous = getCondition(status.conditions as never, COND_POD_COMPLETED);
        if (status.state !== 'Failed' || previous?.reason !== 'PodFailed') {
          const text = await this.describePodFailure(pod, BUILD_CONTAINER);
          const message = `The pod to build engine has failed: ${text}; delete pod ${name} to build again`;
          condition(status, gen, COND_POD_COMPLETED, 'False', 'PodFailed', message);
          pass.why = message;
        }
        clearCondition(status, gen, COND_POD_PENDING, 'PodFailed', 'The pod to build engine has failed');
        status.state = 'Failed';
        return;
      }
      case 'Pending':
        condition(status, gen, COND_POD_PENDING, 'True', 'PodPending', `The Pod to build engine cannot run yet: ${outcome.problem}`);
        status.state = 'InProgress';
        return;
      case 'Running':
        condition(status, gen, COND_POD_PENDING, 'True', 'PodRunning', 'The Pod to build engine is in progress');
        status.state = 'InProgress';
    }
  }

  /** Step 5: the local manifest pod; its log names the built profile. */
  private async readManifest(b: NIMBuild, cache: NIMCache, status: BuildStatus, pass: Pass): Promise<void> {
    const gen = b.metadata.generation;
    const ns = b.metadata.namespace ?? 'default';
    const name = localManifestPodName(b);
    const pod = this.c.pods.get(ns, name);
    const manifestDone = getCondition(status.conditions as never, COND_MANIFEST_COMPLETED);
    if (!pod) {
      await this.ctx.manager.applier.apply(POD, wrap(() => renderLocalManifestPod(b, cache, this.facts())) as Json);
      if (manifestDone) condition(status, gen, COND_MANIFEST_COMPLETED, 'False', 'PodCreated', 'The Pod to read local model manifest has been created again');
      status.state = 'InProgress';
      return;
    }
    if (!isControlledBy(pod, b)) throw needsFix(`Pod ${name} exists and does not belong to this NIMBuild; delete it`);
    if (pod.metadata.deletionTimestamp) return;
    // A failure found earlier stands until the pod is deleted (which runs the step again).
    if (status.state === 'Failed' && manifestDone?.status === 'False' && manifestDone.reason !== 'PodPending') return;
    const fail = (reason: string, message: string) => {
      const full = `${message}; delete pod ${name} to read it again`;
      condition(status, gen, COND_MANIFEST_COMPLETED, 'False', reason, full);
      status.state = 'Failed';
      pass.why = full;
    };
    const phase = pod.status?.phase;
    if (phase === 'Failed') return fail('PodFailed', `The Pod to read local model manifest has failed: ${await this.describePodFailure(pod, MANIFEST_CONTAINER)}`);
    if (phase !== 'Succeeded') {
      const problem = podProblem(pod);
      if (problem) condition(status, gen, COND_MANIFEST_COMPLETED, 'False', 'PodPending', `The Pod to read local model manifest cannot run yet: ${problem}`);
      status.state = 'InProgress';
      return;
    }
    let text: string;
    try {
      text = await readPodLog(this.client, ns, name, { container: MANIFEST_CONTAINER });
    } catch (e) {
      throw retryLater(`cannot read the log of pod ${name}: ${messageOf(e)}`);
    }
    let manifest: NimManifest;
    try {
      manifest = parseManifest(text);
    } catch (e) {
      const why = e instanceof ManifestError ? e.message : String(e);
      return fail('ManifestInvalid', `The Pod to read local model manifest printed no manifest (${LOCAL_MANIFEST_PATH}): ${why}`);
    }
    const model = modelName(b);
    const built = findOutputProfile(manifest, model, status.inputProfile?.name ?? '');
    if (!built) {
      const listed = manifest.profiles.map((p) => `${p.id} (model_name ${p.tags.model_name ?? 'unset'})`).join('; ');
      return fail('ProfileNotFound', `The local model manifest lists no profile with tag model_name=${model}: it lists ${listed}`);
    }
    await this.recordInCache(cache, manifest, built);
    status.outputProfile = built;
    condition(status, gen, COND_MANIFEST_COMPLETED, 'True', 'PodCompleted', 'The Pod to read local model manifest is completed');
    status.state = 'Ready';
    this.removeLater(pass, b, name);
  }

  /**
   * The built profile in the cache: the local manifest under `local_model_manifest.yaml` of the
   * `<cache>-manifest` ConfigMap (a merge patch: the NIMCache controller's applied fields stay its
   * own), and the profile appended to the NIMCache's `status.profiles` (a write guarded by the
   * resourceVersion: a concurrent change is a conflict and the pass runs again). Both are skipped
   * when already done.
   */
  private async recordInCache(cache: NIMCache, manifest: NimManifest, built: NonNullable<BuildStatus['outputProfile']>): Promise<void> {
    const ns = cache.metadata.namespace;
    const cmName = manifestConfigMapName(cache);
    const cm = this.c.configMaps.get(ns, cmName);
    if (!cm) throw retryLater(`ConfigMap ${cmName} (the model manifest of NIMCache ${cache.metadata.name}) not found; the NIMCache controller writes it`);
    const yaml = minimalManifestYAML(manifest);
    if (cm.data?.[LOCAL_MANIFEST_KEY] !== yaml) {
      await this.client.patch(CONFIGMAP, ns, cmName, { data: { [LOCAL_MANIFEST_KEY]: yaml } }, 'merge', { fieldManager: FIELD_MANAGER });
    }
    const profiles = withBuiltProfile(cache, built);
    if (profiles) await this.client.updateStatus(NIMCACHE, { ...(cache as Json), status: { ...(cache.status ?? {}), profiles } }, FIELD_MANAGER);
  }

  /** "exit code 1: <termination message or the end of the log>". */
  private async describePodFailure(pod: Json, container: string): Promise<string> {
    const f = podFailure(pod, container);
    const log = f.message ? undefined : await readPodLog(this.client, pod.metadata.namespace, pod.metadata.name, { container, tailLines: 3, limitBytes: 4096 }).catch(() => undefined);
    return describeFailure(f, log);
  }

  /** Before the finalizer goes: the build's pods (upstream deletes the engine build pod only). */
  private async cleanup(build: Json): Promise<void> {
    const b = build as NIMBuild;
    for (const name of [engineBuildPodName(b), localManifestPodName(b)]) {
      const pod = this.c.pods.get(build.metadata.namespace, name);
      if (pod && isControlledBy(pod, build) && !pod.metadata.deletionTimestamp) await this.client.delete(POD, build.metadata.namespace, name);
    }
  }
}

/** Runs a render; what the user must fix becomes a CacheProblem of kind `fix`. */
function wrap<T>(render: () => T): T {
  try {
    return render();
  } catch (e) {
    if (e instanceof NIMBuildRenderError) throw needsFix(e.message);
    throw e;
  }
}
