/**
 * The operator's RBAC, generated from what the controllers declare (controllers/permissions.ts) plus
 * what the runtime itself needs: one ClusterRole with one rule per API group and resource (verbs
 * merged, sorted, never a wildcard), and a Role in the operator's namespace for its leader-election
 * Lease. Each rule carries, as comments, the reasons the controllers gave for it.
 */
import { webhookPermissions } from '../webhooks/operator.js';
import { CONTROLLER_PERMISSIONS, type PermissionSet } from '../controllers/permissions.js';
import { EVENT, type Permission } from '../controllers/refs.js';
import { NAMES, labels } from './names.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** A rule and the reasons behind it ("controller: why"), for the comments in the generated file. */
export interface ExplainedRule {
  rule: PolicyRule;
  reasons: string[];
}

const LEASE = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

/** What the process needs whatever controllers run: events, and the admission webhook's reads. */
export const RUNTIME_PERMISSIONS: PermissionSet[] = [
  {
    controller: 'runtime',
    permissions: [{ ref: EVENT, verbs: ['create', 'patch'], why: 'events on the objects it reconciles (count bumped with a patch)' }],
  },
  {
    controller: 'webhook',
    // Certificates from cert-manager or a Secret (the install's modes); self-made ones need more (docs/webhook.md).
    permissions: webhookPermissions('provided'),
  },
];

/** The leader election's needs, granted only in the operator's namespace. */
export const LEADER_ELECTION_PERMISSIONS: PermissionSet[] = [
  {
    controller: 'leader-election',
    permissions: [
      { ref: LEASE, verbs: ['get', 'create', 'update'], why: 'the Lease a0715c6e.nvidia.com: read, taken and renewed (PUT)' },
    ],
  },
];

/**
 * Merges permission sets into rules: one per apiGroup and resource (a subresource is its own
 * resource, `pods/log`), verbs deduplicated and sorted, rules sorted by group then resource.
 */
export function mergeRules(sets: readonly PermissionSet[]): ExplainedRule[] {
  const byKey = new Map<string, { group: string; resource: string; verbs: Set<string>; reasons: string[] }>();
  for (const set of sets) {
    for (const p of set.permissions) {
      checkPermission(set.controller, p);
      const resource = p.subresource ? `${p.ref.plural}/${p.subresource}` : p.ref.plural;
      const key = `${p.ref.group}\u0000${resource}`;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { group: p.ref.group, resource, verbs: new Set(), reasons: [] }));
      for (const v of p.verbs) entry.verbs.add(v);
      const reason = `${set.controller}: ${p.why}`;
      if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    }
  }
  return [...byKey.values()]
    .sort((a, b) => cmp(a.group, b.group) || cmp(a.resource, b.resource))
    .map((e) => ({ rule: { apiGroups: [e.group], resources: [e.resource], verbs: [...e.verbs].sort(cmp) }, reasons: e.reasons }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function checkPermission(controller: string, p: Permission): void {
  const where = `${controller}: ${p.ref.group || 'core'}/${p.ref.plural}${p.subresource ? `/${p.subresource}` : ''}`;
  if ([p.ref.group, p.ref.plural, p.subresource ?? '', ...p.verbs].some((s) => s.includes('*'))) {
    throw new Error(`${where}: a wildcard is not allowed in the operator's RBAC; name each group, resource and verb`);
  }
  if (!p.verbs.length) throw new Error(`${where}: no verbs`);
  if (!p.why.trim()) throw new Error(`${where}: say why the permission is needed`);
}

/** Every set the ClusterRole is made of. */
export function clusterPermissionSets(controllers: readonly PermissionSet[] = CONTROLLER_PERMISSIONS): PermissionSet[] {
  return [...controllers, ...RUNTIME_PERMISSIONS];
}

export interface RBACObject {
  object: Record<string, unknown>;
  /** Comments to print above each of `object.rules` (same order). */
  ruleComments?: string[][];
}

export function clusterRole(controllers?: readonly PermissionSet[]): RBACObject {
  const rules = mergeRules(clusterPermissionSets(controllers));
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NAMES.clusterRole, labels: labels() },
      rules: rules.map((r) => r.rule),
    },
    ruleComments: rules.map((r) => r.reasons),
  };
}

export function leaderElectionRole(namespace: string): RBACObject {
  const rules = mergeRules(LEADER_ELECTION_PERMISSIONS);
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: NAMES.leaderElectionRole, namespace, labels: labels() },
      rules: rules.map((r) => r.rule),
    },
    ruleComments: rules.map((r) => r.reasons),
  };
}

const subject = (namespace: string) => ({ kind: 'ServiceAccount', name: NAMES.serviceAccount, namespace });

export function serviceAccount(namespace: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAMES.serviceAccount, namespace, labels: labels() } };
}

export function clusterRoleBinding(namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: NAMES.clusterRoleBinding, labels: labels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAMES.clusterRole },
    subjects: [subject(namespace)],
  };
}

export function leaderElectionRoleBinding(namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: NAMES.leaderElectionRoleBinding, namespace, labels: labels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAMES.leaderElectionRole },
    subjects: [subject(namespace)],
  };
}
