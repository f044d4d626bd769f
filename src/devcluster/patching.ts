/**
 * PATCH requests: JSON, merge and strategic merge patches (src/devcluster/patch) and server-side
 * apply (src/devcluster/apply), on the main resource, /status and /scale; and managed-fields
 * tracking for every other write.
 */
import { ApplyConflictError, ApplyInvalidError, apply, recordUpdate } from './apply/index.js';
import { fieldError } from '../api/validation/index.js';
import { ApiError, badRequest, conflict, invalid, STALE } from './errors.js';
import { nowRFC3339, type WriteOptions, type WriteResult } from './objects.js';
import { PatchError, applyPatch, patchTypeOf, unsupportedPatchType } from './patch/index.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { managerOf, parseBody, scaleOf, type ControlPlane, type RequestContext } from './server.js';
import { resourceKey } from './objects.js';
import { writeScale } from './scale.js';
import type { Obj } from './store.js';

function toApiError(e: unknown): never {
  if (e instanceof PatchError) {
    const reason = e.reason || 'InternalError';
    throw new ApiError(e.code, reason, e.message);
  }
  if (e instanceof ApplyConflictError) {
    throw new ApiError(409, 'Conflict', e.message, { causes: e.causes });
  }
  if (e instanceof ApplyInvalidError) throw new ApiError(422, 'Invalid', e.message);
  throw e;
}

/** Installs managed-fields tracking on the control plane's writes. */
export function trackManagedFields(cp: ControlPlane): void {
  cp.objects.hooks.beforeStore = (t, before, after, opts) => {
    if (opts.applied) return after;
    return recordUpdate(before, after, {
      manager: opts.fieldManager ?? 'unknown',
      schema: t.schema(),
      apiVersion: apiVersionOf(t),
      now: nowRFC3339(),
      statusSubresource: t.status,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    });
  };
}

export function handlePatch(
  cp: ControlPlane,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  sub: string | undefined,
  text: string,
  ctx: RequestContext,
  opts: WriteOptions,
): WriteResult {
  const type = patchTypeOf(ctx.contentType);
  if (!type) toApiError(unsupportedPatchType(t.model === undefined));
  if (type === 'strategic' && !t.model) toApiError(unsupportedPatchType(true));
  if (type === 'apply') return serverSideApply(cp, t, namespace, name, sub, text, ctx, opts);
  const existing = cp.objects.get(t, namespace, name);
  const patch = parseBody(text, 'application/json');
  const base = sub === 'scale' ? scaleOf(t, existing) : existing;
  let patched: Obj;
  try {
    patched = applyPatch(type, base, patch ?? {}, t.model ? { model: sub === 'scale' ? 'V1Scale' : t.model } : {}) as Obj;
  } catch (e) {
    toApiError(e);
  }
  if (sub === 'scale') return writeScale(cp.objects, t, existing, patched, { ...opts, fieldManager: managerOf(ctx) });
  const rv = patched.metadata?.resourceVersion;
  if (rv && rv !== existing.metadata.resourceVersion) throw conflict(t.plural, t.group, name, STALE);
  return cp.objects.replace(t, existing, patched, opts);
}

function serverSideApply(
  cp: ControlPlane,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  sub: string | undefined,
  text: string,
  ctx: RequestContext,
  opts: WriteOptions,
): WriteResult {
  const manager = ctx.query.get('fieldManager');
  if (!manager) throw badRequest('PATCH with apply must specify a fieldManager');
  if (sub === 'scale') throw new ApiError(415, 'UnsupportedMediaType', 'apply is not supported on the scale subresource');
  const applied = parseBody(text, 'application/apply-patch+yaml');
  if (!applied || typeof applied !== 'object' || Array.isArray(applied)) throw badRequest('the applied configuration must be an object');
  const cfg = applied as Obj;
  if (cfg.apiVersion === undefined || cfg.kind === undefined) {
    throw badRequest('apiVersion and kind must be set in an applied configuration');
  }
  if (cfg.metadata?.name !== undefined && cfg.metadata.name !== name) {
    throw badRequest(`the name of the object (${String(cfg.metadata.name)}) does not match the name on the URL (${name})`);
  }
  const live = cp.store.get(resourceKey(t), t.namespaced ? namespace : undefined, name);
  if (!live && sub === 'status') cp.objects.get(t, namespace, name);
  let merged: Obj;
  try {
    merged = apply(live, cfg, {
      manager,
      force: ctx.query.get('force') === 'true',
      schema: t.schema(),
      apiVersion: apiVersionOf(t),
      now: nowRFC3339(),
      statusSubresource: t.status,
      ...(sub === 'status' ? { subresource: 'status' as const } : {}),
    }) as Obj;
  } catch (e) {
    toApiError(e);
  }
  const wopts: WriteOptions = { ...opts, fieldManager: manager, applied: true };
  if (!live) {
    merged.metadata = { ...(merged.metadata ?? {}), name, ...(t.namespaced ? { namespace } : {}) };
    return cp.objects.create(t, namespace, merged, wopts);
  }
  return cp.objects.replace(t, live, merged, wopts);
}
