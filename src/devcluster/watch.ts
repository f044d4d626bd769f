/**
 * Watch streams: newline-delimited JSON events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), resumed
 * from a resourceVersion through the store's history, with 410 Gone once that history is gone,
 * bookmarks, timeoutSeconds, and selectors applied to events (an object leaving the selection is
 * DELETED for that watcher).
 */
import type { ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { Matcher } from './filters.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import type { ChangeEvent, Obj, Store } from './store.js';

export interface WatchOptions {
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  sendInitialEvents?: boolean;
  /** Objects to send as ADDED first (a watch from resourceVersion 0 or unset). */
  initial: () => Obj[];
  /** Injected faults (faults.ts): end the stream early, or answer a resume with 410 Gone. */
  faults?: { closeAfterEvents?: number; closeAfterMs?: number; closeMode?: 'close' | 'reset'; gone?: boolean };
}

export interface WatchHub {
  /** Milliseconds between bookmarks. */
  bookmarkIntervalMs: number;
  open: Set<ServerResponse>;
}

function write(res: ServerResponse, type: string, object: unknown): void {
  // A stream that was ended (timeout, fault injection, shutdown) takes no more events.
  if (res.writableEnded || res.destroyed) return;
  res.write(`${JSON.stringify({ type, object })}\n`);
}

export function serveWatch(
  res: ServerResponse,
  store: Store,
  hub: WatchHub,
  t: ResourceType,
  resource: string,
  matches: Matcher,
  opts: WatchOptions,
): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders?.();
  hub.open.add(res);
  let lastRV = store.currentRV();
  const faults = opts.faults ?? {};
  const cut = () => (faults.closeMode === 'reset' ? res.destroy() : res.end());
  let objectEvents = 0;
  const counted = (type: string, object: unknown) => {
    write(res, type, object);
    if (faults.closeAfterEvents !== undefined && ++objectEvents >= faults.closeAfterEvents) cut();
  };
  const bookmark = (extra?: Record<string, string>) =>
    write(res, 'BOOKMARK', {
      kind: t.kind,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String(lastRV), ...(extra ? { annotations: extra } : {}) },
    });

  const deliver = (e: ChangeEvent) => {
    lastRV = e.rv;
    const now = e.type !== 'DELETED' && matches(e.object);
    const before = e.previous !== undefined && matches(e.previous);
    if (e.type === 'DELETED') {
      if (before) counted('DELETED', e.object);
    } else if (now && before) counted('MODIFIED', e.object);
    else if (now) counted('ADDED', e.object);
    // An object leaving the selection is DELETED as the watcher last saw it (still matching), at
    // the resourceVersion of the change, as kube-apiserver's watch cache and etcd watcher send it.
    else if (before) counted('DELETED', { ...e.previous, metadata: { ...e.previous!.metadata, resourceVersion: String(e.rv) } });
  };

  const rv = opts.resourceVersion;
  if (faults.closeAfterEvents === 0) cut();
  if (!rv || rv === '0' || opts.sendInitialEvents) {
    for (const o of opts.initial()) if (matches(o)) counted('ADDED', o);
    if (opts.sendInitialEvents && opts.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const from = Number(rv);
    if (!Number.isInteger(from) || from < 0) {
      const err = new ApiError(400, 'BadRequest', `Invalid value: "${rv}": resourceVersion must be a non-negative integer`);
      write(res, 'ERROR', err.toStatus());
      res.end();
      hub.open.delete(res);
      return;
    }
    const events = faults.gone ? 'gone' : store.since(resource, from);
    if (events === 'gone') {
      const err = new ApiError(410, 'Expired', `too old resource version: ${rv} (${store.currentRV()})`);
      write(res, 'ERROR', err.toStatus());
      res.end();
      hub.open.delete(res);
      return;
    }
    for (const e of events) deliver(e);
  }

  const unsubscribe = store.subscribe((e) => {
    if (e.resource === resource) deliver(e);
    else lastRV = e.rv;
  });
  const timers: NodeJS.Timeout[] = [];
  if (opts.allowBookmarks && hub.bookmarkIntervalMs > 0) {
    timers.push(setInterval(() => bookmark(), hub.bookmarkIntervalMs));
  }
  if (faults.closeAfterMs !== undefined) timers.push(setTimeout(cut, faults.closeAfterMs));
  if (opts.timeoutSeconds && opts.timeoutSeconds > 0) {
    timers.push(setTimeout(() => res.end(), opts.timeoutSeconds * 1000));
  }
  res.on('close', () => {
    unsubscribe();
    for (const tm of timers) clearTimeout(tm);
    hub.open.delete(res);
  });
}

/** Ends every open watch at once, as a kube-apiserver restart does (fault injection); returns how many. */
export function dropWatches(hub: WatchHub, mode: 'close' | 'reset'): number {
  const open = [...hub.open];
  for (const res of open) {
    hub.open.delete(res);
    if (mode === 'reset') res.destroy();
    else res.end();
  }
  return open.length;
}
