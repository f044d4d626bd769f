/**
 * What kube-apiserver does to a custom resource before validating it, in its order:
 * unknown fields are pruned (and reported, for strict field validation), null values of fields
 * that are not nullable are dropped, and schema defaults are applied.
 */
import { k8sSchema, type JSONSchemaProps } from '../k8s/schemas.js';
import { childPath } from './field-errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let objectMetaSchema: JSONSchemaProps | undefined;
function metadataSchema(): JSONSchemaProps {
  objectMetaSchema ??= k8sSchema('V1ObjectMeta');
  return objectMetaSchema;
}

/** Prunes unknown fields in place; returns the paths it removed. */
export function prune(value: unknown, schema: JSONSchemaProps, path = '', isRoot = true): string[] {
  const unknown: string[] = [];
  walkPrune(value, schema, path, isRoot, unknown);
  return unknown;
}

function walkPrune(value: unknown, schema: JSONSchemaProps, path: string, isRoot: boolean, unknown: string[]): void {
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walkPrune(item, schema.items!, childPath(path, i), false, unknown));
    return;
  }
  if (!isPlainObject(value)) return;
  const props = schema.properties;
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (isRoot && (key === 'apiVersion' || key === 'kind')) continue;
    if (isRoot && key === 'metadata') {
      walkPrune(child, metadataSchema(), 'metadata', false, unknown);
      continue;
    }
    const propSchema = props?.[key];
    if (propSchema) {
      walkPrune(child, propSchema, childPath(path, key), false, unknown);
    } else if (additional && typeof additional === 'object') {
      walkPrune(child, additional, childPath(path, key, true), false, unknown);
    } else if (!preserve && additional !== true) {
      unknown.push(childPath(path, key));
      delete value[key];
    }
  }
}

/** Drops nulls of non-nullable fields and applies defaults, in place. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  if (schema.properties) {
    for (const [key, propSchema] of Object.entries(schema.properties)) {
      if (value[key] === null && !propSchema.nullable) delete value[key];
      if (value[key] === undefined && propSchema.default !== undefined) {
        value[key] = structuredClone(propSchema.default as Json);
      }
      if (value[key] !== undefined) applyDefaults(value[key], propSchema);
    }
  }
  const additional = schema.additionalProperties;
  if (additional && typeof additional === 'object') {
    for (const key of Object.keys(value)) {
      if (schema.properties?.[key]) continue;
      if (value[key] === null && !additional.nullable) delete value[key];
      else applyDefaults(value[key], additional);
    }
  }
}
