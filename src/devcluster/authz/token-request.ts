/**
 * The TokenRequest API: POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token
 * (authentication.k8s.io/v1 TokenRequest), what `kubectl create token` calls. As kube-apiserver:
 * expirationSeconds defaults to 3600 and must be at least 600; audiences default to the API
 * server's; a token may be bound to a Pod, Secret or Node of the namespace (it stops working when
 * that object goes); the response carries the token and its expirationTimestamp.
 */
import { fieldError } from '../../api/validation/index.js';
import { badRequest, conflict, invalid, notFound } from '../errors.js';
import type { Obj } from '../store.js';
import type { Authz } from './index.js';
import type { Served } from './reviews.js';

type Json = Record<string, any>;

const MIN_SECONDS = 600;
const MAX_SECONDS = 2 ** 32;
const BOUND: Record<string, { key: string; claim: 'pod' | 'secret' | 'node'; namespaced: boolean }> = {
  Pod: { key: '/pods', claim: 'pod', namespaced: true },
  Secret: { key: '/secrets', claim: 'secret', namespaced: true },
  Node: { key: '/nodes', claim: 'node', namespaced: false },
};

export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function tokenRequest(authz: Authz, namespace: string, name: string, body: Json): Served {
  const gk = { kind: 'TokenRequest', group: 'authentication.k8s.io' };
  const meta = (body.metadata ?? {}) as Json;
  if (meta.name && meta.name !== name) {
    throw invalid(gk.kind, gk.group, name, [fieldError('FieldValueInvalid', 'metadata.name', meta.name, 'must match the service account name if specified')]);
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw invalid(gk.kind, gk.group, name, [fieldError('FieldValueInvalid', 'metadata.namespace', meta.namespace, 'must match the service account namespace if specified')]);
  }
  const spec: Json = { ...((body.spec ?? {}) as Json) };
  spec.expirationSeconds ??= 3600;
  const seconds = Number(spec.expirationSeconds);
  if (!Number.isInteger(seconds) || seconds < MIN_SECONDS) {
    throw invalid(gk.kind, gk.group, name, [fieldError('FieldValueInvalid', 'spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes')]);
  }
  if (seconds > MAX_SECONDS) {
    throw invalid(gk.kind, gk.group, name, [fieldError('FieldValueInvalid', 'spec.expirationSeconds', seconds, 'may not specify a duration larger than 2^32 seconds')]);
  }
  const sa = authz.store.get('/serviceaccounts', namespace, name);
  if (!sa) throw notFound('serviceaccounts', '', name);
  if (sa.metadata.deletionTimestamp) throw badRequest(`serviceaccount ${namespace}/${name} is being deleted`);
  let bound: { kind: 'pod' | 'secret' | 'node'; ref: { name: string; uid: string } } | undefined;
  const ref = spec.boundObjectRef as Json | undefined | null;
  if (ref) {
    const kind = String(ref.kind ?? '');
    const info = BOUND[kind];
    if (!info || (ref.apiVersion ?? 'v1') !== 'v1') {
      throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to object of type ${String(ref.apiVersion ?? '')}, Kind=${kind}`);
    }
    const obj: Obj | undefined = authz.store.get(info.key, info.namespaced ? namespace : undefined, String(ref.name ?? ''));
    if (!obj) throw notFound(`${info.claim}s`, '', String(ref.name ?? ''));
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw conflict(kind, '', String(ref.name), `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    bound = { kind: info.claim, ref: { name: obj.metadata.name, uid: obj.metadata.uid } };
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? (spec.audiences as unknown[]).map(String) : authz.apiAudiences;
  spec.audiences = audiences;
  const now = authz.now();
  const { token } = authz.signer.issue({
    namespace,
    serviceAccount: { name, uid: sa.metadata.uid },
    audiences,
    nowSeconds: Math.floor(now / 1000),
    expirationSeconds: seconds,
    ...(bound ? { bound } : {}),
  });
  return {
    code: 201,
    body: {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: rfc3339(now) },
      spec: { ...spec, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token, expirationTimestamp: rfc3339(now + seconds * 1000) },
    },
  };
}
