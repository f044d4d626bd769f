/**
 * Standard labels and annotations of the objects a NIMService owns (inventory §2.0.7, §2.0.8) and
 * the change-detection annotations (§2.0.3).
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { Wire } from '../api/schema.js';
import { API_VERSION, type NIMService } from '../api/v1alpha1/kinds.js';
import { deepHash } from './hash.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'k8s-nim-operator';
export const PARENT_SPEC_HASH = 'nvidia.com/parent-spec-hash';
export const LAST_APPLIED_HASH = 'nvidia.com/last-applied-hash';
export const REQUIRED_SCC = 'openshift.io/required-scc';

/** `a` overlaid by `b` (b wins on conflict); key order: a's keys, then b's new keys. */
export function mergeMaps(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> {
  return { ...(a ?? {}), ...(b ?? {}) };
}

/** The five standard labels (`GetStandardLabels`); `operatorVersion` is $OPERATOR_VERSION, empty when unset. */
export function standardLabels(name: string, partOf: string, operatorVersion = ''): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/operator-version': operatorVersion,
    'app.kubernetes.io/part-of': partOf,
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

/** Labels of every NIMService-owned object: `spec.labels` overlaid by the standard ones (standard wins). */
export function serviceLabels(svc: NIMService, operatorVersion = ''): Record<string, string> {
  return mergeMaps(svc.spec.labels, standardLabels(svc.metadata.name ?? '', 'nim-service', operatorVersion));
}

/**
 * Labels of a model PVC the operator creates (inventory §2.2.3 step 12, §6 behaviour 26):
 * `app: k8s-nim-operator`, `app.kubernetes.io/name: <owner name>` and the managed-by label.
 */
export function modelPVCLabels(ownerName: string): Record<string, string> {
  return { app: MANAGED_BY, 'app.kubernetes.io/name': ownerName, [MANAGED_BY_LABEL]: MANAGED_BY };
}

/** Selector of the NIMService's pods (Deployment selector, Service selector): `{app: <name>}`. */
export function selectorLabels(svc: NIMService): Record<string, string> {
  return { app: svc.metadata.name ?? '' };
}

/** The SCC a NIMService's pods ask for (`openshift.io/required-scc`). */
export function requiredSCC(svc: NIMService): string {
  if (svc.spec.proxy?.certConfigMap) return 'anyuid';
  if (svc.spec.storage?.hostPath) return 'hostmount-anyuid';
  return 'nonroot';
}

/** The hash of the NIMService spec (`nvidia.com/parent-spec-hash`). */
export function specHash(svc: NIMService): string {
  return deepHash(svc.spec);
}

/**
 * NIMService annotations on owned objects: `spec.annotations` overlaid by the standard ones
 * (`openshift.io/required-scc` and `nvidia.com/parent-spec-hash`; standard wins).
 */
export function serviceAnnotations(svc: NIMService): Record<string, string> {
  return mergeMaps(svc.spec.annotations, { [REQUIRED_SCC]: requiredSCC(svc), [PARENT_SPEC_HASH]: specHash(svc) });
}

/** Pod template annotations: the NIMService annotations without any hash annotation. */
export function podAnnotations(svc: NIMService): Record<string, string> {
  const a = serviceAnnotations(svc);
  delete a[PARENT_SPEC_HASH];
  delete a[LAST_APPLIED_HASH];
  return a;
}

/** The controller owner reference every child carries (§2.0.2): a NIMService's, or a NIMPipeline's. */
export function ownerReference(owner: { kind?: string; metadata: { name?: string; uid?: string } }, kind = owner.kind ?? 'NIMService'): Wire<V1OwnerReference> {
  return {
    apiVersion: API_VERSION,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface WithMeta {
  metadata?: { annotations?: Record<string, string> };
}

/**
 * Sets `nvidia.com/parent-spec-hash` and `nvidia.com/last-applied-hash` on a rendered child. The
 * last-applied hash covers the whole child except the two hash annotations, as upstream's does.
 */
export function withHashes<T extends WithMeta>(child: T, parentSpecHash: string, opts: { ignoreReplicas?: boolean } = {}): T {
  const meta = (child.metadata ??= {});
  const annotations = { ...(meta.annotations ?? {}) };
  delete annotations[PARENT_SPEC_HASH];
  delete annotations[LAST_APPLIED_HASH];
  const bare = { ...child, metadata: { ...meta, annotations } } as unknown as Record<string, unknown>;
  // Under autoscaling the replica count is the HPA's: it must not change the hash, or every scaling
  // event would be followed by a write of the Deployment.
  if (opts.ignoreReplicas && isObj(bare.spec)) {
    const { replicas: _ignored, ...spec } = bare.spec;
    bare.spec = spec;
  }
  const last = deepHash(bare);
  meta.annotations = { ...annotations, [PARENT_SPEC_HASH]: parentSpecHash, [LAST_APPLIED_HASH]: last };
  return child;
}
