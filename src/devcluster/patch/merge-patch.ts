/**
 * JSON merge patch (RFC 7396), `application/merge-patch+json`: objects merge key by key, `null`
 * deletes a key, anything else (arrays included) replaces the value it lands on.
 *
 * Two details follow the library kube-apiserver uses rather than the bare RFC: `null`s are pruned
 * from objects nested anywhere in a newly added value (inside arrays too), and a patch that is
 * not a JSON object is refused with 400 "Invalid JSON Patch".
 */
import { PatchError } from './errors.js';
import { type JsonObject, type JsonValue, cloneJson, hasKey, isJsonObject, setKey } from './json-value.js';

export function applyMergePatch(original: JsonObject, patch: unknown): JsonObject {
  if (!isJsonObject(patch)) throw new PatchError('Invalid JSON Patch', 400);
  return mergeInto(cloneJson(original), cloneJson(patch));
}

/** Merges `patch` into `target` (both working copies) and returns `target`. */
function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = hasKey(target, key) ? target[key] : null;
    setKey(target, key, mergeValue(current ?? null, value));
  }
  return target;
}

function mergeValue(current: JsonValue, value: JsonValue): JsonValue {
  // Nothing to merge with: the patch value is taken, less its nulls.
  if (!isJsonObject(current)) return withoutNulls(value);
  // An object replaced by a non-object: taken as it is.
  if (!isJsonObject(value)) return value;
  return mergeInto(current, value);
}

/** Drops null-valued keys from every object in `value`; null array items stay. */
function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null) withoutNulls(item);
  } else if (isJsonObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (v === null) delete value[key];
      else withoutNulls(v);
    }
  }
  return value;
}
