/**
 * A controller: event sources feed object keys into a work queue, workers take keys one at a time
 * (never the same key twice at once) and call the reconciler; failures are retried with per-key
 * backoff, `requeueAfterMs` schedules a later pass. Level-triggered: a reconciler is told which
 * object to look at, never what changed.
 */
import { randomUUID } from 'node:crypto';
import { isConflict, type Json } from './client/rest.js';
import { objectKey, type Informer } from './informer.js';

export interface Request {
  namespace?: string;
  name: string;
}

export interface Result {
  /** Reconcile again after this long (e.g. to poll something without a watch). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(req: Request): Promise<Result | void>;
}

/** The work queue the controller needs (src/runtime/workqueue.ts implements it). */
export interface Queue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  addRateLimited(key: string): void;
  forget(key: string): void;
  get(): Promise<string | undefined>;
  done(key: string): void;
  shutDown(): void;
}

export interface ControllerHooks {
  onReconcile?(controller: string, result: 'success' | 'error' | 'requeue' | 'requeue_after', seconds: number): void;
  onError?(controller: string, req: Request, err: unknown, reconcileID: string): void;
}

/** Which updates of the primary kind deserve a reconcile: spec (generation), deletion, finalizers, labels, annotations. */
export function meaningfulChange(old: Json, obj: Json): boolean {
  const a = old.metadata ?? {};
  const b = obj.metadata ?? {};
  if (b.generation === undefined || a.generation === undefined) return a.resourceVersion !== b.resourceVersion;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? []) ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {})
  );
}

export const requestKey = (r: Request) => (r.namespace ? `${r.namespace}/${r.name}` : r.name);
export function parseKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class Controller {
  private running = false;
  private workers: Promise<void>[] = [];
  /** Reconciles started, for tests and metrics. */
  readonly stats = { reconciles: 0, errors: 0, active: 0, maxActive: 0 };

  /** Metrics and logging hooks (the manager sets them). */
  hooks: ControllerHooks;

  constructor(
    readonly name: string,
    private readonly reconciler: Reconciler,
    readonly queue: Queue,
    private readonly opts: { concurrency?: number; hooks?: ControllerHooks } = {},
  ) {
    this.hooks = opts.hooks ?? {};
  }

  /** Workers run in parallel (different keys only). */
  setConcurrency(n: number): void {
    this.opts.concurrency = n;
  }

  /** The primary kind: its own events, filtered to meaningful changes. */
  for(informer: Informer): this {
    informer.on({
      add: (o) => this.queue.add(objectKey(o)),
      update: (old, o) => {
        if (meaningfulChange(old, o)) this.queue.add(objectKey(o));
      },
      delete: (o) => this.queue.add(objectKey(o)),
    });
    return this;
  }

  /** Children: an event on an object owned (controller reference) by a `kind` wakes its owner. */
  owns(informer: Informer, ownerKind: string, ownerApiVersion: string): this {
    const wake = (o: Json) => {
      for (const ref of o.metadata?.ownerReferences ?? []) {
        if (ref.controller && ref.kind === ownerKind && ref.apiVersion === ownerApiVersion) {
          this.queue.add(requestKey({ namespace: o.metadata?.namespace, name: ref.name }));
        }
      }
    };
    informer.on({ add: wake, update: (old, o) => (wake(old), wake(o)), delete: wake });
    return this;
  }

  /** Any other kind, mapped to the keys of primary objects it concerns. */
  watches(informer: Informer, map: (o: Json) => Request[]): this {
    const wake = (o: Json) => {
      for (const r of map(o)) this.queue.add(requestKey(r));
    };
    informer.on({ add: wake, update: (old, o) => (wake(old), wake(o)), delete: wake });
    return this;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const n = Math.max(1, this.opts.concurrency ?? 1);
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const req = parseKey(key);
      const reconcileID = randomUUID();
      const started = performance.now();
      this.stats.reconciles++;
      this.stats.active++;
      this.stats.maxActive = Math.max(this.stats.maxActive, this.stats.active);
      try {
        const result = (await this.reconciler.reconcile(req)) ?? {};
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          this.queue.addAfter(key, result.requeueAfterMs);
          this.hooks.onReconcile?.(this.name, 'requeue_after', (performance.now() - started) / 1000);
        } else this.hooks.onReconcile?.(this.name, 'success', (performance.now() - started) / 1000);
      } catch (e) {
        // The object moved while we worked on it (409 Conflict): not a failure, just another pass.
        if (isConflict(e)) {
          this.hooks.onReconcile?.(this.name, 'requeue', (performance.now() - started) / 1000);
          this.queue.addRateLimited(key);
          continue;
        }
        this.stats.errors++;
        this.hooks.onError?.(this.name, req, e, reconcileID);
        this.hooks.onReconcile?.(this.name, 'error', (performance.now() - started) / 1000);
        this.queue.addRateLimited(key);
      } finally {
        this.stats.active--;
        this.queue.done(key);
      }
    }
  }
}
