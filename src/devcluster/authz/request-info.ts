/**
 * The authorization attributes of an HTTP request, derived from its method and URL alone as
 * kube-apiserver's RequestInfoFactory does (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go):
 *
 * - `/api/<v>/…` and `/apis/<group>/<v>/…` with at least a resource are resource requests; anything
 *   shorter (`/api`, `/api/v1`, `/apis/apps/v1`) and every other path is a non-resource request whose
 *   verb is the lower-cased HTTP method.
 * - verbs: POST create, GET/HEAD get, PUT update, PATCH patch (server-side apply included), DELETE
 *   delete; GET without a name is `list`, or `watch` with `?watch=true` or the `/watch/` prefix; DELETE
 *   without a name is `deletecollection`.
 * - a list or watch (`?watch=true`, not the `/watch/` prefix) with `fieldSelector=metadata.name=<n>` is
 *   about the object `<n>` (resourceNames apply).
 * - `/namespaces/<ns>` gives the namespace (also for the Namespace object itself, and its `status`
 *   and `finalize` subresources).
 */
import type { Attributes, UserInfo } from './types.js';

const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** strconv.ParseBool, as the query parameter codec reads `watch`. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** fields.Selector.RequiresExactMatch("metadata.name"): the name an `=`/`==` term pins, if any. */
export function exactNameOf(fieldSelector: string | null): string | undefined {
  if (!fieldSelector) return undefined;
  for (const term of fieldSelector.split(/(?<!\\),/)) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && !/^=/.test(m[1]!)) return m[1]!.replace(/\\(.)/g, '$1');
  }
  return undefined;
}

/** A valid path segment name (path.IsValidPathSegmentName). */
function validSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/%]/.test(name);
}

export function requestAttributes(method: string, url: URL, user: UserInfo): Attributes {
  const attrs: Attributes = {
    user,
    verb: method.toLowerCase(),
    resourceRequest: false,
    path: url.pathname,
    namespace: '',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    name: '',
  };
  let parts = url.pathname.replace(/^\/+|\/+$/g, '').split('/').filter((p, i, all) => p !== '' || all.length > 1).map(safeDecode);
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return attrs;
  const prefix = parts[0];
  parts = parts.slice(1);
  let group = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return attrs;
    group = parts[0]!;
    parts = parts.slice(1);
  }
  const out: Attributes = { ...attrs, resourceRequest: true, apiGroup: group, apiVersion: parts[0]! };
  parts = parts.slice(1);
  if (parts.length && SPECIAL_VERBS.has(parts[0]!)) {
    out.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    const m = method.toUpperCase();
    out.verb = ({ POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[m] ?? '';
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      out.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  if (parts.length >= 3 && out.verb !== 'proxy') out.subresource = parts[2]!;
  if (parts.length >= 2) out.name = parts[1]!;
  if (parts.length >= 1) out.resource = parts[0]!;
  if (!out.name && out.verb === 'get') {
    const watch = url.searchParams.get('watch');
    out.verb = watch !== null && parseBool(watch) ? 'watch' : 'list';
    const name = exactNameOf(url.searchParams.get('fieldSelector'));
    if (name !== undefined && validSegment(name)) out.name = name;
  }
  if (!out.name && out.verb === 'delete') out.verb = 'deletecollection';
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
