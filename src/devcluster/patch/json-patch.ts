/**
 * JSON patch (RFC 6902), `application/json-patch+json`, applied with `fast-json-patch` and made to
 * answer as kube-apiserver does:
 *
 * - a body that is not an array of objects is a 400 with the Go decoder's message, a body of
 *   `null` is an empty patch, and more than 10000 operations is a 413;
 * - every operation that cannot be applied (a failed `test`, a path that does not exist, an index
 *   out of range, an unknown `op`) is a 422 with the server's generic message;
 * - `test` of a missing or null value against `null` succeeds, and negative array indices count
 *   from the end (`/spec/containers/-1` is the last container), as in the server's library.
 */
import jsonPatchLib from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { isDeepStrictEqual } from 'node:util';
import { PatchError, unprocessable } from './errors.js';
import { type JsonObject, type JsonValue, cloneJson, hasKey, isJsonObject, jsonTypeWord } from './json-value.js';

/** kube-apiserver's limit on the operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function applyJsonPatch(original: JsonObject, patch: unknown): JsonObject {
  const ops = decodeOperations(patch);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError(
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
      413,
    );
  }
  let doc: JsonValue = cloneJson(original);
  for (const op of ops) doc = applyOperation(doc, op);
  if (!isJsonObject(doc)) throw unprocessable('the patched document is not a JSON object');
  return doc;
}

function decodeOperations(patch: unknown): JsonObject[] {
  if (patch === null || patch === undefined) return [];
  if (!Array.isArray(patch)) {
    throw new PatchError(`json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type jsonpatch.Patch`, 400);
  }
  return patch.map((op: unknown) => {
    if (op === null) return {};
    if (!isJsonObject(op)) {
      throw new PatchError(`json: cannot unmarshal ${jsonTypeWord(op)} into Go value of type jsonpatch.Operation`, 400);
    }
    return op;
  });
}

function applyOperation(doc: JsonValue, op: JsonObject): JsonValue {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  if (!OPS.has(kind)) throw unprocessable(`Unexpected kind: ${kind}`);
  if (typeof op.path !== 'string') throw unprocessable(`${kind} operation failed to decode path: missing value`);
  if (kind === 'test') {
    runTest(doc, op.path, hasKey(op, 'value') ? op.value! : null);
    return doc;
  }
  const operation: Record<string, unknown> = { op: kind, path: absoluteIndices(doc, op.path, kind === 'add') };
  if (kind === 'move' || kind === 'copy') {
    if (typeof op.from !== 'string') throw unprocessable(`${kind} operation failed to decode from: missing value`);
    operation.from = absoluteIndices(doc, op.from, false);
  }
  // The server's library stores an absent value as null.
  // The value is copied so that later operations never write into the caller's patch.
  if (kind === 'add' || kind === 'replace') operation.value = hasKey(op, 'value') ? cloneJson(op.value!) : null;
  try {
    return jsonPatchLib.applyOperation(doc, operation as unknown as Operation, true, true).newDocument as JsonValue;
  } catch (err) {
    throw unprocessable(err instanceof Error ? err.message : String(err));
  }
}

function decodeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Where a path leads: its parent container and last key, or undefined if a step is missing. */
function resolveParent(doc: JsonValue, path: string): { parent: JsonValue; key: string } | undefined {
  const tokens = path.split('/').slice(1).map(decodeToken);
  let parent: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    const next = child(parent, token);
    if (next === undefined) return undefined;
    parent = next;
  }
  return { parent, key: tokens[tokens.length - 1]! };
}

function arrayIndex(arr: JsonValue[], token: string, extra = 0): number | undefined {
  if (!/^-?\d+$/.test(token)) return undefined;
  let idx = Number(token);
  if (idx < 0) idx += arr.length + extra;
  return idx >= 0 && idx < arr.length + extra ? idx : undefined;
}

function child(container: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(container)) {
    const idx = arrayIndex(container, token);
    return idx === undefined ? undefined : container[idx];
  }
  if (isJsonObject(container)) return hasKey(container, token) ? container[token] : undefined;
  return undefined;
}

/** `test` as the server's library does it: a missing or null value equals only `null`. */
function runTest(doc: JsonValue, path: string, expected: JsonValue): void {
  let actual: JsonValue | undefined;
  if (path === '') {
    actual = doc;
  } else {
    const at = resolveParent(doc, path);
    if (!at) throw unprocessable(`test operation does not apply: is missing path: ${path}`);
    if (Array.isArray(at.parent)) {
      const idx = arrayIndex(at.parent, at.key);
      if (idx === undefined) throw unprocessable(`error in test for path: '${path}': invalid index referenced`);
      actual = at.parent[idx];
    } else {
      actual = isJsonObject(at.parent) && hasKey(at.parent, at.key) ? at.parent[at.key] : undefined;
    }
  }
  const missing = actual === undefined || actual === null;
  if (missing ? expected === null : expected !== null && isDeepStrictEqual(actual, expected)) return;
  throw unprocessable(`testing value ${path} failed: test failed`);
}

/**
 * Rewrites negative array indices in `path` as the equivalent non-negative ones, so that
 * fast-json-patch (which does not know them) finds the element. For `add` the last index counts
 * from the end of the list as it will be after the insertion.
 */
function absoluteIndices(doc: JsonValue, path: string, forAdd: boolean): string {
  if (!/\/-\d/.test(path)) return path;
  const raw = path.split('/');
  let node: JsonValue | undefined = doc;
  for (let i = 1; i < raw.length && node !== undefined; i++) {
    const token = raw[i]!;
    const last = i === raw.length - 1;
    if (Array.isArray(node) && /^-\d+$/.test(token)) {
      const idx = arrayIndex(node, token, forAdd && last ? 1 : 0);
      if (idx !== undefined) raw[i] = String(idx);
    }
    node = last ? undefined : child(node, decodeToken(raw[i]!));
  }
  return raw.join('/');
}
