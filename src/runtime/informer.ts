/**
 * An informer: a local cache of one resource kept current by list-then-watch, in the manner of
 * client-go's reflector. It watches from the list's resourceVersion with bookmarks, relists on
 * 410 Gone, re-watches with exponential backoff (and jitter) after errors, guards against silent
 * connections, keeps secondary indexes, and tells handlers what was added, updated and deleted.
 */
import { resourcePath, type Client, type ResourceRef } from './client/client.js';
import { isGone, KubeError, type Json } from './client/rest.js';

export interface EventHandler {
  add?(obj: Json): void;
  update?(old: Json, obj: Json): void;
  delete?(obj: Json): void;
}

export interface InformerOptions {
  namespace?: string;
  /** Several namespaces: everything is watched, objects outside them are ignored. */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout range in seconds (a random value in it per watch). */
  watchTimeoutSeconds?: [number, number];
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  onError?: (err: unknown, phase: 'list' | 'watch') => void;
}

export type IndexFunc = (obj: Json) => string[];

export const keyOf = (namespace: string | undefined, name: string): string => (namespace ? `${namespace}/${name}` : name);
export const objectKey = (o: Json): string => keyOf(o.metadata?.namespace, o.metadata?.name);

export class Informer {
  private readonly items = new Map<string, Json>();
  private readonly handlers: EventHandler[] = [];
  private readonly indexers = new Map<string, IndexFunc>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private rv = '';
  private stopped = true;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abortWatch?: () => void;
  private loop?: Promise<void>;
  /** Counts for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, errors: 0 };

  constructor(
    private readonly client: Client,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {}

  addIndexer(name: string, fn: IndexFunc): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, o] of this.items) for (const v of fn(o)) this.indexAdd(index, v, key);
  }

  private indexAdd(index: Map<string, Set<string>>, value: string, key: string): void {
    let set = index.get(value);
    if (!set) index.set(value, (set = new Set()));
    set.add(key);
  }

  private reindex(key: string, old: Json | undefined, obj: Json | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      if (old) for (const v of fn(old)) index.get(v)?.delete(key);
      if (obj) for (const v of fn(obj)) this.indexAdd(index, v, key);
    }
  }

  byIndex(name: string, value: string): Json[] {
    const keys = this.indexes.get(name)?.get(value);
    return keys ? [...keys].map((k) => this.items.get(k)!).filter(Boolean) : [];
  }

  get(namespace: string | undefined, name: string): Json | undefined {
    return this.items.get(keyOf(namespace, name));
  }

  list(namespace?: string): Json[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  on(handler: EventHandler): void {
    this.handlers.push(handler);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abortWatch?.();
    await this.loop;
  }

  private fire(kind: 'add' | 'update' | 'delete', a: Json, b?: Json): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(a);
        else if (kind === 'update') h.update?.(a, b!);
        else h.delete?.(a);
      } catch (e) {
        this.opts.onError?.(e, 'watch');
      }
    }
  }

  private wanted(obj: Json): boolean {
    const ns = this.opts.namespaces;
    return !ns?.length || obj.metadata?.namespace === undefined || ns.includes(obj.metadata.namespace);
  }

  private upsert(obj: Json): void {
    if (!this.wanted(obj)) return;
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.reindex(key, old, obj);
    if (!old) this.fire('add', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.fire('update', old, obj);
  }

  private remove(obj: Json): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    this.fire('delete', obj);
  }

  /** Replaces the cache with a fresh list, firing what changed. */
  private replace(items: Json[]): void {
    const seen = new Set<string>();
    for (const o of items) {
      if (!this.wanted(o)) continue;
      seen.add(objectKey(o));
      this.upsert(o);
    }
    for (const [key, o] of [...this.items]) if (!seen.has(key)) this.remove(o);
  }

  private async run(): Promise<void> {
    let needList = true;
    let delay = this.opts.backoffInitialMs ?? 800;
    while (!this.stopped) {
      try {
        if (needList) {
          this.stats.lists++;
          const { items, resourceVersion } = await this.client.list(this.ref, {
            ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
            ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
            ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
          });
          this.replace(items);
          this.rv = resourceVersion;
          needList = false;
          if (!this.synced) {
            this.synced = true;
            for (const w of this.syncWaiters.splice(0)) w();
          }
        }
        // stop() may have come during the list: a watch started now would outlive it.
        if (this.stopped) break;
        await this.watchOnce();
        delay = this.opts.backoffInitialMs ?? 800;
      } catch (e) {
        if (this.stopped) break;
        if (isGone(e)) {
          needList = true;
          continue;
        }
        this.stats.errors++;
        this.opts.onError?.(e, needList ? 'list' : 'watch');
        const jitter = delay * (0.8 + Math.random() * 0.4);
        await new Promise((r) => setTimeout(r, jitter).unref?.());
        delay = Math.min(delay * 2, this.opts.backoffMaxMs ?? 30_000);
      }
    }
  }

  /** One watch request from the current resourceVersion, until the server ends it. */
  private async watchOnce(): Promise<void> {
    const [lo, hi] = this.opts.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.floor(lo + Math.random() * (hi - lo + 1));
    this.stats.watches++;
    const { res, abort } = await this.client.rest.stream({
      method: 'GET',
      path: resourcePath(this.ref, this.opts.namespace),
      query: {
        watch: 1,
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      },
    });
    this.abortWatch = abort;
    // A healthy server ends the watch at timeoutSeconds; silence well beyond that means a dead peer.
    const guardMs = (timeoutSeconds + 30) * 1000;
    let guard = setTimeout(abort, guardMs);
    let failure: unknown;
    await new Promise<void>((resolve) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        clearTimeout(guard);
        guard = setTimeout(abort, guardMs);
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            this.handleEvent(JSON.parse(line) as { type: string; object: Json });
          } catch (e) {
            failure = e;
            abort();
          }
        }
      });
      res.on('end', resolve);
      res.on('close', resolve);
      res.on('error', (e) => {
        failure ??= e;
        resolve();
      });
    });
    clearTimeout(guard);
    this.abortWatch = undefined;
    if (failure && !this.stopped) throw failure;
  }

  private handleEvent(e: { type: string; object: Json }): void {
    const rv = e.object?.metadata?.resourceVersion;
    switch (e.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(e.object);
        break;
      case 'DELETED':
        this.remove(e.object);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const st = e.object ?? {};
        throw new KubeError(Number(st.code ?? 500), String(st.reason ?? 'Unknown'), String(st.message ?? 'watch error'), st);
      }
      default:
        return;
    }
    if (rv) this.rv = rv;
  }
}
