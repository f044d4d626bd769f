/**
 * Writing children: server-side apply under one field manager, nothing written when the live
 * object already holds everything desired (zero writes at rest), and pruning of the children an
 * owner no longer wants.
 */
import type { Client, ResourceRef } from './client/client.js';
import type { Json } from './client/rest.js';

export const FIELD_MANAGER = 'nim-operator';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'k8s-nim-operator';

/** Whether every field set in `desired` has the same value in `live` (lists compared item by item). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === null || desired === undefined) return live === null || live === undefined;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]));
  }
  if (typeof desired === 'object') {
    if (typeof live !== 'object' || live === null || Array.isArray(live)) return false;
    return Object.entries(desired as Json).every(([k, v]) => isSubset(v, (live as Json)[k]));
  }
  if (typeof desired === 'number' || typeof live === 'number') return String(desired) === String(live);
  return desired === live;
}

export interface ApplyResult {
  object: Json;
  written: boolean;
}

export class Applier {
  /** Writes done (applies and deletes), for tests and metrics. */
  readonly stats = { applies: 0, deletes: 0, skipped: 0 };

  constructor(
    private readonly client: Client,
    readonly fieldManager = FIELD_MANAGER,
  ) {}

  /**
   * Applies `desired` unless `live` (from the cache) already holds it. The apply is forced: the
   * operator owns the fields it sets, as a controller must.
   */
  async apply(ref: ResourceRef, desired: Json, live?: Json): Promise<ApplyResult> {
    if (live && !live.metadata?.deletionTimestamp && isSubset(desired, live)) {
      this.stats.skipped++;
      return { object: live, written: false };
    }
    this.stats.applies++;
    const object = await this.client.apply(ref, desired, { fieldManager: this.fieldManager, force: true });
    return { object, written: true };
  }

  /** Deletes the children in `live` that are not named in `keep` (by name). */
  async prune(ref: ResourceRef, live: Json[], keep: Set<string>): Promise<string[]> {
    const deleted: string[] = [];
    for (const o of live) {
      if (keep.has(o.metadata?.name) || o.metadata?.deletionTimestamp) continue;
      this.stats.deletes++;
      if (await this.client.delete(ref, o.metadata?.namespace, o.metadata?.name, { propagationPolicy: 'Background' })) {
        deleted.push(o.metadata.name);
      }
    }
    return deleted;
  }
}

/** An owner reference making `owner` the controller of a child. */
export function controllerRef(owner: Json): Json {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `owner` is the controller of `o` (its controller owner reference carries the owner's uid). */
export function isControlledBy(o: Json | undefined, owner: Json): boolean {
  return !!o && (o.metadata?.ownerReferences ?? []).some((r: Json) => r.controller && r.uid === owner.metadata?.uid);
}
