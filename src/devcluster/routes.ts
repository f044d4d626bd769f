/** Parsing request paths of the Kubernetes REST API into the resource they address. */
import type { Registry, ResourceType } from './registry.js';

export type Route =
  | { kind: 'version' | 'health' | 'api' | 'apis' | 'openapi-v2' | 'openapi-v3' | 'metrics' | 'admin'; path: string; sub?: string }
  | { kind: 'openapi-v3-gv'; group: string; version: string }
  | { kind: 'group'; group: string }
  | { kind: 'resources'; group: string; version: string }
  | {
      kind: 'resource';
      type: ResourceType;
      namespace?: string;
      name?: string;
      subresource?: string;
      watchPrefix: boolean;
    }
  | { kind: 'unknown'; group?: string; version?: string; plural?: string };

export function route(pathname: string, registry: Registry): Route {
  const p = pathname.replace(/\/+$/, '') || '/';
  if (p === '/version') return { kind: 'version', path: p };
  if (/^\/(healthz|readyz|livez)(\/.*)?$/.test(p)) return { kind: 'health', path: p };
  if (p === '/metrics') return { kind: 'metrics', path: p };
  if (p.startsWith('/nimop/')) return { kind: 'admin', path: p, sub: p.slice('/nimop/'.length) };
  if (p === '/api') return { kind: 'api', path: p };
  if (p === '/apis') return { kind: 'apis', path: p };
  if (p === '/openapi/v2' || p === '/swagger.json') return { kind: 'openapi-v2', path: p };
  if (p === '/openapi/v3') return { kind: 'openapi-v3', path: p };
  let m = /^\/openapi\/v3\/api\/([^/]+)$/.exec(p);
  if (m) return { kind: 'openapi-v3-gv', group: '', version: m[1]! };
  m = /^\/openapi\/v3\/apis\/([^/]+)\/([^/]+)$/.exec(p);
  if (m) return { kind: 'openapi-v3-gv', group: m[1]!, version: m[2]! };

  const segs = p.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 2) {
    if (segs.length === 2) return { kind: 'group', group: segs[1]! };
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return { kind: 'unknown' };
  if (rest.length === 0) return { kind: 'resources', group, version };
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const nsType = registry.get(group, version, rest[2]!);
    if (nsType?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [plural, name, subresource] = rest;
  const type = plural ? registry.get(group, version, plural) : undefined;
  if (!type || rest.length > 3) return { kind: 'unknown', group, version, ...(plural ? { plural } : {}) };
  return {
    kind: 'resource',
    type,
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(subresource ? { subresource } : {}),
    watchPrefix,
  };
}
