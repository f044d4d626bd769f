/**
 * PATCH semantics of the embedded control plane, as a pure library: which patch a Content-Type
 * names, and applying JSON patch, JSON merge patch and strategic merge patch to a stored object
 * the way kube-apiserver does, failing with the codes and messages it fails with.
 *
 * Server-side apply (`application/apply-patch+yaml`) is recognised by `patchTypeOf` but applied
 * elsewhere: it needs managed fields, not just the two documents.
 */
import { PATCH_CONTENT_TYPES, PatchError, unsupportedPatchType } from './errors.js';
import { applyJsonPatch } from './json-patch.js';
import { type JsonObject, cloneJson, isJsonObject, jsonTypeWord } from './json-value.js';
import { applyMergePatch } from './merge-patch.js';
import { modelPatchSchema } from './patch-schema.js';
import { strategicMerge } from './strategic.js';

export { PatchError, UNPROCESSABLE_MESSAGE, unsupportedPatchType, PATCH_CONTENT_TYPES } from './errors.js';
export type { FieldPatchStrategy } from './patch-strategies.js';
export { PATCH_STRATEGIES } from './patch-strategies.js';
export type { PatchSchema, FieldPatchInfo } from './patch-schema.js';
export { modelPatchSchema, OPEN_SCHEMA } from './patch-schema.js';

export type PatchType = 'json' | 'merge' | 'strategic';

const BY_CONTENT_TYPE: ReadonlyMap<string, PatchType | 'apply'> = new Map([
  [PATCH_CONTENT_TYPES.json, 'json'],
  [PATCH_CONTENT_TYPES.merge, 'merge'],
  [PATCH_CONTENT_TYPES.strategic, 'strategic'],
  [PATCH_CONTENT_TYPES.apply, 'apply'],
]);

/**
 * The patch a request's Content-Type names, or undefined for any other (the server answers those
 * with `unsupportedPatchType`). Parameters after `;` are ignored; like kube-apiserver, the media
 * type itself must match exactly (no case folding, no surrounding spaces).
 */
export function patchTypeOf(contentType: string): PatchType | 'apply' | undefined {
  const semicolon = contentType.indexOf(';');
  const mediaType = semicolon > 0 ? contentType.slice(0, semicolon) : contentType;
  return BY_CONTENT_TYPE.get(mediaType);
}

export interface PatchTarget {
  /** The client-node model of a built-in kind (`V1Deployment`); undefined for a custom resource. */
  model?: string;
}

/**
 * Applies `patch` (the parsed request body) to `original`, which is not modified, and returns
 * the patched object. Throws PatchError with kube-apiserver's code and message when the patch
 * cannot be applied.
 */
export function applyPatch(
  type: PatchType,
  original: Record<string, unknown>,
  patch: unknown,
  target: PatchTarget,
): Record<string, unknown> {
  const doc = original as JsonObject;
  switch (type) {
    case 'json':
      return applyJsonPatch(doc, patch);
    case 'merge':
      return applyMergePatch(doc, patch);
    case 'strategic': {
      if (target.model === undefined) throw unsupportedPatchType(true);
      const schema = modelPatchSchema(target.model);
      // A body of `null` decodes to an empty patch.
      if (patch === null || patch === undefined) return cloneJson(doc);
      if (!isJsonObject(patch)) {
        throw new PatchError(
          `json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`,
          400,
        );
      }
      return strategicMerge(doc, patch, schema);
    }
    default: {
      const unknown: never = type;
      throw new PatchError(`${String(unknown)}: unimplemented patch type`, 500);
    }
  }
}
