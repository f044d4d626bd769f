/**
 * OpenAPI documents of the served types: the v3 index and one document per group-version (what
 * `kubectl explain` and `kubectl apply` read), and a v2 document in JSON.
 */
import { createHash } from 'node:crypto';
import type { JSONSchemaProps } from '../api/k8s/schemas.js';
import { KUBE_VERSION } from './discovery.js';
import { apiVersionOf, type Registry, type ResourceType } from './registry.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Component name as Kubernetes spells it: io.k8s.api.apps.v1.Deployment, com.nvidia.apps.v1alpha1.NIMService. */
export function componentName(t: ResourceType): string {
  if (t.crd) return `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
  const g = t.group === '' ? 'core' : t.group.replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '');
  const prefix = t.group === 'apiextensions.k8s.io' ? 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions' : `io.k8s.api.${g}`;
  return `${prefix}.${t.version}.${t.kind}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

function operation(t: ResourceType, action: string, params: string[]): Record<string, unknown> {
  return {
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
    parameters: params.map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } })),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${componentName(t)}` } } } } },
  };
}

function paths(t: ResourceType): Record<string, unknown> {
  const base = `/${gvPath(t.group, t.version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
  const item = {
    get: operation(t, 'get', ['pretty']),
    put: operation(t, 'put', QUERY_PARAMS.filter((p) => p !== 'force')),
    patch: operation(t, 'patch', QUERY_PARAMS),
    delete: operation(t, 'delete', ['dryRun', 'pretty']),
  };
  const out: Record<string, unknown> = {
    [base]: { get: operation(t, 'list', ['labelSelector', 'fieldSelector', 'limit', 'continue', 'watch']), post: operation(t, 'post', QUERY_PARAMS.filter((p) => p !== 'force')) },
    [`${base}/{name}`]: item,
  };
  if (t.status) out[`${base}/{name}/status`] = item;
  return out;
}

function schemaOf(t: ResourceType): JSONSchemaProps & Record<string, unknown> {
  return {
    ...t.schema(),
    'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }],
  };
}

/** Documents are cached per group-version until the registry changes (a CRD comes or goes). */
export class OpenAPI {
  private docs = new Map<string, { doc: Record<string, unknown>; hash: string }>();

  constructor(private readonly registry: Registry) {}

  invalidate(): void {
    this.docs.clear();
  }

  private groupVersions(): [string, string][] {
    return [...this.registry.groups().entries()].flatMap(([g, vs]) => vs.map((v) => [g, v] as [string, string]));
  }

  v3Doc(group: string, version: string): { doc: Record<string, unknown>; hash: string } | undefined {
    const key = `${group}/${version}`;
    const cached = this.docs.get(key);
    if (cached) return cached;
    const types = this.registry.inGroupVersion(group, version);
    if (!types.length) return undefined;
    const schemas: Record<string, unknown> = {};
    let allPaths: Record<string, unknown> = {};
    for (const t of types) {
      schemas[componentName(t)] = schemaOf(t);
      allPaths = { ...allPaths, ...paths(t) };
    }
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
      paths: allPaths,
      components: { schemas },
    };
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
    const entry = { doc, hash };
    this.docs.set(key, entry);
    return entry;
  }

  v3Index(): Record<string, unknown> {
    const out: Record<string, { serverRelativeURL: string }> = {};
    for (const [g, v] of this.groupVersions()) {
      const d = this.v3Doc(g, v);
      if (d) out[gvPath(g, v)] = { serverRelativeURL: `/openapi/v3/${gvPath(g, v)}?hash=${d.hash}` };
    }
    return { paths: out };
  }

  v2(): Record<string, unknown> {
    const definitions: Record<string, unknown> = {};
    let allPaths: Record<string, unknown> = {};
    for (const t of this.registry.all()) {
      definitions[componentName(t)] = schemaOf(t);
      allPaths = { ...allPaths, ...paths(t) };
    }
    return { swagger: '2.0', info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion }, paths: allPaths, definitions };
  }
}

export { apiVersionOf };
