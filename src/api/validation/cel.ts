/**
 * `x-kubernetes-validations` rules, evaluated with a CEL implementation (@marcbachmann/cel-js) the
 * way kube-apiserver evaluates them: `self` is the value at the rule's node, integers are CEL ints,
 * and transition rules (those naming `oldSelf`) run only on update and only where the old object
 * has a value at the same place (through object fields, map entries and list-map items).
 */
import { parse } from '@marcbachmann/cel-js';
import type { JSONSchemaProps, ValidationRule } from '../k8s/schemas.js';
import { childPath, fieldError, OMIT_VALUE, type FieldError } from './field-errors.js';
import { isPlainObject } from './structural.js';

type Program = ReturnType<typeof parse>;
const programs = new Map<string, Program | Error>();

function program(expr: string): Program | Error {
  let p = programs.get(expr);
  if (!p) {
    try {
      p = parse(expr);
    } catch (e) {
      p = e instanceof Error ? e : new Error(String(e));
    }
    programs.set(expr, p);
  }
  return p;
}

/** Parses a rule; returns the error text when it does not compile. */
export function compileRule(expr: string): string | undefined {
  const p = program(expr);
  return p instanceof Error ? p.message.split('\n')[0] : undefined;
}

export function isTransitionRule(r: ValidationRule): boolean {
  return /\boldSelf\b/.test(r.rule);
}

/** The value as CEL sees it: integer fields become ints (bigint). */
export function toCel(value: unknown, schema: JSONSchemaProps | undefined): unknown {
  if (value === null || value === undefined || !schema) return value;
  if (typeof value === 'number') {
    const integral = schema.type === 'integer' || (schema['x-kubernetes-int-or-string'] && Number.isInteger(value));
    return integral && Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema.items));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const s = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = s ? toCel(v, s) : v;
    }
    return out;
  }
  return value;
}

function schemaTypeName(s: JSONSchemaProps): string {
  if (s['x-kubernetes-int-or-string']) return 'string';
  return s.type ?? 'object';
}

function ruleError(r: ValidationRule, path: string, s: JSONSchemaProps, message: string): FieldError {
  const at = r.fieldPath ? joinFieldPath(path, r.fieldPath) : path;
  switch (r.reason) {
    case 'FieldValueForbidden':
      return fieldError('FieldValueForbidden', at, OMIT_VALUE, message);
    case 'FieldValueRequired':
      return fieldError('FieldValueRequired', at, OMIT_VALUE, message);
    case 'FieldValueDuplicate':
      return fieldError('FieldValueDuplicate', at, schemaTypeName(s), message);
    default:
      return fieldError('FieldValueInvalid', at, schemaTypeName(s), message);
  }
}

function joinFieldPath(base: string, rel: string): string {
  const trimmed = rel.startsWith('.') ? rel.slice(1) : rel;
  return base ? `${base}.${trimmed}` : trimmed;
}

function runRules(
  rules: ValidationRule[],
  s: JSONSchemaProps,
  value: unknown,
  old: unknown,
  hasOld: boolean,
  path: string,
  out: FieldError[],
): void {
  for (const r of rules) {
    const transition = isTransitionRule(r);
    if (transition && !hasOld && !r.optionalOldSelf) continue;
    const p = program(r.rule);
    if (p instanceof Error) {
      out.push(fieldError('InternalError', path, OMIT_VALUE, `rule compile error: ${p.message.split('\n')[0]}`));
      continue;
    }
    const ctx: Record<string, unknown> = { self: toCel(value, s) };
    if (transition) ctx.oldSelf = hasOld ? toCel(old, s) : null;
    let ok: unknown;
    try {
      ok = p(ctx);
    } catch (e) {
      out.push(ruleError(r, path, s, `${r.message ?? r.rule}: ${(e as Error).message.split('\n')[0]}`));
      continue;
    }
    if (ok === true) continue;
    let message = r.message ?? `failed rule: ${r.rule}`;
    if (r.messageExpression) {
      try {
        const m = program(r.messageExpression);
        if (!(m instanceof Error)) {
          const text = m(ctx);
          if (typeof text === 'string' && text.trim()) message = text;
        }
      } catch {
        // fall back to the static message, as kube-apiserver does
      }
    }
    out.push(ruleError(r, path, s, message));
  }
}

/**
 * Evaluates every rule in the schema tree against `value` (and `old`, on update).
 * Values must already be pruned, defaulted and schema-valid.
 */
export function checkRules(
  value: unknown,
  schema: JSONSchemaProps,
  old: unknown,
  hasOld: boolean,
  path = '',
): FieldError[] {
  const out: FieldError[] = [];
  walk(value, schema, old, hasOld, path, out);
  return out;
}

function walk(value: unknown, s: JSONSchemaProps, old: unknown, hasOld: boolean, path: string, out: FieldError[]): void {
  if (value === undefined || value === null) return;
  const rules = s['x-kubernetes-validations'];
  if (rules?.length) runRules(rules, s, value, old, hasOld, path, out);
  if (Array.isArray(value) && s.items) {
    const keys = s['x-kubernetes-list-type'] === 'map' ? s['x-kubernetes-list-map-keys'] ?? [] : undefined;
    const oldList = hasOld && Array.isArray(old) ? old : [];
    value.forEach((item, i) => {
      let oldItem: unknown;
      let found = false;
      if (keys && isPlainObject(item)) {
        oldItem = oldList.find((o) => isPlainObject(o) && keys.every((k) => o[k] === item[k]));
        found = oldItem !== undefined;
      }
      walk(item, s.items!, oldItem, found, childPath(path, i), out);
    });
    return;
  }
  if (isPlainObject(value)) {
    const oldObj = hasOld && isPlainObject(old) ? old : undefined;
    for (const [k, v] of Object.entries(value)) {
      const prop = s.properties?.[k];
      const add = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      const child = prop ?? add;
      if (!child) continue;
      const has = oldObj !== undefined && k in oldObj;
      walk(v, child, oldObj?.[k], has, childPath(path, k, !prop), out);
    }
  }
}
