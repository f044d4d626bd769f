/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) as kube-apiserver applies it
 * to built-in kinds.
 *
 * Objects merge key by key and `null` deletes a key. A list merges only when its field has the
 * `merge` strategy (strategic-list.ts); every other list is replaced by the patch's. Directives:
 *
 * - `$patch: replace` in an object: the object becomes the patch's (less the directive);
 *   `$patch: delete`: the object becomes empty. As a list item: `replace` makes the list exactly
 *   the patch's other items, `delete` removes the live item with that merge key value.
 * - `$retainKeys: [..]`: keys of the live object not listed are dropped (a patch key not listed
 *   is an error).
 * - `$deleteFromPrimitiveList/<field>: [..]`: those values are removed from a primitive list.
 * - `$setElementOrder/<field>: [..]`: the order of the merged list (strategic-order.ts).
 */
import { PatchError } from './errors.js';
import { type JsonObject, type JsonValue, cloneJson, goFormat, goTypeName, hasKey, isJsonObject, kindOf, setKey } from './json-value.js';
import type { PatchSchema } from './patch-schema.js';
import type { FieldPatchStrategy } from './patch-strategies.js';
import { LiveListView, elementKind, mergeList } from './strategic-list.js';
import { arrangeMerged, checkElementOrder } from './strategic-order.js';
import {
  DELETE_FROM_PRIMITIVE_LIST,
  PATCH_DIRECTIVE,
  RETAIN_KEYS,
  SET_ELEMENT_ORDER,
  added,
  decoded,
} from './strategic-values.js';

/** Applies `patch` to `original` (neither is modified) and returns the patched object. */
export function strategicMerge(original: JsonObject, patch: JsonObject, schema: PatchSchema): JsonObject {
  return mergeObject(cloneJson(original), cloneJson(patch), schema);
}

/** The field a `$setElementOrder/<field>` or `$deleteFromPrimitiveList/<field>` key is about. */
function directiveField(key: string, prefix: string, badFormat: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new PatchError(badFormat, 400);
  return key.slice(slash + 1);
}

/** Merges `patch` into `live`; both are working copies that may be modified. */
function mergeObject(live: JsonObject, patch: JsonObject, schema: PatchSchema): JsonObject {
  if (hasKey(patch, PATCH_DIRECTIVE)) {
    const directive = patch[PATCH_DIRECTIVE];
    if (directive === 'replace') return decoded(patch) as JsonObject;
    if (directive === 'delete') return {};
    throw new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`, 500);
  }
  retainKeys(live, patch);
  applyElementOrders(live, patch, schema);

  for (const [patchKey, value] of Object.entries(patch)) {
    const deletion = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    const key = deletion
      ? directiveField(patchKey, DELETE_FROM_PRIMITIVE_LIST, 'invalid patch format of primitive list')
      : patchKey;

    if (value === null) {
      delete live[key];
      continue;
    }
    const current = hasKey(live, key) ? live[key]! : undefined;
    if (current === undefined || kindOf(current) !== kindOf(value)) {
      // Nothing to merge with: the patch value is taken (a deletion list has nothing to delete).
      if (deletion) continue;
      const kept = added(value);
      if (kept === undefined) delete live[key];
      else setKey(live, key, kept);
      continue;
    }
    const field = schema.lookup(key);
    if (isJsonObject(current) && isJsonObject(value)) {
      const replace = field.strategy.strategy === 'replace';
      setKey(live, key, replace ? decoded(value) : mergeObject(current, value, field.schema));
    } else if (Array.isArray(current) && Array.isArray(value)) {
      setKey(live, key, mergeListField(current, value, field.strategy, field.schema, deletion));
    } else {
      setKey(live, key, value);
    }
  }
  return live;
}

function mergeListField(
  live: JsonValue[],
  patch: JsonValue[],
  strategy: FieldPatchStrategy,
  itemSchema: PatchSchema,
  deletion: boolean,
  view?: LiveListView,
): JsonValue[] {
  if (strategy.strategy === 'merge' || deletion) {
    return mergeList(live, patch, strategy.mergeKey ?? '', itemSchema, deletion, mergeObject, view);
  }
  return patch.map(decoded);
}

/** `$retainKeys`: keeps only the listed keys of the live object. */
function retainKeys(live: JsonObject, patch: JsonObject): void {
  if (!hasKey(patch, RETAIN_KEYS)) return;
  const listed = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  const bad = new PatchError('invalid patch format of retainKeys', 400);
  if (!Array.isArray(listed)) throw bad;
  const keep = new Set<JsonValue>(listed);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(key)) throw bad;
  }
  for (const key of Object.keys(live)) if (!keep.has(key)) delete live[key];
}

function asList(value: JsonValue | undefined): JsonValue[] | undefined {
  if (value === undefined || Array.isArray(value)) return value;
  throw new PatchError(`expected a []interface {}, but received a ${goTypeName(value)}`, 500);
}

/** `$setElementOrder/<field>`: merges that field's list now and puts it in the order given. */
function applyElementOrders(live: JsonObject, patch: JsonObject, schema: PatchSchema): void {
  for (const orderKey of Object.keys(patch)) {
    if (!orderKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = asList(patch[orderKey])!;
    delete patch[orderKey];
    const key = directiveField(orderKey, SET_ELEMENT_ORDER, 'invalid patch format of setElementOrder list');
    const liveList = asList(hasKey(live, key) ? live[key] : undefined);
    const patchList = asList(hasKey(patch, key) ? patch[key] : undefined);
    const field = schema.lookup(key);
    const mergeKey = field.strategy.mergeKey ? field.strategy.mergeKey : undefined;
    checkElementOrder(patchList ?? [], order, mergeKey);

    let merged: JsonValue[];
    const view = new LiveListView(liveList ?? []);
    if (liveList && patchList) merged = mergeListField(liveList, patchList, field.strategy, field.schema, false, view);
    else if (liveList) merged = liveList;
    else if (patchList) merged = added(patchList) as JsonValue[];
    else continue;

    if (elementKind(liveList ?? [], patchList ?? []) === undefined) {
      throw new PatchError('no elements in any of the given slices', 500);
    }
    setKey(live, key, arrangeMerged(merged, order, view.cells, mergeKey));
    delete patch[key];
  }
}
