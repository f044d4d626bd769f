/**
 * Least privilege, checked: the authorization audit of the embedded control plane says which rule
 * allowed each request of the operator and which requests were denied. Two admission checks that a
 * real cluster makes and the control plane does not are made here, from the objects the operator
 * writes, through the same RBAC authorizer:
 *
 * - RBAC escalation prevention (kube-apiserver, always on): a Role can be created or updated only by
 *   someone who holds every permission it grants (without the `escalate` verb), so the operator's
 *   ClusterRole must cover the Roles it writes (`use` of an SCC, the endpoint picker's reads);
 * - OwnerReferencesPermissionEnforcement (on in OpenShift): an owner reference with
 *   `blockOwnerDeletion: true` may be set only by someone who may `update` the owner's
 *   `finalizers` subresource.
 *
 * A rule is "used" when a request was allowed by it, or when one of these checks needed it.
 */
import type { AuditReport, DeniedEntry } from '../../src/devcluster/authz/index.js';
import type { Attributes, PolicyRule, UserInfo } from '../../src/devcluster/authz/types.js';
import type { ControlPlane } from '../../src/devcluster/server.js';
import type { ChangeEvent, Obj } from '../../src/devcluster/store.js';

export interface AdmissionFinding {
  check: 'escalation' | 'ownerReferences';
  /** The object written and what was checked, in words. */
  what: string;
  verb: string;
  group: string;
  resource: string;
  allowed: boolean;
  /** The role and rule index that allowed it. */
  role?: string;
  rule?: number;
}

const RBAC_ROLES = new Set(['rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/clusterroles']);

const writtenBy = (o: Obj, manager: string) => ((o.metadata?.managedFields ?? []) as Obj[]).some((m) => m.manager === manager);

const blockingRefs = (o: Obj | undefined): Obj[] => ((o?.metadata?.ownerReferences ?? []) as Obj[]).filter((r) => r.blockOwnerDeletion === true);

/** Makes the two checks on every object the field manager writes, while subscribed to the store. */
export class AdmissionChecks {
  private readonly seen = new Map<string, AdmissionFinding>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly cp: ControlPlane,
    private readonly user: UserInfo,
    private readonly manager = 'nim-operator',
  ) {
    this.unsubscribe = cp.store.subscribe((e) => this.onChange(e));
  }

  stop(): void {
    this.unsubscribe();
  }

  findings(): AdmissionFinding[] {
    return [...this.seen.values()];
  }

  private onChange(e: ChangeEvent): void {
    if (e.type === 'DELETED' || !writtenBy(e.object, this.manager)) return;
    const o = e.object;
    const where = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    if (RBAC_ROLES.has(e.resource) && JSON.stringify(o.rules ?? []) !== JSON.stringify(e.previous?.rules ?? [])) {
      for (const rule of (o.rules ?? []) as PolicyRule[]) {
        for (const group of rule.apiGroups ?? []) {
          for (const combined of rule.resources ?? []) {
            const [resource = '', subresource = ''] = combined.split('/');
            for (const verb of rule.verbs ?? []) {
              for (const name of rule.resourceNames?.length ? rule.resourceNames : ['']) {
                this.decide('escalation', `${where} grants ${verb} ${group || 'core'}/${combined}${name ? ` ${name}` : ''}`, { verb, apiGroup: group, resource, subresource, name, namespace: o.metadata.namespace ?? '' });
              }
            }
          }
        }
      }
    }
    const before = new Set(blockingRefs(e.previous).map((r) => r.uid));
    for (const ref of blockingRefs(o).filter((r) => !before.has(r.uid))) {
      const t = this.cp.registry.byKind(String(ref.apiVersion), String(ref.kind));
      if (!t) continue;
      this.decide('ownerReferences', `${where} has blockOwnerDeletion on its owner ${ref.kind} ${ref.name}`, {
        verb: 'update', apiGroup: t.group, resource: t.plural, subresource: 'finalizers', name: String(ref.name), namespace: t.namespaced ? (o.metadata.namespace ?? '') : '',
      });
    }
  }

  private decide(check: AdmissionFinding['check'], what: string, a: Pick<Attributes, 'verb' | 'apiGroup' | 'resource' | 'subresource' | 'name' | 'namespace'>): void {
    const d = this.cp.authz.decide({ ...a, user: this.user, resourceRequest: true, path: '', apiVersion: '' });
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const finding: AdmissionFinding = { check, what, verb: a.verb, group: a.apiGroup, resource, allowed: d.allowed };
    if (d.source) {
      const r = d.source.role;
      finding.role = r.kind === 'Role' ? `Role/${r.namespace}/${r.name}` : `${r.kind}/${r.name}`;
      finding.rule = d.source.index;
    }
    // One finding per kind of check, verb and resource and outcome (not per object).
    const key = JSON.stringify([check, a.verb, a.apiGroup, resource, d.allowed, finding.role, finding.rule]);
    if (!this.seen.has(key)) this.seen.set(key, finding);
  }
}

export const describeRule = (r: PolicyRule) =>
  `apiGroups=[${(r.apiGroups ?? []).map((g) => g || '""').join(',')}] resources=[${(r.resources ?? []).join(',')}] verbs=[${(r.verbs ?? []).join(',')}]${r.resourceNames?.length ? ` resourceNames=[${r.resourceNames.join(',')}]` : ''}`;

export const describeDenied = (d: DeniedEntry) =>
  `${d.verb} ${d.resource !== undefined ? `${d.group || 'core'}/${d.resource}${d.subresource ? `/${d.subresource}` : ''}` : d.path}` +
  `${d.namespace ? ` in ${d.namespace}` : ''}${d.name ? ` (${d.name})` : ''} ×${d.count}: ${d.message}`;

export interface RuleUse {
  role: string;
  index: number;
  rule: PolicyRule;
  /** Verbs of requests this rule allowed. */
  requestVerbs: Set<string>;
  /** Verbs an admission check needed of this rule (escalation, owner references). */
  admissionVerbs: Set<string>;
}

/** How each rule of a role was used, by requests (the audit) and by the admission checks. */
export function ruleUse(role: string, rules: PolicyRule[], audit: AuditReport, findings: AdmissionFinding[]): RuleUse[] {
  const uses = rules.map((rule, index): RuleUse => ({ role, index, rule, requestVerbs: new Set(), admissionVerbs: new Set() }));
  for (const a of audit.allowed) if (a.role === role) uses[a.rule]?.requestVerbs.add(a.verb);
  for (const f of findings) if (f.allowed && f.role === role && f.rule !== undefined) uses[f.rule]?.admissionVerbs.add(f.verb);
  return uses;
}

/** Rules that allowed nothing and that no admission check needed: one line each, for the failure message. */
export function unusedRules(uses: RuleUse[]): string[] {
  return uses.filter((u) => !u.requestVerbs.size && !u.admissionVerbs.size).map((u) => `${u.role} rule ${u.index}: ${describeRule(u.rule)}`);
}

/** Verbs of each rule that nothing used: one line per rule that has some. */
export function unusedVerbs(uses: RuleUse[]): string[] {
  const lines: string[] = [];
  for (const u of uses) {
    const unused = (u.rule.verbs ?? []).filter((v) => !u.requestVerbs.has(v) && !u.admissionVerbs.has(v));
    if (unused.length && unused.length < (u.rule.verbs ?? []).length) lines.push(`${u.role} rule ${u.index} (${(u.rule.apiGroups ?? []).map((g) => g || 'core').join(',')}/${(u.rule.resources ?? []).join(',')}): never used: ${unused.join(', ')}`);
  }
  return lines;
}

/** Rules only an admission check used (no request): worth knowing, since the control plane does not make those checks itself. */
export function admissionOnly(uses: RuleUse[]): string[] {
  return uses.filter((u) => !u.requestVerbs.size && u.admissionVerbs.size).map((u) => `${u.role} rule ${u.index}: ${describeRule(u.rule)} (needed by admission: ${[...u.admissionVerbs].join(', ')})`);
}
