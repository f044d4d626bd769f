/**
 * Structural OpenAPI v3 schemas of embedded Kubernetes types (Affinity, EnvVar, Probe, …).
 *
 * They are not written by hand: they are derived, at run time, from the model metadata that
 * `@kubernetes/client-node` generates from Kubernetes' own OpenAPI document (v1.34): each model
 * class carries an `attributeTypeMap` (field → type and format) and its `.d.ts` file carries the
 * field descriptions and which fields are required. Two facts that the generator erases are put
 * back from the small tables in `k8s-markers.ts`: which string fields are resource quantities, and
 * the list/map merge markers (`x-kubernetes-list-type`, `x-kubernetes-map-type`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIELD_MARKERS, QUANTITY_FIELDS, QUANTITY_PATTERN } from './k8s-markers.js';

/** The subset of OpenAPI v3 that Kubernetes structural schemas use. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelInfo {
  description: string;
  attributes: Attribute[];
  optional: Set<string>;
  descriptions: Map<string, string>;
}

const modelsDir = join(dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node'))), 'gen', 'models');
const modelCache = new Map<string, ModelInfo>();

function unescapeDoc(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join('\n')
    .replace(/\\'/g, "'")
    .trim();
}

function loadModel(typeName: string): ModelInfo {
  const cached = modelCache.get(typeName);
  if (cached) return cached;
  let js: string;
  let dts: string;
  try {
    js = readFileSync(join(modelsDir, `${typeName}.js`), 'utf8');
    dts = readFileSync(join(modelsDir, `${typeName}.d.ts`), 'utf8');
  } catch {
    throw new Error(`unknown Kubernetes model ${typeName} (not found in @kubernetes/client-node)`);
  }
  const mapMatch = /\.attributeTypeMap = (\[[\s\S]*?\n\]);/.exec(js);
  const attributes: Attribute[] = mapMatch ? (JSON.parse(mapMatch[1]!) as Attribute[]) : [];
  const classDoc = /\/\*\*\n((?:\*.*\n)+?)\*\/\nexport declare class/.exec(dts);
  const optional = new Set<string>();
  const descriptions = new Map<string, string>();
  const propRe = /(?:\/\*\*\n((?:(?!\*\/)[\s\S])*?)\*\/\n)?\s{4}'([A-Za-z0-9_$-]+)'(\?)?:/g;
  for (let m = propRe.exec(dts); m; m = propRe.exec(dts)) {
    const [, doc, name, opt] = m;
    if (opt) optional.add(name!);
    if (doc) descriptions.set(name!, unescapeDoc(doc));
  }
  const info: ModelInfo = {
    description: classDoc ? unescapeDoc(classDoc[1]!) : '',
    attributes,
    optional,
    descriptions,
  };
  modelCache.set(typeName, info);
  return info;
}

/**
 * The fields of a client-node model with their client-node type expressions (e.g. `V1Container`,
 * `Array<V1EnvVar>`, `{ [key: string]: string; }`), for code that walks objects by model.
 */
export function k8sModelFields(typeName: string): { name: string; type: string; format: string; required: boolean }[] {
  const m = loadModel(typeName);
  return m.attributes.map((a) => ({ name: a.baseName, type: a.type, format: a.format, required: !m.optional.has(a.name) }));
}

export function quantitySchema(description?: string): JSONSchemaProps {
  return {
    ...(description ? { description } : {}),
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
  };
}

function scalarOrRef(tsType: string, format: string, quantity: boolean, stack: string[]): JSONSchemaProps {
  const t = tsType.trim();
  if (t === 'string') {
    if (quantity) return quantitySchema();
    return format && format !== 'quantity' ? { type: 'string', format } : { type: 'string' };
  }
  if (t === 'number') {
    if (format === 'double' || format === 'float') return { type: 'number', format };
    return format ? { type: 'integer', format } : { type: 'integer' };
  }
  if (t === 'boolean') return { type: 'boolean' };
  if (t === 'Date' || t === 'V1MicroTime') return { type: 'string', format: 'date-time' };
  if (t === 'IntOrString') return { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
  if (t === 'any' || t === 'object') return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { type: 'array', items: scalarOrRef(arr[1]!, format, quantity, stack) };
  const map = /^\{\s*\[key: string\]: (.+?);\s*\}$/.exec(t);
  if (map) return { type: 'object', additionalProperties: scalarOrRef(map[1]!, format, quantity, stack) };
  return buildModel(t, stack);
}

function buildModel(typeName: string, stack: string[]): JSONSchemaProps {
  if (stack.includes(typeName)) {
    // Kubernetes' recursive types (JSONSchemaProps) cannot be structural: keep them open.
    return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  const model = loadModel(typeName);
  const next = [...stack, typeName];
  const properties: Record<string, JSONSchemaProps> = {};
  const required: string[] = [];
  for (const a of model.attributes) {
    const quantity = QUANTITY_FIELDS.has(`${typeName}.${a.baseName}`);
    const prop = scalarOrRef(a.type, a.format, quantity, next);
    const description = model.descriptions.get(a.name) ?? model.descriptions.get(a.baseName);
    const markers = FIELD_MARKERS[`${typeName}.${a.baseName}`];
    properties[a.baseName] = { ...(description ? { description } : {}), ...prop, ...(markers ?? {}) };
    if (!model.optional.has(a.name)) required.push(a.baseName);
  }
  const schema: JSONSchemaProps = { type: 'object' };
  if (model.description) schema.description = model.description;
  schema.properties = properties;
  if (required.length) schema.required = required.sort();
  const typeMarkers = FIELD_MARKERS[typeName];
  return typeMarkers ? { ...schema, ...typeMarkers } : schema;
}

const built = new Map<string, JSONSchemaProps>();

/**
 * The structural schema of a Kubernetes model of `@kubernetes/client-node`, e.g. `V1Affinity`,
 * `V1EnvVar`, `V2MetricSpec`. Returns a fresh deep copy each call, so callers may annotate it.
 */
export function k8sSchema(typeName: string): JSONSchemaProps {
  let s = built.get(typeName);
  if (!s) {
    s = buildModel(typeName, []);
    built.set(typeName, s);
  }
  return structuredClone(s);
}
