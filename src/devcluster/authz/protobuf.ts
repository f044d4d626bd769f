/**
 * Protobuf bodies of the kinds authz/ serves, as kubectl sends them (`kubectl create token`,
 * `kubectl auth can-i`, `kubectl auth whoami` POST application/vnd.kubernetes.protobuf): the
 * request fields only (spec and metadata.name/namespace), in their JSON form with Go's omitempty.
 * Field numbers from k8s.io/api authentication/v1 and authorization/v1 generated.proto.
 */
import { ProtobufError, WireReader, WireType } from '../protobuf/wire.js';

type Json = Record<string, unknown>;
/** field number → [json name, type]; a nested shape is a message; `[shape]` a repeated message. */
type FieldType = 'string' | 'strings' | 'int64' | 'bool' | 'extra' | Shape;
interface Shape {
  [num: number]: [string, FieldType];
}

const META: Shape = { 1: ['name', 'string'], 3: ['namespace', 'string'] };
const RESOURCE_ATTRS: Shape = {
  1: ['namespace', 'string'],
  2: ['verb', 'string'],
  3: ['group', 'string'],
  4: ['version', 'string'],
  5: ['resource', 'string'],
  6: ['subresource', 'string'],
  7: ['name', 'string'],
};
const NON_RESOURCE_ATTRS: Shape = { 1: ['path', 'string'], 2: ['verb', 'string'] };
const SAR_SPEC: Shape = {
  1: ['resourceAttributes', RESOURCE_ATTRS],
  2: ['nonResourceAttributes', NON_RESOURCE_ATTRS],
  3: ['user', 'string'],
  4: ['groups', 'strings'],
  5: ['extra', 'extra'],
  6: ['uid', 'string'],
};

const KINDS: Record<string, Shape> = {
  'authentication.k8s.io/v1 TokenRequest': {
    1: ['metadata', META],
    2: [
      'spec',
      {
        1: ['audiences', 'strings'],
        4: ['expirationSeconds', 'int64'],
        3: ['boundObjectRef', { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] }],
      },
    ],
  },
  'authentication.k8s.io/v1 TokenReview': { 1: ['metadata', META], 2: ['spec', { 1: ['token', 'string'], 2: ['audiences', 'strings'] }] },
  'authentication.k8s.io/v1 SelfSubjectReview': { 1: ['metadata', META] },
  'authorization.k8s.io/v1 SelfSubjectAccessReview': {
    1: ['metadata', META],
    2: ['spec', { 1: ['resourceAttributes', RESOURCE_ATTRS], 2: ['nonResourceAttributes', NON_RESOURCE_ATTRS] }],
  },
  'authorization.k8s.io/v1 SubjectAccessReview': { 1: ['metadata', META], 2: ['spec', SAR_SPEC] },
  'authorization.k8s.io/v1 LocalSubjectAccessReview': { 1: ['metadata', META], 2: ['spec', SAR_SPEC] },
  'authorization.k8s.io/v1 SelfSubjectRulesReview': { 1: ['metadata', META], 2: ['spec', { 1: ['namespace', 'string'] }] },
};

function expect(got: number, want: number, what: string): void {
  if (got !== want) throw new ProtobufError(`${what}: unexpected wire type ${got}`);
}

function decode(bytes: Uint8Array, shape: Shape, path: string): Json {
  const r = new WireReader(bytes);
  const out: Json = {};
  while (!r.done) {
    const [num, wt] = r.tag();
    const field = shape[num];
    if (!field) {
      r.skip(num, wt);
      continue;
    }
    const [name, type] = field;
    const where = `${path}.${name}`;
    if (type === 'int64') {
      expect(wt, WireType.Varint, where);
      out[name] = Number(BigInt.asIntN(64, r.varint()));
    } else if (type === 'bool') {
      expect(wt, WireType.Varint, where);
      out[name] = r.varint() !== 0n;
    } else {
      expect(wt, WireType.LengthDelimited, where);
      if (type === 'string') {
        const s = r.string();
        if (s) out[name] = s;
        else delete out[name];
      } else if (type === 'strings') ((out[name] ??= []) as string[]).push(r.string());
      else if (type === 'extra') {
        const entry = decode(r.bytes(), { 1: ['key', 'string'], 2: ['value', { 1: ['items', 'strings'] }] }, where);
        const extra = (out[name] ??= {}) as Record<string, string[]>;
        extra[String(entry.key ?? '')] = ((entry.value as Json | undefined)?.items as string[] | undefined) ?? [];
      } else out[name] = { ...((out[name] as Json | undefined) ?? {}), ...decode(r.bytes(), type, where) };
    }
  }
  return out;
}

/** True when the body is Kubernetes protobuf (Content-Type application/vnd.kubernetes.protobuf). */
export function isProtobuf(contentType: string): boolean {
  return /application\/vnd\.kubernetes\.protobuf/.test(contentType);
}

/** Decodes a "k8s\0" + runtime.Unknown body of one of the kinds above into its JSON form. */
export function decodeAuthzProtobuf(body: Uint8Array): Json {
  if (body.length < 4 || body[0] !== 0x6b || body[1] !== 0x38 || body[2] !== 0x73 || body[3] !== 0) {
    throw new ProtobufError('not a Kubernetes protobuf body: it does not start with the "k8s\\x00" magic');
  }
  const env = decode(body.subarray(4), { 1: ['typeMeta', { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }] }, 'runtime.Unknown');
  const tm = (env.typeMeta ?? {}) as Json;
  const apiVersion = String(tm.apiVersion ?? '');
  const kind = String(tm.kind ?? '');
  const shape = KINDS[`${apiVersion} ${kind}`];
  if (!shape) throw new ProtobufError(`no protobuf schema for ${kind} (${apiVersion}); send it as application/json`, true);
  const r = new WireReader(body.subarray(4));
  let raw: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const [num, wt] = r.tag();
    if (num === 2 && wt === WireType.LengthDelimited) raw = r.bytes();
    else r.skip(num, wt);
  }
  return { apiVersion, kind, ...decode(raw, shape, kind) };
}
