/**
 * The NIMService controller (standalone and KServe platforms): informers for the NIMService, its
 * children (a KServe InferenceService among them, once KServe is served), its pods, NIMCaches and
 * nodes; a NIMCache's change wakes the services that name it at once.
 */
import { trackStates } from '../state-gauge.js';
import type { Informer } from '../../runtime/informer.js';
import { Controller } from '../../runtime/controller.js';
import type { ResourceRef } from '../../runtime/client/client.js';
import type { Json } from '../../runtime/client/rest.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../runtime/apply.js';
import type { ControllerContext, ControllerSetup } from '../context.js';
import {
  COMPUTEDOMAIN, CONFIGMAP, DEPLOYMENT, EVENT, GRPCROUTE, HPA, HTTPROUTE, INFERENCEPOOL, INFERENCESERVICE, INGRESS, LEADERWORKERSET, NIMCACHE, NIMSERVICE,
  NODE, OWN, POD, PVC, READ, RESOURCECLAIM, RESOURCECLAIMTEMPLATE, ROLE, ROLEBINDING, SECRET, SERVICE, SERVICEACCOUNT, SERVICEMONITOR,
  type Permission,
} from '../refs.js';
import { NIMServiceReconciler } from './reconcile.js';
import { ISVC_POD_INDEX, ISVC_POD_LABEL } from './kserve.js';

export { FINALIZER } from './reconcile.js';

/** Kinds the NIMService owns; optional ones get an informer once their API is served. */
const CHILD_KINDS: ResourceRef[] = [
  SERVICEACCOUNT, ROLE, ROLEBINDING, SERVICE, CONFIGMAP, DEPLOYMENT, HPA, INGRESS, PVC,
  HTTPROUTE, GRPCROUTE, SERVICEMONITOR, LEADERWORKERSET, RESOURCECLAIMTEMPLATE, COMPUTEDOMAIN, INFERENCEPOOL, INFERENCESERVICE,
];
/** Created once, never pruned (their specs are immutable; the garbage collector removes them). */
const CREATE_ONLY = new Set<ResourceRef>([PVC, RESOURCECLAIMTEMPLATE]);
/** Served only in some clusters: looked for through discovery. */
const OPTIONAL: ResourceRef[] = [HTTPROUTE, GRPCROUTE, SERVICEMONITOR, LEADERWORKERSET, RESOURCECLAIMTEMPLATE, RESOURCECLAIM, COMPUTEDOMAIN, INFERENCEPOOL, INFERENCESERVICE];

export const NIMSERVICE_PERMISSIONS: Permission[] = [
  { ref: NIMSERVICE, verbs: ['get', 'list', 'watch', 'patch'], why: 'the primary object; its finalizer is added and removed with patches' },
  { ref: NIMSERVICE, subresource: 'status', verbs: ['update'], why: 'status: state, conditions, model, availableReplicas' },
  { ref: NIMCACHE, verbs: READ, why: 'the NIMCache a service mounts, and its readiness' },
  { ref: NODE, verbs: READ, why: 'orchestrator detection and admission facts' },
  { ref: POD, verbs: READ, why: 'why a service is not ready (image pulls, GPUs, probes)' },
  { ref: EVENT, verbs: ['create', 'patch'], why: 'events on state changes' },
  { ref: NIMSERVICE, subresource: 'finalizers', verbs: ['update'], why: 'children carry blockOwnerDeletion owner references (OpenShift enforces this permission)' },
  { ref: SECRET, verbs: ['get', 'create', 'patch'], why: 'the SSH key Secret of a multi-node MPI service, made once (Secrets are not cached)' },
  { ref: RESOURCECLAIM, verbs: READ, why: 'status.draResourceStatuses: the claims made for a service\'s pods' },
  // KServe's default deployment mode (kserve-config.ts): a GET of one ConfigMap, and a labelled LIST
  // to find KServe's namespace; both are within the children's rules, these lines say why.
  { ref: CONFIGMAP, verbs: ['get'], why: 'KServe\'s inferenceservice-config (its default deployment mode), read with a GET when a KServe service asks for no mode' },
  { ref: DEPLOYMENT, verbs: ['list'], why: 'KServe\'s namespace: its controller Deployment, labelled control-plane=kserve-controller-manager, unless KSERVE_NAMESPACE is set' },
  ...CHILD_KINDS.map((ref): Permission =>
    CREATE_ONLY.has(ref)
      ? { ref, verbs: ['get', 'list', 'watch', 'create', 'patch'], why: 'a child of a NIMService, created once (removed with it by the garbage collector)' }
      : { ref, verbs: OWN, why: 'a child of a NIMService, applied and pruned' }),
  // The endpoint picker's Role grants these reads: RBAC only lets us grant what we hold.
  ...[
    { group: 'inference.networking.k8s.io', plural: 'inferenceobjectives', kind: 'InferenceObjective' },
    { group: 'inference.networking.x-k8s.io', plural: 'inferencepools', kind: 'InferencePool' },
    { group: 'inference.networking.x-k8s.io', plural: 'inferenceobjectives', kind: 'InferenceObjective' },
  ].map((r): Permission => ({ ref: { ...r, version: 'v1', namespaced: true }, verbs: READ, why: 'granted to the endpoint picker\'s Role <name>-epp; RBAC requires the granter to hold it' })),
  // The Role it renders grants `use` of an OpenShift SCC: RBAC only lets us grant what we hold.
  { ref: { group: 'security.openshift.io', version: 'v1', plural: 'securitycontextconstraints', kind: 'SecurityContextConstraints', namespaced: false }, verbs: ['use'], why: 'granted to each NIMService\'s Role (OpenShift); RBAC requires the granter to hold it' },
];

const managedBy = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export const setupNIMServiceController: ControllerSetup = (ctx: ControllerContext) => {
  const m = ctx.manager;
  const services = m.informer(NIMSERVICE);
  const nimCaches = m.informer(NIMCACHE);
  const nodes = m.informer(NODE);
  const pods = m.informer(POD, { labelSelector: 'app.kubernetes.io/part-of=nim-service' });
  pods.addIndexer('app', (p) => (p.metadata?.labels?.app ? [`${p.metadata.namespace}/${p.metadata.labels.app}`] : []));
  // KServe's predictor pods, by the InferenceService that KServe names in their labels.
  pods.addIndexer(ISVC_POD_INDEX, (p) => (p.metadata?.labels?.[ISVC_POD_LABEL] ? [`${p.metadata.namespace}/${p.metadata.labels[ISVC_POD_LABEL]}`] : []));
  services.addIndexer('nimcache', (s) => (s.spec?.storage?.nimCache?.name ? [`${s.metadata.namespace}/${s.spec.storage.nimCache.name}`] : []));

  const children = new Map<string, Informer>();
  let controller: Controller | undefined;
  const keyOf = (r: ResourceRef) => `${r.group}/${r.plural}`;
  const childInformer = (ref: ResourceRef): Informer => {
    let inf = children.get(keyOf(ref));
    if (!inf) {
      // Every child carries the managed-by label, so the caches hold only what we made (§2.0.7).
      inf = m.informer(ref, { labelSelector: managedBy });
      children.set(keyOf(ref), inf);
      controller?.owns(inf, 'NIMService', 'apps.nvidia.com/v1alpha1');
    }
    return inf;
  };
  const optional = new Set(OPTIONAL.map(keyOf));
  for (const ref of CHILD_KINDS) if (!optional.has(keyOf(ref))) childInformer(ref);
  // Objects of these kinds made by others (kube's claims for our pods, a user's ComputeDomain).
  const everything = new Map<string, Informer>();
  const allInformer = (ref: ResourceRef): Informer => {
    let inf = everything.get(keyOf(ref));
    if (!inf) {
      inf = m.informer(ref);
      everything.set(keyOf(ref), inf);
      const wake = (pick: (s: Json) => boolean) => (o: Json) =>
        services.list().filter((s) => s.metadata.namespace === o.metadata?.namespace && pick(s)).map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name }));
      if (ref === RESOURCECLAIM) controller?.watches(inf, wake((s) => !!s.spec?.draResources?.length));
      if (ref === COMPUTEDOMAIN) controller?.watches(inf, wake((s) => !!s.spec?.multiNode?.computeDomain));
    }
    return inf;
  };

  const reconciler = new NIMServiceReconciler(ctx, {
    services,
    nimCaches,
    nodes,
    pods,
    child: (ref) => {
      // An optional API's informer starts only once the API is served.
      if (optional.has(keyOf(ref)) && !ctx.apis.has(ref)) return EMPTY;
      return childInformer(ref);
    },
    all: (ref) => (optional.has(keyOf(ref)) && !ctx.apis.has(ref) ? EMPTY : allInformer(ref)),
  });
  controller = new Controller('nimservice', reconciler, m.queue('nimservice'))
    .for(services)
    .watches(nimCaches, (c: Json) => services.byIndex('nimcache', `${c.metadata.namespace}/${c.metadata.name}`).map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name })))
    .watches(pods, (p: Json) => {
      const owner = p.metadata?.labels?.['app.kubernetes.io/instance'];
      return owner ? [{ namespace: p.metadata.namespace, name: owner }] : [];
    });
  for (const inf of children.values()) controller.owns(inf, 'NIMService', 'apps.nvidia.com/v1alpha1');
  // nimService_status_total{status}: all, and each state (0 when none), as upstream's gauge.
  trackStates(services, m.metrics.nimServiceStatus, ['Failed', 'Ready', 'Pending', 'NotReady']);
  // An API installed later (the Gateway API, the Prometheus Operator): every service is looked at again.
  ctx.apis.onInstalled(() => {
    for (const s of services.list()) controller!.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
  });
  return controller;
};

/** Stands in for the cache of an API the cluster does not serve. */
const EMPTY = { get: () => undefined, list: () => [], byIndex: () => [] } as unknown as Informer;
