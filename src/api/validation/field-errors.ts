/**
 * Field errors in the shape kube-apiserver uses (k8s.io/apimachinery/pkg/util/validation/field):
 * a path, a type, the offending value and a detail, printed as `<path>: <Type>: <value>: <detail>`,
 * and carried in a Status as `details.causes[{reason, message, field}]`.
 */

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueNotFound'
  | 'FieldValueUnknown'
  | 'InternalError';

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotFound: 'Not found',
  FieldValueUnknown: 'Unknown field',
  InternalError: 'Internal error',
};

/** Types whose printed form never shows the value. */
const VALUELESS: ReadonlySet<FieldErrorType> = new Set([
  'FieldValueRequired',
  'FieldValueForbidden',
  'FieldValueTooLong',
  'FieldValueUnknown',
  'InternalError',
]);

export const OMIT_VALUE = Symbol('omit');

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with [i] for list items and [key] for map entries, e.g. spec.env[0].name. */
  field: string;
  value?: unknown;
  detail: string;
}

export function fieldError(type: FieldErrorType, field: string, value: unknown, detail = ''): FieldError {
  return value === OMIT_VALUE ? { type, field, detail } : { type, field, value, detail };
}

/** A value as Go's %v/%q would print it in a field error. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The error body as kube-apiserver prints it, without the field path. */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (!VALUELESS.has(e.type) && 'value' in e) s += `: ${formatValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function formatFieldError(e: FieldError): string {
  return `${e.field || '<root>'}: ${errorBody(e)}`;
}

/** The reason string of a StatusCause for this error. */
export function causeReason(e: FieldError): string {
  if (e.type === 'FieldValueUnknown') return 'FieldValueInvalid';
  if (e.type === 'InternalError') return 'InternalError';
  return e.type;
}

/** Joins path segments: a property name, a list index or a map key. */
export function childPath(parent: string, segment: string | number, asMapKey = false): string {
  if (typeof segment === 'number') return `${parent}[${segment}]`;
  if (asMapKey) return `${parent}[${segment}]`;
  return parent ? `${parent}.${segment}` : segment;
}
