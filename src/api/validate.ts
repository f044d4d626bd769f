/** Validation of apps.nvidia.com objects with the engine in validation/, as the API server does it. */
import { API_VERSION, GROUP, KINDS, kindDefinition, openAPISchema } from './v1alpha1/kinds.js';
import { StructuralValidator, formatFieldError, type FieldError } from './validation/index.js';
import { isPlainObject } from './validation/structural.js';

const validators = new Map<string, StructuralValidator>();

/** The validator for one of our kinds (compiled once). */
export function validatorFor(kind: string): StructuralValidator | undefined {
  let v = validators.get(kind);
  if (!v) {
    const def = kindDefinition(kind);
    if (!def) return undefined;
    v = new StructuralValidator(openAPISchema(def));
    validators.set(kind, v);
  }
  return v;
}

export type Verdict =
  | { status: 'valid'; object: Record<string, unknown>; errors: []; warnings: string[] }
  | { status: 'invalid'; object?: Record<string, unknown>; errors: FieldError[]; warnings: string[] }
  | { status: 'skipped'; reason: string; errors: []; warnings: string[] };

export interface ValidateOptions {
  old?: Record<string, unknown>;
  /** Strict: unknown fields are errors (kubectl's default); Warn: warnings; Ignore: silently pruned. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

/** Validates one object. Objects of other API groups are skipped, with the reason. */
export function validateObject(obj: unknown, opts: ValidateOptions = {}): Verdict {
  if (!isPlainObject(obj)) {
    return { status: 'invalid', errors: [{ type: 'FieldValueTypeInvalid', field: '', value: typeof obj, detail: 'a manifest must be a map of fields' }], warnings: [] };
  }
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    return { status: 'invalid', errors: [{ type: 'FieldValueRequired', field: 'apiVersion', detail: 'apiVersion must be set' }], warnings: [] };
  }
  if (typeof kind !== 'string' || kind === '') {
    return { status: 'invalid', errors: [{ type: 'FieldValueRequired', field: 'kind', detail: 'kind must be set' }], warnings: [] };
  }
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  if (group !== GROUP) return { status: 'skipped', reason: `${apiVersion} ${kind} is not a kind of ${GROUP}`, errors: [], warnings: [] };
  const def = kindDefinition(kind);
  if (!def) {
    const known = KINDS.map((k) => k.kind).join(', ');
    return {
      status: 'invalid',
      errors: [{ type: 'FieldValueNotSupported', field: 'kind', value: kind, detail: `supported values: ${known}` }],
      warnings: [],
    };
  }
  if (apiVersion !== API_VERSION) {
    return {
      status: 'invalid',
      errors: [{ type: 'FieldValueNotSupported', field: 'apiVersion', value: apiVersion, detail: `supported values: "${API_VERSION}"` }],
      warnings: [],
    };
  }
  const result = validatorFor(kind)!.admit(obj, opts.old ? { old: opts.old } : {});
  const errors = [...result.errors];
  const warnings: string[] = [];
  const mode = opts.fieldValidation ?? 'Strict';
  for (const path of result.unknownFields) {
    if (mode === 'Strict') {
      errors.push({ type: 'FieldValueUnknown', field: path, detail: `field not declared in the ${kind} schema` });
    } else if (mode === 'Warn') warnings.push(`unknown field "${path}"`);
  }
  if (errors.length) return { status: 'invalid', object: result.object, errors, warnings };
  return { status: 'valid', object: result.object, errors: [], warnings };
}

export { formatFieldError };
