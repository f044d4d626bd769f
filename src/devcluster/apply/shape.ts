/**
 * How server-side apply reads a value through its structural schema: the shape of each node, and
 * the names of list items.
 *
 * The schema decides the shape of each node:
 * - an object is a struct (declared `properties`) and/or a map (`additionalProperties`); it is
 *   granular (each field owned on its own) unless `x-kubernetes-map-type: atomic`;
 * - a list is atomic (owned and replaced whole) unless `x-kubernetes-list-type` is `set` (items
 *   are scalars, merged by value) or `map` (items are objects, merged by their
 *   `x-kubernetes-list-map-keys`);
 * - anything else is a scalar.
 * A node without a schema (under `x-kubernetes-preserve-unknown-fields`, or a field the schema
 * does not declare) is read from its value: objects as granular maps, lists as atomic.
 */
import { k8sSchema, type JSONSchemaProps } from '../../api/k8s/schemas.js';
import { elementId, elementString, keyElement, pathString, type Path, type PathElement } from './fieldpath.js';

/** A schema, or undefined where the shape is read from the value. */
export type Schema = JSONSchemaProps | undefined;

export type Shape =
  | { kind: 'scalar' }
  | { kind: 'map'; atomic: boolean; fields: Record<string, JSONSchemaProps> | undefined; elem: Schema }
  | { kind: 'list'; type: 'atomic' | 'set' | 'map'; keys: readonly string[]; item: Schema };

const SCALAR: Shape = { kind: 'scalar' };

/** A value that does not fit its schema: a list item without its keys, duplicate keys. */
export class TypedValueError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field ? `${field}: ` : ''}${detail}`);
    this.name = 'TypedValueError';
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let objectMeta: JSONSchemaProps | undefined;
const withTypeMeta = new WeakMap<JSONSchemaProps, Record<string, JSONSchemaProps>>();

/** Properties of an object that is a whole Kubernetes object: apiVersion, kind and ObjectMeta. */
function objectProperties(schema: JSONSchemaProps): Record<string, JSONSchemaProps> {
  let props = withTypeMeta.get(schema);
  if (!props) {
    objectMeta ??= k8sSchema('V1ObjectMeta');
    props = { ...schema.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: objectMeta };
    withTypeMeta.set(schema, props);
  }
  return props;
}

const roots = new WeakMap<JSONSchemaProps, JSONSchemaProps>();

/**
 * The schema of a top-level object: as for custom resources in kube-apiserver, `metadata` is
 * always ObjectMeta (whatever the CRD says of it), so labels, owner references and finalizers
 * merge the same way for every kind.
 */
export function rootSchema(schema: JSONSchemaProps): JSONSchemaProps {
  let r = roots.get(schema);
  if (!r) {
    r = { ...schema, type: 'object', properties: objectProperties(schema) };
    roots.set(schema, r);
  }
  return r;
}

export function schemaShape(schema: JSONSchemaProps): Shape | undefined {
  if (schema['x-kubernetes-int-or-string']) return SCALAR;
  if (schema.type === 'array' || schema.items) {
    const type = schema['x-kubernetes-list-type'] ?? 'atomic';
    return { kind: 'list', type, keys: schema['x-kubernetes-list-map-keys'] ?? [], item: schema.items };
  }
  if (
    schema.type === 'object' ||
    schema.properties ||
    schema.additionalProperties !== undefined ||
    schema['x-kubernetes-preserve-unknown-fields']
  ) {
    const fields = schema['x-kubernetes-embedded-resource'] ? objectProperties(schema) : schema.properties;
    const elem = isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as JSONSchemaProps) : undefined;
    return { kind: 'map', atomic: schema['x-kubernetes-map-type'] === 'atomic', fields, elem };
  }
  if (schema.type) return SCALAR;
  return undefined;
}

function deduce(value: unknown): Shape {
  if (Array.isArray(value)) return { kind: 'list', type: 'atomic', keys: [], item: undefined };
  if (isPlainObject(value)) return { kind: 'map', atomic: false, fields: undefined, elem: undefined };
  return SCALAR;
}

function fits(shape: Shape, value: unknown): boolean {
  if (value === undefined) return true;
  if (shape.kind === 'map') return isPlainObject(value);
  if (shape.kind === 'list') return Array.isArray(value);
  return true;
}

/** The shape of a node holding one or two values; a value that does not fit makes it a leaf. */
export function shapeOf(schema: Schema, a: unknown, b?: unknown): Shape {
  const shape = (schema && schemaShape(schema)) ?? deduce(a !== undefined ? a : b);
  return fits(shape, a) && fits(shape, b) ? shape : SCALAR;
}

export function fieldSchema(shape: Extract<Shape, { kind: 'map' }>, name: string): Schema {
  const f = shape.fields && Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
  return f ?? shape.elem;
}

export function isDeclared(shape: Extract<Shape, { kind: 'map' }>, name: string): boolean {
  return !!shape.fields && Object.hasOwn(shape.fields, name);
}

/** The schema below an element, without a value at hand (deduced nodes stay deduced). */
export function childSchema(schema: Schema, pe: PathElement): Schema {
  const shape = schema && schemaShape(schema);
  if (!shape) return undefined;
  if (pe.kind === 'field') return shape.kind === 'map' ? fieldSchema(shape, pe.name) : undefined;
  return shape.kind === 'list' ? shape.item : undefined;
}

export type ListShape = Extract<Shape, { kind: 'list' }>;

/**
 * The element naming a list item. With `strict` (the applied configuration) a malformed item is
 * an error; otherwise (a stored object) it falls back to the item's position.
 */
function itemElement(shape: ListShape, item: unknown, index: number, path: Path, strict: boolean): PathElement {
  if (shape.type === 'set') {
    if (isPlainObject(item) || Array.isArray(item)) {
      if (strict) throw new TypedValueError(pathString(path), `element ${index}: set items must be scalars`);
      return { kind: 'index', index };
    }
    return { kind: 'value', value: item };
  }
  if (!isPlainObject(item)) {
    if (strict) {
      throw new TypedValueError(pathString(path), `element ${index}: associative list with keys may not have ${item === null ? 'a null element' : 'non-map elements'}`);
    }
    return { kind: 'index', index };
  }
  const props = shape.item?.properties;
  const fields: [string, unknown][] = [];
  for (const key of shape.keys) {
    if (item[key] !== undefined && item[key] !== null) fields.push([key, item[key]]);
    else if (props?.[key]?.default !== undefined) fields.push([key, props[key]!.default]);
  }
  if (fields.length === 0) {
    if (strict) {
      throw new TypedValueError(
        pathString(path),
        `element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(shape.keys[0] ?? '')} (and doesn't have default value)`,
      );
    }
    return { kind: 'index', index };
  }
  return keyElement(fields);
}

export interface Indexed {
  id: string;
  pe: PathElement;
  value: unknown;
}

export function indexItems(shape: ListShape, list: readonly unknown[], path: Path, strict: boolean): Indexed[] {
  const out: Indexed[] = [];
  const seen = new Set<string>();
  list.forEach((value, i) => {
    let pe = itemElement(shape, value, i, path, strict);
    let id = elementId(pe);
    if (seen.has(id)) {
      if (strict) throw new TypedValueError(pathString(path), `duplicate entries for key ${elementString(pe)}`);
      pe = { kind: 'index', index: i };
      id = elementId(pe);
    }
    seen.add(id);
    out.push({ id, pe, value });
  });
  return out;
}
