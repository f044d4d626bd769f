/**
 * Admission of an object into the store: pruning, defaulting and validation against the resource's
 * structural schema (the engine of src/api/validation), plus the defaults kube-apiserver applies to
 * the built-in kinds the operator writes.
 */
import { canonicalizeQuantities } from './quantities.js';
import type { JSONSchemaProps } from '../api/k8s/schemas.js';
import { StructuralValidator, type FieldError } from '../api/validation/index.js';
import { applyBuiltinDefaults } from './defaults.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface Admitted {
  object: Obj;
  errors: FieldError[];
  unknownFields: string[];
}

const validators = new WeakMap<JSONSchemaProps, StructuralValidator>();

function validatorFor(schema: JSONSchemaProps): StructuralValidator {
  let v = validators.get(schema);
  if (!v) {
    v = new StructuralValidator(schema);
    validators.set(schema, v);
  }
  return v;
}

/** Prunes, defaults and validates `obj` as an object of type `t` (on update, against `old`). */
export function admit(t: ResourceType, obj: Obj, old: Obj | undefined): Admitted {
  const schema = t.schema();
  const result = validatorFor(schema).admit(obj, {
    namespaced: t.namespaced,
    requireName: true,
    nameRule: t.group === 'rbac.authorization.k8s.io' ? 'path-segment' : 'subdomain',
    ...(old ? { old } : {}),
  });
  if (t.model) {
    applyBuiltinDefaults(t.kind, result.object);
    if (!result.errors.length) canonicalizeQuantities(result.object, schema);
  }
  return { object: result.object, errors: result.errors, unknownFields: result.unknownFields };
}
