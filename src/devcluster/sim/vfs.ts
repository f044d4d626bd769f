/**
 * The files simulated containers see: the image's own files, and volumes — a PVC's content lives as
 * long as the claim (so a cache Job's download is there for the NIM that mounts it later), an
 * emptyDir as long as its pod, ConfigMaps and Secrets are read from the store.
 */

/** A tree of files: normalized relative path → content (directories are implied, or marked). */
export class FileTree {
  readonly files = new Map<string, string>();
  private readonly dirs = new Set<string>();

  constructor(init: Record<string, string> = {}) {
    for (const [p, c] of Object.entries(init)) this.write(p, c);
  }

  write(rel: string, content: string): void {
    const p = clean(rel);
    this.files.set(p, content);
    this.mkdir(parentOf(p));
  }

  append(rel: string, content: string): void {
    const p = clean(rel);
    this.write(p, (this.files.get(p) ?? '') + content);
  }

  mkdir(rel: string): void {
    let p = clean(rel);
    while (p) {
      this.dirs.add(p);
      p = parentOf(p);
    }
  }

  read(rel: string): string | undefined {
    return this.files.get(clean(rel));
  }

  isFile(rel: string): boolean {
    return this.files.has(clean(rel));
  }

  isDir(rel: string): boolean {
    const p = clean(rel);
    if (p === '' || this.dirs.has(p)) return true;
    for (const f of this.files.keys()) if (f.startsWith(`${p}/`)) return true;
    return false;
  }

  /** Names directly under a directory. */
  list(rel: string): string[] {
    const p = clean(rel);
    const prefix = p ? `${p}/` : '';
    const out = new Set<string>();
    for (const f of [...this.files.keys(), ...this.dirs]) {
      if (!f.startsWith(prefix) || f === p) continue;
      const rest = f.slice(prefix.length);
      if (rest) out.add(rest.split('/')[0]!);
    }
    return [...out].sort();
  }

  remove(rel: string): void {
    const p = clean(rel);
    this.files.delete(p);
    this.dirs.delete(p);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${p}/`)) this.files.delete(f);
    for (const d of [...this.dirs]) if (d.startsWith(`${p}/`)) this.dirs.delete(d);
  }

  /** Total size in bytes under a directory. */
  size(rel: string): number {
    const p = clean(rel);
    let n = 0;
    for (const [f, c] of this.files) if (p === '' || f === p || f.startsWith(`${p}/`)) n += Buffer.byteLength(c);
    return n;
  }
}

/** `a//b/./c/../d/` → `a/b/d` (relative, no leading or trailing slash). */
export function clean(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export interface Mount {
  /** Absolute mount path in the container. */
  path: string;
  tree: FileTree;
  /** Sub-directory of the tree mounted (subPath). */
  sub: string;
  readOnly: boolean;
}

/** A container's view: mounts over the image's files. */
export class ContainerFS {
  constructor(
    private readonly image: FileTree,
    private readonly mounts: Mount[],
    readonly cwd = '/',
  ) {
    this.mounts = [...mounts].sort((a, b) => clean(b.path).length - clean(a.path).length);
  }

  /** The tree and path within it that serve an absolute or relative path. */
  resolve(path: string): { tree: FileTree; rel: string; readOnly: boolean } {
    const abs = clean(path.startsWith('/') ? path : `${this.cwd}/${path}`);
    for (const m of this.mounts) {
      const mp = clean(m.path);
      if (abs === mp || abs.startsWith(`${mp}/`) || mp === '') {
        const rest = abs.slice(mp.length).replace(/^\//, '');
        return { tree: m.tree, rel: clean(`${m.sub}/${rest}`), readOnly: m.readOnly };
      }
    }
    return { tree: this.image, rel: abs, readOnly: false };
  }

  read(path: string): string | undefined {
    const r = this.resolve(path);
    return r.tree.read(r.rel);
  }

  isFile(path: string): boolean {
    const r = this.resolve(path);
    return r.tree.isFile(r.rel);
  }

  isDir(path: string): boolean {
    const abs = clean(path.startsWith('/') ? path : `${this.cwd}/${path}`);
    if (this.mounts.some((m) => clean(m.path) === abs || clean(m.path).startsWith(`${abs}/`) || abs === '')) return true;
    const r = this.resolve(path);
    return r.tree.isDir(r.rel);
  }

  list(path: string): string[] {
    const r = this.resolve(path);
    const names = new Set(r.tree.list(r.rel));
    const abs = clean(path.startsWith('/') ? path : `${this.cwd}/${path}`);
    for (const m of this.mounts) {
      const mp = clean(m.path);
      if (abs === '' ? mp !== '' : mp.startsWith(`${abs}/`)) names.add(mp.slice(abs ? abs.length + 1 : 0).split('/')[0]!);
    }
    return [...names].sort();
  }

  /** Writes a file; false when the path is on a read-only mount. */
  write(path: string, content: string, append = false): boolean {
    const r = this.resolve(path);
    if (r.readOnly) return false;
    if (append) r.tree.append(r.rel, content);
    else r.tree.write(r.rel, content);
    return true;
  }

  mkdir(path: string): boolean {
    const r = this.resolve(path);
    if (r.readOnly) return false;
    r.tree.mkdir(r.rel);
    return true;
  }

  remove(path: string): boolean {
    const r = this.resolve(path);
    if (r.readOnly) return false;
    r.tree.remove(r.rel);
    return true;
  }

  size(path: string): number {
    const r = this.resolve(path);
    return r.tree.size(r.rel);
  }
}

/** Volume contents that outlive a container: claims (by PVC uid), emptyDirs (by pod), host paths. */
export class Volumes {
  private readonly claims = new Map<string, FileTree>();
  private readonly emptyDirs = new Map<string, FileTree>();
  private readonly hostPaths = new Map<string, FileTree>();

  claim(uid: string): FileTree {
    let t = this.claims.get(uid);
    if (!t) this.claims.set(uid, (t = new FileTree()));
    return t;
  }

  dropClaim(uid: string): void {
    this.claims.delete(uid);
  }

  emptyDir(podUid: string, volume: string): FileTree {
    const key = `${podUid}/${volume}`;
    let t = this.emptyDirs.get(key);
    if (!t) this.emptyDirs.set(key, (t = new FileTree()));
    return t;
  }

  dropPod(podUid: string): void {
    for (const k of [...this.emptyDirs.keys()]) if (k.startsWith(`${podUid}/`)) this.emptyDirs.delete(k);
  }

  hostPath(node: string, path: string): FileTree {
    const key = `${node}:${clean(path)}`;
    let t = this.hostPaths.get(key);
    if (!t) this.hostPaths.set(key, (t = new FileTree()));
    return t;
  }
}
