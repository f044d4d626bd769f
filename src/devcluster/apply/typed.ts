/**
 * What server-side apply does with values read through their schema (see shape.ts): list the
 * fields a value sets, merge an applied configuration into a live object, compare two versions of
 * an object, and take fields out of one.
 */
import { isDeepStrictEqual } from 'node:util';
import { fieldElement, FieldSet, type Path, type PathElement } from './fieldpath.js';
import {
  childSchema,
  fieldSchema,
  indexItems,
  isDeclared,
  isPlainObject,
  schemaShape,
  shapeOf,
  type Indexed,
  type Schema,
} from './shape.js';

// ---------------------------------------------------------------------------------------------
// The fields a value sets

/**
 * The set of fields a value sets, as an applier owns them: every scalar, every list item, every
 * atomic list or map as one field, every map entry that is not a declared struct field, and every
 * field whose value is null or an empty object. Granular lists that are empty own nothing.
 */
export function fieldSetOf(value: Record<string, unknown>, schema: Schema, strict: boolean): FieldSet {
  const out = new FieldSet();
  const visit = (path: Path, v: unknown, s: Schema): void => {
    const shape = shapeOf(s, v);
    if (shape.kind === 'scalar') {
      out.insert(path);
    } else if (shape.kind === 'list') {
      if (shape.type === 'atomic') return out.insert(path);
      for (const item of indexItems(shape, v as unknown[], path, strict)) {
        const p = [...path, item.pe];
        visit(p, item.value, shape.item);
        out.insert(p);
      }
    } else {
      if (shape.atomic) return out.insert(path);
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        if (child === undefined) continue;
        const p = [...path, fieldElement(k)];
        visit(p, child, fieldSchema(shape, k));
        if (child === null || (isPlainObject(child) && Object.keys(child).length === 0) || !isDeclared(shape, k)) out.insert(p);
      }
    }
  };
  visit([], value, schema);
  return out;
}

/**
 * Adds, as members, the declared struct fields that the set passes through: owning
 * `spec.strategy.type` then also counts as owning `spec.strategy`, so that removing the last owned
 * field of a struct removes the struct (but not the entries of a map, nor list items).
 */
export function withNamedFields(set: FieldSet, schema: Schema): FieldSet {
  const out = new FieldSet();
  const walk = (s: FieldSet, sc: Schema, prefix: PathElement[]): void => {
    for (const pe of s.memberElements()) out.insert([...prefix, pe]);
    const shape = sc && schemaShape(sc);
    for (const [pe, sub] of s.childEntries()) {
      if (pe.kind === 'field' && shape?.kind === 'map' && isDeclared(shape, pe.name)) out.insert([...prefix, pe]);
      walk(sub, childSchema(sc, pe), [...prefix, pe]);
    }
  };
  walk(set, schema, []);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merging an applied configuration into a live object

function dropsNull(s: Schema): boolean {
  return !s?.nullable;
}

/**
 * Lays out the merged list: items of the applied list keep the applied order, and items only the
 * live list has stay where they were relative to those.
 */
function mergeOrder(lhs: Indexed[], rhs: Indexed[], mergeItem: (l: unknown, r: Indexed) => unknown): unknown[] {
  const inRhs = new Set(rhs.map((r) => r.id));
  const lhsById = new Map<string, unknown>();
  for (const l of lhs) if (!lhsById.has(l.id)) lhsById.set(l.id, l.value);
  const shared = rhs.filter((r) => lhsById.has(r.id)).map((r) => r.id);
  const done = new Set<string>();
  let next = 0;
  const advance = () => {
    while (next < shared.length && done.has(shared[next]!)) next++;
  };
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < lhs.length || j < rhs.length) {
    if (i < lhs.length) {
      const l = lhs[i]!;
      if (!inRhs.has(l.id)) {
        out.push(structuredClone(l.value));
        i++;
        continue;
      }
      if (done.has(l.id)) {
        i++;
        continue;
      }
      if (j < rhs.length && rhs[j]!.id === l.id) {
        out.push(mergeItem(l.value, rhs[j]!));
        done.add(l.id);
        advance();
        i++;
        j++;
        continue;
      }
      // A shared item that the applied list places later: it is emitted at that place.
      if (shared[next] !== l.id || j >= rhs.length) {
        i++;
        continue;
      }
    }
    const r = rhs[j]!;
    out.push(mergeItem(lhsById.get(r.id), r));
    done.add(r.id);
    advance();
    j++;
  }
  return out;
}

/**
 * The live value with the applied value merged in: applied scalars, atomic lists and atomic maps
 * replace the live ones; granular maps merge field by field; sets and list-maps merge item by
 * item. Nulls in the applied value remove the field (unless the schema allows null).
 */
export function merge(live: unknown, applied: unknown, schema: Schema, path: Path = []): unknown {
  if (applied === undefined) return structuredClone(live);
  if (live === undefined || live === null) {
    const fresh = structuredClone(applied);
    dropNulls(fresh, schema);
    return fresh;
  }
  const shape = shapeOf(schema, live, applied);
  if (shape.kind === 'scalar') return structuredClone(applied);
  if (shape.kind === 'map') {
    if (shape.atomic) return structuredClone(applied);
    const l = live as Record<string, unknown>;
    const r = applied as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) {
      if (!(k in r)) out[k] = structuredClone(v);
    }
    for (const [k, v] of Object.entries(r)) {
      const s = fieldSchema(shape, k);
      if (v === null && dropsNull(s)) {
        delete out[k];
        continue;
      }
      out[k] = merge(l[k], v, s, [...path, fieldElement(k)]);
    }
    // Keep the live order of the fields that were there before.
    const ordered: Record<string, unknown> = {};
    for (const k of Object.keys(l)) if (k in out) ordered[k] = out[k];
    for (const k of Object.keys(out)) if (!(k in ordered)) ordered[k] = out[k];
    return ordered;
  }
  if (shape.type === 'atomic') return structuredClone(applied);
  const lhs = indexItems(shape, live as unknown[], path, false);
  const rhs = indexItems(shape, applied as unknown[], path, true);
  if (shape.type === 'set') return mergeOrder(lhs, rhs, (_l, r) => structuredClone(r.value));
  return mergeOrder(lhs, rhs, (l, r) => merge(l, r.value, shape.item, [...path, r.pe]));
}

/** Drops null-valued fields (where the schema does not allow null), in place. */
export function dropNulls(value: unknown, schema: Schema): void {
  const shape = shapeOf(schema, value);
  if (shape.kind === 'map' && !shape.atomic) {
    const obj = value as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      const s = fieldSchema(shape, k);
      if (v === null && dropsNull(s)) delete obj[k];
      else dropNulls(v, s);
    }
  } else if (shape.kind === 'list' && shape.type === 'map') {
    for (const item of value as unknown[]) dropNulls(item, shape.item);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing two versions of an object

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * The fields that one version adds, changes or removes relative to another. Leaves (scalars,
 * atomic lists and maps, and maps empty on both sides) count as one field; an object or list that
 * appears or disappears counts itself as well as everything in it.
 */
export function compare(before: unknown, after: unknown, schema: Schema): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (path: Path, l: unknown, r: unknown) => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!isDeepStrictEqual(l, r)) c.modified.insert(path);
  };
  const visit = (path: Path, l: unknown, r: unknown, s: Schema): void => {
    if (l === undefined && r === undefined) return;
    const shape = shapeOf(s, l, r);
    if (shape.kind === 'scalar' || (shape.kind !== 'map' && shape.type === 'atomic') || (shape.kind === 'map' && shape.atomic)) {
      return leaf(path, l, r);
    }
    if (shape.kind === 'map') {
      const lm = l as Record<string, unknown> | undefined;
      const rm = r as Record<string, unknown> | undefined;
      const empty = (m: Record<string, unknown> | undefined) => !m || Object.keys(m).length === 0;
      if (empty(lm) && empty(rm)) return leaf(path, l, r);
      if (l === undefined) c.added.insert(path);
      if (r === undefined) c.removed.insert(path);
      const keys = new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})]);
      for (const k of keys) visit([...path, fieldElement(k)], lm?.[k], rm?.[k], fieldSchema(shape, k));
      return;
    }
    const noItems = (x: unknown) => x === undefined || (x as unknown[]).length === 0;
    if (noItems(l) && noItems(r)) return leaf(path, l, r);
    if (l === undefined) c.added.insert(path);
    if (r === undefined) c.removed.insert(path);
    const lhs = new Map(indexItems(shape, (l as unknown[] | undefined) ?? [], path, false).map((x) => [x.id, x]));
    const rhs = new Map(indexItems(shape, (r as unknown[] | undefined) ?? [], path, false).map((x) => [x.id, x]));
    for (const id of new Set([...lhs.keys(), ...rhs.keys()])) {
      const li = lhs.get(id);
      const ri = rhs.get(id);
      visit([...path, (li ?? ri)!.pe], li?.value, ri?.value, shape.item);
    }
  };
  visit([], before, after, schema);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Removing fields

/**
 * A copy of the value without the members of the set (each with everything below it). A map or
 * list that loses all its entries this way is dropped from its parent, as kube-apiserver stores
 * it (null, then omitted).
 */
export function removeFields(value: unknown, set: FieldSet, schema: Schema, path: Path = []): unknown {
  if (set.isEmpty()) return value;
  const shape = shapeOf(schema, value);
  const emptied = (before: unknown, after: unknown) =>
    (Array.isArray(after) && after.length === 0 && Array.isArray(before) && before.length > 0) ||
    (isPlainObject(after) && Object.keys(after).length === 0 && isPlainObject(before) && Object.keys(before).length > 0);
  if (shape.kind === 'map' && !shape.atomic) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const pe = fieldElement(k);
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      if (!sub) {
        out[k] = v;
        continue;
      }
      const kept = removeFields(v, sub, fieldSchema(shape, k), [...path, pe]);
      if (!emptied(v, kept)) out[k] = kept;
    }
    return out;
  }
  if (shape.kind === 'list' && shape.type !== 'atomic') {
    const out: unknown[] = [];
    for (const item of indexItems(shape, value as unknown[], path, false)) {
      if (set.hasMember(item.pe)) continue;
      const sub = set.child(item.pe);
      out.push(sub ? removeFields(item.value, sub, shape.item, [...path, item.pe]) : item.value);
    }
    return out;
  }
  return value;
}
