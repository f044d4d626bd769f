/**
 * OpenAPI v3 structural-schema validation with ajv, reporting kube-apiserver's field errors.
 * The CRD schema is first lowered to plain JSON Schema: int-or-string becomes a two-type union,
 * `nullable` becomes a null type, the Kubernetes extensions are dropped (they are enforced
 * elsewhere), and the formats Kubernetes knows are registered.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JSONSchemaProps } from '../k8s/schemas.js';
import { childPath, fieldError, type FieldError } from './field-errors.js';
import { isPlainObject } from './structural.js';

const INT32 = { min: -2147483648, max: 2147483647 };

const ajv = new Ajv({
  strict: false,
  allErrors: true,
  unicodeRegExp: false,
  validateFormats: true,
  verbose: true,
  formats: {
    int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32.min && n <= INT32.max },
    int64: { type: 'number', validate: (n: number) => Number.isSafeInteger(n) || Number.isInteger(n) },
    float: { type: 'number', validate: () => true },
    double: { type: 'number', validate: () => true },
    byte: { type: 'string', validate: (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 },
    'date-time': {
      type: 'string',
      validate: (s: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s),
    },
  },
});

const KNOWN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date-time']);

function lower(s: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'nullable' || k === 'default') continue;
    if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, JSONSchemaProps>).map(([n, c]) => [n, lower(c)]));
    } else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = lower(v as JSONSchemaProps);
    } else if (k === 'anyOf' || k === 'allOf' || k === 'oneOf') {
      if (!s['x-kubernetes-int-or-string']) out[k] = (v as JSONSchemaProps[]).map(lower);
    } else if (k === 'not') {
      out[k] = lower(v as JSONSchemaProps);
    } else if (k === 'format') {
      if (KNOWN_FORMATS.has(v as string)) out[k] = v;
    } else {
      out[k] = v;
    }
  }
  if (s['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  if (s.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

const compiled = new WeakMap<JSONSchemaProps, ValidateFunction>();

function compile(schema: JSONSchemaProps): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(lower(schema));
    compiled.set(schema, v);
  }
  return v;
}

function goType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Converts a JSON pointer into a field path, telling map keys from property names by the schema. */
function fieldPathOf(pointer: string, schema: JSONSchemaProps, prefix: string): string {
  let path = prefix;
  let s: JSONSchemaProps | undefined = schema;
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const seg of segments) {
    if (s?.items && /^\d+$/.test(seg)) {
      path = childPath(path, Number(seg));
      s = s.items;
    } else if (s?.properties?.[seg]) {
      path = childPath(path, seg);
      s = s.properties[seg];
    } else if (s && typeof s.additionalProperties === 'object') {
      path = childPath(path, seg, true);
      s = s.additionalProperties;
    } else {
      path = childPath(path, seg);
      s = undefined;
    }
  }
  return path;
}

function toFieldError(e: ErrorObject, schema: JSONSchemaProps, prefix: string): FieldError | undefined {
  const field = fieldPathOf(e.instancePath, schema, prefix);
  const shown = field || '<root>';
  const p = e.params as Record<string, unknown>;
  const v = e.data;
  switch (e.keyword) {
    case 'required':
      return fieldError('FieldValueRequired', childPath(field, String(p.missingProperty)), undefined, '');
    case 'type': {
      const want = Array.isArray(p.type) ? (p.type as string[]).filter((t) => t !== 'null').join(' or ') : String(p.type);
      return fieldError('FieldValueTypeInvalid', field, goType(v), `${shown} in body must be of type ${want}: "${goType(v)}"`);
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((a) => JSON.stringify(a)).join(', ');
      return fieldError('FieldValueNotSupported', field, v, `supported values: ${allowed}`);
    }
    case 'minimum':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should be greater than or equal to ${String(p.limit)}`);
    case 'maximum':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should be less than or equal to ${String(p.limit)}`);
    case 'exclusiveMinimum':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should be greater than ${String(p.limit)}`);
    case 'exclusiveMaximum':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should be less than ${String(p.limit)}`);
    case 'minLength':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should be at least ${String(p.limit)} chars long`);
    case 'maxLength':
      return fieldError('FieldValueTooLong', field, v, `may not be more than ${String(p.limit)} bytes`);
    case 'pattern':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body should match '${String(p.pattern)}'`);
    case 'minItems':
      return fieldError('FieldValueInvalid', field, Array.isArray(v) ? v.length : v, `${shown} in body should have at least ${String(p.limit)} items`);
    case 'maxItems':
      return fieldError('FieldValueTooMany', field, Array.isArray(v) ? v.length : v, `must have at most ${String(p.limit)} items`);
    case 'minProperties':
      return fieldError('FieldValueInvalid', field, isPlainObject(v) ? Object.keys(v).length : v, `${shown} in body should have at least ${String(p.limit)} properties`);
    case 'maxProperties':
      return fieldError('FieldValueTooMany', field, isPlainObject(v) ? Object.keys(v).length : v, `must have at most ${String(p.limit)} items`);
    case 'format':
      return fieldError('FieldValueTypeInvalid', field, v, `${shown} in body must be of type ${String(p.format)}: ${JSON.stringify(v)}`);
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
    case 'not':
      return fieldError('FieldValueInvalid', field, v, `${shown} in body must satisfy its schema (${e.keyword})`);
    default:
      return fieldError('FieldValueInvalid', field, v, e.message ?? 'invalid');
  }
}

/** Validates a value against a structural schema; `prefix` is the field path of the value. */
export function checkSchema(value: unknown, schema: JSONSchemaProps, prefix = ''): FieldError[] {
  const validate = compile(schema);
  if (validate(value)) return [];
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    // A failed anyOf is reported through its branches' errors already.
    if (e.keyword === 'anyOf' && (validate.errors ?? []).some((o) => o !== e && o.instancePath === e.instancePath)) continue;
    const fe = toFieldError(e, schema, prefix);
    if (!fe) continue;
    const key = `${fe.type}|${fe.field}|${fe.detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out;
}
