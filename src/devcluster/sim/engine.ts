/**
 * What the simulated controllers share: a deduplicating work queue per controller, timers for
 * delayed work, writes through the control plane's verbs (no write when nothing changes), events,
 * and a log. Reconcilers are synchronous: a read and the write that follows it cannot interleave
 * with anything else.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ControlPlane } from '../server.js';
import { nowRFC3339, resourceKey } from '../objects.js';
import type { ResourceType } from '../registry.js';
import type { ChangeEvent, Obj } from '../store.js';

/** What a reconcile returns: nothing, or milliseconds after which to run it again. */
export type Reconcile = (key: string) => number | void;

export interface Controller {
  name: string;
  reconcile: Reconcile;
  /** Keys of this controller that a change concerns. */
  keysFor?(e: ChangeEvent): Iterable<string>;
  /** Keys to reconcile when the simulation starts. */
  initialKeys?(): Iterable<string>;
  stop?(): void;
}

/** `namespace/name` (or `name`) of an object. */
export const keyOf = (o: Obj): string => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata?.name));

export function splitKey(key: string): [string | undefined, string] {
  const i = key.indexOf('/');
  return i < 0 ? [undefined, key] : [key.slice(0, i), key.slice(i + 1)];
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** kube's random name suffix alphabet (no vowels, no look-alikes). */
export function randomSuffix(n = 5): string {
  let s = '';
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) s += NAME_CHARS[bytes[i]! % NAME_CHARS.length];
  return s;
}

/** kube's SafeEncodeString: every character mapped into the suffix alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (const ch of s) out += NAME_CHARS[ch.charCodeAt(0) % NAME_CHARS.length];
  return out;
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A short, stable hash of a value (a pod template's `pod-template-hash`). */
export function templateHash(v: unknown, salt = 0): string {
  return safeEncode(String(fnv32a(canonical(v) + (salt ? String(salt) : ''))));
}

export class Engine {
  private readonly controllers = new Map<string, Controller>();
  private queue = new Map<string, Set<string>>();
  private readonly timers = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private scheduled = false;
  private stopped = false;
  private draining = false;
  private waiters: (() => void)[] = [];
  private unsubscribe?: () => void;
  private readonly types = new Map<string, ResourceType>();
  /** Event dedup: involved uid + reason + message → event name. */
  private readonly events = new Map<string, string>();

  constructor(
    readonly cp: ControlPlane,
    readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  add(c: Controller): void {
    this.controllers.set(c.name, c);
  }

  start(): void {
    this.unsubscribe = this.cp.store.subscribe((e) => this.onChange(e));
    for (const c of this.controllers.values()) for (const k of c.initialKeys?.() ?? []) this.enqueue(c.name, k);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const c of this.controllers.values()) c.stop?.();
    for (const w of this.waiters.splice(0)) w();
  }

  private onChange(e: ChangeEvent): void {
    if (e.resource === 'apiextensions.k8s.io/customresourcedefinitions') this.types.clear();
    for (const c of this.controllers.values()) {
      try {
        for (const k of c.keysFor?.(e) ?? []) this.enqueue(c.name, k);
      } catch (err) {
        this.log({ level: 'error', controller: c.name, msg: 'routing a change failed', error: String(err) });
      }
    }
  }

  enqueue(controller: string, key: string): void {
    if (this.stopped) return;
    let keys = this.queue.get(controller);
    if (!keys) this.queue.set(controller, (keys = new Set()));
    keys.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Runs the key again after `ms` (the earliest request wins). */
  enqueueAfter(controller: string, key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.enqueue(controller, key);
    const id = `${controller}\u0000${key}`;
    const due = Date.now() + ms;
    const existing = this.timers.get(id);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.enqueue(controller, key);
    }, ms);
    this.timers.set(id, { due, timer });
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.draining = true;
    const batch = this.queue;
    this.queue = new Map();
    for (const [name, keys] of batch) {
      const c = this.controllers.get(name);
      if (!c) continue;
      for (const key of keys) {
        const id = `${name}\u0000${key}`;
        try {
          const again = c.reconcile(key);
          this.failures.delete(id);
          if (typeof again === 'number') this.enqueueAfter(name, key, again);
        } catch (err) {
          const n = (this.failures.get(id) ?? 0) + 1;
          this.failures.set(id, n);
          this.log({ level: 'error', controller: name, key, msg: 'reconcile failed', error: err instanceof Error ? err.message : String(err), attempt: n });
          this.enqueueAfter(name, key, Math.min(10_000, 50 * 2 ** Math.min(n, 8)));
        }
      }
    }
    this.draining = false;
    this.cp.deleter.reconcile();
    if (this.queue.size === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once nothing is queued (delayed work may still be pending on timers). */
  idle(): Promise<void> {
    if (this.stopped || (!this.scheduled && !this.draining && this.queue.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Timers still pending (for `stats`). */
  pendingTimers(): number {
    return this.timers.size;
  }

  // ---- reads and writes ----------------------------------------------------------------------

  /** The served type of a `group/plural` resource. */
  type(resource: string): ResourceType | undefined {
    let t = this.types.get(resource);
    if (!t) {
      t = this.cp.registry.all().find((x) => resourceKey(x) === resource);
      if (t) this.types.set(resource, t);
    }
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.cp.store.get(resource, namespace, name);
  }

  list(resource: string, namespace?: string): Obj[] {
    return this.cp.store.list(resource, namespace);
  }

  private mustType(resource: string): ResourceType {
    const t = this.type(resource);
    if (!t) throw new Error(`resource ${resource} is not served`);
    return t;
  }

  create(resource: string, obj: Obj, manager: string): Obj {
    const t = this.mustType(resource);
    return this.cp.objects.create(t, obj.metadata?.namespace, obj, { fieldManager: manager }).object;
  }

  /** Replaces the object's main resource (spec, metadata) when `next` differs. */
  update(resource: string, current: Obj, next: Obj, manager: string): Obj {
    if (isDeepStrictEqual(current, next)) return current;
    return this.cp.objects.replace(this.mustType(resource), current, next, { fieldManager: manager }).object;
  }

  /** Writes `status` through the status subresource when it differs from the stored one. */
  writeStatus(resource: string, current: Obj, status: Obj, manager: string): Obj {
    if (isDeepStrictEqual(current.status ?? {}, status)) return current;
    const t = this.mustType(resource);
    if (!t.status) return this.update(resource, current, { ...structuredClone(current), status }, manager);
    return this.cp.objects.replace(t, current, { ...structuredClone(current), status }, { fieldManager: manager, subresource: 'status' }).object;
  }

  delete(resource: string, namespace: string | undefined, name: string, propagationPolicy: 'Background' | 'Foreground' = 'Background'): void {
    const t = this.mustType(resource);
    if (!this.cp.store.get(resource, namespace, name)) return;
    this.cp.deleter.delete(t, namespace, name, { propagationPolicy });
  }

  /** Records a core/v1 Event about `involved` (repeats bump its count). */
  event(involved: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const ns = involved.metadata?.namespace ?? 'default';
    const dedup = `${String(involved.metadata?.uid)}\u0000${reason}\u0000${message}`;
    const now = nowRFC3339();
    try {
      const existingName = this.events.get(dedup);
      const existing = existingName ? this.get('/events', ns, existingName) : undefined;
      if (existing) {
        this.update('/events', existing, { ...structuredClone(existing), count: (existing.count ?? 1) + 1, lastTimestamp: now }, component);
        return;
      }
      const name = `${String(involved.metadata?.name)}.${randomBytes(8).toString('hex')}`;
      this.create(
        '/events',
        {
          metadata: { name, namespace: ns },
          involvedObject: {
            apiVersion: involved.apiVersion,
            kind: involved.kind,
            name: involved.metadata?.name,
            ...(involved.metadata?.namespace ? { namespace: involved.metadata.namespace } : {}),
            uid: involved.metadata?.uid,
            resourceVersion: involved.metadata?.resourceVersion,
          },
          reason,
          message,
          type,
          source: { component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: component,
          reportingInstance: '',
        },
        component,
      );
      this.events.set(dedup, name);
      if (this.events.size > 10_000) this.events.delete(this.events.keys().next().value!);
    } catch (err) {
      this.log({ level: 'debug', msg: 'event not recorded', reason, error: String(err) });
    }
  }
}

export const POD = '/pods';
export const NODE = '/nodes';
export const DEPLOY = 'apps/deployments';
export const STS = 'apps/statefulsets';
export const JOB = 'batch/jobs';
export const PVC = '/persistentvolumeclaims';
export const PV = '/persistentvolumes';
export const SC = 'storage.k8s.io/storageclasses';
export const SVC = '/services';
export const EP = '/endpoints';
export const HPA = 'autoscaling/horizontalpodautoscalers';
export const LWS = 'leaderworkerset.x-k8s.io/leaderworkersets';
export const SECRET = '/secrets';
export const CONFIGMAP = '/configmaps';
export const NAMESPACE = '/namespaces';

/** The controller owner reference of an object, if any. */
export function controllerOf(o: Obj): Obj | undefined {
  return ((o.metadata?.ownerReferences ?? []) as Obj[]).find((r) => r.controller);
}

/** An owner reference to `owner` as its controller. */
export function ownerRef(owner: Obj): Obj {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Upserts a condition: keeps lastTransitionTime when the status does not change. */
export function setCondition(conditions: Obj[] | undefined, c: Obj, now = nowRFC3339(), times: string[] = ['lastTransitionTime']): Obj[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Obj = { ...c };
  for (const t of times) {
    if (t === 'lastTransitionTime') next[t] = prev && prev.status === c.status ? prev[t] : now;
    else next[t] = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message ? (prev[t] ?? now) : now;
  }
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export { nowRFC3339 };
