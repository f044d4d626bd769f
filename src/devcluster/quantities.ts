/**
 * kube-apiserver stores a built-in object's resource quantities in canonical form: `8` is served
 * back as "8", "0.5" as "500m", "2048Mi" as "2Gi". Applied to built-in kinds on every write, guided
 * by the schema (the quantity fields are the int-or-string ones with the quantity pattern).
 */
import { canonicalQuantity } from '../api/k8s/quantity.js';
import { QUANTITY_PATTERN } from '../api/k8s/k8s-markers.js';
import type { JSONSchemaProps } from '../api/schema.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function canonical(v: unknown): unknown {
  if (typeof v !== 'number' && typeof v !== 'string') return v;
  try {
    return canonicalQuantity(v);
  } catch {
    return v; // not a quantity: validation reports it
  }
}

/** Rewrites, in place, every quantity `value` holds where `schema` says a quantity is. */
export function canonicalizeQuantities(value: unknown, schema: JSONSchemaProps | undefined): unknown {
  if (!schema) return value;
  if (schema['x-kubernetes-int-or-string'] && schema.pattern === QUANTITY_PATTERN) return canonical(value);
  if (Array.isArray(value)) {
    if (schema.items && !Array.isArray(schema.items)) for (let i = 0; i < value.length; i++) value[i] = canonicalizeQuantities(value[i], schema.items as JSONSchemaProps);
    return value;
  }
  if (!isObj(value)) return value;
  for (const [k, v] of Object.entries(value)) {
    const sub = schema.properties?.[k] ?? (isObj(schema.additionalProperties) ? (schema.additionalProperties as JSONSchemaProps) : undefined);
    if (sub) value[k] = canonicalizeQuantities(v, sub);
  }
  return value;
}
