/**
 * The order of a merged list after a strategic merge patch, as kube-apiserver arranges it.
 *
 * The items the patch names (in the patch list, or in a `$setElementOrder/<field>` list) come in
 * the patch's order; the items only the live object has keep their live order; and the two runs
 * are interleaved so that a live-only item stays in front of a patch item it preceded in the live
 * list. A patch item the live list did not have goes before the live-only items still waiting,
 * which is why adding `c` to finalizers `[a, b]` without `$setElementOrder` gives `[c, a, b]`.
 *
 * Items are identified by their merge key value (lists of objects) or by value (primitives).
 */
import { PatchError } from './errors.js';
import { type JsonObject, type JsonValue, goFormat, goTypeName, hasKey, isJsonObject } from './json-value.js';

export function noMergeKey(item: JsonObject, mergeKey: string): PatchError {
  return new PatchError(`map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}`, 500);
}

export function notAnObject(value: JsonValue): PatchError {
  return new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(value)}`, 500);
}

/** The identity of a list item: its merge key value, or the item itself for primitives. */
function identity(item: JsonValue, mergeKey: string | undefined): JsonValue | undefined {
  if (mergeKey === undefined) return item;
  return isJsonObject(item) ? item[mergeKey] : undefined;
}

function positionIn(list: readonly JsonValue[], item: JsonValue, mergeKey: string | undefined): number {
  const id = identity(item, mergeKey);
  return list.findIndex((entry) => identity(entry, mergeKey) === id);
}

function requireMergeKeys(mergeKey: string, ...lists: (readonly JsonValue[])[]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw notAnObject(item);
      if (!hasKey(item, mergeKey)) throw noMergeKey(item, mergeKey);
    }
  }
}

/** Sorts `items` by their place in `order`; items `order` lacks keep their relative order at the end. */
function sortByOrder(items: JsonValue[], order: readonly JsonValue[], mergeKey: string | undefined): JsonValue[] {
  const rank = (item: JsonValue): number => {
    const at = positionIn(order, item, mergeKey);
    return at < 0 ? Number.MAX_SAFE_INTEGER : at;
  };
  return items
    .map((item, i) => ({ item, i, r: rank(item) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.item);
}

/**
 * Arranges `merged` (the list after merging): `patchOrder` is the patch list or the
 * `$setElementOrder` list, `liveOrder` the list as it was. `mergeKey` is undefined for primitives.
 */
export function arrangeMerged(
  merged: readonly JsonValue[],
  patchOrder: readonly JsonValue[],
  liveOrder: readonly JsonValue[],
  mergeKey: string | undefined,
): JsonValue[] {
  if (mergeKey !== undefined) requireMergeKeys(mergeKey, merged, patchOrder);
  const named: JsonValue[] = [];
  const liveOnly: JsonValue[] = [];
  for (const item of merged) (positionIn(patchOrder, item, mergeKey) >= 0 ? named : liveOnly).push(item);
  if (mergeKey !== undefined) requireMergeKeys(mergeKey, liveOrder);
  const fromPatch = sortByOrder(named, patchOrder, mergeKey);
  const fromLive = sortByOrder(liveOnly, liveOrder, mergeKey);

  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < fromLive.length || j < fromPatch.length) {
    if (j >= fromPatch.length) {
      out.push(fromLive[i++]!);
    } else if (i >= fromLive.length) {
      out.push(fromPatch[j++]!);
    } else {
      const livePos = positionIn(liveOrder, fromLive[i]!, mergeKey);
      const patchPos = positionIn(liveOrder, fromPatch[j]!, mergeKey);
      if (livePos >= 0 && patchPos >= 0 && livePos < patchPos) out.push(fromLive[i++]!);
      else out.push(fromPatch[j++]!);
    }
  }
  return out;
}

function sameItem(a: JsonValue, b: JsonValue, mergeKey: string | undefined): boolean {
  if (mergeKey === undefined) return a === b;
  if (!isJsonObject(a)) throw notAnObject(a);
  if (!isJsonObject(b)) throw notAnObject(b);
  if (!hasKey(a, mergeKey)) throw noMergeKey(a, mergeKey);
  if (!hasKey(b, mergeKey)) throw noMergeKey(b, mergeKey);
  return a[mergeKey] === b[mergeKey];
}

/**
 * A `$setElementOrder` list must name every item of the patch list (deletions aside) in the same
 * relative order; the server refuses the patch otherwise.
 */
export function checkElementOrder(
  patchList: readonly JsonValue[],
  order: readonly JsonValue[],
  mergeKey: string | undefined,
): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey !== undefined) {
    for (const item of patchList) if (!isJsonObject(item)) throw notAnObject(item);
    items = patchList.filter((item) => !(isJsonObject(item) && item.$patch === 'delete'));
  }
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    const item = items[p]!;
    if (isJsonObject(item) && hasKey(item, '$patch')) {
      p++;
      continue;
    }
    if (sameItem(item, order[o]!, mergeKey)) p++;
    o++;
  }
  if (p < items.length) {
    throw new PatchError(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match $setElementOrder list:\n${goFormat(order)}\n`,
      500,
    );
  }
}
