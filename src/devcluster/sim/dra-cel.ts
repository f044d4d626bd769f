/**
 * DRA device selectors: CEL expressions over `device` (driver, attributes, capacity) as
 * kube-scheduler's structured allocator evaluates them, with @marcbachmann/cel-js (the library
 * src/api/validation/cel.ts uses) and kube's `semver()` and `quantity()` extension types.
 * An expression that does not compile or fails at run time (a missing attribute, an unknown
 * function) does not match; its error is returned so the scheduler can say why.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { Obj } from '../store.js';
import { parseQuantity } from './quantity.js';

/** A semantic version (kube's `semver` CEL type). */
export class Semver {
  readonly parts: number[];
  constructor(readonly text: string) {
    const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
    if (!m) throw new Error(`invalid semver: ${text}`);
    this.parts = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  }
  compare(o: Semver): number {
    for (let i = 0; i < 3; i++) if (this.parts[i] !== o.parts[i]) return this.parts[i]! < o.parts[i]! ? -1 : 1;
    return 0;
  }
}

/** A resource quantity (kube's `quantity` CEL type). */
export class Quantity {
  readonly value: number;
  constructor(readonly text: string) {
    this.value = parseQuantity(text);
    if (Number.isNaN(this.value)) throw new Error(`invalid quantity: ${text}`);
  }
  compare(o: Quantity): number {
    return Math.sign(this.value - o.value);
  }
}

function receiver(env: Environment, type: string, name: string, returns: string, fn: (a: never, b: never) => unknown): Environment {
  return env.registerFunction({ name, receiverType: type, returnType: returns, params: [{ name: 'other', type }], handler: fn as (...a: unknown[]) => unknown });
}

let cached: Environment | undefined;

function environment(): Environment {
  if (cached) return cached;
  let env = new Environment({ unlistedVariablesAreDyn: true })
    .registerType('Semver', Semver)
    .registerType('Quantity', Quantity)
    .registerFunction('semver(string): Semver', (s: string) => new Semver(s))
    .registerFunction('quantity(string): Quantity', (s: string) => new Quantity(s));
  for (const t of ['Semver', 'Quantity']) {
    env = receiver(env, t, 'compareTo', 'int', (a: Semver, b: Semver) => BigInt(a.compare(b)));
    env = receiver(env, t, 'isGreaterThan', 'bool', (a: Semver, b: Semver) => a.compare(b) > 0);
    env = receiver(env, t, 'isLessThan', 'bool', (a: Semver, b: Semver) => a.compare(b) < 0);
  }
  return (cached = env);
}

/** The `device` variable of a ResourceSlice device: attribute keys without a domain belong to the driver. */
export function celDevice(driver: string, device: Obj): Obj {
  const attributes: Record<string, Record<string, unknown>> = {};
  const capacity: Record<string, Record<string, unknown>> = {};
  const split = (key: string): [string, string] => {
    const i = key.lastIndexOf('/');
    return i < 0 ? [driver, key] : [key.slice(0, i), key.slice(i + 1)];
  };
  for (const [key, v] of Object.entries((device.attributes ?? {}) as Record<string, Obj>)) {
    const [domain, name] = split(key);
    let value: unknown;
    if (v.string !== undefined) value = String(v.string);
    else if (v.int !== undefined) value = BigInt(v.int);
    else if (v.bool !== undefined) value = Boolean(v.bool);
    else if (v.version !== undefined) value = new Semver(String(v.version));
    else continue;
    (attributes[domain] ??= {})[name] = value;
  }
  for (const [key, v] of Object.entries((device.capacity ?? {}) as Record<string, Obj>)) {
    const [domain, name] = split(key);
    (capacity[domain] ??= {})[name] = new Quantity(String(v.value));
  }
  return { driver, attributes, capacity, allowMultipleAllocations: false };
}

/** Whether the expression holds for the device; `error` says why it could not be evaluated. */
export function evaluateSelector(expression: string, device: Obj): { match: boolean; error?: string } {
  try {
    const out = environment().evaluate(expression, { device });
    if (typeof out !== 'boolean') return { match: false, error: `CEL result of type ${typeof out} should have been a bool` };
    return { match: out };
  } catch (e) {
    return { match: false, error: `CEL runtime error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
}

/** Every `selectors[].cel.expression` holds (selectors of other kinds are not supported: no match). */
export function selectorsMatch(selectors: Obj[] | undefined, device: Obj): { match: boolean; error?: string } {
  for (const s of selectors ?? []) {
    const expr = s?.cel?.expression;
    if (typeof expr !== 'string') return { match: false, error: 'unsupported selector (only cel)' };
    const r = evaluateSelector(expr, device);
    if (!r.match) return r;
  }
  return { match: true };
}
