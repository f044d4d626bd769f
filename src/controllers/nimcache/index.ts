/**
 * The NIMCache controller: informers for the NIMCache, what it makes (Job, pods, PVC, manifest
 * ConfigMap, the shared ServiceAccount/Role/RoleBinding) and the nodes (GPU discovery); a change to
 * any of them wakes the caches it concerns.
 */
import { trackStates } from '../state-gauge.js';
import { isDeepStrictEqual } from 'node:util';
import type { ImageInspector } from '../../nim/inspect.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../runtime/apply.js';
import type { Json } from '../../runtime/client/rest.js';
import { Controller, type Request } from '../../runtime/controller.js';
import type { ControllerContext, ControllerSetup } from '../context.js';
import { CONFIGMAP, EVENT, JOB, NIMCACHE, NODE, OWN, POD, PVC, READ, ROLE, ROLEBINDING, SECRET, SERVICEACCOUNT, type Permission, type Verb } from '../refs.js';
import { NIMCacheReconciler } from './reconcile.js';

export { FINALIZER as NIMCACHE_FINALIZER } from './reconcile.js';

const SCC = { group: 'security.openshift.io', version: 'v1', plural: 'securitycontextconstraints', kind: 'SecurityContextConstraints', namespaced: false };

/** Applied (server-side apply is a PATCH, creating when missing), never deleted by us: the garbage collector removes them. */
const APPLIED: Verb[] = ['get', 'list', 'watch', 'create', 'patch'];

/** Every resource and verb the NIMCache controller uses (the ClusterRole is generated from these). */
export const NIMCACHE_PERMISSIONS: Permission[] = [
  { ref: NIMCACHE, verbs: ['get', 'list', 'watch', 'patch'], why: 'the primary object; its finalizer is added and removed with patches' },
  { ref: NIMCACHE, subresource: 'status', verbs: ['update'], why: 'status: state, type, pvc, profiles, conditions' },
  { ref: NIMCACHE, subresource: 'finalizers', verbs: ['update'], why: 'children carry blockOwnerDeletion owner references to the NIMCache' },
  { ref: JOB, verbs: APPLIED, why: 'the caching Job <cache>-job' },
  { ref: POD, verbs: OWN, why: 'the manifest probe pod <cache>-pod; the Job\'s pods are read for progress and removed on deletion' },
  { ref: POD, subresource: 'log', verbs: ['get'], why: 'the manifest printed by the probe pod, and the last lines of a failed download' },
  { ref: PVC, verbs: APPLIED, why: 'the PVC that holds the cache (created when spec.storage.pvc.create is true)' },
  { ref: CONFIGMAP, verbs: APPLIED, why: 'the model manifest kept in <cache>-manifest' },
  { ref: SERVICEACCOUNT, verbs: APPLIED, why: 'nim-cache-sa, shared by the caches of a namespace' },
  { ref: ROLE, verbs: APPLIED, why: 'nim-cache-role, shared by the caches of a namespace' },
  { ref: ROLEBINDING, verbs: APPLIED, why: 'nim-cache-rolebinding, shared by the caches of a namespace' },
  { ref: NODE, verbs: READ, why: 'the GPUs the cluster has (profile selection) and the platform (OpenShift, TKGS)' },
  { ref: SECRET, verbs: ['get'], why: 'image pull secrets, to read the model puller image\'s labels from its registry' },
  { ref: EVENT, verbs: ['create', 'patch'], why: 'events on state changes and failures' },
  // The shared Role grants `use` of these SCCs (OpenShift): RBAC only lets us grant what we hold.
  { ref: SCC, verbs: ['use'], why: 'nonroot and anyuid, granted by nim-cache-role on OpenShift' },
];

const managedBy = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
const JOB_SUFFIX = '-job';

export interface NIMCacheControllerOptions {
  /** Reads the model puller image's labels (native download protocol); none: every image is legacy. */
  inspector?: ImageInspector;
}

export function nimCacheController(opts: NIMCacheControllerOptions = {}): ControllerSetup {
  return (ctx: ControllerContext) => {
    const m = ctx.manager;
    const caches = m.informer(NIMCACHE);
    // What we create carries the managed-by label, so these caches hold only the operator's objects
    // (§2.0.7). PVCs are the exception: a cache may name one the user made.
    const jobs = m.informer(JOB, { labelSelector: managedBy });
    const pods = m.informer(POD, { labelSelector: managedBy });
    const configMaps = m.informer(CONFIGMAP, { labelSelector: managedBy });
    const serviceAccounts = m.informer(SERVICEACCOUNT, { labelSelector: managedBy });
    const roles = m.informer(ROLE, { labelSelector: managedBy });
    const roleBindings = m.informer(ROLEBINDING, { labelSelector: managedBy });
    const pvcs = m.informer(PVC);
    const nodes = m.informer(NODE);
    caches.addIndexer('nimcache-pvc', (c) => [`${c.metadata?.namespace}/${c.spec?.storage?.pvc?.name || `${c.metadata?.name}-pvc`}`]);

    const reconciler = new NIMCacheReconciler(ctx, { caches, jobs, pods, pvcs, configMaps, serviceAccounts, roles, roleBindings, nodes }, opts.inspector);
    const ref = (o: Json): Request => ({ namespace: o.metadata.namespace, name: o.metadata.name });
    const controller = new Controller('nimcache', reconciler, m.queue('nimcache'))
      .for(caches)
      .owns(jobs, 'NIMCache', 'apps.nvidia.com/v1alpha1')
      .owns(configMaps, 'NIMCache', 'apps.nvidia.com/v1alpha1')
      // The probe pod is the cache's; a Job's pod speaks for the cache of its Job (pending, pulling, failing).
      .watches(pods, (p: Json) => {
        const owner = (p.metadata?.ownerReferences ?? []).find((r: Json) => r.controller);
        if (owner?.kind === 'NIMCache') return [{ namespace: p.metadata.namespace, name: owner.name }];
        if (owner?.kind === 'Job' && typeof owner.name === 'string' && owner.name.endsWith(JOB_SUFFIX)) {
          return [{ namespace: p.metadata.namespace, name: owner.name.slice(0, -JOB_SUFFIX.length) }];
        }
        return [];
      })
      // A claim appearing (or going) matters to the caches that name it, owned or not.
      .watches(pvcs, (p: Json) => caches.byIndex('nimcache-pvc', `${p.metadata.namespace}/${p.metadata.name}`).map(ref));
    // New GPU labels can make a cache that selected no profile selectable; other node updates
    // (heartbeats, conditions) are ignored.
    const wakeWaiting = () => {
      for (const c of caches.list()) if (c.status?.state === 'NotReady') controller.queue.add(`${c.metadata.namespace}/${c.metadata.name}`);
    };
    nodes.on({
      add: wakeWaiting,
      update: (old, n) => {
        if (!isDeepStrictEqual(old.metadata?.labels ?? {}, n.metadata?.labels ?? {})) wakeWaiting();
      },
    });
    // nimCache_status_total{status}: all, and each state (0 when none), as upstream's gauge.
    trackStates(caches, m.metrics.nimCacheStatus, ['Failed', 'InProgress', 'Ready', 'NotReady', 'PVC-Created', 'Pending', 'Started']);
    return controller;
  };
}

/** The controller without registry inspection: every image uses the legacy download protocol. */
export const setupNIMCacheController: ControllerSetup = nimCacheController({});
