/**
 * The children of a standalone, single-node NIMService (inventory §2.2.0, §2.2.3): ServiceAccount,
 * Role, RoleBinding, Service, the optional Ingress, HTTPRoute, GRPCRoute, HorizontalPodAutoscaler
 * and ServiceMonitor, the model PVC it creates for itself, and the Deployment. Every child carries
 * a controller owner reference to the NIMService and the two hash annotations. Pure: the same
 * (svc, facts) always yields deep-equal results.
 */
import type {
  V1Deployment,
  V1Ingress,
  V1PersistentVolumeClaim,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { specHash, withHashes } from '../labels.js';
import type { NIMServiceFacts } from './common.js';
import { GATEWAY_API_VERSION, MONITORING_API_VERSION, type GRPCRoute, type HTTPRoute, type ServiceMonitor } from './crd-types.js';
import { renderDeployment } from './deployment.js';
import { autoscalingEnabled, renderHPA } from './hpa.js';
import { modelPVCWanted, renderModelPVC } from './pvc.js';
import { renderRole, renderRoleBinding, renderServiceAccount } from './rbac.js';
import { grpcRouteEnabled, httpRouteEnabled, ingressEnabled, renderGRPCRoute, renderHTTPRoute, renderIngress } from './routes.js';
import { renderService } from './service.js';
import { renderServiceMonitor, serviceMonitorEnabled } from './servicemonitor.js';
import { isStorageProblem, resolveModelStore, type StorageProblem } from './storage.js';

export { SpecError, type NIMServiceFacts } from './common.js';
export type { StorageProblem } from './storage.js';
export type { GRPCRoute, HTTPRoute, ServiceMonitor } from './crd-types.js';

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
  | Wire<V1Deployment>;

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
 * it is when it exists (§6 behaviour 26), and whose spec is mostly immutable anyway.
 */
export function isCreateOnly(child: { kind?: string }): boolean {
  return child.kind === 'PersistentVolumeClaim';
}

export interface NIMServiceRender {
  /**
   * Desired children, in upstream's creation order: ServiceAccount, Role, RoleBinding, Service,
   * Ingress, HTTPRoute, GRPCRoute, HPA, ServiceMonitor, PVC, Deployment (the optional ones only
   * when wanted).
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
   */
  blocked?: StorageProblem;
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
  const hash = specHash(svc);
  const name = svc.metadata.name ?? '';
  const children: Child[] = [
    withHashes(renderServiceAccount(svc, facts), hash),
    withHashes(renderRole(svc, facts), hash),
    withHashes(renderRoleBinding(svc, facts), hash),
    withHashes(renderService(svc, facts), hash),
  ];
  const absent: ChildRef[] = [];
  for (const o of OPTIONAL) {
    if (o.wanted(svc)) children.push(withHashes(o.render(svc, facts), hash));
    else absent.push({ apiVersion: o.apiVersion, kind: o.kind, name });
  }
  if (modelPVCWanted(svc)) children.push(withHashes(renderModelPVC(svc, facts), hash));
  const store = resolveModelStore(svc, facts);
  if (isStorageProblem(store)) return { children, absent, blocked: store };
  children.push(withHashes(renderDeployment(svc, facts, store), hash, { ignoreReplicas: svc.spec.scale?.enabled === true }));
  return { children, absent };
}
