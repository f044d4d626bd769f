/** The 401 and 403 answers of kube-apiserver's authentication and authorization filters. */
import { ApiError, type Status } from '../errors.js';
import type { Attributes } from './types.js';

/** 401: a token that is not valid (unknown, expired, for another audience, its account gone). */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** forbiddenMessage (endpoints/handlers/responsewriters/errors.go). */
export function forbiddenMessage(a: Attributes): string {
  const user = JSON.stringify(a.user.username);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const what = `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)}`;
  return a.namespace ? `${what} in the namespace ${JSON.stringify(a.namespace)}` : `${what} at the cluster scope`;
}

/**
 * 403 as apierrors.NewForbidden builds it: `<resource>[.<group>] ["<name>"] is forbidden: <message>[: <reason>]`,
 * or `forbidden: <message>` for a non-resource request; details name the group, resource and object.
 */
export function forbidden(a: Attributes, reason = ''): ApiError {
  const msg = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  const details: NonNullable<Status['details']> = {};
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  if (a.resource) details.kind = a.resource;
  if (!a.resource && !a.apiGroup) return new ApiError(403, 'Forbidden', `forbidden: ${msg}`, details);
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const head = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  return new ApiError(403, 'Forbidden', `${head} is forbidden: ${msg}`, details);
}

/**
 * 403 of the `create` check a server-side apply that creates its object gets beyond `patch`
 * (withAuthorization in endpoints/handlers/rest.go): NewForbidden with the authorizer's reason alone.
 */
export function forbiddenCreateOnApply(a: Attributes, reason: string): ApiError {
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const details: NonNullable<Status['details']> = { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource };
  return new ApiError(403, 'Forbidden', `${qualified} ${JSON.stringify(a.name)} is forbidden: ${reason}`, details);
}
