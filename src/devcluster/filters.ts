/** Which objects a list or watch request selects: namespace, label selector, field selector. */
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

/** Field labels each kind supports beyond metadata.name and metadata.namespace. */
const FIELD_LABELS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP'],
  Event: [
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
    'reason', 'reportingComponent', 'source', 'type', 'regarding.kind', 'regarding.name', 'regarding.namespace', 'regarding.uid',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
  Job: ['status.successful'],
  ReplicaSet: ['status.replicas'],
};

function fieldValue(o: Obj, path: string): string | undefined {
  if (path === 'source') return o.source?.component ?? o.reportingController;
  let cur: unknown = o;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[seg];
  }
  if (cur === undefined || cur === null) return path === 'metadata.namespace' ? '' : undefined;
  return typeof cur === 'object' ? undefined : String(cur);
}

export type Matcher = (o: Obj) => boolean;

export function makeMatcher(
  t: ResourceType,
  namespace: string | undefined,
  labelSelector: string | null,
  fieldSelector: string | null,
): Matcher {
  const labels = parseLabelSelector(labelSelector);
  // Custom resources select on metadata.name and, when namespaced, metadata.namespace: nothing
  // else (kube-apiserver answers "field label not supported" for, say, metadata.uid).
  const supported = t.crd
    ? new Set(['metadata.name', ...(t.namespaced ? ['metadata.namespace'] : [])])
    : new Set(['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[t.kind] ?? [])]);
  const fields = parseFieldSelector(fieldSelector, (f) => supported.has(f));
  return (o) =>
    (namespace === undefined || o.metadata?.namespace === namespace) &&
    labels(o.metadata?.labels ?? {}) &&
    fields((f) => fieldValue(o, f));
}
