/**
 * The DRA device selectors of a `claimCreationSpec` device, as CEL expressions (inventory §2.2.11):
 * first `device.driver == "<driverName>"`, then the user's `celExpressions`, or one expression per
 * attribute or capacity selector. Text must match upstream's exactly: it is what the scheduler runs.
 */
import { parse } from '@marcbachmann/cel-js';
import type { DRAResource } from '../../api/v1alpha1/dra.js';
import { SpecError } from './common.js';
import { canonicalQuantity } from '../../api/k8s/quantity.js';

type Device = NonNullable<DRAResource['claimCreationSpec']>['devices'][number];
type AttributeSelector = NonNullable<Device['attributeSelectors']>[number];
type CapacitySelector = NonNullable<Device['capacitySelectors']>[number];

export const DEFAULT_DRIVER = 'gpu.nvidia.com';

const OPERATORS: Record<string, string> = {
  Equal: '==',
  NotEqual: '!=',
  GreaterThan: '>',
  GreaterThanOrEqual: '>=',
  LessThan: '<',
  LessThanOrEqual: '<=',
};

/** A string as a double-quoted literal, escaped the way Go's `%q` does (valid CEL string syntax). */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Whether a text is a semantic version (semver 2.0.0: MAJOR.MINOR.PATCH, optional pre-release and build). */
export function isSemver(v: string): boolean {
  return SEMVER.test(v);
}

/** A key `domain/name` split at its first `/`; without one, the domain is the device's driver. */
function splitKey(key: string, driver: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? [driver, key] : [key.slice(0, i), key.slice(i + 1)];
}

function operator(op: string | undefined, allowed: readonly string[], field: string, type: string): string {
  const name = op ?? 'Equal';
  if (!allowed.includes(name)) {
    throw new SpecError(field, `Unsupported value: "${name}": a ${type} value can only be compared with ${allowed.join(' or ')}`);
  }
  return OPERATORS[name]!;
}

const EQUALITY = ['Equal', 'NotEqual'];
const ALL = Object.keys(OPERATORS);

/** One attribute selector; the first value field set wins, in the order bool, int, string, version. */
function attributeExpression(sel: AttributeSelector, driver: string, field: string): string {
  const [domain, name] = splitKey(sel.key, driver);
  const attr = `device.attributes[${quote(domain)}].${name}`;
  const v = sel.value;
  if (!v) throw new SpecError(`${field}.value`, 'Required value: the value to compare with');
  if (v.boolValue !== undefined) return `${attr} ${operator(sel.op, EQUALITY, `${field}.op`, 'bool')} ${v.boolValue}`;
  if (v.intValue !== undefined) return `${attr} ${operator(sel.op, ALL, `${field}.op`, 'int')} ${v.intValue}`;
  if (v.stringValue !== undefined) return `${attr} ${operator(sel.op, EQUALITY, `${field}.op`, 'string')} ${quote(v.stringValue)}`;
  if (v.versionValue !== undefined) {
    return `(${attr}).compareTo(semver(${quote(v.versionValue)})) ${operator(sel.op, ALL, `${field}.op`, 'version')} 0`;
  }
  throw new SpecError(`${field}.value`, 'Required value: one of boolValue, intValue, stringValue or versionValue');
}

function capacityExpression(sel: CapacitySelector, driver: string, field: string): string {
  const [domain, name] = splitKey(sel.key, driver);
  const cap = `device.capacity[${quote(domain)}].${name}`;
  return `(${cap}).compareTo(quantity(${quote(canonicalQuantity(sel.value))})) ${operator(sel.op, ALL, `${field}.op`, 'quantity')} 0`;
}

/**
 * The CEL selectors of one device; `field` is its spec path (`spec.draResources[i].claimCreationSpec.devices[j]`).
 * Throws a SpecError for a spec upstream fails on: user expressions mixed with selectors, an
 * expression that does not parse, an operator its value type does not support, a missing value.
 */
export function deviceExpressions(device: Device, field: string): string[] {
  const driver = device.driverName ?? DEFAULT_DRIVER;
  const out = [`device.driver == ${quote(driver)}`];
  const attrs = device.attributeSelectors ?? [];
  const caps = device.capacitySelectors ?? [];
  if (device.celExpressions?.length) {
    if (attrs.length || caps.length) {
      throw new SpecError(`${field}.celExpressions`, 'Forbidden: celExpressions must not be set if attributeSelectors or capacitySelectors are set');
    }
    device.celExpressions.forEach((expr, k) => {
      try {
        parse(expr);
      } catch (e) {
        throw new SpecError(`${field}.celExpressions[${k}]`, `Invalid value: not a CEL expression: ${(e as Error).message.split('\n')[0]}`);
      }
      out.push(expr);
    });
    return out;
  }
  attrs.forEach((sel, k) => out.push(attributeExpression(sel, driver, `${field}.attributeSelectors[${k}]`)));
  caps.forEach((sel, k) => out.push(capacityExpression(sel, driver, `${field}.capacitySelectors[${k}]`)));
  return out;
}
