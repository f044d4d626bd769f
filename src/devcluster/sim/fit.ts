/**
 * The scheduler's filters as pure functions: node selector and required node affinity, taints and
 * tolerations, resource fit; and the kube-scheduler's "0/5 nodes are available: …" message.
 */
import { parseQuantity, podRequests } from './quantity.js';
import type { Obj } from '../store.js';

type Labels = Record<string, string>;

function requirementMatches(req: Obj, value: string | undefined): boolean {
  const values: string[] = Array.isArray(req.values) ? req.values.map(String) : [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** A NodeSelectorTerm: all its expressions and fields hold (an empty term matches nothing). */
export function termMatches(term: Obj | undefined, node: Obj): boolean {
  const exprs: Obj[] = term?.matchExpressions ?? [];
  const fields: Obj[] = term?.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels: Labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => requirementMatches(r, r.key === 'metadata.name' ? node.metadata?.name : undefined))
  );
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function matchesNodeAffinity(podSpec: Obj, node: Obj): boolean {
  const labels: Labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries((podSpec.nodeSelector ?? {}) as Labels)) if (labels[k] !== String(v)) return false;
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && Array.isArray(required.nodeSelectorTerms)) {
    if (!required.nodeSelectorTerms.some((t: Obj) => termMatches(t, node))) return false;
  }
  return true;
}

/** Sum of the weights of the preferred node-affinity terms the node matches. */
export function preferredAffinityScore(podSpec: Obj, node: Obj): number {
  let score = 0;
  for (const p of (podSpec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as Obj[]) {
    if (termMatches(p.preference, node)) score += Number(p.weight) || 0;
  }
  return score;
}

export function tolerates(tolerations: Obj[], taint: Obj): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** The first NoSchedule/NoExecute taint of the node the pod does not tolerate. */
export function untoleratedTaint(podSpec: Obj, node: Obj): Obj | undefined {
  const tolerations: Obj[] = podSpec.tolerations ?? [];
  return ((node.spec?.taints ?? []) as Obj[]).find((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(tolerations, taint));
}

/** Resources the node lacks for the pod, given what its pods already use (kube's "Insufficient x"). */
export function insufficient(podSpec: Obj, node: Obj, used: Map<string, number>, podCount: number): string[] {
  const allocatable: Obj = node.status?.allocatable ?? {};
  const out: string[] = [];
  const maxPods = parseQuantity(allocatable.pods ?? '110');
  if (podCount + 1 > maxPods) out.push('Too many pods');
  const order = (r: string) => ['cpu', 'memory', 'ephemeral-storage'].indexOf(r) >>> 0;
  const wanted = [...podRequests(podSpec)].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b));
  for (const [res, want] of wanted) {
    if (want <= 0) continue;
    const have = parseQuantity(allocatable[res] ?? '0');
    if ((used.get(res) ?? 0) + want > (Number.isFinite(have) ? have : 0)) out.push(`Insufficient ${res}`);
  }
  return out;
}

export interface NodeVerdict {
  /** Reasons the node was filtered out (one filter's reasons: the first filter that failed). */
  reasons: string[];
  /** Whether preemption could help (only resource shortages). */
  resolvable: boolean;
}

/** Runs the filters in kube-scheduler's order for one node; undefined when the pod fits. */
export function filterNode(podSpec: Obj, node: Obj, used: Map<string, number>, podCount: number): NodeVerdict | undefined {
  if (node.spec?.unschedulable && !tolerates(podSpec.tolerations ?? [], { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return { reasons: ['node(s) were unschedulable'], resolvable: false };
  }
  const ready = ((node.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') return { reasons: ['node(s) were not ready'], resolvable: false };
  const taint = untoleratedTaint(podSpec, node);
  if (taint) return { reasons: [`node(s) had untolerated taint {${String(taint.key)}: ${String(taint.value ?? '')}}`], resolvable: false };
  if (!matchesNodeAffinity(podSpec, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  const short = insufficient(podSpec, node, used, podCount);
  if (short.length) return { reasons: short, resolvable: true };
  return undefined;
}

/** kube-scheduler's FitError message, with the preemption post-filter's part. */
export function unschedulableMessage(nodeCount: number, verdicts: NodeVerdict[]): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const histogram = new Map<string, number>();
  let resolvable = 0;
  let notHelpful = 0;
  for (const v of verdicts) {
    for (const r of v.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
    if (v.resolvable) resolvable++;
    else notHelpful++;
  }
  const reasons = [...histogram.entries()].map(([r, n]) => `${n} ${r}`).sort();
  const pre: string[] = [];
  if (resolvable) pre.push(`${resolvable} No preemption victims found for incoming pod`);
  if (notHelpful) pre.push(`${notHelpful} Preemption is not helpful for scheduling`);
  return `0/${nodeCount} nodes are available: ${reasons.join(', ')}. preemption: 0/${nodeCount} nodes are available: ${pre.sort().join(', ')}.`;
}

/** A message for a pod that fails before any node is looked at (kube's PreFilter failures). */
export function preFilterMessage(nodeCount: number, message: string): string {
  return `0/${nodeCount} nodes are available: ${message}. preemption: 0/${nodeCount} nodes are available: ${nodeCount} Preemption is not helpful for scheduling.`;
}
