/**
 * The create-only kinds of authentication.k8s.io and authorization.k8s.io, nothing stored:
 * SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview,
 * SelfSubjectReview, TokenReview; and the TokenRequest subresource of ServiceAccounts.
 */
import type { IncomingMessage } from 'node:http';
import { fieldError } from '../../api/validation/index.js';
import { ApiError, badRequest, invalid } from '../errors.js';
import { parseBody, readBody } from '../http-util.js';
import type { ResourceType } from '../registry.js';
import { ProtobufError } from '../protobuf/wire.js';
import type { Authz } from './index.js';
import { decodeAuthzProtobuf, isProtobuf } from './protobuf.js';
import { rulesFor } from './rbac.js';
import { tokenRequest } from './token-request.js';
import type { Attributes, UserInfo } from './types.js';

type Json = Record<string, any>;

export interface Served {
  code: number;
  body: unknown;
}

const notAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

/** The request body in its JSON form: JSON, YAML or (as kubectl sends these kinds) protobuf. */
export async function readObject(req: IncomingMessage): Promise<Json> {
  const raw = await readBody(req);
  const contentType = String(req.headers['content-type'] ?? 'application/json');
  let body: unknown;
  if (isProtobuf(contentType)) {
    try {
      body = decodeAuthzProtobuf(raw);
    } catch (e) {
      if (e instanceof ProtobufError) throw e.unsupported ? new ApiError(415, 'UnsupportedMediaType', e.message) : badRequest(e.message);
      throw e;
    }
  } else body = parseBody(raw, contentType);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be an object');
  return body as Json;
}

function userInfoJson(u: UserInfo): Json {
  return {
    ...(u.username ? { username: u.username } : {}),
    ...(u.uid ? { uid: u.uid } : {}),
    ...(u.groups.length ? { groups: u.groups } : {}),
    ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
  };
}

function attributesOf(user: UserInfo, spec: Json): Attributes {
  const base = { user, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: '' };
  const ra = spec.resourceAttributes as Json | undefined;
  if (ra) {
    return {
      ...base,
      resourceRequest: true,
      verb: String(ra.verb ?? ''),
      namespace: String(ra.namespace ?? ''),
      apiGroup: String(ra.group ?? ''),
      apiVersion: String(ra.version || '*'),
      resource: String(ra.resource ?? ''),
      subresource: String(ra.subresource ?? ''),
      name: String(ra.name ?? ''),
    };
  }
  const nra = (spec.nonResourceAttributes ?? {}) as Json;
  return { ...base, resourceRequest: false, verb: String(nra.verb ?? ''), path: String(nra.path ?? '') };
}

function checkAttributes(spec: Json, errors: ReturnType<typeof fieldError>[]): void {
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    errors.push(fieldError('FieldValueInvalid', 'spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errors.push(fieldError('FieldValueInvalid', 'spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
}

function review(t: ResourceType, body: Json, spec: unknown, status: Json, namespace?: string): Served {
  const metadata = { ...((body.metadata as Json | undefined) ?? {}), ...(namespace ? { namespace } : {}), creationTimestamp: null };
  return {
    code: 201,
    body: { kind: t.kind, apiVersion: `${t.group}/${t.version}`, metadata, ...(spec !== undefined ? { spec } : {}), status },
  };
}

function accessStatus(authz: Authz, a: Attributes): Json {
  const d = authz.decide(a);
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** Serves authz's kinds and ServiceAccount tokens; undefined for every other resource. */
export async function serveAuthz(
  authz: Authz,
  req: IncomingMessage,
  r: { type: ResourceType; namespace?: string; name?: string; subresource?: string },
  method: string,
): Promise<Served | undefined> {
  const t = r.type;
  if (t.group === '' && t.plural === 'serviceaccounts' && r.subresource === 'token') {
    if (method !== 'POST' || !r.name || !r.namespace) throw notAllowed();
    return tokenRequest(authz, r.namespace, r.name, await readObject(req));
  }
  if (!t.createOnly) return undefined;
  if (method !== 'POST' || r.name) throw notAllowed();
  const body = await readObject(req);
  const spec = (body.spec ?? {}) as Json;
  const user = authz.userOf(req);
  const errors: ReturnType<typeof fieldError>[] = [];
  switch (t.kind) {
    case 'SelfSubjectAccessReview': {
      checkAttributes(spec, errors);
      if (errors.length) throw invalid(t.kind, t.group, '', errors);
      return review(t, body, spec, accessStatus(authz, attributesOf(user, spec)));
    }
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      checkAttributes(spec, errors);
      const local = t.kind === 'LocalSubjectAccessReview' ? (r.namespace ?? '') : undefined;
      if (local !== undefined) {
        const ra = spec.resourceAttributes as Json | undefined;
        if (ra && String(ra.namespace ?? '') !== local) errors.push(fieldError('FieldValueInvalid', 'spec.resourceAttributes.namespace', String(ra.namespace ?? ''), 'must match metadata.namespace'));
        if (spec.nonResourceAttributes) errors.push(fieldError('FieldValueInvalid', 'spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
      }
      const groups = Array.isArray(spec.groups) ? (spec.groups as unknown[]).map(String) : [];
      if (!spec.user && !groups.length) errors.push(fieldError('FieldValueInvalid', 'spec.user', String(spec.user ?? ''), 'at least one of user or group must be specified'));
      if (errors.length) throw invalid(t.kind, t.group, '', errors);
      const subject: UserInfo = {
        username: String(spec.user ?? ''),
        groups,
        ...(spec.uid ? { uid: String(spec.uid) } : {}),
        ...(spec.extra ? { extra: spec.extra as Record<string, string[]> } : {}),
      };
      return review(t, body, spec, accessStatus(authz, attributesOf(subject, spec)), local);
    }
    case 'SelfSubjectRulesReview': {
      const namespace = String(spec.namespace ?? '');
      if (!namespace) throw badRequest('no namespace on request');
      const { rules, errors: resolution } = rulesFor(authz.store, user, namespace);
      const resourceRules = rules
        .filter((p) => p.resources?.length)
        .map((p) => ({ verbs: p.verbs ?? [], ...(p.apiGroups?.length ? { apiGroups: p.apiGroups } : {}), resources: p.resources, ...(p.resourceNames?.length ? { resourceNames: p.resourceNames } : {}) }));
      const nonResourceRules = rules.filter((p) => p.nonResourceURLs?.length).map((p) => ({ verbs: p.verbs ?? [], nonResourceURLs: p.nonResourceURLs }));
      const status: Json = { resourceRules, nonResourceRules, incomplete: false };
      if (resolution.length) status.evaluationError = resolution.length === 1 ? resolution[0] : `[${[...new Set(resolution)].join(', ')}]`;
      return review(t, body, spec, status);
    }
    case 'SelfSubjectReview':
      return review(t, body, undefined, { userInfo: userInfoJson(user) });
    case 'TokenReview': {
      const token = String(spec.token ?? '');
      const wanted = Array.isArray(spec.audiences) ? (spec.audiences as unknown[]).map(String) : undefined;
      const result = token ? authz.authenticateToken(token, wanted) : undefined;
      const status: Json = result
        ? { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences }
        : { user: {}, error: token ? 'invalid bearer token' : 'token is required' };
      return review(t, body, spec, status);
    }
    default:
      throw notAllowed();
  }
}
