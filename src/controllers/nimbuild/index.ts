/**
 * The NIMBuild controller: informers for the NIMBuilds, their pods, the NIMCaches they build from,
 * the caches' manifest ConfigMaps and the nodes (platform). A pod's change wakes the build that owns
 * it; a NIMCache's change wakes the builds that name it, found through an index (upstream's watch
 * looks in an index it never registered, so a cache becoming Ready wakes nothing: Appendix A2).
 */
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../runtime/apply.js';
import type { Json } from '../../runtime/client/rest.js';
import { Controller } from '../../runtime/controller.js';
import type { ControllerContext, ControllerSetup } from '../context.js';
import { CONFIGMAP, EVENT, NIMBUILD, NIMCACHE, NODE, OWN, POD, READ, type Permission } from '../refs.js';
import { NIMBuildReconciler } from './reconcile.js';

export { FINALIZER as NIMBUILD_FINALIZER } from './reconcile.js';

/** Every resource and verb the NIMBuild controller uses (the ClusterRole is generated from these). */
export const NIMBUILD_PERMISSIONS: Permission[] = [
  { ref: NIMBUILD, verbs: ['get', 'list', 'watch', 'patch'], why: 'the primary object; its finalizer is added and removed with patches' },
  { ref: NIMBUILD, subresource: 'status', verbs: ['update'], why: 'status: state, inputProfile, outputProfile, conditions' },
  { ref: NIMBUILD, subresource: 'finalizers', verbs: ['update'], why: 'the build pods carry blockOwnerDeletion owner references to the NIMBuild' },
  { ref: NIMCACHE, verbs: READ, why: 'the cache a build reads its profile and volume from' },
  { ref: NIMCACHE, subresource: 'status', verbs: ['update'], why: 'the built profile appended to the cache\'s status.profiles' },
  { ref: POD, verbs: OWN, why: 'the engine build pod and the local manifest pod, removed once done' },
  { ref: POD, subresource: 'log', verbs: ['get'], why: 'the local manifest printed by <build>-local-manifest-pod, and the end of a failed build\'s log' },
  { ref: CONFIGMAP, verbs: ['get', 'list', 'watch', 'patch'], why: 'the built profiles added to the cache\'s <cache>-manifest (key local_model_manifest.yaml)' },
  { ref: NODE, verbs: READ, why: 'the platform (OpenShift, TKGS), for the pods\' security settings' },
  { ref: EVENT, verbs: ['create', 'patch'], why: 'events on state changes and failures' },
];

/** Index of NIMBuilds by the NIMCache they name: `<namespace>/<cache>`. */
export const BY_CACHE = 'nimbuild-nimcache';

const managedBy = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export const setupNIMBuildController: ControllerSetup = (ctx: ControllerContext) => {
  const m = ctx.manager;
  const builds = m.informer(NIMBUILD);
  const caches = m.informer(NIMCACHE);
  // Shared with the NIMCache controller: what the operator made carries the managed-by label.
  const pods = m.informer(POD, { labelSelector: managedBy });
  const configMaps = m.informer(CONFIGMAP, { labelSelector: managedBy });
  const nodes = m.informer(NODE);
  builds.addIndexer(BY_CACHE, (b) => (b.spec?.nimCache?.name ? [`${b.metadata?.namespace}/${b.spec.nimCache.name}`] : []));

  const reconciler = new NIMBuildReconciler(ctx, { builds, caches, pods, configMaps, nodes });
  return new Controller('nimbuild', reconciler, m.queue('nimbuild'))
    .for(builds)
    .owns(pods, 'NIMBuild', 'apps.nvidia.com/v1alpha1')
    // A cache that appears, turns Ready, fails or goes wakes the builds that name it.
    .watches(caches, (c: Json) =>
      builds.byIndex(BY_CACHE, `${c.metadata.namespace}/${c.metadata.name}`).map((b) => ({ namespace: b.metadata.namespace, name: b.metadata.name })),
    );
};
