/**
 * The namespace-shared ServiceAccount `nim-cache-sa`, Role `nim-cache-role` and RoleBinding
 * `nim-cache-rolebinding` that every NIMCache's pods in a namespace run under (inventory §2.1.1
 * steps 2–4). They have no owner: they outlive any one cache.
 */
import type { V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../labels.js';
import { ROLE_BINDING_NAME, ROLE_NAME, SERVICE_ACCOUNT } from './common.js';

const sharedLabels = () => ({ app: 'k8s-nim-operator', [MANAGED_BY_LABEL]: MANAGED_BY });

export function renderServiceAccount(namespace: string): Wire<V1ServiceAccount> {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SERVICE_ACCOUNT, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } } };
}

/**
 * The OpenShift SCCs the shared Role grants `use` of, for the caches of one namespace: `nonroot`
 * always, plus `anyuid` when any of them sets `spec.proxy` (its CA update runs as root). Appendix
 * A23 fix: upstream rewrites the Role from whichever cache reconciled last, so it flips between
 * `anyuid` and `nonroot` and can take `anyuid` away from a cache that needs it; computing it from
 * all the namespace's caches gives one answer whatever the order.
 */
export function sharedRoleSCCs(caches: readonly NIMCache[]): string[] {
  const live = caches.filter((c) => !c.metadata.deletionTimestamp);
  return live.some((c) => c.spec.proxy) ? ['anyuid', 'nonroot'] : ['nonroot'];
}

export function renderRole(namespace: string, sccs: string[]): Wire<V1Role> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: ROLE_NAME, namespace, labels: sharedLabels() },
    rules: [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: [...sccs], verbs: ['use'] }],
  };
}

export function renderRoleBinding(namespace: string): Wire<V1RoleBinding> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: ROLE_BINDING_NAME, namespace, labels: sharedLabels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME },
    subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace }],
  };
}
