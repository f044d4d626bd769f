/**
 * The directive keys of a strategic merge patch, and how a value taken from a patch looks once
 * kube-apiserver has decoded the result into its Go structs: fields set to `null` are gone, and
 * so are directive keys (they are no fields of any built-in type).
 */
import { type JsonObject, type JsonValue, hasKey, isJsonObject, setKey } from './json-value.js';

export const PATCH_DIRECTIVE = '$patch';
export const RETAIN_KEYS = '$retainKeys';
export const SET_ELEMENT_ORDER = '$setElementOrder';
export const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

function isDirectiveKey(key: string): boolean {
  return (
    key === PATCH_DIRECTIVE ||
    key === RETAIN_KEYS ||
    key.startsWith(SET_ELEMENT_ORDER) ||
    key.startsWith(DELETE_FROM_PRIMITIVE_LIST)
  );
}

/** A patch value taken whole (a replaced list, an appended item): no null fields, no directives. */
export function decoded(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(decoded);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && !isDirectiveKey(key)) setKey(out, key, decoded(v));
  }
  return out;
}

/**
 * A patch value for a field the live object lacks: as `decoded`, and besides, objects carrying a
 * `$patch` directive (at any depth) are left out altogether, as the server does. Undefined when
 * the value itself is left out.
 */
export function added(value: JsonValue): JsonValue | undefined {
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const item of value) {
      const kept = added(item);
      if (kept !== undefined) out.push(kept);
    }
    return out;
  }
  if (!isJsonObject(value)) return value;
  if (hasKey(value, PATCH_DIRECTIVE)) return undefined;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || isDirectiveKey(key)) continue;
    const kept = added(v);
    if (kept !== undefined) setKey(out, key, kept);
  }
  return out;
}
