/**
 * Finalizers on our objects: added before anything is created for the object, removed only after
 * its clean-up is done. Both are JSON patches guarded by a `test` of the resourceVersion, so a
 * concurrent change is a conflict (retried by the queue), never a lost write.
 */
import type { Client, ResourceRef } from './client/client.js';
import type { Json } from './client/rest.js';

export function hasFinalizer(obj: Json, finalizer: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(finalizer);
}

/** Adds the finalizer if missing; resolves with the object as stored. */
export async function ensureFinalizer(client: Client, ref: ResourceRef, obj: Json, finalizer: string, fieldManager: string): Promise<Json> {
  if (hasFinalizer(obj, finalizer)) return obj;
  const ops = [
    { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
    obj.metadata.finalizers
      ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer }
      : { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
  ];
  return client.patch(ref, obj.metadata.namespace, obj.metadata.name, ops, 'json', { fieldManager });
}

/** Removes the finalizer if present; resolves with the object as stored (or gone). */
export async function removeFinalizer(client: Client, ref: ResourceRef, obj: Json, finalizer: string, fieldManager: string): Promise<Json | undefined> {
  const list: string[] = obj.metadata?.finalizers ?? [];
  const i = list.indexOf(finalizer);
  if (i < 0) return obj;
  const ops = [
    { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
  return client.patch(ref, obj.metadata.namespace, obj.metadata.name, ops, 'json', { fieldManager });
}
