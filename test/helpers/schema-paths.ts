/** Flattens a structural schema into property paths, for comparing two CRDs field by field. */
import type { JSONSchemaProps } from '../../src/api/k8s/schemas.js';

export interface PathFacts {
  type: string;
  enum?: string;
  default?: string;
  required: boolean;
}

export function schemaType(s: JSONSchemaProps): string {
  if (s['x-kubernetes-int-or-string']) return 'int-or-string';
  return s.type ?? (s['x-kubernetes-preserve-unknown-fields'] ? 'any' : 'unknown');
}

export function flatten(root: JSONSchemaProps): Map<string, PathFacts> {
  const out = new Map<string, PathFacts>();
  const walk = (s: JSONSchemaProps, path: string, required: boolean) => {
    out.set(path || '.', {
      type: schemaType(s),
      ...(s.enum ? { enum: JSON.stringify([...s.enum].map(String).sort()) } : {}),
      ...(s.default !== undefined ? { default: JSON.stringify(s.default) } : {}),
      required,
    });
    for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`, (s.required ?? []).includes(k));
    if (s.items) walk(s.items, `${path}[]`, false);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}{}`, false);
  };
  walk(root, '', false);
  return out;
}
