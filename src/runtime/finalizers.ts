/**
 * Finalizers on our objects: added before anything is created for the object, removed only after
 * its clean-up is done. Both are merge patches of the whole list carrying the resourceVersion that
 * was read, so a concurrent change is a 409 Conflict (retried by the queue), never a lost write.
 * (A JSON patch `test` of the resourceVersion would fail with a bare 422 instead.)
 */
import type { Client, ResourceRef } from './client/client.js';
import type { Json } from './client/rest.js';

export function hasFinalizer(obj: Json, finalizer: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(finalizer);
}

/** Adds the finalizer if missing; resolves with the object as stored. */
export async function ensureFinalizer(client: Client, ref: ResourceRef, obj: Json, finalizer: string, fieldManager: string): Promise<Json> {
  if (hasFinalizer(obj, finalizer)) return obj;
  const finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
  return client.patch(ref, obj.metadata.namespace, obj.metadata.name, { metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers } }, 'merge', { fieldManager });
}

/** Removes the finalizer if present; resolves with the object as stored (or gone). */
export async function removeFinalizer(client: Client, ref: ResourceRef, obj: Json, finalizer: string, fieldManager: string): Promise<Json | undefined> {
  const list: string[] = obj.metadata?.finalizers ?? [];
  const i = list.indexOf(finalizer);
  if (i < 0) return obj;
  const finalizers = list.filter((f) => f !== finalizer);
  return client.patch(ref, obj.metadata.namespace, obj.metadata.name, { metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers } }, 'merge', { fieldManager });
}
