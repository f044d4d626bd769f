/** The scale subresource's write: the replica count of a Deployment or StatefulSet (PUT or PATCH). */
import { fieldError } from '../api/validation/index.js';
import { STALE, conflict, invalid } from './errors.js';
import type { Objects, WriteOptions, WriteResult } from './objects.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

/**
 * Sets `spec.replicas` from a Scale object (`desired`, as sent or as patched): 409 on a stale
 * resourceVersion, 422 Invalid on a count that is not a non-negative integer, as kube-apiserver.
 */
export function writeScale(objects: Objects, t: ResourceType, existing: Obj, desired: Obj, opts: WriteOptions): WriteResult {
  const name = existing.metadata.name as string;
  const rv = desired?.metadata?.resourceVersion;
  if (rv && rv !== existing.metadata.resourceVersion) throw conflict(t.plural, t.group, name, STALE);
  const replicas = desired?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', 'autoscaling', name, [fieldError('FieldValueInvalid', 'spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
  }
  const next = { ...structuredClone(existing), spec: { ...(existing.spec ?? {}), replicas } };
  return objects.replace(t, existing, next, { ...opts, subresource: undefined });
}
