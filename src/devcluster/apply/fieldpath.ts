/**
 * Field paths and sets of field paths, the unit of ownership in server-side apply, with their
 * wire form (`FieldsV1`) and their printed form (`.spec.containers[name="app"].image`).
 *
 * A path is a list of elements, each one of:
 * - a field of an object or a key of a map: `f:replicas`, printed `.replicas`;
 * - an item of a list merged by key, named by its key fields: `k:{"name":"app"}`, `[name="app"]`;
 * - an item of a list merged by value (a set), named by the value: `v:"foo"`, `[="foo"]`;
 * - an item of a list by position (only met in entries written by other servers): `i:0`, `[0]`.
 *
 * A set is a tree: each node has members (paths that end there) and children (paths that go on).
 * In FieldsV1 a member is `"f:x": {}`, a child is `"f:x": {…}`, and a node that is both carries
 * `".": {}` among its children.
 */
import { isDeepStrictEqual } from 'node:util';

export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: readonly (readonly [string, unknown])[] }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'index'; readonly index: number };

export type Path = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: 'field', name };
}

/** A key element; the key fields are kept sorted by name, as on the wire. */
export function keyElement(fields: Iterable<readonly [string, unknown]>): PathElement {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return { kind: 'key', fields: sorted };
}

/** JSON with object keys sorted, so that equal values have one spelling. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).sort(compareStrings);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The element as a FieldsV1 key. */
export function elementId(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:{${pe.fields.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJSON(v)}`).join(',')}}`;
    case 'value':
      return `v:${canonicalJSON(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Parses a FieldsV1 key; undefined for a key this code does not know. */
export function parseElementId(id: string): PathElement | undefined {
  const body = id.slice(2);
  try {
    if (id.startsWith('f:')) return fieldElement(body);
    if (id.startsWith('k:')) {
      const obj: unknown = JSON.parse(body);
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
      return keyElement(Object.entries(obj as Record<string, unknown>));
    }
    if (id.startsWith('v:')) return { kind: 'value', value: JSON.parse(body) as unknown };
    if (id.startsWith('i:') && /^\d+$/.test(body)) return { kind: 'index', index: Number(body) };
  } catch {
    return undefined;
  }
  return undefined;
}

/** Go's %v of a value in a printed path: strings quoted, numbers and booleans bare. */
function printValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : canonicalJSON(v);
}

export function elementString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([k, v]) => `${k}=${printValue(v)}`).join(',')}]`;
    case 'value':
      return `[=${printValue(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

export function pathString(path: Path): string {
  return path.map(elementString).join('');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const valueRank = (v: unknown): number => {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
};

/** A total order on JSON values: numbers, then strings, booleans, lists, maps and null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareStrings(canonicalJSON(a), canonicalJSON(b));
}

const kindRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** The order of elements in FieldsV1 and in listings: fields, keys, values, indexes. */
export function compareElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindRank[a.kind] - kindRank[b.kind];
  if (a.kind === 'field' && b.kind === 'field') return compareStrings(a.name, b.name);
  if (a.kind === 'key' && b.kind === 'key') {
    const n = Math.min(a.fields.length, b.fields.length);
    for (let i = 0; i < n; i++) {
      const c = compareStrings(a.fields[i]![0], b.fields[i]![0]) || compareValues(a.fields[i]![1], b.fields[i]![1]);
      if (c !== 0) return c;
    }
    return a.fields.length - b.fields.length;
  }
  if (a.kind === 'value' && b.kind === 'value') return compareValues(a.value, b.value);
  if (a.kind === 'index' && b.kind === 'index') return a.index - b.index;
  return 0;
}

interface Child {
  pe: PathElement;
  set: FieldSet;
}

/** An immutable-by-convention set of paths: operations return new sets. */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path in place (used while building a set). The empty path is ignored. */
  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.childOrCreate(path[i]!);
    const last = path[path.length - 1]!;
    node.members.set(elementId(last), last);
  }

  private childOrCreate(pe: PathElement): FieldSet {
    const id = elementId(pe);
    let c = this.children.get(id);
    if (!c) {
      c = { pe, set: new FieldSet() };
      this.children.set(id, c);
    }
    return c.set;
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(elementId(pe));
  }

  /** Whether the path is a member of the set. */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.child(path[i]!);
    return node?.hasMember(path[path.length - 1]!) ?? false;
  }

  /** The paths below an element, relative to it. */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(elementId(pe))?.set;
  }

  memberElements(): PathElement[] {
    return [...this.members.values()];
  }

  childEntries(): [PathElement, FieldSet][] {
    return [...this.children.values()].map((c) => [c.pe, c.set]);
  }

  private static build(
    a: FieldSet,
    b: FieldSet,
    keepMember: (inA: boolean, inB: boolean) => boolean,
    childIds: (a: FieldSet, b: FieldSet) => Iterable<string>,
  ): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of [...a.members, ...b.members]) {
      if (!out.members.has(id) && keepMember(a.members.has(id), b.members.has(id))) out.members.set(id, pe);
    }
    for (const id of childIds(a, b)) {
      const ca = a.children.get(id);
      const cb = b.children.get(id);
      const pe = (ca ?? cb)!.pe;
      const sub = FieldSet.build(ca?.set ?? EMPTY, cb?.set ?? EMPTY, keepMember, childIds);
      if (!sub.isEmpty()) out.children.set(id, { pe, set: sub });
    }
    return out;
  }

  union(o: FieldSet): FieldSet {
    return FieldSet.build(this, o, (x, y) => x || y, (a, b) => new Set([...a.children.keys(), ...b.children.keys()]));
  }

  intersection(o: FieldSet): FieldSet {
    return FieldSet.build(this, o, (x, y) => x && y, (a, b) => [...a.children.keys()].filter((k) => b.children.has(k)));
  }

  /** Paths of this set that are not paths of the other (a member of the other keeps its children here). */
  difference(o: FieldSet): FieldSet {
    return FieldSet.build(this, o, (x, y) => x && !y, (a) => a.children.keys());
  }

  /** Like difference, but a member of the other also takes away everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, pe] of this.members) if (!o.members.has(id)) out.members.set(id, pe);
    for (const [id, c] of this.children) {
      if (o.members.has(id)) continue;
      const oc = o.children.get(id);
      const sub = oc ? c.set.recursiveDifference(oc.set) : c.set;
      if (!sub.isEmpty()) out.children.set(id, { pe: c.pe, set: sub });
    }
    return out;
  }

  /** Only the paths that start with the element, still rooted here. */
  withPrefix(pe: PathElement): FieldSet {
    const out = new FieldSet();
    const id = elementId(pe);
    if (this.members.has(id)) out.members.set(id, pe);
    const c = this.children.get(id);
    if (c && !c.set.isEmpty()) out.children.set(id, c);
    return out;
  }

  equals(o: FieldSet): boolean {
    return isDeepStrictEqual(this.toFieldsV1(), o.toFieldsV1());
  }

  /** Every path of the set: at each node its members first, then its children, each in order. */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]) => {
      for (const pe of [...s.members.values()].sort(compareElements)) out.push([...prefix, pe]);
      for (const c of [...s.children.values()].sort((x, y) => compareElements(x.pe, y.pe))) walk(c.set, [...prefix, c.pe]);
    };
    walk(this, []);
    return out;
  }

  /** The FieldsV1 form: `.` first, then the elements in order. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const entries = new Map<string, PathElement>();
    for (const [id, pe] of this.members) entries.set(id, pe);
    for (const [id, c] of this.children) if (!c.set.isEmpty()) entries.set(id, c.pe);
    const ordered = [...entries].sort((x, y) => compareElements(x[1], y[1]));
    for (const [id] of ordered) {
      const c = this.children.get(id);
      if (c && !c.set.isEmpty()) {
        const inner = c.set.toFieldsV1();
        out[id] = this.members.has(id) ? { '.': {}, ...inner } : inner;
      } else {
        out[id] = {};
      }
    }
    return out;
  }

  /** Reads FieldsV1; keys it cannot parse are skipped. */
  static fromFieldsV1(v: unknown): FieldSet {
    const out = new FieldSet();
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
    for (const [id, inner] of Object.entries(v as Record<string, unknown>)) {
      if (id === '.') continue;
      const pe = parseElementId(id);
      if (!pe) continue;
      const isObj = inner !== null && typeof inner === 'object' && !Array.isArray(inner);
      const keys = isObj ? Object.keys(inner as Record<string, unknown>) : [];
      if (keys.length === 0 || keys.includes('.')) out.members.set(elementId(pe), pe);
      const sub = FieldSet.fromFieldsV1(inner);
      if (!sub.isEmpty()) out.children.set(elementId(pe), { pe, set: sub });
    }
    return out;
  }
}

const EMPTY = new FieldSet();
