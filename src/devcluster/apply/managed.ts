/**
 * `metadata.managedFields`: who owns which fields. Read into a table of managers keyed the way
 * kube-apiserver keys them (an applier by name and subresource; an updater also by operation and
 * apiVersion), and written back in kube-apiserver's order.
 */
import { fieldElement, FieldSet, type Path } from './fieldpath.js';

/** One entry of `metadata.managedFields`, as on the wire. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** A manager as held while computing: its fields as a set. */
export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

export type Managers = Map<string, Manager>;

/**
 * The identity of a manager: the JSON of its entry without fields and time (and, for appliers,
 * without apiVersion, so that an applier keeps one entry across versions). Sorting these strings
 * is how kube-apiserver orders managers in conflict messages.
 */
export function managerId(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: Record<string, string> = {};
  if (m.manager) id.manager = m.manager;
  id.operation = m.operation;
  if (m.operation === 'Update' && m.apiVersion) id.apiVersion = m.apiVersion;
  if (m.subresource) id.subresource = m.subresource;
  return JSON.stringify(id);
}

/** Reads `metadata.managedFields`; entries it cannot read are dropped, duplicates are merged. */
export function decodeManagers(raw: unknown): Managers {
  const out: Managers = new Map();
  if (!Array.isArray(raw)) return out;
  for (const e of raw) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) continue;
    const entry = e as Record<string, unknown>;
    const m: Manager = {
      manager: typeof entry.manager === 'string' ? entry.manager : '',
      operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof entry.apiVersion === 'string' ? entry.apiVersion : '',
      subresource: typeof entry.subresource === 'string' ? entry.subresource : '',
      set: FieldSet.fromFieldsV1(entry.fieldsV1),
    };
    if (typeof entry.time === 'string') m.time = entry.time;
    const id = managerId(m);
    const prev = out.get(id);
    out.set(id, prev ? { ...m, set: prev.set.union(m.set) } : m);
  }
  return out;
}

function seconds(time: string | undefined): number {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** kube-apiserver's order: appliers before updaters, then by time, manager, apiVersion, subresource. */
function entryOrder(a: Manager, b: Manager): number {
  return (
    cmp(a.operation, b.operation) ||
    seconds(a.time) - seconds(b.time) ||
    cmp(a.manager, b.manager) ||
    cmp(a.apiVersion, b.apiVersion) ||
    cmp(a.subresource, b.subresource)
  );
}

/** Writes managers back as `metadata.managedFields` entries; managers that own nothing are left out. */
export function encodeManagers(managers: Managers): ManagedFieldsEntry[] {
  return [...managers.values()]
    .filter((m) => !m.set.isEmpty())
    .sort(entryOrder)
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: m.set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

/** Whether two tables say the same thing (so the stored entries can be kept as they are). */
export function sameManagers(a: Managers, b: Managers): boolean {
  const live = (m: Managers) => [...m.entries()].filter(([, v]) => !v.set.isEmpty());
  const la = live(a);
  const lb = new Map(live(b));
  if (la.length !== lb.size) return false;
  for (const [id, m] of la) {
    const o = lb.get(id);
    if (!o || o.apiVersion !== m.apiVersion || o.time !== m.time || !o.set.equals(m.set)) return false;
  }
  return true;
}

const meta = (name: string): Path => [fieldElement('metadata'), fieldElement(name)];

/** Fields nobody owns: type meta, the metadata object itself, and the fields the server sets. */
export const UNOWNED = FieldSet.of(
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  meta('name'),
  meta('namespace'),
  meta('creationTimestamp'),
  meta('selfLink'),
  meta('uid'),
  meta('clusterName'),
  meta('generation'),
  meta('managedFields'),
  meta('resourceVersion'),
);

export function dropUnowned(managers: Managers): void {
  for (const [id, m] of managers) {
    m.set = m.set.difference(UNOWNED);
    if (m.set.isEmpty()) managers.delete(id);
  }
}

/** At most this many updaters are kept apart; older ones are folded into one entry per apiVersion. */
export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES = 'ancient-changes';

export function capUpdaters(managers: Managers, max = MAX_UPDATE_MANAGERS): void {
  const updaters = () => [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  const list = updaters();
  if (list.length <= max) return;
  list.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  for (const [id, m] of list) {
    if (updaters().length <= max) break;
    if (m.manager === ANCIENT_CHANGES) continue;
    const bucketKey = managerId({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion, subresource: '' });
    const bucket = managers.get(bucketKey);
    managers.delete(id);
    const time = bucket?.time && seconds(bucket.time) > seconds(m.time) ? bucket.time : m.time;
    managers.set(bucketKey, {
      manager: ANCIENT_CHANGES,
      operation: 'Update',
      apiVersion: m.apiVersion,
      subresource: '',
      ...(time ? { time } : {}),
      set: bucket ? bucket.set.union(m.set) : m.set,
    });
  }
}

export function cloneManagers(managers: Managers): Managers {
  return new Map([...managers].map(([id, m]) => [id, { ...m }]));
}
