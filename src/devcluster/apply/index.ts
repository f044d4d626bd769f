/**
 * Server-side apply and field ownership for the embedded control plane: a pure library with the
 * semantics of kube-apiserver's field manager (sigs.k8s.io/structured-merge-diff).
 *
 * - `apply` answers a PATCH with `application/apply-patch+yaml`: it merges the applied
 *   configuration into the live object, removes what the manager applied before and applies no
 *   more (unless someone else owns it), refuses to change fields other managers own (unless
 *   forced, which takes them over), and records the manager's fields as its `Apply` entry.
 * - `recordUpdate` follows every other write (create, update, patch): the fields the write set or
 *   changed become the manager's `Update` entry and are taken from every other manager.
 *
 * Both take plain JSON objects and return new ones; neither touches its arguments. An apply that
 * changes nothing returns an object deep-equal to the live one, managedFields included, so a
 * caller can skip the write.
 */
import { isDeepStrictEqual } from 'node:util';
import type { JSONSchemaProps } from '../../api/k8s/schemas.js';
import { fieldElement, FieldSet, pathString } from './fieldpath.js';
import {
  capUpdaters,
  cloneManagers,
  decodeManagers,
  dropUnowned,
  encodeManagers,
  managerId,
  sameManagers,
  UNOWNED,
  type Manager,
  type Managers,
} from './managed.js';
import { isPlainObject, rootSchema, TypedValueError, type Schema } from './shape.js';
import { compare, fieldSetOf, merge, removeFields, withNamedFields } from './typed.js';

export type { ManagedFieldsEntry } from './managed.js';

export interface WriteOptions {
  /** The field manager: the `fieldManager` parameter (or, for non-apply writes, the user agent). */
  manager: string;
  /** Structural schema of the whole object (`k8sSchema('V1Deployment')`, a CRD's openAPIV3Schema). */
  schema: JSONSchemaProps;
  /** apiVersion of the request, recorded in the entry (e.g. `apps/v1`). */
  apiVersion: string;
  /** RFC 3339 time recorded in the entry when the write changes something. */
  now: string;
  /**
   * The subresource written, recorded in the entry. On `status` only `status` is written and
   * owned; on `scale` the caller passes the whole object with its new `spec.replicas`.
   */
  subresource?: 'status' | 'scale';
  /**
   * Whether the kind has a status subresource, so that writes to the main resource neither set
   * nor own `status`. Default: whether the schema declares a `status` property.
   */
  statusSubresource?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** Take over fields owned by other managers instead of failing on conflicts. */
  force: boolean;
}

/** A field the applied configuration would change that another manager owns. */
export interface Conflict {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  /** The field, printed as kube-apiserver prints it: `.spec.replicas`, `.spec.ports[port=80,protocol="TCP"]`. */
  field: string;
  /** The cause message: `conflict with "kubectl-client-side-apply" using apps/v1`. */
  message: string;
}

export interface StatusCause {
  reason: 'FieldManagerConflict';
  message: string;
  field: string;
}

/** How kube-apiserver names a manager in conflict messages. */
function describeManager(m: Pick<Conflict, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `Apply failed with 1 conflict: conflict with ${describeManager(c)}: ${c.field}`;
  }
  const lines: string[] = [];
  let current: string | undefined;
  for (const c of conflicts) {
    const who = describeManager(c);
    if (who !== current) lines.push(`conflicts with ${who}:`);
    current = who;
    lines.push(`- ${c.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** An apply that would change fields other managers own (HTTP 409, reason Conflict). */
export class ApplyConflictError extends Error {
  readonly code = 409;
  readonly reason = 'Conflict';

  constructor(readonly conflicts: readonly Conflict[]) {
    super(conflictMessage(conflicts));
    this.name = 'ApplyConflictError';
  }

  /** The `details.causes` of kube-apiserver's Status. */
  get causes(): StatusCause[] {
    return this.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: c.message, field: c.field }));
  }

  /** The metav1 Status kube-apiserver answers with. */
  toStatus(): {
    kind: 'Status';
    apiVersion: 'v1';
    metadata: Record<string, never>;
    status: 'Failure';
    message: string;
    reason: 'Conflict';
    details: { causes: StatusCause[] };
    code: 409;
  } {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: 'Conflict',
      details: { causes: this.causes },
      code: 409,
    };
  }
}

/**
 * An apply request kube-apiserver refuses before merging: a configuration of another apiVersion
 * or carrying managedFields (400 BadRequest), or one that does not fit the schema, such as
 * list-map items with duplicate or missing keys (kube-apiserver answers these with a 500 whose
 * reason is empty, and the message below).
 */
export class ApplyInvalidError extends Error {
  constructor(
    readonly code: 400 | 500,
    readonly reason: 'BadRequest' | '',
    message: string,
    /** The offending field, when there is one (`.spec.ports`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApplyInvalidError';
  }
}

// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const STATUS = fieldElement('status');
const STATUS_ONLY = FieldSet.of([STATUS]);
/** Set by the server, never taken from an applied configuration once the object exists. */
const SERVER_METADATA = ['uid', 'creationTimestamp', 'generation', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'];
const BEFORE_FIRST_APPLY = 'before-first-apply';

function metadataOf(obj: Obj | undefined): Obj | undefined {
  return obj && isPlainObject(obj.metadata) ? obj.metadata : undefined;
}

/** How kube-apiserver names the object in apply errors: `nim/llama; apps/v1, Kind=Deployment`. */
function describeObject(obj: Obj): string {
  const meta = metadataOf(obj) ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const apiVersion = str(obj.apiVersion);
  const gv = apiVersion.includes('/') ? apiVersion : `/${apiVersion}`;
  return `${str(meta.namespace)}/${str(meta.name)}; ${gv}, Kind=${str(obj.kind)}`;
}

function withoutManagedFields(obj: Obj): Obj {
  const copy = structuredClone(obj);
  const meta = metadataOf(copy);
  if (meta) delete meta.managedFields;
  return copy;
}

function hasStatusSubresource(opts: WriteOptions): boolean {
  return opts.statusSubresource ?? opts.schema.properties?.status !== undefined;
}

/** The part of a field set a write may own: only status on the status subresource, no status on the main resource of a kind with one. */
function scoped(set: FieldSet, opts: WriteOptions): FieldSet {
  if (opts.subresource === 'status') return set.withPrefix(STATUS);
  return hasStatusSubresource(opts) ? set.recursiveDifference(STATUS_ONLY) : set;
}

/** The applied configuration, reduced to what the endpoint writes. */
function scopedConfig(applied: Obj, opts: WriteOptions): Obj {
  if (opts.subresource === 'status') {
    const out: Obj = {};
    for (const k of ['apiVersion', 'kind']) if (applied[k] !== undefined) out[k] = applied[k];
    const meta = metadataOf(applied);
    if (meta) {
      const m: Obj = {};
      for (const k of ['name', 'namespace', 'uid', 'resourceVersion']) if (meta[k] !== undefined) m[k] = meta[k];
      out.metadata = m;
    }
    if (applied.status !== undefined) out.status = structuredClone(applied.status);
    return out;
  }
  const copy = structuredClone(applied);
  if (hasStatusSubresource(opts)) delete copy.status;
  return copy;
}

function setManagedFields(obj: Obj, managers: Managers, liveRaw: unknown, liveManagers: Managers): void {
  let meta = metadataOf(obj);
  if (!meta) {
    meta = {};
    obj.metadata = meta;
  }
  if (liveRaw !== undefined && sameManagers(liveManagers, managers)) {
    meta.managedFields = structuredClone(liveRaw);
    return;
  }
  const entries = encodeManagers(managers);
  if (entries.length) meta.managedFields = entries;
  else delete meta.managedFields;
}

/** The fields a write adds or changes (`changed`) and removes, within what the write may own. */
function diff(before: Obj, after: Obj, schema: Schema, opts: WriteOptions): { changed: FieldSet; removed: FieldSet } {
  const c = compare(before, after, schema);
  return { changed: scoped(c.modified.union(c.added), opts), removed: scoped(c.removed, opts) };
}

/** An updater's entry after a write: it gains what the write changed; everyone else loses it. */
function takeOwnership(managers: Managers, self: Omit<Manager, 'set' | 'time'>, changed: FieldSet, removed: FieldSet, now: string): void {
  const id = managerId(self);
  for (const m of managers.values()) m.set = m.set.difference(changed).difference(removed);
  const mine = changed.difference(UNOWNED);
  if (mine.isEmpty()) return;
  const prev = managers.get(id);
  managers.set(id, { ...self, time: now, set: prev ? prev.set.union(mine) : mine });
}

/**
 * Removes what the manager applied last time and no longer applies, unless a manager (itself
 * included, through its new configuration) still owns it. A struct goes when nobody owns anything
 * in it any more; a list item or map entry goes as a whole.
 */
function prune(merged: Obj, last: FieldSet, managers: Managers, schema: Schema): Obj {
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  const present = withNamedFields(fieldSetOf(merged, schema, false), schema);
  const remove = present
    .intersection(withNamedFields(last, schema))
    .difference(withNamedFields(owned, schema))
    .difference(UNOWNED);
  return remove.isEmpty() ? merged : (removeFields(merged, remove, schema) as Obj);
}

/**
 * Server-side apply (PATCH, `application/apply-patch+yaml`). `live` is undefined when the object
 * does not exist yet: the result is then the object to create. Throws ApplyConflictError on
 * conflicts (unless `force`), ApplyInvalidError when the configuration does not fit its schema
 * (duplicate or missing list-map keys, `metadata.managedFields` set).
 *
 * The caller keeps the API server's other duties: preconditions (`metadata.resourceVersion`,
 * `uid` in the body), name and kind checks, defaulting, validation and admission of the result.
 * Server-set metadata (uid, creationTimestamp, generation, resourceVersion, deletion fields) is
 * kept from the live object.
 */
export function apply(live: Obj | undefined, applied: Obj, opts: ApplyOptions): Obj {
  const schema = rootSchema(opts.schema);
  const subresource = opts.subresource ?? '';
  const appliedVersion = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  if (appliedVersion !== opts.apiVersion) {
    throw new ApplyInvalidError(
      400,
      'BadRequest',
      `Incorrect version specified in apply patch. Specified patch version: ${appliedVersion}, expected: ${opts.apiVersion}`,
    );
  }
  const appliedMeta = metadataOf(applied);
  if (appliedMeta && appliedMeta.managedFields !== undefined && appliedMeta.managedFields !== null) {
    throw new ApplyInvalidError(400, 'BadRequest', 'metadata.managedFields must be nil');
  }
  const config = scopedConfig(applied, opts);
  let configSet: FieldSet;
  let merged: Obj;
  const liveObj = live ? withoutManagedFields(live) : {};
  try {
    configSet = scoped(fieldSetOf(config, schema, true), opts);
    merged = merge(liveObj, config, schema) as Obj;
  } catch (err) {
    if (!(err instanceof TypedValueError)) throw err;
    throw new ApplyInvalidError(500, '', `failed to create typed patch object (${describeObject(applied)}): ${err.message}`, err.field);
  }

  const liveRaw = metadataOf(live)?.managedFields;
  const liveManagers = decodeManagers(liveRaw);
  const managers = cloneManagers(liveManagers);

  // An object that nobody owns yet (created before field tracking, or whose managedFields were
  // reset) is first attributed, field by field, to a stand-in manager.
  if (live && managers.size === 0) {
    const { changed } = diff({}, liveObj, schema, opts);
    takeOwnership(managers, { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: opts.apiVersion, subresource }, changed, new FieldSet(), opts.now);
  }

  const self = { manager: opts.manager, operation: 'Apply' as const, apiVersion: opts.apiVersion, subresource };
  const id = managerId(self);
  const previous = managers.get(id);
  managers.set(id, { ...self, ...(previous?.time ? { time: previous.time } : {}), set: configSet });

  if (previous && !previous.set.isEmpty()) merged = prune(merged, previous.set, managers, schema);
  if (live) {
    const from = metadataOf(liveObj) ?? {};
    const to = metadataOf(merged) ?? (merged.metadata = {});
    for (const k of SERVER_METADATA) {
      if (from[k] !== undefined) to[k] = structuredClone(from[k]);
      else delete to[k];
    }
  }

  const { changed, removed } = diff(liveObj, merged, schema, opts);
  const conflicts: Conflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [mid, m] of [...managers].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (mid === id) continue;
    const clash = m.set.intersection(changed);
    if (clash.isEmpty()) continue;
    taken.set(mid, clash);
    for (const path of clash.paths()) {
      const c = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, ...(m.subresource ? { subresource: m.subresource } : {}) };
      conflicts.push({ ...c, field: pathString(path), message: `conflict with ${describeManager(c)}` });
    }
  }
  if (conflicts.length && !opts.force) throw new ApplyConflictError(conflicts);
  for (const [mid, m] of managers) {
    if (mid === id) continue;
    m.set = m.set.difference(taken.get(mid) ?? new FieldSet()).difference(removed);
  }

  const mine = managers.get(id)!;
  const objectChanged = !isDeepStrictEqual(merged, liveObj);
  if (objectChanged || !mine.time) mine.time = opts.now;
  dropUnowned(managers);
  capUpdaters(managers);
  setManagedFields(merged, managers, liveRaw, liveManagers);
  return merged;
}

/**
 * Records a non-apply write (create, update, any patch) by `opts.manager`: `before` is the stored
 * object (undefined for a create), `after` the object about to be stored. Returns `after` with
 * managedFields updated. As in kube-apiserver, managedFields sent in `after` (when they differ from
 * nothing, i.e. a non-empty list, and the write is not to a subresource) replace the stored ones,
 * which lets a client reset them (`[{}]` clears every entry).
 */
export function recordUpdate(before: Obj | undefined, after: Obj, opts: WriteOptions): Obj {
  const schema = rootSchema(opts.schema);
  const subresource = opts.subresource ?? '';
  const beforeRaw = metadataOf(before)?.managedFields;
  const sent = metadataOf(after)?.managedFields;
  const useSent = !subresource && Array.isArray(sent) && sent.length > 0;
  const liveManagers = decodeManagers(beforeRaw);
  const managers = cloneManagers(useSent ? decodeManagers(sent) : liveManagers);

  const afterObj = withoutManagedFields(after);
  const { changed, removed } = diff(before ? withoutManagedFields(before) : {}, afterObj, schema, opts);
  takeOwnership(managers, { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, subresource }, changed, removed, opts.now);
  dropUnowned(managers);
  capUpdaters(managers);
  setManagedFields(afterObj, managers, before ? beforeRaw : undefined, liveManagers);
  return afterObj;
}
