/**
 * A thin vocabulary over TypeBox for writing Kubernetes structural schemas. Each helper returns a
 * TypeBox schema: its value is the OpenAPI v3 schema that goes into the CRD, and `Static<>` of it
 * is the TypeScript type. Every helper takes the field's description first, because every field
 * of a CRD needs one (it is what `kubectl explain` prints).
 */
import {
  Type,
  type Static,
  type TSchema,
  type TProperties,
  type TObject,
  type TArray,
  type TUnsafe,
  type ObjectOptions,
} from '@sinclair/typebox';
import { k8sSchema, quantitySchema, type JSONSchemaProps, type ValidationRule } from './k8s/schemas.js';

export type { Static, TSchema, TObject };
export type { JSONSchemaProps, ValidationRule };

/** A Kubernetes object as it travels in JSON: dates are strings, nothing is readonly. */
export type Wire<T> = T extends Date
  ? string
  : T extends ReadonlyArray<infer U>
    ? Wire<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Wire<T[K]> }
      : T;

type Extra = Omit<JSONSchemaProps, 'type' | 'properties' | 'items' | 'description'>;

export const opt = Type.Optional;

export function str(description: string, o: Extra = {}): TUnsafe<string> {
  return Type.Unsafe<string>({ type: 'string', description, ...o });
}

export function int32(description: string, o: Extra = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'integer', format: 'int32', description, ...o });
}

export function int64(description: string, o: Extra = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'integer', format: 'int64', description, ...o });
}

/** An integer without a declared width (Go `int`). */
export function int(description: string, o: Extra = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'integer', description, ...o });
}

export function num(description: string, o: Extra = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'number', description, ...o });
}

export function bool(description: string, o: Extra = {}): TUnsafe<boolean> {
  return Type.Unsafe<boolean>({ type: 'boolean', description, ...o });
}

export function enumOf<const V extends readonly string[]>(
  values: V,
  description: string,
  o: Extra = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...o });
}

export function strMap(description: string): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' }, description });
}

export function strList(description: string, items: Extra = {}, o: Extra = {}): TUnsafe<string[]> {
  return Type.Unsafe<string[]>({ type: 'array', items: { type: 'string', ...items }, description, ...o });
}

export function list<T extends TSchema>(items: T, description: string, o: Extra = {}): TArray<T> {
  return Type.Array(items, { description, ...o });
}

export function obj<P extends TProperties>(
  properties: P,
  description: string,
  o: Omit<Extra, 'additionalProperties'> & { rules?: ValidationRule[] } = {},
): TObject<P> {
  const { rules, ...rest } = o;
  const options: ObjectOptions = { description, ...rest };
  if (rules?.length) options['x-kubernetes-validations'] = rules;
  return Type.Object(properties, options);
}

/** A resource quantity ("10Gi", "500m", 2). */
export function quantity(description: string): TUnsafe<number | string> {
  return Type.Unsafe<number | string>(quantitySchema(description));
}

export function quantityMap(description: string): TUnsafe<Record<string, number | string>> {
  return Type.Unsafe<Record<string, number | string>>({
    type: 'object',
    additionalProperties: quantitySchema(),
    description,
  });
}

/** An object whose fields are not checked (kept as given). */
export function freeform(description: string, o: Extra = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    description,
    ...o,
  });
}

/**
 * An embedded Kubernetes type, e.g. `k8s<V1Affinity>('V1Affinity', 'Scheduling affinity of the pods.')`.
 * Its schema comes from Kubernetes' OpenAPI through @kubernetes/client-node (see k8s/schemas.ts).
 */
export function k8s<T>(model: string, description: string, o: Extra = {}): TUnsafe<Wire<T>> {
  return Type.Unsafe<Wire<T>>({ ...k8sSchema(model), description, ...o });
}

export function k8sList<T>(model: string, description: string, o: Extra = {}): TUnsafe<Wire<T>[]> {
  const items = k8sSchema(model);
  return Type.Unsafe<Wire<T>[]>({ type: 'array', items, description, ...o });
}

export function rule(rule: string, message: string, extra: Omit<ValidationRule, 'rule' | 'message'> = {}): ValidationRule {
  return { rule, message, ...extra };
}

/** Deep copy of a schema as plain JSON (no TypeBox symbols), with properties sorted by name. */
export function toPlain(schema: TSchema | JSONSchemaProps): JSONSchemaProps {
  return sortSchema(JSON.parse(JSON.stringify(schema)) as JSONSchemaProps);
}

function sortSchema(s: JSONSchemaProps): JSONSchemaProps {
  if (s.properties) {
    const sorted: Record<string, JSONSchemaProps> = {};
    for (const k of Object.keys(s.properties).sort()) sorted[k] = sortSchema(s.properties[k]!);
    s.properties = sorted;
  }
  if (s.required) s.required = [...s.required].sort();
  if (s.items) s.items = sortSchema(s.items);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    s.additionalProperties = sortSchema(s.additionalProperties);
  }
  for (const k of ['anyOf', 'allOf', 'oneOf'] as const) if (s[k]) s[k] = s[k]!.map(sortSchema);
  return s;
}
