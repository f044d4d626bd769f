/**
 * Every resource the controllers read or write, named once. Each controller declares what it does
 * with them (`Permission`), and the operator's ClusterRole is generated from those declarations, so a
 * new child kind cannot be forgotten in RBAC.
 */
import type { ResourceRef } from '../runtime/client/client.js';

const ref = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceRef => ({ group, version, plural, kind, namespaced });

export const NIMSERVICE = ref('apps.nvidia.com', 'v1alpha1', 'nimservices', 'NIMService');
export const NIMCACHE = ref('apps.nvidia.com', 'v1alpha1', 'nimcaches', 'NIMCache');
export const NIMBUILD = ref('apps.nvidia.com', 'v1alpha1', 'nimbuilds', 'NIMBuild');
export const NIMPIPELINE = ref('apps.nvidia.com', 'v1alpha1', 'nimpipelines', 'NIMPipeline');

export const NODE = ref('', 'v1', 'nodes', 'Node', false);
export const POD = ref('', 'v1', 'pods', 'Pod');
export const SERVICE = ref('', 'v1', 'services', 'Service');
export const SERVICEACCOUNT = ref('', 'v1', 'serviceaccounts', 'ServiceAccount');
export const CONFIGMAP = ref('', 'v1', 'configmaps', 'ConfigMap');
export const SECRET = ref('', 'v1', 'secrets', 'Secret');
export const PVC = ref('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim');
export const EVENT = ref('', 'v1', 'events', 'Event');
export const DEPLOYMENT = ref('apps', 'v1', 'deployments', 'Deployment');
export const JOB = ref('batch', 'v1', 'jobs', 'Job');
export const ROLE = ref('rbac.authorization.k8s.io', 'v1', 'roles', 'Role');
export const ROLEBINDING = ref('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding');
export const HPA = ref('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler');
export const INGRESS = ref('networking.k8s.io', 'v1', 'ingresses', 'Ingress');
export const HTTPROUTE = ref('gateway.networking.k8s.io', 'v1', 'httproutes', 'HTTPRoute');
export const GRPCROUTE = ref('gateway.networking.k8s.io', 'v1', 'grpcroutes', 'GRPCRoute');
export const SERVICEMONITOR = ref('monitoring.coreos.com', 'v1', 'servicemonitors', 'ServiceMonitor');
export const LEADERWORKERSET = ref('leaderworkerset.x-k8s.io', 'v1', 'leaderworkersets', 'LeaderWorkerSet');
export const RESOURCECLAIM = ref('resource.k8s.io', 'v1', 'resourceclaims', 'ResourceClaim');
export const RESOURCECLAIMTEMPLATE = ref('resource.k8s.io', 'v1', 'resourceclaimtemplates', 'ResourceClaimTemplate');
export const COMPUTEDOMAIN = ref('resource.nvidia.com', 'v1beta1', 'computedomains', 'ComputeDomain');
export const INFERENCEPOOL = ref('inference.networking.k8s.io', 'v1', 'inferencepools', 'InferencePool');
export const INFERENCESERVICE = ref('serving.kserve.io', 'v1beta1', 'inferenceservices', 'InferenceService');

/** The ResourceRef of a child object (by apiVersion and kind), among the refs above. */
export function refOf(apiVersion: string, kind: string): ResourceRef | undefined {
  return ALL_REFS.find((r) => (r.group ? `${r.group}/${r.version}` : r.version) === apiVersion && r.kind === kind);
}

export const ALL_REFS: readonly ResourceRef[] = [
  NIMSERVICE, NIMCACHE, NIMBUILD, NIMPIPELINE, NODE, POD, SERVICE, SERVICEACCOUNT, CONFIGMAP, SECRET, PVC, EVENT,
  DEPLOYMENT, JOB, ROLE, ROLEBINDING, HPA, INGRESS, HTTPROUTE, GRPCROUTE, SERVICEMONITOR,
  LEADERWORKERSET, RESOURCECLAIM, RESOURCECLAIMTEMPLATE, COMPUTEDOMAIN, INFERENCEPOOL, INFERENCESERVICE,
];

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'use';

/** What a controller does with a resource (or one of its subresources). */
export interface Permission {
  ref: ResourceRef;
  subresource?: string;
  verbs: Verb[];
  /** Why: shown in the generated ClusterRole as a comment. */
  why: string;
}

/** Read through an informer. */
export const READ: Verb[] = ['get', 'list', 'watch'];
/** Children applied with server-side apply (PATCH) and pruned. */
export const OWN: Verb[] = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
