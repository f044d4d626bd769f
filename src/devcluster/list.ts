/**
 * A list request's response body: a page of the objects that match, as a snapshot at the first
 * page's resourceVersion (continue tokens), or a meta.k8s.io Table.
 */
import { ApiError } from './errors.js';
import { decodeContinue, paginate } from './http-util.js';
import { resourceKey } from './objects.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import type { Obj, Store } from './store.js';
import { toTable } from './table.js';

export function listBody(store: Store, t: ResourceType, ns: string | undefined, query: URLSearchParams, matches: (o: Obj) => boolean, asTable: boolean): unknown {
  const key = resourceKey(t);
  const token = query.get('continue') ? decodeContinue(query.get('continue')!) : undefined;
  const rv = token?.rv ?? store.currentRV();
  const snapshot = token ? store.listAt(key, rv, ns) : store.list(key, ns);
  if (snapshot === 'gone') {
    throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
  }
  const page = paginate(snapshot.filter(matches), query.get('limit'), token, rv);
  const meta: Record<string, unknown> = { resourceVersion: String(rv) };
  if (page.continue) {
    meta.continue = page.continue;
    meta.remainingItemCount = page.remaining;
  }
  if (asTable) return toTable(t, page.items, meta, query.get('includeObject') ?? 'Metadata');
  return { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: meta, items: page.items };
}
