/**
 * The children of a standalone NIMService (inventory §2.2.0, §2.2.3): ServiceAccount,
 * Role, RoleBinding, Service, the optional Ingress, HTTPRoute, GRPCRoute, HorizontalPodAutoscaler
 * and ServiceMonitor, the model PVC it creates for itself, and the Deployment; with
 * `expose.router.eppConfig` the endpoint picker (epp.ts), with `draResources` the
 * ResourceClaimTemplates (dra.ts), and for a multi-node service (`parallelism.pipeline > 1`) a
 * LeaderWorkerSet with its MPI objects and ComputeDomain instead of the Deployment (multinode.ts,
 * mpi.ts, computedomain.ts). Every child carries
 * a controller owner reference to the NIMService and the two hash annotations. Pure: the same
 * (svc, facts) always yields deep-equal results.
 */
import type {
  V1ConfigMap,
  V1Deployment,
  V1Ingress,
  V1PersistentVolumeClaim,
  V1ResourceClaimTemplate,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { specHash, withHashes } from '../labels.js';
import type { NIMServiceFacts } from './common.js';
import { computeDomainCreated, computeDomainTemplate, renderComputeDomain, type ComputeDomainProblem } from './computedomain.js';
import { GATEWAY_API_VERSION, MONITORING_API_VERSION, type GRPCRoute, type HTTPRoute, type ServiceMonitor } from './crd-types.js';
import { renderDeployment } from './deployment.js';
import { addClaims, namedDRAResources, renderClaimTemplates, validateDRA, type DRAProblem } from './dra.js';
import { eppAbsent, eppEnabled, renderEPP, routeThroughPool } from './epp.js';
import { autoscalingEnabled, renderHPA } from './hpa.js';
import { mpiConfigName, mpiMode, mpiScriptName, renderMPIConfigMaps, renderSSHSecret } from './mpi.js';
import { renderLeaderWorkerSet, serviceSelector } from './multinode.js';
import { COMPUTE_DOMAIN_API_VERSION, LWS_API_VERSION, type ComputeDomain, type InferencePool, type LeaderWorkerSet } from './multinode-types.js';
import { isMultiNode, lwsName } from './parallelism.js';
import { modelPVCWanted, renderModelPVC } from './pvc.js';
import { renderRole, renderRoleBinding, renderServiceAccount } from './rbac.js';
import { grpcRouteEnabled, httpRouteEnabled, ingressEnabled, renderGRPCRoute, renderHTTPRoute, renderIngress } from './routes.js';
import { renderService } from './service.js';
import { renderServiceMonitor, serviceMonitorEnabled } from './servicemonitor.js';
import { isStorageProblem, resolveModelStore, type StorageProblem } from './storage.js';

export { SpecError, type NIMServiceFacts } from './common.js';
export type { StorageProblem } from './storage.js';
export type { GRPCRoute, HTTPRoute, ServiceMonitor } from './crd-types.js';
export type { ComputeDomain, ComputeDomainLike, InferencePool, LeaderWorkerSet, LeaderWorkerSetLike } from './multinode-types.js';
export type { ComputeDomainProblem } from './computedomain.js';
export type { DRAProblem } from './dra.js';
export { isMultiNode, lwsName } from './parallelism.js';
export { lwsReadiness } from './multinode.js';
export { generateSSHKey, sshKeyFromSecret, SSH_PRIVATE_KEY_FIELD } from './ssh.js';
export { sshSecretName } from './mpi.js';
export { computeDomainName } from './computedomain.js';
export {
  claimState,
  computeDomainStatus,
  draResourceStatuses,
  missingResourceClaims,
  POD_CLAIM_NAME_ANNOTATION,
  type ComputeDomainStatus,
  type DRAResourceStatus,
  type ResourceClaimLike,
} from './dra-status.js';

export type Child =
  | Wire<V1ServiceAccount>
  | Wire<V1Role>
  | Wire<V1RoleBinding>
  | Wire<V1Service>
  | Wire<V1Ingress>
  | HTTPRoute
  | GRPCRoute
  | Wire<V2HorizontalPodAutoscaler>
  | ServiceMonitor
  | Wire<V1PersistentVolumeClaim>
  | Wire<V1Deployment>
  | Wire<V1ConfigMap>
  | Wire<V1Secret>
  | Wire<V1ResourceClaimTemplate>
  | LeaderWorkerSet
  | ComputeDomain
  | InferencePool;

/** A child by identity, in the NIMService's namespace. */
export interface ChildRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** The identity of a child (or of any object with apiVersion, kind and metadata.name). */
export function childRef(obj: { apiVersion?: string; kind?: string; metadata?: { name?: string } }): ChildRef {
  return { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', name: obj.metadata?.name ?? '' };
}

/**
 * Children the controller creates when missing but never updates: the model PVC, which is reused as
 * it is when it exists (§6 behaviour 26), and whose spec is mostly immutable anyway; the MPI SSH key
 * Secret (a key is made once and kept, §6 behaviour 41); and the DRA ResourceClaimTemplates, whose
 * spec Kubernetes makes immutable (Appendix A5: upstream's update attempt panics).
 */
export function isCreateOnly(child: { kind?: string }): boolean {
  return child.kind === 'PersistentVolumeClaim' || child.kind === 'Secret' || child.kind === 'ResourceClaimTemplate';
}

export interface NIMServiceRender {
  /**
   * Desired children, in upstream's creation order: ServiceAccount, Role, RoleBinding, Service,
   * Ingress, HTTPRoute, GRPCRoute, HPA, ServiceMonitor, the endpoint picker's children, PVC,
   * ResourceClaimTemplates, then the Deployment, or (multi-node) ComputeDomain, MPI ConfigMaps and
   * Secret, LeaderWorkerSet (the optional ones only when wanted).
   */
  children: Child[];
  /**
   * Optional children that must not exist for this spec (their field is off); the controller
   * deletes them when present. The model PVC is never listed: it goes with the NIMService (GC).
   */
  absent: ChildRef[];
  /**
   * Set when the workload cannot be rendered yet (missing or unready NIMCache, no model storage):
   * the Deployment is then absent from `children`, as upstream creates none (§6 behaviours 22–24, 28);
   * every other child is still rendered, as upstream creates them before the storage step.
   * The reconciler turns it into the status (state, reason, message).
   * A DRA check that fails (cluster older than v1.34.0, duplicate claim names, a version that is not
   * semver) blocks everything: no child at all, as upstream stops before its first child. A named
   * ComputeDomain that is missing blocks the workload like the storage does.
   */
  blocked?: StorageProblem | DRAProblem | ComputeDomainProblem;
}

interface Optional {
  apiVersion: string;
  kind: string;
  wanted: (svc: NIMService) => boolean;
  render: (svc: NIMService, facts: NIMServiceFacts) => Child;
}

/** The optional children named `<name>`, in creation order (§2.2.3 steps 6–10). */
const OPTIONAL: readonly Optional[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', wanted: ingressEnabled, render: renderIngress },
  { apiVersion: GATEWAY_API_VERSION, kind: 'HTTPRoute', wanted: httpRouteEnabled, render: renderHTTPRoute },
  { apiVersion: GATEWAY_API_VERSION, kind: 'GRPCRoute', wanted: grpcRouteEnabled, render: renderGRPCRoute },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', wanted: autoscalingEnabled, render: renderHPA },
  // Appendix A6 fix: upstream never deletes the ServiceMonitor once metrics are turned off; we list it as absent.
  { apiVersion: MONITORING_API_VERSION, kind: 'ServiceMonitor', wanted: serviceMonitorEnabled, render: renderServiceMonitor },
];

/**
 * Renders a standalone single-node NIMService. Throws a SpecError for a spec that cannot give a
 * valid child (what the admission webhook refuses: a router without hostDomainName, autoscaling
 * without `scale.hpa`, a cached profile whose tensor parallelism is not a number).
 */
export function renderNIMService(svc: NIMService, facts: NIMServiceFacts = {}): NIMServiceRender {
  const dra = validateDRA(svc, facts);
  if (dra) return { children: [], absent: [], blocked: dra };
  const hash = specHash(svc);
  const name = svc.metadata.name ?? '';
  const multiNode = isMultiNode(svc);
  const service = renderService(svc, facts);
  // Multi-node: the Service reaches the leaders (§2.2.6); pipeline ≤ 1 is single-node throughout (A7).
  service.spec!.selector = serviceSelector(svc);
  const children: Child[] = [
    withHashes(renderServiceAccount(svc, facts), hash),
    withHashes(renderRole(svc, facts), hash),
    withHashes(renderRoleBinding(svc, facts), hash),
    withHashes(service, hash),
  ];
  const absent: ChildRef[] = [];
  for (const o of OPTIONAL) {
    if (!o.wanted(svc)) absent.push({ apiVersion: o.apiVersion, kind: o.kind, name });
    else if (o.kind === 'HTTPRoute') children.push(withHashes(routeThroughPool(svc, o.render(svc, facts) as HTTPRoute), hash));
    else children.push(withHashes(o.render(svc, facts), hash));
  }
  // The endpoint picker (§2.2.3 step 11), before the storage step, as upstream.
  if (eppEnabled(svc)) children.push(...renderEPP(svc, facts).map((c) => withHashes(c, hash)));
  absent.push(...eppAbsent(svc, facts));
  if (modelPVCWanted(svc)) children.push(withHashes(renderModelPVC(svc, facts), hash));
  // What one platform shape leaves behind when the spec moves to another is pruned: the Deployment of
  // a service turned multi-node; the LeaderWorkerSet, MPI ConfigMaps and ComputeDomain of one turned
  // single-node (their GPUs would stay taken otherwise).
  if (multiNode) absent.push({ apiVersion: 'apps/v1', kind: 'Deployment', name });
  else absent.push({ apiVersion: LWS_API_VERSION, kind: 'LeaderWorkerSet', name: lwsName(svc) });
  if (!mpiMode(svc)) absent.push(...[mpiConfigName(svc), mpiScriptName(svc)].map((n) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: n })));
  if (!(multiNode && computeDomainCreated(svc))) absent.push({ apiVersion: COMPUTE_DOMAIN_API_VERSION, kind: 'ComputeDomain', name });
  const store = resolveModelStore(svc, facts);
  if (isStorageProblem(store)) return { children, absent, blocked: store };
  const cdTemplate = computeDomainTemplate(svc, facts);
  if (typeof cdTemplate === 'object') return { children, absent, blocked: cdTemplate };
  const named = namedDRAResources(svc, cdTemplate);
  children.push(...renderClaimTemplates(svc, facts, named).map((t) => withHashes(t, hash)));
  const deployment = renderDeployment(svc, facts, store);
  if (!multiNode) {
    addClaims(deployment.spec!.template.spec!, named);
    children.push(withHashes(deployment, hash, { ignoreReplicas: svc.spec.scale?.enabled === true }));
    return { children, absent };
  }
  if (cdTemplate !== undefined && computeDomainCreated(svc)) children.push(withHashes(renderComputeDomain(svc, facts, cdTemplate), hash));
  if (mpiMode(svc)) {
    children.push(...renderMPIConfigMaps(svc, facts).map((c) => withHashes(c, hash)));
    if (facts.sshPrivateKey) children.push(withHashes(renderSSHSecret(svc, facts, facts.sshPrivateKey), hash));
  }
  children.push(withHashes(renderLeaderWorkerSet(svc, facts, deployment, named), hash));
  return { children, absent };
}
