/**
 * What a strategic merge patch needs to know about the object it patches: for each field, its
 * patch strategy and the schema of its value (for a list, of its items). The engine asks only
 * through `PatchSchema`, so it can run on any description of a type; `modelPatchSchema` is the
 * one for built-in kinds, read from the `@kubernetes/client-node` models and PATCH_STRATEGIES.
 */
import { k8sModelFields } from '../../api/k8s/schemas.js';
import { PatchError } from './errors.js';
import { type FieldPatchStrategy, PATCH_STRATEGIES } from './patch-strategies.js';

export interface FieldPatchInfo {
  strategy: FieldPatchStrategy;
  /** The schema of the field's value; for a list, the schema of one item. */
  schema: PatchSchema;
}

export interface PatchSchema {
  /** Used in error messages, as the server names the Go type. */
  readonly name: string;
  lookup(field: string): FieldPatchInfo;
}

const NO_STRATEGY: FieldPatchStrategy = Object.freeze({});

/** A value whose type is unknown or not an object: maps merge key by key, lists are replaced. */
export const OPEN_SCHEMA: PatchSchema = {
  name: 'unknown',
  lookup: () => ({ strategy: NO_STRATEGY, schema: OPEN_SCHEMA }),
};

/** client-node type expressions that are not models. */
const SCALAR_TYPES = new Set(['string', 'number', 'boolean', 'Date', 'IntOrString', 'any', 'object']);

const schemaCache = new Map<string, PatchSchema>();

function schemaOfType(typeExpr: string): PatchSchema {
  const t = typeExpr.trim();
  const list = /^Array<(.+)>$/.exec(t);
  if (list) return schemaOfType(list[1]!);
  const map = /^\{\s*\[key: string\]: (.+?);\s*\}$/.exec(t);
  if (map) {
    const values = schemaOfType(map[1]!);
    return { name: t, lookup: () => ({ strategy: NO_STRATEGY, schema: values }) };
  }
  if (SCALAR_TYPES.has(t) || !/^[A-Z][A-Za-z0-9]*$/.test(t)) return OPEN_SCHEMA;
  return modelSchema(t);
}

function modelSchema(model: string): PatchSchema {
  const cached = schemaCache.get(model);
  if (cached) return cached;
  let fieldTypes: Map<string, string>;
  try {
    fieldTypes = new Map(k8sModelFields(model).map((f) => [f.name, f.type]));
  } catch {
    schemaCache.set(model, OPEN_SCHEMA);
    return OPEN_SCHEMA;
  }
  const fields = new Map<string, FieldPatchInfo>();
  const schema: PatchSchema = {
    name: model,
    lookup(field) {
      let info = fields.get(field);
      if (!info) {
        const type = fieldTypes.get(field);
        // Fields the model does not know (newer than client-node) get no strategy.
        info = type
          ? { strategy: PATCH_STRATEGIES[`${model}.${field}`] ?? NO_STRATEGY, schema: schemaOfType(type) }
          : { strategy: NO_STRATEGY, schema: OPEN_SCHEMA };
        fields.set(field, info);
      }
      return info;
    },
  };
  schemaCache.set(model, schema);
  return schema;
}

/** The patch schema of a built-in kind by its client-node model name, e.g. `V1Deployment`. */
export function modelPatchSchema(model: string): PatchSchema {
  try {
    k8sModelFields(model);
  } catch {
    throw new PatchError(`no patch schema for ${model}: not a @kubernetes/client-node model`, 500);
  }
  return modelSchema(model);
}
