/**
 * One pass over one NIMPipeline (inventory §2.3): finalizer; each enabled entry's NIMService
 * applied with server-side apply (so an edit of an entry reaches its NIMService, which upstream
 * never does — Appendix A1), unless a NIMService of that name is not ours, which is left alone and
 * reported; owned NIMServices of disabled or removed entries deleted; then the status, written
 * and announced only when it changed.
 */
import { isDeepStrictEqual } from 'node:util';
import type { NIMPipeline } from '../../api/v1alpha1/kinds.js';
import { ownedByPipeline, renderPipeline } from '../../render/nimpipeline/index.js';
import { LAST_APPLIED_HASH } from '../../render/labels.js';
import { isSubset, FIELD_MANAGER } from '../../runtime/apply.js';
import { KubeError, isConflict, isNotFound, type Json } from '../../runtime/client/rest.js';
import type { Request, Result } from '../../runtime/controller.js';
import { ensureFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { Informer } from '../../runtime/informer.js';
import type { ControllerContext } from '../context.js';
import { NIMPIPELINE, NIMSERVICE } from '../refs.js';
import { computeOutcome, eventMessage, nextPipelineStatus, type PipelineOutcome, type ServiceFinding } from './status.js';

export const FINALIZER = 'finalizer.nimpipeline.apps.nvidia.com';
export const COMPONENT = 'nimpipeline-controller';
/** Index of NIMServices by the pipeline that controls them: `<namespace>/<pipeline name>`. */
export const BY_PIPELINE = 'nimpipeline';

export interface NIMPipelineCaches {
  pipelines: Informer;
  services: Informer;
}

export class NIMPipelineReconciler {
  constructor(
    private readonly ctx: ControllerContext,
    private readonly caches: NIMPipelineCaches,
  ) {}

  private get client() {
    return this.ctx.manager.client;
  }

  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.caches.pipelines.get(req.namespace, req.name);
    if (!cached) return;
    if (cached.metadata.deletionTimestamp) {
      // Nothing to clean up: the garbage collector removes the owned NIMServices.
      if (hasFinalizer(cached, FINALIZER)) {
        try {
          await removeFinalizer(this.client, NIMPIPELINE, cached, FINALIZER, FIELD_MANAGER);
        } catch (e) {
          if (isConflict(e)) return { requeueAfterMs: 50 };
          if (!isNotFound(e)) throw e;
        }
      }
      return;
    }
    let pipeline: NIMPipeline & Json;
    try {
      pipeline = (await ensureFinalizer(this.client, NIMPIPELINE, cached, FINALIZER, FIELD_MANAGER)) as NIMPipeline & Json;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    const outcome = await this.sync(pipeline);
    if (!(await this.writeStatus(pipeline, outcome))) return { requeueAfterMs: 50 };
  }

  /** Applies the wanted NIMServices, deletes the unwanted owned ones, and works out the status. */
  private async sync(p: NIMPipeline & Json): Promise<PipelineOutcome> {
    const ns = p.metadata.namespace as string;
    const render = renderPipeline(p);
    const services: { name: string; finding: ServiceFinding }[] = [];
    for (const desired of render.services) {
      const name = desired.metadata.name!;
      services.push({ name, finding: await this.syncService(p, desired as unknown as Json) });
    }
    const wanted = new Set(render.enabled);
    for (const live of this.caches.services.byIndex(BY_PIPELINE, `${ns}/${p.metadata.name}`)) {
      if (wanted.has(live.metadata.name) || live.metadata.deletionTimestamp || !ownedByPipeline(live, p)) continue;
      await this.client.delete(NIMSERVICE, ns, live.metadata.name, { propagationPolicy: 'Background', preconditions: { uid: live.metadata.uid } });
    }
    return computeOutcome({ name: p.metadata.name as string, services, problems: render.problems.map((x) => x.message) });
  }

  private async syncService(p: NIMPipeline & Json, desired: Json): Promise<ServiceFinding> {
    const ns = desired.metadata.namespace;
    const name = desired.metadata.name;
    let live = this.caches.services.get(ns, name);
    // Not in the cache: ask the API, so a NIMService someone just made is never taken over.
    if (!live) live = await this.getLive(ns, name);
    if (live && !ownedByPipeline(live, p)) return { kind: 'conflict' };
    const unchanged = live && live.metadata.annotations?.[LAST_APPLIED_HASH] === desired.metadata.annotations[LAST_APPLIED_HASH] && isSubset(desired, live);
    if (live && (unchanged || live.metadata.deletionTimestamp)) {
      // One being deleted (an entry re-enabled meanwhile) is created again once it is gone.
      return live.metadata.deletionTimestamp ? { kind: 'missing' } : { kind: 'owned', state: live.status?.state };
    }
    try {
      const { object } = await this.ctx.manager.applier.apply(NIMSERVICE, desired);
      return { kind: 'owned', state: object.status?.state };
    } catch (e) {
      if (e instanceof KubeError && [400, 403, 404, 422].includes(e.code)) return { kind: 'rejected', message: e.message };
      throw e;
    }
  }

  private async getLive(ns: string, name: string): Promise<Json | undefined> {
    try {
      return await this.client.get(NIMSERVICE, ns, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Writes the status if it changed; false when the pipeline moved meanwhile (reconcile again). */
  private async writeStatus(p: NIMPipeline & Json, o: PipelineOutcome): Promise<boolean> {
    const before = p.status ?? {};
    const status = nextPipelineStatus(before, o, p.metadata.generation);
    if (isDeepStrictEqual(before, status)) return true;
    try {
      await this.client.updateStatus(NIMPIPELINE, { ...p, status }, FIELD_MANAGER);
    } catch (e) {
      if (isNotFound(e)) return true;
      if (isConflict(e)) return false;
      throw e;
    }
    const ready = (before.conditions ?? []).find((c: Json) => c.type === 'Ready');
    if (before.state !== o.state || !isDeepStrictEqual(before.states ?? {}, o.states) || ready?.reason !== o.reason) {
      await this.ctx.recorder(COMPONENT).record(p, o.warning ? 'Warning' : 'Normal', o.state, eventMessage(p.metadata.name as string, o));
    }
    return true;
  }
}
