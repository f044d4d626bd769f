/**
 * One pass over one NIMCache (inventory §2.1.1): finalizer; the namespace's shared ServiceAccount,
 * Role and RoleBinding; the PVC; the image's download protocol; the model manifest (probe pod →
 * ConfigMap); the profiles; the caching Job; and the status the Job's progress gives. Children are
 * written with server-side apply only when they differ from what the informers hold, and the status
 * only when it changed, so a settled cache costs no writes.
 */
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import type { NimManifest } from '../../nim/manifest.js';
import { isOptimizedNIM } from '../../nim/source.js';
import {
  BACKOFF_LIMIT, CONTAINER_NAME, RenderError, jobName, jobProfiles, manifestConfigMapName, pvcName, renderJob, renderManifestConfigMap,
  renderPVC, renderRole, renderRoleBinding, renderServiceAccount, sharedRoleSCCs, type NIMCacheFacts,
} from '../../render/nimcache/index.js';
import { isControlledBy, FIELD_MANAGER } from '../../runtime/apply.js';
import type { ResourceRef } from '../../runtime/client/client.js';
import { isConflict, isNotFound, type Json } from '../../runtime/client/rest.js';
import type { Request, Result } from '../../runtime/controller.js';
import { ensureFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { Informer } from '../../runtime/informer.js';
import { getCondition, updateStatusIfChanged } from '../../runtime/status.js';
import type { ImageInspector } from '../../nim/inspect.js';
import type { ControllerContext } from '../context.js';
import { detectOrchestrator } from '../orchestrator.js';
import { CONFIGMAP, JOB, NIMCACHE, POD, PVC, ROLE, ROLEBINDING, SERVICEACCOUNT } from '../refs.js';
import { readPodLog } from './logs.js';
import { CacheProblem, needsFix } from './problems.js';
import {
  COND_JOB_CREATED, COND_PVC_CREATED, COND_RECONCILE_FAILED, applyJobOutcome, condition, describeFailure, jobOutcome, podFailure, readyProfiles,
  type CacheStatus,
} from './status.js';
import { CacheSteps, manifestFromConfigMap } from './steps.js';

export const FINALIZER = 'finalizer.nimcache.apps.nvidia.com';

export interface NIMCacheCaches {
  caches: Informer;
  jobs: Informer;
  pods: Informer;
  pvcs: Informer;
  configMaps: Informer;
  serviceAccounts: Informer;
  roles: Informer;
  roleBindings: Informer;
  nodes: Informer;
}


export class NIMCacheReconciler {
  private readonly steps: CacheSteps;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly c: NIMCacheCaches,
    inspector?: ImageInspector,
  ) {
    this.steps = new CacheSteps(ctx, c.pods, c.nodes, inspector);
  }

  private get client() {
    return this.ctx.manager.client;
  }

  private get recorder() {
    return this.ctx.recorder('nimcache-controller');
  }

  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.c.caches.get(req.namespace, req.name);
    if (!cached) return;
    if (cached.metadata.deletionTimestamp) {
      this.steps.forget(cached.metadata.uid);
      if (!hasFinalizer(cached, FINALIZER)) return;
      await this.cleanup(cached);
      try {
        await removeFinalizer(this.client, NIMCACHE, cached, FINALIZER, FIELD_MANAGER);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    let cache: Json;
    try {
      cache = await ensureFinalizer(this.client, NIMCACHE, cached, FINALIZER, FIELD_MANAGER);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    const previous = (cache.status ?? {}) as CacheStatus;
    const status = structuredClone(previous);
    const generation: number | undefined = cache.metadata.generation;
    let failure: unknown;
    let result: Result | void = undefined;
    try {
      result = await this.sync(cache as NIMCache, status);
      if (getCondition(status.conditions as never, COND_RECONCILE_FAILED)) condition(status, generation, COND_RECONCILE_FAILED, 'False', 'Reconciled', '');
    } catch (e) {
      if (isConflict(e)) throw e;
      failure = e;
      // A downloaded model stays downloaded: a Ready cache keeps its state, the condition says what failed.
      if (status.state !== 'Ready') status.state = 'NotReady';
      condition(status, generation, COND_RECONCILE_FAILED, 'True', 'ReconcileFailed', e instanceof Error ? e.message : String(e));
    }
    if (!status.profiles?.length) delete status.profiles;
    let wrote: boolean;
    try {
      wrote = await updateStatusIfChanged(this.client, NIMCACHE, cache, status as Json, FIELD_MANAGER);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    if (wrote) await this.announce(cache, previous, status, failure);
    // A problem the user must fix waits for the event that fixes it; anything else is retried.
    if (failure instanceof CacheProblem && failure.retryAfterMs !== undefined) return { requeueAfterMs: failure.retryAfterMs };
    if (failure && !(failure instanceof CacheProblem && failure.kind === 'fix')) throw failure;
    return result;
  }

  private async announce(cache: Json, previous: CacheStatus, status: CacheStatus, failure: unknown): Promise<void> {
    const name = cache.metadata.name;
    if (failure) {
      await this.recorder.record(cache, 'Warning', 'ReconcileFailed', `NIMCache ${name} reconcile failed, msg: ${failure instanceof Error ? failure.message : String(failure)}`);
    } else if (status.state && status.state !== previous.state) {
      const type = status.state === 'Failed' ? 'Warning' : 'Normal';
      await this.recorder.record(cache, type, status.state, `NIMCache ${name} reconcile success, new state: ${status.state}`);
    }
  }

  private async apply(ref: ResourceRef, desired: Json, informer: Informer): Promise<void> {
    await this.ctx.manager.applier.apply(ref, desired, informer.get(desired.metadata.namespace, desired.metadata.name));
  }

  private facts(): NIMCacheFacts {
    return { orchestrator: detectOrchestrator(this.c.nodes.list()) };
  }

  /** The state while no Job exists yet: PVC-Created when we made the claim, else Pending. */
  private beforeJob(status: CacheStatus): void {
    if (status.state === 'Ready' || status.state === 'Failed') return;
    status.state = getCondition(status.conditions as never, COND_PVC_CREATED)?.status === 'True' ? 'PVC-Created' : 'Pending';
  }

  private async sync(cache: NIMCache, status: CacheStatus): Promise<Result | void> {
    const ns = cache.metadata.namespace ?? 'default';
    const generation = cache.metadata.generation;
    const facts = this.facts();

    // The namespace's shared identity (no owner: it serves every cache there).
    const inNamespace = this.c.caches.list(ns) as NIMCache[];
    await this.apply(SERVICEACCOUNT, renderServiceAccount(ns) as Json, this.c.serviceAccounts);
    await this.apply(ROLE, renderRole(ns, sharedRoleSCCs(inNamespace)) as Json, this.c.roles);
    await this.apply(ROLEBINDING, renderRoleBinding(ns) as Json, this.c.roleBindings);

    const claim = pvcName(cache);
    const pvc = this.c.pvcs.get(ns, claim);
    if (!pvc) {
      if (!cache.spec.storage?.pvc?.create) {
        throw needsFix(`PersistentVolumeClaim ${claim} not found: create it, or set spec.storage.pvc.create to true`);
      }
      await this.apply(PVC, wrap(() => renderPVC(cache)) as Json, this.c.pvcs);
      condition(status, generation, COND_PVC_CREATED, 'True', 'PVCCreated', 'The PVC has been created for caching NIM model');
    }

    const job = this.c.jobs.get(ns, jobName(cache));
    if (job && !isControlledBy(job, cache)) throw needsFix(`Job ${jobName(cache)} exists and does not belong to this NIMCache; delete it`);

    // The download protocol is decided once, before the Job; the Job then keeps what it was made with.
    if (!job) {
      const native = isOptimizedNIM(cache.spec) && (await this.steps.protocol(cache)) === 'native';
      if (native) status.type = 'native';
      else if (status.type === 'native') delete status.type;
    }

    let manifest: NimManifest | undefined;
    if (status.type !== 'native') {
      const cm = this.c.configMaps.get(ns, manifestConfigMapName(cache));
      if (cm) manifest = manifestFromConfigMap(cm);
      else if (status.type !== 'model-free') {
        const found = await this.steps.probe(cache, facts);
        if (found === undefined) {
          if (!job) this.beforeJob(status);
          return;
        }
        if (found === 'model-free') status.type = 'model-free';
        else {
          manifest = found;
          await this.apply(CONFIGMAP, renderManifestConfigMap(cache, found) as Json, this.c.configMaps);
        }
        await this.steps.removeProbe(cache);
      }
    }

    const optimized = isOptimizedNIM(cache.spec) && status.type !== 'native';
    const profiles = optimized ? (job ? jobProfiles(job) : this.steps.select(cache, manifest)) : undefined;

    if (!job) {
      // A Job deleted after success (ttlSecondsAfterFinished) leaves a Ready cache alone.
      if (status.state === 'Ready') return;
      const desired = wrap(() => renderJob(cache, { ...facts, type: (status.type ?? '') as NIMCacheFacts['type'], ...(profiles ? { profiles } : {}) }));
      await this.apply(JOB, desired as Json, this.c.jobs);
      condition(status, generation, COND_JOB_CREATED, 'True', 'JobCreated', 'The Job to cache NIM has been created');
      status.state = 'Started';
      delete status.profiles;
      return;
    }

    const pods = this.c.pods.list(ns).filter((p) => isControlledBy(p, job));
    const outcome = jobOutcome(job, pods, CONTAINER_NAME, job.spec?.backoffLimit ?? BACKOFF_LIMIT);
    let failureText: string | undefined;
    if (outcome.state === 'Failed' && status.state !== 'Failed' && outcome.lastPod) {
      const f = podFailure(outcome.lastPod, CONTAINER_NAME);
      // Quote the end of the log when the kubelet kept no termination message.
      const log = f.message ? undefined : await readPodLog(this.client, ns, outcome.lastPod.metadata.name, { container: CONTAINER_NAME, tailLines: 3, limitBytes: 4096 }).catch(() => undefined);
      failureText = describeFailure(f, log);
    }
    applyJobOutcome(status, generation, outcome, { pvc: claim, profiles: readyProfiles(profiles, manifest) }, failureText);
  }

  /** Before the finalizer goes: the Job's pods and the probe pod, in this namespace only (upstream lists pods everywhere). */
  private async cleanup(cache: Json): Promise<void> {
    const ns = cache.metadata.namespace;
    const job = this.c.jobs.get(ns, jobName(cache as NIMCache));
    const selector: Record<string, string> | undefined = job && isControlledBy(job, cache) ? job.spec?.selector?.matchLabels : undefined;
    const victims = this.c.pods.list(ns).filter((p) => {
      if (p.metadata?.name === `${cache.metadata.name}-pod` && isControlledBy(p, cache)) return true;
      return !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v);
    });
    for (const p of victims) await this.client.delete(POD, ns, p.metadata.name, { propagationPolicy: 'Background' });
  }
}

/** Runs a render; what the user must fix becomes a CacheProblem. */
function wrap<T>(render: () => T): T {
  try {
    return render();
  } catch (e) {
    if (e instanceof RenderError) throw needsFix(e.message);
    throw e;
  }
}
