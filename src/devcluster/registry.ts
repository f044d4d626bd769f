/**
 * The resource types the embedded control plane serves: the built-in kinds the operator and its
 * users touch, and every kind a CustomResourceDefinition adds while it runs.
 */
import { k8sSchema, type JSONSchemaProps } from '../api/k8s/schemas.js';
import type { PrinterColumn } from '../api/v1alpha1/kinds.js';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served: status and, for Deployments/StatefulSets and CRDs that declare it, scale. */
  status: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** client-node model of a built-in kind; undefined for custom resources. */
  model?: string;
  /** Structural schema of the whole object. */
  schema: () => JSONSchemaProps;
  /** Extra printer columns (custom resources). */
  columns: PrinterColumn[];
  /** Whether metadata.generation moves on spec changes. */
  generation: boolean;
  /** Set for custom resources: the name of the CRD that defines it. */
  crd?: string;
  /** Extra verbs beyond the standard set (e.g. pods/log). */
  subresources: string[];
  /** Whether an immediate DELETE answers with the deleted object (else with a Success Status). */
  returnsDeletedObject?: boolean;
  /** Create-only kinds that are never stored (access and token reviews), served by authz/. */
  createOnly?: boolean;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

interface BuiltinSpec {
  gv: string;
  kind: string;
  plural: string;
  model: string;
  namespaced?: boolean;
  short?: string[];
  categories?: string[];
  status?: boolean;
  scale?: boolean;
  generation?: boolean;
  sub?: string[];
  createOnly?: boolean;
}

const ALL = ['all'];

const BUILTINS: BuiltinSpec[] = [
  { gv: 'v1', kind: 'Namespace', plural: 'namespaces', model: 'V1Namespace', namespaced: false, short: ['ns'], status: true },
  { gv: 'v1', kind: 'Node', plural: 'nodes', model: 'V1Node', namespaced: false, short: ['no'], status: true },
  { gv: 'v1', kind: 'Pod', plural: 'pods', model: 'V1Pod', short: ['po'], categories: ALL, status: true, sub: ['log'] },
  { gv: 'v1', kind: 'Service', plural: 'services', model: 'V1Service', short: ['svc'], categories: ALL, status: true },
  { gv: 'v1', kind: 'Endpoints', plural: 'endpoints', model: 'V1Endpoints', short: ['ep'] },
  { gv: 'v1', kind: 'ConfigMap', plural: 'configmaps', model: 'V1ConfigMap', short: ['cm'] },
  { gv: 'v1', kind: 'Secret', plural: 'secrets', model: 'V1Secret' },
  { gv: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', model: 'V1ServiceAccount', short: ['sa'], sub: ['token'] },
  { gv: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', model: 'V1PersistentVolumeClaim', short: ['pvc'], status: true },
  { gv: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', model: 'V1PersistentVolume', namespaced: false, short: ['pv'], status: true },
  { gv: 'v1', kind: 'Event', plural: 'events', model: 'CoreV1Event', short: ['ev'] },
  { gv: 'events.k8s.io/v1', kind: 'Event', plural: 'events', model: 'EventsV1Event', short: ['ev'] },
  { gv: 'apps/v1', kind: 'Deployment', plural: 'deployments', model: 'V1Deployment', short: ['deploy'], categories: ALL, status: true, scale: true, generation: true },
  { gv: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', model: 'V1StatefulSet', short: ['sts'], categories: ALL, status: true, scale: true, generation: true },
  { gv: 'batch/v1', kind: 'Job', plural: 'jobs', model: 'V1Job', categories: ALL, status: true, generation: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', model: 'V1Role' },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', model: 'V1RoleBinding' },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', model: 'V1ClusterRole', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', model: 'V1ClusterRoleBinding', namespaced: false },
  { gv: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', model: 'V2HorizontalPodAutoscaler', short: ['hpa'], categories: ALL, status: true, generation: true },
  { gv: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', model: 'V1Ingress', short: ['ing'], status: true, generation: true },
  { gv: 'networking.k8s.io/v1', kind: 'IngressClass', plural: 'ingressclasses', model: 'V1IngressClass', namespaced: false },
  { gv: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', model: 'V1NetworkPolicy', short: ['netpol'], generation: true },
  { gv: 'scheduling.k8s.io/v1', kind: 'PriorityClass', plural: 'priorityclasses', model: 'V1PriorityClass', namespaced: false, short: ['pc'] },
  { gv: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', model: 'V1PodDisruptionBudget', short: ['pdb'], status: true, generation: true },
  { gv: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', model: 'V1Lease' },
  { gv: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', model: 'V1StorageClass', namespaced: false, short: ['sc'] },
  { gv: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', model: 'V1CustomResourceDefinition', namespaced: false, short: ['crd', 'crds'], status: true, generation: true },
  { gv: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', model: 'V1ValidatingWebhookConfiguration', namespaced: false, generation: true },
  { gv: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', model: 'V1MutatingWebhookConfiguration', namespaced: false, generation: true },
  { gv: 'resource.k8s.io/v1', kind: 'ResourceClaim', plural: 'resourceclaims', model: 'ResourceV1ResourceClaim', status: true, generation: true },
  { gv: 'resource.k8s.io/v1', kind: 'ResourceClaimTemplate', plural: 'resourceclaimtemplates', model: 'V1ResourceClaimTemplate', generation: true },
  { gv: 'resource.k8s.io/v1', kind: 'ResourceSlice', plural: 'resourceslices', model: 'V1ResourceSlice', namespaced: false },
  { gv: 'resource.k8s.io/v1', kind: 'DeviceClass', plural: 'deviceclasses', model: 'V1DeviceClass', namespaced: false, generation: true },
  { gv: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', model: 'V1SelfSubjectReview', namespaced: false, createOnly: true },
  { gv: 'authentication.k8s.io/v1', kind: 'TokenReview', plural: 'tokenreviews', model: 'V1TokenReview', namespaced: false, createOnly: true },
  { gv: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', model: 'V1LocalSubjectAccessReview', createOnly: true },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', model: 'V1SelfSubjectAccessReview', namespaced: false, createOnly: true },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', model: 'V1SelfSubjectRulesReview', namespaced: false, createOnly: true },
  { gv: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', model: 'V1SubjectAccessReview', namespaced: false, createOnly: true },
];

/** Kinds whose storage returns the deleted object from DELETE, as kube-apiserver's do. */
const RETURNS_DELETED = new Set(['Pod', 'Service', 'ServiceAccount', 'StorageClass', 'PersistentVolume']);

function builtin(b: BuiltinSpec): ResourceType {
  const [group, version] = b.gv.includes('/') ? (b.gv.split('/') as [string, string]) : ['', b.gv];
  let cached: JSONSchemaProps | undefined;
  return {
    group,
    version,
    kind: b.kind,
    listKind: `${b.kind}List`,
    plural: b.plural,
    singular: b.kind.toLowerCase(),
    namespaced: b.namespaced ?? true,
    shortNames: b.short ?? [],
    categories: b.categories ?? [],
    status: b.status ?? false,
    ...(b.scale
      ? { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } }
      : {}),
    model: b.model,
    schema: () => (cached ??= k8sSchema(b.model)),
    columns: [],
    generation: b.generation ?? false,
    subresources: b.sub ?? [],
    returnsDeletedObject: RETURNS_DELETED.has(b.kind),
    ...(b.createOnly ? { createOnly: true } : {}),
  };
}

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  constructor() {
    for (const b of BUILTINS) this.add(builtin(b));
  }

  private key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  add(t: ResourceType): void {
    this.types.set(this.key(t.group, t.version, t.plural), t);
  }

  remove(group: string, version: string, plural: string): void {
    this.types.delete(this.key(group, version, plural));
  }

  get(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(this.key(group, version, plural));
  }

  /** The type of an object by its apiVersion and kind. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) if (apiVersionOf(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Group → versions, in discovery order (core group first, then by name). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types.values()) {
      const vs = out.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      out.set(t.group, vs);
    }
    return new Map([...out.entries()].sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.version === version);
  }
}
