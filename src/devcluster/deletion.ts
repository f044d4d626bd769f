/**
 * Deletion: finalizers (the object stays, with deletionTimestamp, until its finalizers are gone),
 * preconditions, and the garbage collector's three propagation policies over owner references
 * (Background, Foreground with blockOwnerDeletion, Orphan), plus namespace deletion.
 */
import { isDeepStrictEqual } from 'node:util';
import { badRequest, conflict, STALE } from './errors.js';
import { nowRFC3339, resourceKey, type Objects } from './objects.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  propagationPolicy?: Propagation;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  orphanDependents?: boolean;
}

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';
/** What kube-apiserver puts on a CRD being deleted until its custom resources are gone. */
const CRD_CLEANUP = 'customresourcecleanup.apiextensions.k8s.io';

const isCRD = (t: ResourceType) => t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition';

export class Deleter {
  constructor(private readonly objects: Objects) {}

  private get store() {
    return this.objects.store;
  }

  /**
   * DELETE: returns the object marked for deletion (deletionTimestamp, finalizers) when finalizers
   * hold it, else its last state with `gone` (deleted outright by this request).
   */
  delete(t: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): { object: Obj; gone: boolean } {
    const existing = this.objects.get(t, namespace, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(t.plural, t.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(existing.metadata.uid)}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t.plural, t.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(existing.metadata.resourceVersion)}`);
    }
    let policy: Propagation = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : 'Background');
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw badRequest(`propagationPolicy: Unsupported value: "${policy}"`);
    if (t.kind === 'Namespace') {
      policy = 'Background';
      if (existing.metadata.deletionTimestamp) {
        throw conflict(t.plural, t.group, name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
      }
    }
    const finalizers: string[] = [...(existing.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && this.dependents(existing).length && !finalizers.includes(FOREGROUND)) finalizers.push(FOREGROUND);
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN)) finalizers.push(ORPHAN);
    if (isCRD(t) && !finalizers.includes(CRD_CLEANUP)) finalizers.push(CRD_CLEANUP);
    if (finalizers.includes(FOREGROUND) || finalizers.includes(ORPHAN) || finalizers.includes(CRD_CLEANUP)) this.waiting.add(resourceKey(t));
    if (opts.dryRun) return { object: existing, gone: finalizers.length === 0 };
    if (finalizers.length === 0 && t.kind !== 'Namespace') {
      const last = this.store.remove(resourceKey(t), existing.metadata.namespace, name)!;
      this.collect(existing.metadata.uid);
      return { object: last, gone: true };
    }
    const next = structuredClone(existing);
    next.metadata.finalizers = finalizers;
    if (!next.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = nowRFC3339();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
    }
    if (t.kind === 'Namespace') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    // Deleting again an object already marked, with nothing new to mark, writes nothing.
    const stored = isDeepStrictEqual(next, existing) ? existing : this.store.put(resourceKey(t), next);
    this.progress(t, stored);
    // The request marked the object for deletion; whatever the garbage collector or the namespace
    // controller did next (here at once) is theirs: kube-apiserver answers with the marked object.
    return { object: stored, gone: false };
  }

  /** Objects whose owner references name `owner` by uid. */
  dependents(owner: Obj): { t: ResourceType; o: Obj }[] {
    const byKey = new Map(this.objects.registry.all().map((t) => [resourceKey(t), t]));
    return this.store
      .ownedBy(owner.metadata.uid)
      .flatMap(({ resource, object }) => (byKey.has(resource) ? [{ t: byKey.get(resource)!, o: object }] : []));
  }

  /** Background collection: dependents whose owners are all gone are deleted, recursively. */
  collect(deletedUid: string): void {
    for (const { t, o } of this.dependents({ metadata: { uid: deletedUid } })) {
      const refs: Obj[] = o.metadata.ownerReferences ?? [];
      if (!this.store.get(resourceKey(t), o.metadata.namespace, o.metadata.name)) continue;
      const live = refs.filter((r) => r.uid !== deletedUid && this.store.hasUid(r.uid));
      if (live.length === 0) {
        this.delete(t, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Background' });
      } else {
        // A dependent that still has an owner stays; like the garbage collector, drop its
        // references to owners that are gone.
        const next = structuredClone(o);
        next.metadata.ownerReferences = live;
        this.store.put(resourceKey(t), next);
      }
    }
  }

  /** Carries out the garbage-collector finalizers and namespace deletion of an object being deleted. */
  progress(t: ResourceType, obj: Obj): void {
    const finalizers: string[] = obj.metadata.finalizers ?? [];
    if (t.kind === 'Namespace') {
      this.emptyNamespace(obj.metadata.name);
      if (finalizers.length === 0 && this.namespaceIsEmpty(obj.metadata.name)) {
        this.store.remove(resourceKey(t), undefined, obj.metadata.name);
      }
      return;
    }
    if (finalizers.includes(CRD_CLEANUP)) {
      // The CRD's custom resources are deleted (each waits for its own finalizers), then the CRD.
      const types = this.objects.registry.all().filter((x) => x.crd === obj.metadata.name);
      for (const ct of types) {
        for (const o of this.store.list(resourceKey(ct))) {
          if (!o.metadata.deletionTimestamp) this.delete(ct, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Background' });
        }
      }
      if (types.every((ct) => this.store.list(resourceKey(ct)).length === 0)) this.dropFinalizer(t, obj, CRD_CLEANUP);
      return;
    }
    if (finalizers.includes(ORPHAN)) {
      for (const { t: dt, o } of this.dependents(obj)) {
        const next = structuredClone(o);
        next.metadata.ownerReferences = (o.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== obj.metadata.uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.store.put(resourceKey(dt), next);
      }
      this.dropFinalizer(t, obj, ORPHAN);
      return;
    }
    if (finalizers.includes(FOREGROUND)) {
      for (const { t: dt, o } of this.dependents(obj)) {
        if (!o.metadata.deletionTimestamp) this.delete(dt, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Foreground' });
      }
      const blocking = this.dependents(obj).filter(({ o }) =>
        (o.metadata.ownerReferences as Obj[]).some((r) => r.uid === obj.metadata.uid && r.blockOwnerDeletion),
      );
      if (blocking.length === 0) this.dropFinalizer(t, obj, FOREGROUND);
    }
  }

  private dropFinalizer(t: ResourceType, obj: Obj, finalizer: string): void {
    const current = this.store.get(resourceKey(t), obj.metadata.namespace, obj.metadata.name);
    if (!current) return;
    const next = structuredClone(current);
    next.metadata.finalizers = (current.metadata.finalizers as string[]).filter((f) => f !== finalizer);
    if (next.metadata.finalizers.length === 0) {
      // Removing the last finalizer deletes the object outright: kube-apiserver stores no
      // finalizer-less state first, so watchers see one DELETED event, not MODIFIED then DELETED.
      this.store.remove(resourceKey(t), current.metadata.namespace, current.metadata.name);
      this.collect(current.metadata.uid);
    } else this.store.put(resourceKey(t), next);
  }

  /** Deletes everything in a namespace (the namespace controller's job). */
  private emptyNamespace(ns: string): void {
    for (const t of this.objects.registry.all()) {
      if (!t.namespaced) continue;
      for (const o of this.store.list(resourceKey(t), ns)) {
        if (!o.metadata.deletionTimestamp) this.delete(t, ns, o.metadata.name, { propagationPolicy: 'Background' });
      }
    }
  }

  private namespaceIsEmpty(ns: string): boolean {
    return this.objects.registry.all().every((t) => !t.namespaced || this.store.list(resourceKey(t), ns).length === 0);
  }

  /**
   * Re-examines the objects being deleted that wait on others (namespaces, foreground deletions)
   * after a change: called by the server after every write.
   */
  reconcile(): void {
    for (const t of this.objects.registry.all()) {
      if (t.kind !== 'Namespace' && !this.waiting.has(resourceKey(t))) continue;
      for (const o of this.store.list(resourceKey(t))) {
        if (!o.metadata.deletionTimestamp) continue;
        const f: string[] = o.metadata.finalizers ?? [];
        if (t.kind === 'Namespace' || f.includes(FOREGROUND) || f.includes(ORPHAN) || f.includes(CRD_CLEANUP)) this.progress(t, o);
      }
    }
  }

  /**
   * Finds the objects already waiting on the garbage collector (a store loaded from disk) and
   * carries their deletion on.
   */
  rescan(): void {
    for (const t of this.objects.registry.all()) {
      const f = (o: Obj): string[] => o.metadata.finalizers ?? [];
      if (this.store.list(resourceKey(t)).some((o) => o.metadata.deletionTimestamp && [FOREGROUND, ORPHAN, CRD_CLEANUP].some((x) => f(o).includes(x)))) {
        this.waiting.add(resourceKey(t));
      }
    }
    this.reconcile();
  }

  /** Resources that hold an object waiting in foreground or orphan deletion. */
  private readonly waiting = new Set<string>();
}

export { STALE };
