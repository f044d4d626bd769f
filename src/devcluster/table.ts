/**
 * Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what `kubectl get` prints.
 * Custom resources get their CRD's printer columns; common built-ins get the columns kubectl users
 * know; everything else gets Name and Age.
 */
import type { PrinterColumn } from '../api/v1alpha1/kinds.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (o: Obj) => unknown;
}

export function age(timestamp: unknown, now = Date.now()): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 ? `${d}d${h % 24 ? `${h % 24}h` : ''}` : `${d}d`;
}

/** Evaluates the simple JSONPath of a printer column (`.status.state`, `.spec.ports[0].port`). */
export function jsonPathValue(o: Obj, path: string): unknown {
  const segs = path.replace(/^\{?\.?/, '').replace(/\}$/, '').split('.').filter(Boolean);
  let cur: unknown = o;
  for (const seg of segs) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(seg);
    if (!m || cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[m[1]!];
    if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
  }
  return cur;
}

const nameCol: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const ageCol: Column = { name: 'Age', type: 'string', description: 'Time since creation.', cell: (o) => age(o.metadata.creationTimestamp) };
const col = (name: string, cell: (o: Obj) => unknown, type = 'string', priority = 0): Column => ({ name, type, cell, priority });

const count = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).length : 0);

/** The STATUS kubectl shows for a pod, worked out as kube's pod printer does from the container states. */
export function podStatus(o: Obj): string {
  const st = o.status ?? {};
  let reason: string = st.reason || st.phase || 'Pending';
  let initializing = false;
  const inits: Obj[] = st.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${(o.spec?.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    let running = false;
    const containers: Obj[] = st.containerStatuses ?? [];
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i]!;
      const term = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) running = true;
    }
    if (reason === 'Completed' && running) reason = (st.conditions ?? []).some((x: Obj) => x.type === 'Ready' && x.status === 'True') ? 'Running' : 'NotReady';
  }
  if (o.metadata.deletionTimestamp) return st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

const BUILTIN: Record<string, Column[]> = {
  Pod: [
    col('Ready', (o) => `${(o.status?.containerStatuses ?? []).filter((c: Obj) => c.ready).length}/${(o.spec?.containers ?? []).length}`),
    col('Status', podStatus),
    col('Restarts', (o) => (o.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0), 'integer'),
  ],
  Deployment: [
    col('Ready', (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
    col('Up-to-date', (o) => o.status?.updatedReplicas ?? 0, 'integer'),
    col('Available', (o) => o.status?.availableReplicas ?? 0, 'integer'),
  ],
  StatefulSet: [col('Ready', (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`)],
  Service: [
    col('Type', (o) => o.spec?.type ?? 'ClusterIP'),
    col('Cluster-IP', (o) => o.spec?.clusterIP ?? '<none>'),
    col('External-IP', (o) => (o.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname).join(',') || '<none>'),
    col('Port(s)', (o) => (o.spec?.ports ?? []).map((p: Obj) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>'),
  ],
  Namespace: [col('Status', (o) => o.status?.phase ?? 'Active')],
  ConfigMap: [col('Data', (o) => count(o.data) + count(o.binaryData), 'integer')],
  Secret: [col('Type', (o) => o.type ?? 'Opaque'), col('Data', (o) => count(o.data), 'integer')],
  Job: [
    col('Status', (o) => {
      const c = (o.status?.conditions ?? []).find((x: Obj) => x.status === 'True' && (x.type === 'Complete' || x.type === 'Failed'));
      return c ? c.type : 'Running';
    }),
    col('Completions', (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`),
  ],
  PersistentVolumeClaim: [
    col('Status', (o) => o.status?.phase ?? 'Pending'),
    col('Volume', (o) => o.spec?.volumeName ?? ''),
    col('Capacity', (o) => o.status?.capacity?.storage ?? ''),
    col('Access Modes', (o) => (o.status?.accessModes ?? []).map((m: string) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(',')),
    col('StorageClass', (o) => o.spec?.storageClassName ?? '<unset>'),
  ],
  Node: [
    col('Status', (o) => ((o.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady')),
    col('Roles', () => '<none>'),
  ],
  HorizontalPodAutoscaler: [
    col('Reference', (o) => `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}`),
    col('MinPods', (o) => o.spec?.minReplicas ?? 1, 'integer'),
    col('MaxPods', (o) => o.spec?.maxReplicas, 'integer'),
    col('Replicas', (o) => o.status?.currentReplicas ?? 0, 'integer'),
  ],
  Ingress: [
    col('Class', (o) => o.spec?.ingressClassName ?? '<none>'),
    col('Hosts', (o) => (o.spec?.rules ?? []).map((r: Obj) => r.host ?? '*').join(',') || '*'),
    col('Address', (o) => (o.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname).join(',')),
  ],
};

function crdColumns(columns: PrinterColumn[]): Column[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type === 'date' ? 'date' : c.type,
    ...(c.format ? { format: c.format } : {}),
    ...(c.description ? { description: c.description } : {}),
    priority: c.priority ?? 0,
    cell: (o: Obj) => {
      const v = jsonPathValue(o, c.jsonPath);
      if (c.type === 'date') return age(v);
      return v ?? null;
    },
  }));
}

function columnsFor(t: ResourceType): Column[] {
  if (t.crd) return [nameCol, ...crdColumns(t.columns)];
  return [nameCol, ...(BUILTIN[t.kind] ?? []), ageCol];
}

export function toTable(t: ResourceType, objects: Obj[], meta: Record<string, unknown>, includeObject: string): Record<string, unknown> {
  const cols = columnsFor(t);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
