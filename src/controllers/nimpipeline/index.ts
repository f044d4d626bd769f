/**
 * The NIMPipeline controller: informers for pipelines and NIMServices; a NIMService's change wakes
 * the pipeline that controls it, and one of the same name as an entry (ours or not) wakes the
 * pipelines naming it, so a conflicting NIMService that goes away is replaced at once.
 */
import { trackStates } from '../state-gauge.js';
import { Controller } from '../../runtime/controller.js';
import type { Json } from '../../runtime/client/rest.js';
import type { ControllerContext, ControllerSetup } from '../context.js';
import { EVENT, NIMPIPELINE, NIMSERVICE, OWN, type Permission } from '../refs.js';
import { BY_PIPELINE, NIMPipelineReconciler } from './reconcile.js';

export { FINALIZER } from './reconcile.js';

export const NIMPIPELINE_PERMISSIONS: Permission[] = [
  { ref: NIMPIPELINE, verbs: ['get', 'list', 'watch', 'patch'], why: 'the primary object; its finalizer is added and removed with patches' },
  { ref: NIMPIPELINE, subresource: 'status', verbs: ['update'], why: 'status: state, states, conditions' },
  { ref: NIMPIPELINE, subresource: 'finalizers', verbs: ['update'], why: 'its NIMServices carry blockOwnerDeletion owner references to the pipeline' },
  { ref: NIMSERVICE, verbs: OWN, why: 'the NIMServices of a pipeline, applied and deleted' },
  { ref: EVENT, verbs: ['create', 'patch'], why: 'events on state changes' },
];

/** Index of pipelines by the NIMService names their entries use: `<namespace>/<entry name>`. */
const BY_ENTRY = 'entry';

export const setupNIMPipelineController: ControllerSetup = (ctx: ControllerContext) => {
  const m = ctx.manager;
  const pipelines = m.informer(NIMPIPELINE);
  const services = m.informer(NIMSERVICE);
  services.addIndexer(BY_PIPELINE, (s) =>
    (s.metadata?.ownerReferences ?? [])
      .filter((r: Json) => r.controller && r.kind === 'NIMPipeline' && r.apiVersion === 'apps.nvidia.com/v1alpha1')
      .map((r: Json) => `${s.metadata.namespace}/${r.name}`),
  );
  pipelines.addIndexer(BY_ENTRY, (p) =>
    (p.spec?.services ?? []).filter((e: Json) => e.name).map((e: Json) => `${p.metadata.namespace}/${e.name}`),
  );

  const reconciler = new NIMPipelineReconciler(ctx, { pipelines, services });
  const controller = new Controller('nimpipeline', reconciler, m.queue('nimpipeline'))
    .for(pipelines)
    .owns(services, 'NIMPipeline', 'apps.nvidia.com/v1alpha1')
    .watches(services, (s: Json) =>
      pipelines.byIndex(BY_ENTRY, `${s.metadata.namespace}/${s.metadata.name}`).map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name })),
    );

  // nimPipeline_status_total{status}: all, and each state (0 when none), as upstream's gauge.
  trackStates(pipelines, m.metrics.nimPipelineStatus, ['Failed', 'Ready', 'NotReady']);
  return controller;
};
