/** Users, request attributes and RBAC objects as kube-apiserver's authenticator and authorizer see them. */

/** user.Info: who a request is from, after authentication and impersonation. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** authorizer.Attributes: what a request asks to do (request-info.ts derives them from the URL). */
export interface Attributes {
  user: UserInfo;
  verb: string;
  /** False for non-resource requests (/healthz, /version, /api, /apis/<group>/<version> …). */
  resourceRequest: boolean;
  /** The URL path (what nonResourceURLs match). */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string;
  name: string;
}

export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const SA_PREFIX = 'system:serviceaccount:';
export const SA_GROUP = 'system:serviceaccounts';

/** The cluster admin: requests without a token, or with the kubeconfig's token. */
export const ADMIN_USER: UserInfo = { username: 'nimop-dev-admin', groups: [MASTERS, AUTHENTICATED] };

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/** The groups every service account of a namespace is in. */
export function serviceAccountGroups(namespace: string): string[] {
  return [SA_GROUP, `${SA_GROUP}:${namespace}`];
}

/** `system:serviceaccount:<ns>:<name>` → {namespace, name}; undefined for other users. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

export function isMaster(user: UserInfo): boolean {
  return user.groups.includes(MASTERS);
}
