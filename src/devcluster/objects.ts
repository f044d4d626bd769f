/**
 * The verbs of the API on stored objects, with kube-apiserver's semantics: system metadata,
 * generation, the status subresource, optimistic concurrency, no-op writes that change nothing,
 * finalizers and dry runs. HTTP lives in server.ts; watch in watch.ts; deletion in deletion.ts.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { fieldError, OMIT_VALUE, type FieldError } from '../api/validation/index.js';
import { admit, type FieldValidation } from './admission.js';
import { alreadyExists, badRequest, conflict, forbidden, internal, invalid, notFound, STALE, ApiError } from './errors.js';
import { apiVersionOf, type Registry, type ResourceType } from './registry.js';
import type { Obj, Store } from './store.js';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  /** 'status' for writes to the status subresource. */
  subresource?: 'status';
  /** Set by server-side apply: the object's managedFields are already computed. */
  applied?: boolean;
}

export interface WriteResult {
  object: Obj;
  warnings: string[];
  /** False when the write changed nothing (no new resourceVersion, no event). */
  changed: boolean;
  created?: boolean;
}

/** Hooks other parts install: managed-fields tracking, admission webhooks, cluster IP allocation. */
export interface WriteHooks {
  /** Called with the object about to be stored (not on no-ops); may return a changed object. */
  beforeStore?: (t: ResourceType, before: Obj | undefined, after: Obj, opts: WriteOptions) => Obj;
}

export const resourceKey = (t: ResourceType) => `${t.group}/${t.plural}`;

export function nowRFC3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

/** Everything but metadata and status: what moves metadata.generation. */
function specPart(o: Obj): Obj {
  const { metadata, status, ...rest } = o;
  void metadata;
  void status;
  return rest;
}

export class Objects {
  /** Called after an update removed an object (its last finalizer went): garbage collection. */
  onDeleted?: (o: Obj) => void;

  constructor(
    readonly store: Store,
    readonly registry: Registry,
    readonly hooks: WriteHooks = {},
  ) {}

  get(t: ResourceType, namespace: string | undefined, name: string): Obj {
    const o = this.store.get(resourceKey(t), t.namespaced ? namespace : undefined, name);
    if (!o) throw notFound(t.plural, t.group, name);
    return o;
  }

  /** The namespace must exist and not be terminating; a CRD being deleted takes no new objects. */
  private checkCreatable(t: ResourceType, namespace: string | undefined, name: string): void {
    if (t.crd) {
      const crd = this.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, t.crd);
      if (crd?.metadata.deletionTimestamp) {
        throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      }
    }
    if (!t.namespaced || !namespace) return;
    const ns = this.store.get('/namespaces', undefined, namespace);
    if (!ns) throw notFound('namespaces', '', namespace);
    if (ns.metadata.deletionTimestamp) {
      throw forbidden(
        `${t.plural}${t.group ? `.${t.group}` : ''} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        name,
        t.group,
        t.plural,
      );
    }
  }

  private admitOrThrow(t: ResourceType, obj: Obj, old: Obj | undefined, opts: WriteOptions): { object: Obj; warnings: string[] } {
    const a = admit(t, obj, old);
    const warnings: string[] = [];
    const mode = opts.fieldValidation ?? 'Warn';
    if (a.unknownFields.length) {
      if (mode === 'Strict') {
        throw badRequest(`strict decoding error: ${a.unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`);
      }
      if (mode === 'Warn') for (const f of a.unknownFields) warnings.push(`unknown field "${f}"`);
    }
    if (a.errors.length) throw invalid(t.kind, t.group, String(obj.metadata?.name ?? ''), a.errors);
    return { object: a.object, warnings };
  }

  private checkTypeMeta(t: ResourceType, body: Obj): void {
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(t)) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${t.kind})`);
    }
  }

  create(t: ResourceType, namespace: string | undefined, body: Obj, opts: WriteOptions = {}): WriteResult {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be an object');
    this.checkTypeMeta(t, body);
    const obj: Obj = structuredClone(body);
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    const meta: Obj = (obj.metadata ??= {});
    if (t.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
      if (!meta.namespace) throw badRequest('a namespace is required to create this object');
    } else delete meta.namespace;
    if (meta.resourceVersion) throw internal('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = `${String(meta.generateName)}${randomSuffix()}`;
    this.checkCreatable(t, meta.namespace, String(meta.name ?? ''));
    if (t.status) delete obj.status;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink']) delete meta[k];
    if (!opts.applied) delete meta.managedFields;
    const { object, warnings } = this.admitOrThrow(t, obj, undefined, opts);
    if (this.store.get(resourceKey(t), object.metadata.namespace, object.metadata.name)) {
      throw alreadyExists(t.plural, t.group, object.metadata.name);
    }
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = nowRFC3339();
    if (t.generation || t.crd) object.metadata.generation = 1;
    const final = this.hooks.beforeStore ? this.hooks.beforeStore(t, undefined, object, opts) : object;
    if (opts.dryRun) return { object: final, warnings, changed: false, created: true };
    return { object: this.store.put(resourceKey(t), final), warnings, changed: true, created: true };
  }

  /** PUT semantics: replace, keeping system metadata; `opts.subresource` limits the write to status. */
  update(t: ResourceType, namespace: string | undefined, name: string, body: Obj, opts: WriteOptions = {}): WriteResult {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be an object');
    this.checkTypeMeta(t, body);
    const existing = this.get(t, namespace, name);
    const meta: Obj = body.metadata ?? {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    }
    if (t.namespaced && meta.namespace && meta.namespace !== existing.metadata.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t.plural, t.group, name, STALE);
    }
    if (t.crd && !meta.resourceVersion) {
      throw invalid(t.kind, t.group, name, [fieldError('FieldValueInvalid', 'metadata.resourceVersion', 0, 'must be specified for an update')]);
    }
    if (meta.uid && meta.uid !== existing.metadata.uid) {
      throw conflict(t.plural, t.group, name, `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${String(existing.metadata.uid)}`);
    }
    return this.replace(t, existing, body, opts);
  }

  /** Stores `next` in place of `existing` (used by update and patch). */
  replace(t: ResourceType, existing: Obj, next: Obj, opts: WriteOptions = {}): WriteResult {
    let obj: Obj = structuredClone(next);
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    if (opts.subresource === 'status') {
      const managed = obj.metadata?.managedFields;
      if (t.crd) {
        // A custom resource's status write changes status only.
        obj = { ...structuredClone(existing), status: obj.status };
      } else {
        // Built-in status strategies reset spec and labels, and keep the rest of the write.
        obj = { ...obj, spec: structuredClone(existing.spec), metadata: { ...(obj.metadata ?? {}), labels: structuredClone(existing.metadata.labels) } };
        if (obj.spec === undefined) delete obj.spec;
        if (obj.metadata.labels === undefined) delete obj.metadata.labels;
      }
      if (opts.applied && managed) obj.metadata.managedFields = managed;
    } else if (t.status) {
      if (existing.status === undefined) delete obj.status;
      else obj.status = structuredClone(existing.status);
    }
    const meta: Obj = (obj.metadata ??= {});
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
      if (existing.metadata[k] === undefined) delete meta[k];
      else meta[k] = existing.metadata[k];
    }
    if (meta.managedFields === undefined && existing.metadata.managedFields !== undefined) meta.managedFields = existing.metadata.managedFields;
    meta.resourceVersion = existing.metadata.resourceVersion;
    const errors: FieldError[] = [];
    if (existing.metadata.deletionTimestamp) {
      const before = new Set<string>(existing.metadata.finalizers ?? []);
      const added = ((meta.finalizers ?? []) as string[]).filter((f) => !before.has(f));
      if (added.length) {
        errors.push(fieldError('FieldValueForbidden', 'metadata.finalizers', OMIT_VALUE, `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
      }
    }
    if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
    const { object, warnings } = this.admitOrThrow(t, obj, existing, opts);
    // kube-apiserver's Deployment strategy also moves generation on annotation changes (not on /status writes).
    const annotationsMoved =
      t.kind === 'Deployment' && !t.crd && opts.subresource !== 'status' && !isDeepStrictEqual(object.metadata.annotations, existing.metadata.annotations);
    if ((t.generation || t.crd) && (annotationsMoved || !isDeepStrictEqual(specPart(object), specPart(existing)))) {
      object.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    let final = this.hooks.beforeStore ? this.hooks.beforeStore(t, existing, object, opts) : object;
    if (isDeepStrictEqual(final, existing)) return { object: existing, warnings, changed: false };
    if (final.metadata.deletionTimestamp && (final.metadata.finalizers ?? []).length === 0) {
      // The last finalizer is gone: the update deletes the object (watchers see one DELETED).
      if (opts.dryRun) return { object: final, warnings, changed: false };
      final = this.store.remove(resourceKey(t), final.metadata.namespace, final.metadata.name) ?? final;
      this.onDeleted?.(final);
      return { object: final, warnings, changed: true };
    }
    if (opts.dryRun) return { object: final, warnings, changed: false };
    return { object: this.store.put(resourceKey(t), final), warnings, changed: true };
  }

  /**
   * Creates the object, or, when it exists already (a control plane restarted on its data
   * directory), replaces what `body` sets — everything but metadata and status, plus its labels and
   * annotations — keeping the rest. For objects a program seeds at start, such as our CRDs.
   */
  ensure(t: ResourceType, namespace: string | undefined, body: Obj, opts: WriteOptions = {}): WriteResult {
    const ns = t.namespaced ? (namespace ?? body.metadata?.namespace) : undefined;
    const existing = this.store.get(resourceKey(t), ns, String(body.metadata?.name ?? ''));
    if (!existing) return this.create(t, namespace, body, opts);
    const { metadata, status, ...rest } = structuredClone(body);
    void status;
    const meta = structuredClone(existing.metadata);
    if (metadata?.labels) meta.labels = { ...(meta.labels ?? {}), ...metadata.labels };
    if (metadata?.annotations) meta.annotations = { ...(meta.annotations ?? {}), ...metadata.annotations };
    const next: Obj = { ...rest, metadata: meta, ...(existing.status !== undefined ? { status: structuredClone(existing.status) } : {}) };
    return this.replace(t, existing, next, opts);
  }
}

export { ApiError };
