/** Discovery documents (/api, /apis, group-version resource lists) and the version endpoint. */
import { VERBS, type Registry, type ResourceType } from './registry.js';

/** The Kubernetes version whose API the control plane imitates. */
export const KUBE_VERSION = { major: '1', minor: '34', gitVersion: 'v1.34.1' };

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: 'nimop-devcluster',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.24.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(registry: Registry): Record<string, unknown> {
  const groups = [...registry.groups().entries()].filter(([g]) => g !== '').map(([g, vs]) => groupEntry(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: Registry, group: string): Record<string, unknown> | undefined {
  const vs = registry.groups().get(group);
  return vs ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, vs) } : undefined;
}

/** Subresources whose kind is not their resource's (kind, group, version and verbs as kube lists them). */
const SUBRESOURCE_ENTRIES: Record<string, Record<string, unknown>> = {
  'serviceaccounts/token': { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
};

function resourceEntries(t: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.createOnly ? ['create'] : VERBS,
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out = [main];
  if (t.status) out.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  if (t.scale) {
    out.push({ name: `${t.plural}/scale`, singularName: '', namespaced: t.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  }
  for (const sub of t.subresources) {
    const name = `${t.plural}/${sub}`;
    out.push({ name, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get'], ...SUBRESOURCE_ENTRIES[name] });
  }
  return out;
}

export function apiResourceList(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version);
  if (!types.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
}
