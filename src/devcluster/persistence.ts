/**
 * Persistence of the embedded control plane (`--data-dir`): a snapshot plus an append-only log.
 *
 * Every change the store commits is appended to the log as one line, `<crc32> <json>\n`, and the
 * log is written and fsync'ed before any response (or watch event) leaves the server after it:
 * `guard()` wraps each response so that a client can never see state that a crash could lose. A
 * change nobody is waiting for (a background controller's write) is made durable on the next turn of
 * the event loop. When the log passes `compactAfterBytes` (and at every start), the whole store is
 * written to a new snapshot (to a temporary file, fsync'ed, renamed over the old one) and the log
 * starts afresh. Loading reads the snapshot and replays the log after it; a torn or corrupt last
 * record — a crash in the middle of a write — ends the replay of that log and is dropped.
 *
 * Files in the data directory: `snapshot` (header line, then one object a line), `wal-<gen>.log`
 * (the logs written since the snapshot of generation <gen>), `LOCK` (the pid of the process using it).
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { installCRD } from './crds.js';
import { LOCK, SNAPSHOT, WAL, fsyncDir, line, lockDir, readLines, walName, writeAll, type LogRecord, type SnapshotHeader } from './persistence-files.js';
import type { Registry } from './registry.js';
import { objectKey, type ChangeEvent, type Obj, type Store } from './store.js';

export interface PersistenceOptions {
  /** Write a snapshot and start a new log once the log is this large (default 64 MiB; 0: only at start). */
  compactAfterBytes?: number;
  /** Where problems are reported (default: standard error). */
  warn?: (message: string) => void;
}

export interface LoadReport {
  /** Objects restored, and the resourceVersion the store continues from. */
  objects: number;
  resourceVersion: number;
  /** Log records replayed, and bytes of torn or corrupt records dropped from the end of a log. */
  records: number;
  droppedBytes: number;
}

export interface PersistenceInfo {
  dataDir: string;
  generation: number;
  logBytes: number;
  logRecords: number;
  snapshotResourceVersion: number;
  compactions: number;
  loaded: LoadReport;
}

export class Persistence {
  private fd = -1;
  private gen = 0;
  private logBytes = 0;
  private logRecords = 0;
  private snapshotRV = 0;
  private compactions = 0;
  private pending: string[] = [];
  private scheduled = false;
  private closed = false;
  private failed?: Error;
  private readonly unsubscribe: () => void;
  private readonly compactAfter: number;
  private readonly warn: (m: string) => void;
  readonly loaded: LoadReport;

  /** Loads the data directory into `store` (which must be empty) and starts recording its changes. */
  static open(dir: string, store: Store, opts: PersistenceOptions = {}): Persistence {
    return new Persistence(dir, store, opts);
  }

  private constructor(
    readonly dir: string,
    private readonly store: Store,
    opts: PersistenceOptions,
  ) {
    this.compactAfter = opts.compactAfterBytes ?? 64 * 1024 * 1024;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`nimop dev: ${m}\n`));
    mkdirSync(dir, { recursive: true });
    lockDir(dir);
    try {
      this.loaded = this.load();
      // Start from a fresh snapshot: drops torn records and old logs, and bounds the next load.
      this.compact();
    } catch (e) {
      this.unlock();
      throw e;
    }
    this.unsubscribe = store.subscribe((e) => this.append(e));
  }

  private load(): LoadReport {
    // resource → key → the latest state and its resourceVersion (undefined once deleted). A record
    // only counts when it is newer than what is known of its key: a write made by a subscriber while
    // an earlier change is being delivered is logged before that change.
    const objects = new Map<string, Map<string, { rv: number; o?: Obj }>>();
    const bucket = (r: string) => {
      let b = objects.get(r);
      if (!b) objects.set(r, (b = new Map()));
      return b;
    };
    const apply = (r: string, key: string, at: number, o?: Obj) => {
      const b = bucket(r);
      if ((b.get(key)?.rv ?? -1) < at) b.set(key, { rv: at, ...(o ? { o } : {}) });
    };
    let rv = 0;
    let fromGen = 0;
    const snapPath = join(this.dir, SNAPSHOT);
    if (existsSync(snapPath)) {
      const { lines, droppedBytes } = readLines(readFileSync(snapPath, 'utf8'));
      const header = lines[0] as SnapshotHeader | undefined;
      if (droppedBytes || header?.format !== 'nimop-snapshot/v1' || lines.length - 1 !== header.objects) {
        throw new Error(`${snapPath} is corrupt (the snapshot is replaced atomically, so this is not a torn write): move it away to start empty`);
      }
      for (const l of lines.slice(1) as { r: string; o: Obj }[]) {
        apply(l.r, objectKey(l.o.metadata.namespace, l.o.metadata.name), Number(l.o.metadata.resourceVersion), l.o);
      }
      rv = header.rv;
      fromGen = header.gen;
      this.gen = header.gen;
    }
    this.snapshotRV = rv;
    let records = 0;
    let droppedBytes = 0;
    const logs = readdirSync(this.dir)
      .map((f) => ({ f, gen: Number(WAL.exec(f)?.[1] ?? NaN) }))
      .filter((l) => Number.isInteger(l.gen) && l.gen >= fromGen)
      .sort((a, b) => a.gen - b.gen);
    for (const { f, gen } of logs) {
      const read = readLines(readFileSync(join(this.dir, f), 'utf8'));
      if (read.droppedBytes) {
        this.warn(`${join(this.dir, f)}: dropped ${read.droppedBytes} bytes of a torn or corrupt record at the end`);
        droppedBytes += read.droppedBytes;
      }
      for (const rec of read.lines as LogRecord[]) {
        const at = rec.op === 'put' ? Number(rec.o.metadata.resourceVersion) : rec.rv;
        if (at <= this.snapshotRV) continue;
        if (rec.op === 'put') apply(rec.r, objectKey(rec.o.metadata.namespace, rec.o.metadata.name), at, rec.o);
        else apply(rec.r, objectKey(rec.ns, rec.n), at);
        rv = Math.max(rv, at);
        records++;
      }
      this.gen = Math.max(this.gen, gen);
    }
    let count = 0;
    for (const [r, b] of objects) {
      for (const { o } of b.values()) {
        if (!o) continue;
        this.store.load(r, o);
        count++;
      }
    }
    this.store.restoreRV(rv);
    return { objects: count, resourceVersion: this.store.currentRV(), records, droppedBytes };
  }

  private append(e: ChangeEvent): void {
    if (this.closed) return;
    const m = e.object.metadata;
    const rec: LogRecord =
      e.type === 'DELETED'
        ? { op: 'del', r: e.resource, ...(m.namespace ? { ns: m.namespace } : {}), n: m.name, rv: e.rv }
        : { op: 'put', r: e.resource, o: e.object };
    this.pending.push(line(rec));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        try {
          this.flush();
        } catch {
          // reported by flush; the next response retries
        }
      });
    }
  }

  /** Whether changes are waiting to be made durable. */
  get dirty(): boolean {
    return this.pending.length > 0;
  }

  /** Writes and fsyncs the changes not yet durable (throws when that fails). */
  flush(): void {
    if (this.failed) throw this.failed;
    if (this.pending.length === 0 || this.fd < 0) return;
    const text = this.pending.join('');
    try {
      writeAll(this.fd, text);
      fdatasyncSync(this.fd);
    } catch (e) {
      // Take back a partial write so the log stays whole; the changes stay pending for a retry.
      try {
        ftruncateSync(this.fd, this.logBytes);
      } catch (t) {
        this.failed = new Error(`the log in ${this.dir} cannot be repaired after a failed write: ${(t as Error).message}`);
      }
      this.warn(`cannot write the log in ${this.dir}: ${(e as Error).message}`);
      throw e;
    }
    this.logBytes += Buffer.byteLength(text);
    this.logRecords += this.pending.length;
    this.pending = [];
    if (this.compactAfter > 0 && this.logBytes >= this.compactAfter) {
      setImmediate(() => {
        try {
          if (!this.closed && this.logBytes >= this.compactAfter) this.compact();
        } catch (e) {
          this.warn(`compaction failed: ${(e as Error).message}`);
        }
      });
    }
  }

  /**
   * Holds a response's bytes back until the changes made before them are durable: if the log
   * cannot be written, the connection is destroyed instead (the client sees no acknowledgement).
   */
  guard(res: ServerResponse): void {
    const write = res.write;
    const end = res.end;
    const durable = (): boolean => {
      if (!this.dirty && !this.failed) return true;
      try {
        this.flush();
        return true;
      } catch (e) {
        res.destroy(e as Error);
        return false;
      }
    };
    res.write = function (this: ServerResponse, ...args: unknown[]) {
      return durable() ? (Reflect.apply(write, this, args) as boolean) : false;
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      return durable() ? (Reflect.apply(end, this, args) as ServerResponse) : this;
    } as ServerResponse['end'];
  }

  /** Writes the whole store to a new snapshot and starts a new, empty log. */
  compact(): void {
    this.flush();
    const gen = this.gen + 1;
    const rv = this.store.currentRV();
    const resources = this.store.resources();
    const items = resources.flatMap((r) => this.store.list(r).map((o) => ({ r, o })));
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      let chunk = line({ format: 'nimop-snapshot/v1', rv, gen, objects: items.length } satisfies SnapshotHeader);
      for (const item of items) {
        chunk += line(item);
        if (chunk.length > 1 << 20) {
          writeAll(fd, chunk);
          chunk = '';
        }
      }
      writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    const next = openSync(join(this.dir, walName(gen)), 'a');
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = next;
    this.gen = gen;
    this.logBytes = 0;
    this.logRecords = 0;
    this.snapshotRV = rv;
    this.compactions++;
    for (const f of readdirSync(this.dir)) {
      const g = Number(WAL.exec(f)?.[1] ?? NaN);
      if (Number.isInteger(g) && g < gen) unlinkSync(join(this.dir, f));
    }
  }

  info(): PersistenceInfo {
    return {
      dataDir: this.dir,
      generation: this.gen,
      logBytes: this.logBytes,
      logRecords: this.logRecords,
      snapshotResourceVersion: this.snapshotRV,
      compactions: this.compactions,
      loaded: this.loaded,
    };
  }

  /** Makes everything durable and releases the data directory (changes after this are not recorded). */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.unsubscribe();
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
      this.unlock();
    }
  }

  private unlock(): void {
    try {
      unlinkSync(join(this.dir, LOCK));
    } catch {
      // already gone
    }
  }
}

/**
 * Opens a control plane's data directory: loads the objects and resourceVersions, serves the kinds
 * of the CRDs it holds again, and carries on deletions that were waiting on the garbage collector.
 */
export function restoreFromDisk(
  cp: { store: Store; registry: Registry; openapi: { invalidate(): void }; deleter: { rescan(): void } },
  dir: string,
  compactAfterBytes?: number,
): Persistence {
  const p = Persistence.open(dir, cp.store, compactAfterBytes !== undefined ? { compactAfterBytes } : {});
  const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';
  for (const crd of cp.store.list(CRDS)) {
    const established = installCRD(cp.registry, crd);
    // A crash can come between a CRD's creation and the write that marks it Established.
    if (!crd.metadata.deletionTimestamp && JSON.stringify(established.status) !== JSON.stringify(crd.status)) {
      cp.store.put(CRDS, { ...structuredClone(crd), status: established.status });
    }
  }
  cp.openapi.invalidate();
  cp.deleter.rescan();
  return p;
}
