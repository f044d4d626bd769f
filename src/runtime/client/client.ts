/**
 * Typed-by-resource access to the API: get, list (all pages), create, update, status update,
 * merge/JSON patch, server-side apply and delete, for any resource named by a ResourceRef.
 */
import { KubeError, type Json, type RestClient } from './rest.js';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const apiVersionOf = (r: Pick<ResourceRef, 'group' | 'version'>) => (r.group ? `${r.group}/${r.version}` : r.version);

export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (the client follows continue tokens). */
  limit?: number;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status';
  dryRun?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export class Client {
  constructor(readonly rest: RestClient) {}

  get<T = Json>(r: ResourceRef, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    return this.rest.request<T>({ method: 'GET', path: resourcePath(r, namespace, name, subresource) });
  }

  /** All items of a list (following continue tokens) and the list's resourceVersion. */
  async list<T = Json>(r: ResourceRef, o: ListOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let token: string | undefined;
    let rv = '';
    do {
      const page = await this.rest.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>({
        method: 'GET',
        path: resourcePath(r, o.namespace),
        query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit ?? 500, continue: token },
      });
      items.push(...(page.items ?? []));
      rv = page.metadata?.resourceVersion ?? rv;
      token = page.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion: rv };
  }

  create<T = Json>(r: ResourceRef, obj: Json, fieldManager?: string): Promise<T> {
    return this.rest.request<T>({ method: 'POST', path: resourcePath(r, obj.metadata?.namespace), body: obj, query: { fieldManager } });
  }

  update<T = Json>(r: ResourceRef, obj: Json, fieldManager?: string): Promise<T> {
    return this.rest.request<T>({ method: 'PUT', path: resourcePath(r, obj.metadata?.namespace, obj.metadata?.name), body: obj, query: { fieldManager } });
  }

  updateStatus<T = Json>(r: ResourceRef, obj: Json, fieldManager?: string): Promise<T> {
    return this.rest.request<T>({ method: 'PUT', path: resourcePath(r, obj.metadata?.namespace, obj.metadata?.name, 'status'), body: obj, query: { fieldManager } });
  }

  patch<T = Json>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: 'merge' | 'json' = 'merge',
    o: { fieldManager?: string; subresource?: 'status' } = {},
  ): Promise<T> {
    return this.rest.request<T>({
      method: 'PATCH',
      path: resourcePath(r, namespace, name, o.subresource),
      body: patch,
      contentType: type === 'merge' ? 'application/merge-patch+json' : 'application/json-patch+json',
      query: { fieldManager: o.fieldManager },
    });
  }

  /** Server-side apply (application/apply-patch+yaml, JSON body). */
  apply<T = Json>(r: ResourceRef, obj: Json, o: ApplyOptions): Promise<T> {
    return this.rest.request<T>({
      method: 'PATCH',
      path: resourcePath(r, obj.metadata?.namespace, obj.metadata?.name, o.subresource),
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: o.fieldManager, force: o.force ? 'true' : undefined, dryRun: o.dryRun ? 'All' : undefined },
    });
  }

  /** Deletes; resolves false when the object was already gone. */
  async delete(r: ResourceRef, namespace: string | undefined, name: string, o: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.rest.request({
        method: 'DELETE',
        path: resourcePath(r, namespace, name),
        body: { kind: 'DeleteOptions', apiVersion: 'v1', ...o },
      });
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.code === 404) return false;
      throw e;
    }
  }
}
