/**
 * Merging one list of a strategic merge patch whose field has the `merge` strategy (or that a
 * `$deleteFromPrimitiveList` directive names).
 *
 * Primitive lists are merged as sets, or have values removed for `$deleteFromPrimitiveList`.
 * Lists of objects first apply the patch's `$patch` items (`delete` by merge key, `replace` of the
 * whole list), then merge each other patch item into the live item with the same merge key value
 * or append it. The result is arranged as strategic-order.ts describes.
 */
import { PatchError, unprocessable } from './errors.js';
import { type JsonKind, type JsonObject, type JsonValue, goFormat, hasKey, kindOf } from './json-value.js';
import type { PatchSchema } from './patch-schema.js';
import { arrangeMerged, noMergeKey } from './strategic-order.js';
import { PATCH_DIRECTIVE, decoded } from './strategic-values.js';

export type MergeObject = (live: JsonObject, patch: JsonObject, schema: PatchSchema) => JsonObject;

/**
 * The live list as kube-apiserver's `$setElementOrder` step sees it after the merge.
 *
 * In Go a slice shares its backing array, and the server's merge code deletes list items in place
 * and appends through the same slice. The `$setElementOrder` step then reads the live list
 * through the slice it had before merging, of the old length, which by then shows the remaining
 * items shifted forward and new items written into the room deletions freed. Where live-only
 * items land depends on that view, so it is kept here. (Room past the old length, if the live
 * list had spare capacity, is never seen through the old slice, so capacity does not matter.)
 */
export class LiveListView {
  readonly cells: JsonValue[];
  private length: number;
  private detached = false;

  constructor(live: readonly JsonValue[]) {
    this.cells = [...live];
    this.length = live.length;
  }

  removeAt(index: number): void {
    if (this.detached) return;
    this.cells.copyWithin(index, index + 1, this.length);
    this.length--;
  }

  append(value: JsonValue): void {
    if (this.detached) return;
    if (this.length < this.cells.length) this.cells[this.length++] = value;
    // A full slice is copied to a new array on append; later writes no longer show.
    else this.detached = true;
  }

  detach(): void {
    this.detached = true;
  }
}

/** The one kind all items of the lists share; undefined when they are all empty. */
export function elementKind(...lists: JsonValue[][]): JsonKind | undefined {
  let kind: JsonKind | undefined;
  for (const list of lists) {
    for (const item of list) {
      const k = kindOf(item);
      if (kind === undefined) {
        if (k === 'array') throw unprocessable('lists of lists are not supported');
        kind = k;
      } else if (k !== kind) {
        throw new PatchError(`list element types are not identical: ${goFormat(lists)}`, 500);
      }
    }
  }
  return kind;
}

export function mergeList(
  live: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
  itemSchema: PatchSchema,
  deletion: boolean,
  mergeObject: MergeObject,
  view?: LiveListView,
): JsonValue[] {
  if (live.length === 0 && patch.length === 0) return live;
  const kind = elementKind(live, patch);
  if (kind !== 'object') {
    view?.detach();
    if (deletion) return live.filter((item) => !patch.includes(item));
    const merged = [...new Set([...live, ...patch])];
    return arrangeMerged(merged, patch, live, undefined);
  }
  if (!mergeKey) throw new PatchError(`cannot merge lists without merge key for ${itemSchema.name}`, 500);
  const { base, items } = listDirectives(live as JsonObject[], patch as JsonObject[], mergeKey, view);
  const merged = mergeByKey(base, items, mergeKey, itemSchema, mergeObject, view);
  return arrangeMerged(merged, items, base, mergeKey);
}

/**
 * Applies the `$patch` items of a patch list: `delete` removes the live items with that merge key
 * value, `replace` makes the patch's other items the whole list. Returns the live items left to
 * merge into and the patch items to merge.
 */
function listDirectives(
  live: JsonObject[],
  patch: JsonObject[],
  mergeKey: string,
  view: LiveListView | undefined,
): { base: JsonObject[]; items: JsonObject[] } {
  const base = [...live];
  let replace = false;
  const items: JsonObject[] = [];
  for (const item of patch) {
    if (!hasKey(item, PATCH_DIRECTIVE)) {
      items.push(item);
      continue;
    }
    const directive = item[PATCH_DIRECTIVE];
    if (directive === 'delete') {
      if (!hasKey(item, mergeKey)) throw noMergeKey(item, mergeKey);
      const gone = item[mergeKey];
      for (let at = base.findIndex((e) => e[mergeKey] === gone); at >= 0; at = base.findIndex((e) => e[mergeKey] === gone)) {
        base.splice(at, 1);
        view?.removeAt(at);
      }
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new PatchError('merging lists cannot yet be specified in the patch', 500);
    } else {
      throw new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`, 500);
    }
  }
  if (replace) {
    view?.detach();
    return { base: items.map((item) => decoded(item) as JsonObject), items: [] };
  }
  return { base, items };
}

/** Merges each patch item into the live item with the same merge key value, or appends it. */
function mergeByKey(
  base: JsonObject[],
  items: JsonObject[],
  mergeKey: string,
  itemSchema: PatchSchema,
  mergeObject: MergeObject,
  view: LiveListView | undefined,
): JsonObject[] {
  const out = [...base];
  for (const item of items) {
    if (!hasKey(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const at = out.findIndex((entry) => entry[mergeKey] === item[mergeKey]);
    if (at >= 0) {
      out[at] = mergeObject(out[at]!, item, itemSchema);
    } else {
      const appended = decoded(item) as JsonObject;
      out.push(appended);
      view?.append(appended);
    }
  }
  return out;
}
