/** Checks kube-apiserver makes on ObjectMeta and on list-type invariants, for custom resources. */
import type { JSONSchemaProps } from '../k8s/schemas.js';
import { childPath, fieldError, OMIT_VALUE, type FieldError } from './field-errors.js';
import { isPlainObject } from './structural.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function checkQualifiedName(key: string, path: string, out: FieldError[]): void {
  const parts = key.split('/');
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (parts.length > 2 || !name) {
    out.push(fieldError('FieldValueInvalid', path, key, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
    return;
  }
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    out.push(fieldError('FieldValueInvalid', path, key, `prefix part ${SUBDOMAIN_MSG}`));
  }
  if (name.length > 63) out.push(fieldError('FieldValueInvalid', path, key, 'name part must be no more than 63 characters'));
  else if (!QUALIFIED_NAME.test(name)) {
    out.push(fieldError('FieldValueInvalid', path, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  }
}

/** kube's path-segment name rule (RBAC kinds): anything but `.`, `..`, and names with `/` or `%`. */
function pathSegmentErrors(name: string): FieldError[] {
  if (name === '.' || name === '..') return [fieldError('FieldValueInvalid', 'metadata.name', name, `may not be '${name}'`)];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [fieldError('FieldValueInvalid', 'metadata.name', name, `may not contain '${bad}'`)];
  return [];
}

/** ObjectMeta of a namespaced custom resource (its name must be a DNS subdomain). */
export function validateObjectMeta(meta: unknown, opts: { namespaced: boolean; requireName: boolean; nameRule?: 'subdomain' | 'path-segment' }): FieldError[] {
  const out: FieldError[] = [];
  if (!isPlainObject(meta)) {
    if (opts.requireName) out.push(fieldError('FieldValueRequired', 'metadata.name', OMIT_VALUE, 'name or generateName is required'));
    return out;
  }
  const name = meta.name;
  const generateName = meta.generateName;
  if (typeof name === 'string' && name !== '') {
    if (opts.nameRule === 'path-segment') out.push(...pathSegmentErrors(name));
    else if (name.length > 253) out.push(fieldError('FieldValueTooLong', 'metadata.name', name, 'may not be more than 253 bytes'));
    else if (!DNS1123_SUBDOMAIN.test(name)) out.push(fieldError('FieldValueInvalid', 'metadata.name', name, SUBDOMAIN_MSG));
  } else if (opts.requireName && !(typeof generateName === 'string' && generateName !== '')) {
    out.push(fieldError('FieldValueRequired', 'metadata.name', OMIT_VALUE, 'name or generateName is required'));
  }
  const ns = meta.namespace;
  if (typeof ns === 'string' && ns !== '') {
    if (!opts.namespaced) out.push(fieldError('FieldValueForbidden', 'metadata.namespace', OMIT_VALUE, 'not allowed on this type'));
    else if (!DNS1123_LABEL.test(ns) || ns.length > 63) out.push(fieldError('FieldValueInvalid', 'metadata.namespace', ns, LABEL_MSG));
  }
  if (isPlainObject(meta.labels)) {
    for (const [k, v] of Object.entries(meta.labels)) {
      checkQualifiedName(k, 'metadata.labels', out);
      if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) {
        out.push(fieldError('FieldValueInvalid', 'metadata.labels', v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
      }
    }
  }
  if (isPlainObject(meta.annotations)) {
    let total = 0;
    for (const [k, v] of Object.entries(meta.annotations)) {
      checkQualifiedName(k.toLowerCase(), 'metadata.annotations', out);
      total += k.length + (typeof v === 'string' ? v.length : 0);
    }
    if (total > 262144) out.push(fieldError('FieldValueTooLong', 'metadata.annotations', OMIT_VALUE, 'may not be more than 262144 bytes'));
  }
  return out;
}

/** Duplicate items in lists declared as sets, and duplicate keys in list-maps. */
export function validateListTypes(value: unknown, s: JSONSchemaProps, path = ''): FieldError[] {
  const out: FieldError[] = [];
  const walk = (v: unknown, sc: JSONSchemaProps, p: string) => {
    if (Array.isArray(v)) {
      const lt = sc['x-kubernetes-list-type'];
      if (lt === 'set' || lt === 'map') {
        const seen = new Set<string>();
        v.forEach((item, i) => {
          const key =
            lt === 'set'
              ? JSON.stringify(item)
              : JSON.stringify(
                  (sc['x-kubernetes-list-map-keys'] ?? []).map((k) => (isPlainObject(item) ? item[k] ?? null : null)),
                );
          if (seen.has(key)) {
            const shown =
              lt === 'set'
                ? item
                : Object.fromEntries((sc['x-kubernetes-list-map-keys'] ?? []).map((k) => [k, isPlainObject(item) ? item[k] : undefined]));
            out.push(fieldError('FieldValueDuplicate', childPath(p, i), shown));
          }
          seen.add(key);
        });
      }
      if (sc.items) v.forEach((item, i) => walk(item, sc.items!, childPath(p, i)));
    } else if (isPlainObject(v)) {
      for (const [k, c] of Object.entries(v)) {
        const prop = sc.properties?.[k];
        const add = typeof sc.additionalProperties === 'object' ? sc.additionalProperties : undefined;
        if (prop ?? add) walk(c, (prop ?? add)!, childPath(p, k, !prop));
      }
    }
  };
  walk(value, s, path);
  return out;
}
