/**
 * In-memory object storage with one cluster-wide, monotonic resourceVersion, a bounded history of
 * changes (what watches resume from) and change subscribers.
 */

export type Obj = Record<string, any>;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: EventType;
  /** `group/plural` of the object's resource. */
  resource: string;
  rv: number;
  object: Obj;
  /** The object before the change (undefined for ADDED). */
  previous?: Obj;
}

export type Subscriber = (e: ChangeEvent) => void;

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class Store {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly history: ChangeEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  /** uid → where the object is; owner uid → objects that name it in ownerReferences. */
  private readonly byUid = new Map<string, { resource: string; key: string }>();
  private readonly byOwner = new Map<string, Set<string>>();

  /** @param historySize how many changes watches can resume across before they get 410 Gone. */
  constructor(private historySize = 10_000) {}

  setHistorySize(n: number): void {
    this.historySize = n;
    this.trim();
  }

  /** The latest resourceVersion handed out. */
  currentRV(): number {
    return this.rv;
  }

  /** Restores the counter (persistence). */
  restoreRV(rv: number): void {
    this.rv = Math.max(this.rv, rv);
  }

  private bucket(resource: string): Map<string, Obj> {
    let b = this.objects.get(resource);
    if (!b) {
      b = new Map();
      this.objects.set(resource, b);
    }
    return b;
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.objects.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of a resource, optionally in one namespace, ordered by namespace then name. */
  list(resource: string, namespace?: string): Obj[] {
    const b = this.objects.get(resource);
    if (!b) return [];
    const all = [...b.entries()]
      .filter(([, o]) => namespace === undefined || o.metadata?.namespace === namespace)
      .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
    return all.map(([, o]) => o);
  }

  resources(): string[] {
    return [...this.objects.keys()];
  }

  private index(resource: string, key: string, obj: Obj | undefined, previous: Obj | undefined): void {
    const ref = `${resource}\u0000${key}`;
    if (previous) {
      if (previous.metadata?.uid) this.byUid.delete(previous.metadata.uid);
      for (const r of previous.metadata?.ownerReferences ?? []) this.byOwner.get(r.uid)?.delete(ref);
    }
    if (obj) {
      if (obj.metadata?.uid) this.byUid.set(obj.metadata.uid, { resource, key });
      for (const r of obj.metadata?.ownerReferences ?? []) {
        let set = this.byOwner.get(r.uid);
        if (!set) this.byOwner.set(r.uid, (set = new Set()));
        set.add(ref);
      }
    }
  }

  /** Whether an object with this uid is stored. */
  hasUid(uid: string): boolean {
    return this.byUid.has(uid);
  }

  /** Objects whose ownerReferences name `uid`, with their resource. */
  ownedBy(uid: string): { resource: string; object: Obj }[] {
    const out: { resource: string; object: Obj }[] = [];
    for (const ref of this.byOwner.get(uid) ?? []) {
      const [resource, key] = ref.split('\u0000') as [string, string];
      const o = this.objects.get(resource)?.get(key);
      if (o) out.push({ resource, object: o });
    }
    return out;
  }

  /** Writes an object (ADDED or MODIFIED), giving it the next resourceVersion. */
  put(resource: string, obj: Obj): Obj {
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    const bucket = this.bucket(resource);
    const previous = bucket.get(key);
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    bucket.set(key, obj);
    this.index(resource, key, obj, previous);
    this.emit({ type: previous ? 'MODIFIED' : 'ADDED', resource, rv, object: obj, ...(previous ? { previous } : {}) });
    return obj;
  }

  /** Removes an object (DELETED); the event carries its last state at a new resourceVersion. */
  remove(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    const bucket = this.objects.get(resource);
    const key = objectKey(namespace, name);
    const previous = bucket?.get(key);
    if (!bucket || !previous) return undefined;
    bucket.delete(key);
    this.index(resource, key, undefined, previous);
    const rv = ++this.rv;
    const last = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', resource, rv, object: last, previous });
    return last;
  }

  /** Loads an object as-is (persistence), without an event. */
  load(resource: string, obj: Obj): void {
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    this.index(resource, key, obj, this.bucket(resource).get(key));
    this.bucket(resource).set(key, obj);
    this.rv = Math.max(this.rv, Number(obj.metadata.resourceVersion) || 0);
  }

  private emit(e: ChangeEvent): void {
    this.history.push(e);
    this.trim();
    for (const s of this.subscribers) s(e);
  }

  private trim(): void {
    const excess = this.history.length - this.historySize;
    if (excess > 0) this.history.splice(0, excess);
  }

  /**
   * Changes of a resource after `rv`, or 'gone' when the history no longer reaches back that far.
   * A resourceVersion at or after the oldest kept change can be resumed from.
   */
  since(resource: string, rv: number): ChangeEvent[] | 'gone' {
    const oldest = this.history[0];
    if (rv < this.rv && oldest && rv < oldest.rv - 1) return 'gone';
    if (rv < this.rv && !oldest) return 'gone';
    return this.history.filter((e) => e.rv > rv && e.resource === resource);
  }

  /**
   * The objects of a resource as they were at resourceVersion `rv` (rolled back through the
   * history), or 'gone' when the history no longer reaches back that far.
   */
  listAt(resource: string, rv: number, namespace?: string): Obj[] | 'gone' {
    if (rv >= this.rv) return this.list(resource, namespace);
    const later = this.since(resource, rv);
    if (later === 'gone') return 'gone';
    const state = new Map(this.list(resource).map((o) => [objectKey(o.metadata.namespace, o.metadata.name), o]));
    for (const e of [...later].reverse()) {
      const key = objectKey(e.object.metadata.namespace, e.object.metadata.name);
      if (e.type === 'ADDED') state.delete(key);
      else if (e.previous) state.set(key, e.previous);
    }
    return [...state.entries()]
      .filter(([, o]) => namespace === undefined || o.metadata?.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }
}
