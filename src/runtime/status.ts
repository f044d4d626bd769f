/**
 * Status: one conditions helper (lastTransitionTime moves only when a condition's status flips,
 * observedGeneration recorded) and a writer that touches the API only when the status changed.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Client, ResourceRef } from './client/client.js';
import type { Json } from './client/rest.js';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets (or replaces) a condition; the transition time is kept unless the status changes. */
export function setCondition(conditions: Condition[] | undefined, c: Condition, generation?: number, at = now()): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: previous && previous.status === c.status && previous.lastTransitionTime ? previous.lastTransitionTime : at,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function getCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Writes `status` on `obj` through the status subresource when it differs from the current one;
 * resolves with whether it wrote. A 409 (the object moved) propagates: the reconcile is retried.
 */
export async function updateStatusIfChanged(client: Client, ref: ResourceRef, obj: Json, status: Json, fieldManager: string): Promise<boolean> {
  if (isDeepStrictEqual(obj.status ?? {}, status)) return false;
  await client.updateStatus(ref, { ...obj, status }, fieldManager);
  return true;
}
