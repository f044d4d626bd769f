/**
 * The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (its bootstrap
 * policy) that matter to a client of the API: `cluster-admin` for system:masters, discovery and the
 * version and health endpoints for every authenticated user (`system:discovery`,
 * `system:public-info-viewer`), self-reviews for every authenticated user (`system:basic-user`), and
 * `system:monitoring`. The aggregated roles (`admin`, `edit`, `view`) and the controllers' roles are
 * not created.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { nowRFC3339, resourceKey, type Objects } from '../objects.js';
import type { Registry } from '../registry.js';
import type { Obj } from '../store.js';
import type { PolicyRule, Subject } from './types.js';

const RBAC = 'rbac.authorization.k8s.io';
const META = (name: string): Obj => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});
const group = (name: string): Subject => ({ apiGroup: RBAC, kind: 'Group', name });

export const BOOTSTRAP_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  'system:discovery': [
    {
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
      verbs: ['get'],
    },
  ],
  'system:basic-user': [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ],
  'system:public-info-viewer': [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  'system:monitoring': [
    { nonResourceURLs: ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'], verbs: ['get'] },
  ],
};

const BOOTSTRAP_BINDINGS: Record<string, Subject[]> = {
  'cluster-admin': [group('system:masters')],
  'system:discovery': [group('system:authenticated')],
  'system:basic-user': [group('system:authenticated')],
  'system:public-info-viewer': [group('system:authenticated'), group('system:unauthenticated')],
  'system:monitoring': [group('system:monitoring')],
};

/**
 * Creates the default roles and bindings, or puts back their rules and subjects (kube's autoupdate)
 * after a restart. They are stored directly (as kube-apiserver's bootstrap does, before it serves),
 * with no write when they are already as they should be.
 */
export function bootstrapPolicy(objects: Objects, registry: Registry): void {
  const put = (plural: string, kind: string, name: string, body: Obj) => {
    const t = registry.get(RBAC, 'v1', plural)!;
    const existing = objects.store.get(resourceKey(t), undefined, name);
    if (existing && isDeepStrictEqual({ ...existing, metadata: undefined }, { ...existing, ...body, metadata: undefined })) return;
    const metadata = existing ? structuredClone(existing.metadata) : { ...META(name), uid: randomUUID(), creationTimestamp: nowRFC3339() };
    let obj: Obj = { apiVersion: `${RBAC}/v1`, kind, metadata, ...body };
    if (objects.hooks.beforeStore) obj = objects.hooks.beforeStore(t, existing, obj, { fieldManager: 'kube-apiserver' });
    objects.store.put(resourceKey(t), obj);
  };
  for (const [name, rules] of Object.entries(BOOTSTRAP_ROLES)) put('clusterroles', 'ClusterRole', name, { rules });
  for (const [name, subjects] of Object.entries(BOOTSTRAP_BINDINGS)) {
    put('clusterrolebindings', 'ClusterRoleBinding', name, { roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name }, subjects });
  }
}
