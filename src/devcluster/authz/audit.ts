/**
 * The authorization audit: for every user RBAC decides for (service accounts, impersonated users —
 * not the cluster admin), each distinct request it was allowed, with the rule that allowed it, and
 * each it was denied, with the 403 message. `rulesUsed` lists, per role, the indexes of the rules
 * that allowed at least one request — so a test can prove that a ClusterRole has no rule it does not
 * need (every index used) and grants everything the program needs (no denial).
 */
import { bindingKey, roleKey, type RuleSource } from './rbac.js';
import type { Attributes } from './types.js';

/** What was asked: verb and resource (or path), namespace and object name. Empty fields are left out. */
export interface AuditRequest {
  user: string;
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests: the URL path. */
  path?: string;
}

export interface AllowedEntry extends AuditRequest {
  /** "ClusterRole/<name>" or "Role/<namespace>/<name>". */
  role: string;
  /** Index of the rule in the role's `rules`. */
  rule: number;
  /** "ClusterRoleBinding/<name>" or "RoleBinding/<namespace>/<name>". */
  binding: string;
  /** How many requests this entry stands for. */
  count: number;
}

export interface DeniedEntry extends AuditRequest {
  /** The 403 message the client got. */
  message: string;
  count: number;
}

export interface AuditReport {
  allowed: AllowedEntry[];
  denied: DeniedEntry[];
  /** Role key → sorted indexes of its rules that allowed something. */
  rulesUsed: Record<string, number[]>;
  /** Distinct entries not kept once the audit passed its size limit. */
  dropped: number;
}

export interface AuditFilter {
  /** Only this user's entries (`system:serviceaccount:<ns>:<name>`). */
  user?: string;
}

const LIMIT = 20_000;

function requestOf(a: Attributes): AuditRequest {
  const r: AuditRequest = { user: a.user.username, verb: a.verb };
  if (!a.resourceRequest) return { ...r, path: a.path };
  if (a.apiGroup) r.group = a.apiGroup;
  r.resource = a.resource;
  if (a.subresource) r.subresource = a.subresource;
  if (a.namespace) r.namespace = a.namespace;
  if (a.name) r.name = a.name;
  return r;
}

export class AuthzAudit {
  private readonly allowed = new Map<string, AllowedEntry>();
  private readonly denied = new Map<string, DeniedEntry>();
  private dropped = 0;

  recordAllowed(a: Attributes, source: RuleSource): void {
    const entry: AllowedEntry = { ...requestOf(a), role: roleKey(source), rule: source.index, binding: bindingKey(source), count: 0 };
    this.bump(this.allowed, entry);
  }

  recordDenied(a: Attributes, message: string): void {
    this.bump(this.denied, { ...requestOf(a), message, count: 0 });
  }

  private bump<T extends { count: number }>(map: Map<string, T>, entry: T): void {
    const key = JSON.stringify({ ...entry, count: 0 });
    const seen = map.get(key);
    if (seen) seen.count++;
    else if (map.size >= LIMIT) this.dropped++;
    else map.set(key, { ...entry, count: 1 });
  }

  report(filter: AuditFilter = {}): AuditReport {
    const keep = (e: AuditRequest) => filter.user === undefined || e.user === filter.user;
    const allowed = [...this.allowed.values()].filter(keep).map((e) => ({ ...e }));
    const denied = [...this.denied.values()].filter(keep).map((e) => ({ ...e }));
    const used = new Map<string, Set<number>>();
    for (const e of allowed) {
      const set = used.get(e.role) ?? new Set<number>();
      set.add(e.rule);
      used.set(e.role, set);
    }
    const rulesUsed: Record<string, number[]> = {};
    for (const [k, v] of [...used.entries()].sort(([a], [b]) => a.localeCompare(b))) rulesUsed[k] = [...v].sort((a, b) => a - b);
    return { allowed, denied, rulesUsed, dropped: this.dropped };
  }

  reset(): void {
    this.allowed.clear();
    this.denied.clear();
    this.dropped = 0;
  }
}
