/**
 * Plain JSON values and the few helpers the patch engines share: telling kinds apart the way Go's
 * decoder does, writing keys safely, and rendering values the way Go's `%v` prints them (the
 * API server's error messages embed such renderings).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The kind of a decoded JSON value; two values of different kinds never merge. */
export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function kindOf(value: unknown): JsonKind {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasKey(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Sets `obj[key]` as an own data property. A plain assignment to `__proto__` would change the
 * object's prototype instead of storing a field, and a patch body may well contain that key.
 */
export function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** A deep copy; patch engines mutate their working copies, never the caller's values. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** The name Go's encoding/json uses for a value's kind in "cannot unmarshal X into …" errors. */
export function jsonTypeWord(value: unknown): string {
  const kind = kindOf(value);
  return kind === 'boolean' ? 'bool' : kind;
}

/** `reflect.TypeOf(v)` of a value decoded by the API server, as Go prints it. */
export function goTypeName(value: unknown): string {
  switch (kindOf(value)) {
    case 'null':
      return '<nil>';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int64' : 'float64';
    case 'string':
      return 'string';
    case 'array':
      return '[]interface {}';
    default:
      return 'map[string]interface {}';
  }
}

function goNumber(n: number): string {
  if (Number.isInteger(n) || n === 0) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e-4 && abs < 1e21) return String(n);
  // Go writes at least two exponent digits (1e-07), JavaScript as few as needed (1e-7).
  return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Renders a JSON value as Go's `fmt` prints the decoded value with `%v` (maps with sorted keys). */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return goNumber(value);
    case 'boolean':
      return String(value);
    case 'object': {
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      return `map[${keys.map((k) => `${k}:${goFormat(obj[k])}`).join(' ')}]`;
    }
    default:
      return String(value);
  }
}
