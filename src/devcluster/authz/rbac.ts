/**
 * The RBAC authorizer, with kube-apiserver's semantics (plugin/pkg/auth/authorizer/rbac and
 * pkg/registry/rbac/validation/rule.go), over the Roles, ClusterRoles and bindings in the store:
 *
 * - rules are visited ClusterRoleBindings first, then the RoleBindings of the request's namespace;
 *   the first rule that allows the request decides it ("RBAC: allowed by …");
 * - a binding applies to a User by name, a Group by membership, a ServiceAccount by
 *   `system:serviceaccount:<ns>:<name>` (a RoleBinding's subject without a namespace means the
 *   binding's own);
 * - a rule matches on verb (`*` all), API group (`*` all), resource — `*` is every resource and
 *   subresource, otherwise a subresource must be named as `resource/sub` or `*\/sub` — and
 *   resourceNames (an empty list is every name; a request without a name, such as create or an
 *   unfiltered list, matches no rule that lists names); non-resource requests match nonResourceURLs
 *   (`*` all, an exact path, or a prefix ending in `*`);
 * - a binding whose role does not exist contributes an error, reported with a denial
 *   (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`).
 * ClusterRole aggregation rules are not evaluated: an aggregated ClusterRole has the rules it stores.
 */
import type { Store, Obj } from '../store.js';
import { isMaster, type Attributes, type PolicyRule, type Subject, type UserInfo } from './types.js';

const RBAC = 'rbac.authorization.k8s.io';
const KEYS = {
  roles: `${RBAC}/roles`,
  rolebindings: `${RBAC}/rolebindings`,
  clusterroles: `${RBAC}/clusterroles`,
  clusterrolebindings: `${RBAC}/clusterrolebindings`,
};

/** Where an allowing rule came from: the binding, the subject it matched, the role and the rule's index. */
export interface RuleSource {
  binding: { kind: 'ClusterRoleBinding' | 'RoleBinding'; name: string; namespace?: string };
  subject: Subject;
  role: { kind: string; name: string; namespace?: string };
  index: number;
}

export interface Decision {
  allowed: boolean;
  /** kube's reason: "RBAC: allowed by …" when allowed, resolution errors when denied, else "". */
  reason: string;
  source?: RuleSource;
}

/** "ClusterRole/<name>" or "Role/<namespace>/<name>": the key of the audit's rulesUsed. */
export function roleKey(s: RuleSource): string {
  return s.role.kind === 'Role' ? `Role/${s.role.namespace}/${s.role.name}` : `${s.role.kind}/${s.role.name}`;
}

export function bindingKey(s: RuleSource): string {
  return s.binding.kind === 'RoleBinding' ? `RoleBinding/${s.binding.namespace}/${s.binding.name}` : `ClusterRoleBinding/${s.binding.name}`;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** The binding describers' text (rule.go). */
export function describeSource(s: RuleSource): string {
  const ns = s.binding.namespace ?? '';
  const name = s.binding.kind === 'RoleBinding' ? `${s.binding.name}/${ns}` : s.binding.name;
  return `${s.binding.kind} ${JSON.stringify(name)} of ${s.role.kind} ${JSON.stringify(s.role.name)} to ${describeSubject(s.subject, ns)}`;
}

const has = (list: string[] | undefined, v: string): boolean => (list ?? []).includes(v);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, '*') || has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, '*') || has(rule.apiGroups, group);
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  return !rule.resourceNames?.length || rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!a.resourceRequest) return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
}

function appliesToUser(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || namespace;
      return ns !== '' && user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

type Visitor = (source: RuleSource | undefined, rule: PolicyRule | undefined, err: string | undefined) => boolean;

/** The rules a role reference resolves to, or the lister's not-found error. */
function roleRules(store: Store, ref: Obj | undefined, bindingNamespace: string): { rules?: PolicyRule[]; err?: string } {
  const kind = String(ref?.kind ?? '');
  const name = String(ref?.name ?? '');
  if (kind === 'Role') {
    const role = bindingNamespace ? store.get(KEYS.roles, bindingNamespace, name) : undefined;
    return role ? { rules: role.rules ?? [] } : { err: `role.${RBAC} ${JSON.stringify(name)} not found` };
  }
  if (kind === 'ClusterRole') {
    const role = store.get(KEYS.clusterroles, undefined, name);
    return role ? { rules: role.rules ?? [] } : { err: `clusterrole.${RBAC} ${JSON.stringify(name)} not found` };
  }
  return { err: `unsupported role reference kind: ${JSON.stringify(kind)}` };
}

/** VisitRulesFor: every rule bound to the user in the namespace ('' = cluster bindings only). */
export function visitRulesFor(store: Store, user: UserInfo, namespace: string, visit: Visitor): void {
  const passes: Array<{ kind: 'ClusterRoleBinding' | 'RoleBinding'; bindings: Obj[] }> = [
    { kind: 'ClusterRoleBinding', bindings: store.list(KEYS.clusterrolebindings) },
  ];
  if (namespace) passes.push({ kind: 'RoleBinding', bindings: store.list(KEYS.rolebindings, namespace) });
  for (const { kind, bindings } of passes) {
    const bindingNs = kind === 'RoleBinding' ? namespace : '';
    for (const b of bindings) {
      const subjects = (b.subjects ?? []) as Subject[];
      const subject = subjects.find((s) => appliesToUser(user, s, bindingNs));
      if (!subject) continue;
      const { rules, err } = roleRules(store, b.roleRef, bindingNs);
      if (err !== undefined) {
        if (!visit(undefined, undefined, err)) return;
        continue;
      }
      const roleKind = String(b.roleRef?.kind);
      for (let i = 0; i < rules!.length; i++) {
        const source: RuleSource = {
          binding: { kind, name: b.metadata.name, ...(bindingNs ? { namespace: bindingNs } : {}) },
          subject,
          role: { kind: roleKind, name: String(b.roleRef?.name), ...(roleKind === 'Role' ? { namespace: bindingNs } : {}) },
          index: i,
        };
        if (!visit(source, rules![i], undefined)) return;
      }
    }
  }
}

/** utilerrors.NewAggregate(errs).Error(): one message, or "[a, b]" (duplicates dropped). */
export function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** The authorizer chain: system:masters is always allowed (kube's privileged group authorizer), then RBAC. */
export function authorize(store: Store, a: Attributes): Decision {
  if (isMaster(a.user)) return { allowed: true, reason: '' };
  const errors: string[] = [];
  let found: RuleSource | undefined;
  visitRulesFor(store, a.user, a.namespace, (source, rule, err) => {
    if (source && rule && ruleAllows(a, rule)) {
      found = source;
      return false;
    }
    if (err !== undefined) errors.push(err);
    return true;
  });
  if (found) return { allowed: true, reason: `RBAC: allowed by ${describeSource(found)}`, source: found };
  return { allowed: false, reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
}

/** RulesFor: every rule that applies to the user in the namespace, and the resolution errors. */
export function rulesFor(store: Store, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRulesFor(store, user, namespace, (_s, rule, err) => {
    if (rule) rules.push(rule);
    if (err !== undefined) errors.push(err);
    return true;
  });
  return { rules, errors };
}
