/** Helpers the workload controllers share: pods from templates, ownership, pod readiness. */
import { labelSelectorObject } from '../selectors.js';
import type { Obj } from '../store.js';
import { ownerRef } from './engine.js';

/** A pod built from a template for an owner. */
export function podFromTemplate(template: Obj, owner: Obj, name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; hostname?: string; subdomain?: string } = {}): Obj {
  const spec = structuredClone(template?.spec ?? {});
  if (extra.hostname) spec.hostname = extra.hostname;
  if (extra.subdomain) spec.subdomain = extra.subdomain;
  const labels = { ...(template?.metadata?.labels ?? {}), ...(extra.labels ?? {}) };
  const annotations = { ...(template?.metadata?.annotations ?? {}), ...(extra.annotations ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec,
  };
}

/** Pods in the owner's namespace whose controller is the owner. */
export function ownedPods(pods: Obj[], owner: Obj): Obj[] {
  return pods.filter((p) => ((p.metadata?.ownerReferences ?? []) as Obj[]).some((r) => r.controller && r.uid === owner.metadata.uid));
}

export function isTerminal(p: Obj): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

export function isDeleting(p: Obj): boolean {
  return !!p.metadata?.deletionTimestamp;
}

export function isReady(p: Obj): boolean {
  return ((p.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least minReadySeconds. */
export function isAvailable(p: Obj, minReadySeconds: number, now = Date.now()): boolean {
  const c = ((p.status?.conditions ?? []) as Obj[]).find((x) => x.type === 'Ready' && x.status === 'True');
  if (!c) return false;
  if (!minReadySeconds) return true;
  return Date.parse(c.lastTransitionTime) + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available (0 if it is, undefined if it is not ready). */
export function untilAvailable(p: Obj, minReadySeconds: number, now = Date.now()): number | undefined {
  const c = ((p.status?.conditions ?? []) as Obj[]).find((x) => x.type === 'Ready' && x.status === 'True');
  if (!c) return undefined;
  return Math.max(0, Date.parse(c.lastTransitionTime) + minReadySeconds * 1000 - now);
}

export function selectorMatcher(selector: Obj | undefined): (labels: Record<string, string>) => boolean {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return () => false;
  return labelSelectorObject(selector as Parameters<typeof labelSelectorObject>[0]);
}

/** `10`, `"25%"` → an absolute count of `total` (rounding up or down as kube does). */
export function intOrPercent(v: unknown, total: number, roundUp: boolean, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  const s = String(v);
  const m = /^(\d+)%$/.exec(s);
  if (m) {
    const x = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  const n = Number(s);
  return Number.isFinite(n) ? n : fallback;
}

/** Deletion order among pods to remove: unscheduled, then pending, then not ready, then newest. */
export function deletionOrder(a: Obj, b: Obj): number {
  const rank = (p: Obj) => (!p.spec?.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !isReady(p) ? 2 : 3);
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  return String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) || String(b.metadata.name).localeCompare(String(a.metadata.name));
}
