/** ServiceAccount, Role and RoleBinding `<name>` of a NIMService (inventory §2.2.3 steps 2–4, §6 behaviour 12; Appendix A13 fixed). */
import type { V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { requiredSCC } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';

/**
 * ServiceAccount `<name>`: labels only. Upstream's template renders `annotations: {}`, so the
 * NIMService annotations never reach it (Appendix A11, kept); the hash annotations are added by
 * `withHashes` like on every child.
 */
export function renderServiceAccount(svc: NIMService, facts: NIMServiceFacts): Wire<V1ServiceAccount> {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: childMeta(svc, facts) };
}

/**
 * The SCC the Role grants `use` of: the one the pods ask for in `openshift.io/required-scc`.
 * Appendix A13 fix: upstream grants `anyuid` whenever `spec.proxy` is set, while the pods ask for
 * `anyuid` only with `proxy.certConfigMap`; a proxy without a CA ConfigMap thus leaves the pods
 * asking for `nonroot`, which the service account may not use, and OpenShift refuses them.
 */
export function roleSCC(svc: NIMService): string {
  return requiredSCC(svc);
}

/** Role `<name>`: one rule, `use` of the SCC on OpenShift. Labels only (A11). */
export function renderRole(svc: NIMService, facts: NIMServiceFacts): Wire<V1Role> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: childMeta(svc, facts),
    rules: [
      {
        apiGroups: ['security.openshift.io'],
        resources: ['securitycontextconstraints'],
        resourceNames: [roleSCC(svc)],
        verbs: ['use'],
      },
    ],
  };
}

/** RoleBinding `<name>`: Role `<name>` to ServiceAccount `<name>` in the same namespace. */
export function renderRoleBinding(svc: NIMService, facts: NIMServiceFacts): Wire<V1RoleBinding> {
  const meta = childMeta(svc, facts);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: meta.name! },
    subjects: [{ kind: 'ServiceAccount', name: meta.name!, namespace: meta.namespace! }],
  };
}
