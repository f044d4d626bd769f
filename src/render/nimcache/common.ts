/**
 * What the NIMCache renders share: child names, labels, the owner reference, the security settings
 * of the download pods, and the facts the reconciler gathers for them (inventory §2.0.8, §2.1.2, §2.1.3).
 */
import type { V1Container, V1OwnerReference, V1PodSecurityContext, V1SecurityContext, V1Toleration } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import { API_VERSION, type NIMCache } from '../../api/v1alpha1/kinds.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../labels.js';

export type Container = Wire<V1Container>;

/** `status.type` values. */
export type CacheType = '' | 'model-free' | 'native';

/** Facts the reconciler reads from its caches; the renders do no I/O. */
export interface NIMCacheFacts {
  /** Orchestrator detected from node labels (§2.0.6): `TKGS` adds seccomp, `OpenShift` SCC annotations. */
  orchestrator?: string;
  /** `status.type` as decided by inspection and the manifest probe. */
  type?: CacheType;
  /** The profiles an optimized NGC cache downloads (explicit, annotated or auto-selected); `['all']` for all. */
  profiles?: string[];
}

export const CONTAINER_NAME = 'nim-cache-ctr';
export const SERVICE_ACCOUNT = 'nim-cache-sa';
export const ROLE_NAME = 'nim-cache-role';
export const ROLE_BINDING_NAME = 'nim-cache-rolebinding';
export const MODEL_STORE = '/model-store';
export const NATIVE_MODEL_BASE = '/model';
export const NATIVE_KERNEL_CACHE = '/opt/cache';
export const MANIFEST_KEY = 'model_manifest.yaml';
export const DEFAULT_USER_ID = 1000;
export const DEFAULT_GROUP_ID = 2000;
/** NFD's label for "this node has an NVIDIA PCI device": the default node selector. */
export const DEFAULT_NODE_SELECTOR = { 'feature.node.kubernetes.io/pci-10de.present': 'true' };

export const jobName = (c: NIMCache) => `${c.metadata.name}-job`;
export const probePodName = (c: NIMCache) => `${c.metadata.name}-pod`;
export const manifestConfigMapName = (c: NIMCache) => `${c.metadata.name}-manifest`;
/** The claim holding the cache: `storage.pvc.name`, or `<cache>-pvc`. */
export const pvcName = (c: NIMCache) => c.spec.storage?.pvc?.name || `${c.metadata.name}-pvc`;
/** Where a native download puts the model: `/model/<cache>`. */
export const nativeModelPath = (c: NIMCache) => `${NATIVE_MODEL_BASE}/${c.metadata.name}`;

/** Labels of the Job, its pods and the probe pod. */
export function podLabels(c: NIMCache): Record<string, string> {
  return { app: 'k8s-nim-operator', 'app.kubernetes.io/name': c.metadata.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY };
}

/** Labels of the PVC and the manifest ConfigMap: the pod labels plus instance and part-of. */
export function cacheLabels(c: NIMCache): Record<string, string> {
  return { ...podLabels(c), 'app.kubernetes.io/instance': c.metadata.name ?? '', 'app.kubernetes.io/part-of': 'nim-cache' };
}

export function ownerReference(c: NIMCache): Wire<V1OwnerReference> {
  return { apiVersion: API_VERSION, kind: 'NIMCache', name: c.metadata.name ?? '', uid: c.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function childMeta(c: NIMCache, name: string, labels: Record<string, string>) {
  return { name, namespace: c.metadata.namespace ?? 'default', labels, ownerReferences: [ownerReference(c)] };
}

export const userID = (c: NIMCache) => c.spec.userID ?? DEFAULT_USER_ID;
export const groupID = (c: NIMCache) => c.spec.groupID ?? DEFAULT_GROUP_ID;

/** Pod security: runAsUser, fsGroup, runAsNonRoot; seccomp RuntimeDefault on TKGS (Job only, as upstream). */
export function podSecurityContext(c: NIMCache, facts: NIMCacheFacts, withSeccomp: boolean): Wire<V1PodSecurityContext> {
  const ctx: Wire<V1PodSecurityContext> = { runAsUser: userID(c), fsGroup: groupID(c), runAsNonRoot: true };
  if (withSeccomp && facts.orchestrator === 'TKGS') ctx.seccompProfile = { type: 'RuntimeDefault' };
  return ctx;
}

/** The download container's security: no privilege escalation, no capabilities, non-root uid/gid. */
export function containerSecurityContext(c: NIMCache): Wire<V1SecurityContext> {
  return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: userID(c), runAsGroup: groupID(c) };
}

/**
 * CPU and memory as both request and limit, only those given. Appendix A19 fix: upstream writes
 * zero quantities when `spec.resources` is unset, which asks for nothing but caps at nothing too.
 */
export function resources(c: NIMCache): Container['resources'] | undefined {
  const r: Record<string, string> = {};
  if (c.spec.resources?.cpu !== undefined && c.spec.resources.cpu !== '') r.cpu = String(c.spec.resources.cpu);
  if (c.spec.resources?.memory !== undefined && c.spec.resources.memory !== '') r.memory = String(c.spec.resources.memory);
  return Object.keys(r).length ? { requests: { ...r }, limits: { ...r } } : undefined;
}

/** Node selector: `spec.nodeSelector`, or NVIDIA-GPU nodes when it is unset. */
export function nodeSelector(c: NIMCache): Record<string, string> {
  return c.spec.nodeSelector ? { ...c.spec.nodeSelector } : { ...DEFAULT_NODE_SELECTOR };
}

/** Tolerations, every field kept (tolerationSeconds included). */
export function tolerations(c: NIMCache): Wire<V1Toleration>[] | undefined {
  const t = c.spec.tolerations;
  return t?.length ? t.map((x) => ({ ...x })) : undefined;
}

/** Appendix A19 fix: an image pull secret only when one is named (upstream adds an unnamed entry). */
export function pullSecrets(name: string | undefined): { name: string }[] | undefined {
  return name ? [{ name }] : undefined;
}
