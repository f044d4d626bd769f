/**
 * One validation engine for custom resources, used by `nimop validate`, by the admission webhook
 * and by the embedded control plane: prune unknown fields, drop nulls and apply defaults, check
 * the structural schema, the list invariants and ObjectMeta, then the CEL rules — in
 * kube-apiserver's order, with its error shapes.
 */
import type { JSONSchemaProps } from '../k8s/schemas.js';
import { checkRules } from './cel.js';
import { fieldError, OMIT_VALUE, type FieldError } from './field-errors.js';
import { validateListTypes, validateObjectMeta } from './meta.js';
import { checkSchema } from './schema-check.js';
import { applyDefaults, isPlainObject, prune } from './structural.js';

export * from './field-errors.js';
export { compileRule } from './cel.js';

export interface AdmitOptions {
  /** The stored object, on update: transition rules compare against it. */
  old?: Record<string, unknown>;
  namespaced?: boolean;
  /** Whether a name (or generateName) must be present. */
  requireName?: boolean;
  /** How names are checked: DNS subdomains (most kinds) or path segments (RBAC kinds allow `system:x`). */
  nameRule?: 'subdomain' | 'path-segment';
}

export interface AdmitResult {
  /** The object after pruning and defaulting: what the API server would store. */
  object: Record<string, unknown>;
  errors: FieldError[];
  /** Paths of fields the schema does not declare (pruned from `object`). */
  unknownFields: string[];
}

/** Errors after which kube-apiserver does not evaluate CEL rules (the object lacks the shape they assume). */
const BLOCKING = new Set(['FieldValueTypeInvalid', 'FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany']);

export class StructuralValidator {
  constructor(readonly schema: JSONSchemaProps) {}

  /** Prunes and defaults a copy of `input`, then validates it. Never throws on bad input. */
  admit(input: unknown, opts: AdmitOptions = {}): AdmitResult {
    if (!isPlainObject(input)) {
      return {
        object: {},
        errors: [fieldError('FieldValueTypeInvalid', '', typeof input, 'the object must be a map of fields')],
        unknownFields: [],
      };
    }
    const object = structuredClone(input);
    const unknownFields = prune(object, this.schema);
    applyDefaults(object, this.schema);
    const errors: FieldError[] = [
      ...validateObjectMeta(object.metadata, { namespaced: opts.namespaced ?? true, requireName: opts.requireName ?? true, nameRule: opts.nameRule ?? 'subdomain' }),
    ];
    const { metadata, ...body } = object;
    void metadata;
    errors.push(...checkSchema(body, withoutMetadata(this.schema)));
    errors.push(...validateListTypes(body, this.schema));
    if (errors.some((e) => BLOCKING.has(e.type))) {
      errors.push(
        fieldError(
          'FieldValueInvalid',
          '',
          OMIT_VALUE,
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
        ),
      );
    } else {
      const old = opts.old;
      errors.push(...checkRules(body, this.schema, old, old !== undefined));
    }
    return { object, errors, unknownFields };
  }
}

const noMeta = new WeakMap<JSONSchemaProps, JSONSchemaProps>();
function withoutMetadata(s: JSONSchemaProps): JSONSchemaProps {
  let r = noMeta.get(s);
  if (!r) {
    const { metadata, ...props } = s.properties ?? {};
    void metadata;
    r = { ...s, properties: props };
    // metadata is checked as ObjectMeta separately; a schema that requires it must not ask again.
    if (s.required) r.required = s.required.filter((k) => k !== 'metadata');
    noMeta.set(s, r);
  }
  return r;
}
