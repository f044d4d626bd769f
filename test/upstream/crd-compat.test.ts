/**
 * Field-path comparison of our generated CRDs with the upstream NIM Operator CRDs: every upstream
 * property path must exist in ours with the same type, enum, default and required-ness, and the
 * same validation keywords (pattern, bounds, formats, list/map markers, CEL rules), unless the
 * difference is listed with its reason in docs/compatibility.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allCRDs } from '../../src/api/crd.js';
import type { JSONSchemaProps } from '../../src/api/k8s/schemas.js';
import { flatten } from '../helpers/schema-paths.js';
import { REPO, requireUpstream, upstreamCRD } from '../helpers/upstream.js';

requireUpstream();

const FACETS = [
  'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'nullable',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string',
] as const;

/** Exceptions: rows of the table under "## CRD schema differences" in docs/compatibility.md. */
function listedExceptions(): Map<string, string> {
  const text = readFileSync(join(REPO, 'docs', 'compatibility.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('CRD schema differences')) ?? '';
  const out = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*([^|]+)\|/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

function facetsAt(root: JSONSchemaProps): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (s: JSONSchemaProps, p: string) => {
    const facts: Record<string, unknown> = {};
    for (const f of FACETS) if (s[f] !== undefined) facts[f] = s[f];
    const rules = (s['x-kubernetes-validations'] ?? []).map((r) => JSON.stringify([r.rule, r.message ?? '', r.messageExpression ?? '', r.reason ?? '', r.fieldPath ?? ''])).sort();
    if (rules.length) facts.rules = rules;
    out.set(p || '.', JSON.stringify(facts));
    for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${p}.${k}`);
    if (s.items) walk(s.items, `${p}[]`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${p}{}`);
  };
  walk(root, '');
  return out;
}

const exceptions = listedExceptions();
let total = 0;
let matched = 0;
const excused = new Set<string>();

for (const crd of allCRDs() as any[]) {
  const plural: string = crd.spec.names.plural;
  test(`${plural}: every upstream property path is present with the same type, enum, default and rules`, () => {
    const up = upstreamCRD(plural);
    const upVersion = up.spec.versions[0];
    const ours = crd.spec.versions[0];
    const theirs = flatten(upVersion.schema.openAPIV3Schema);
    const mine = flatten(ours.schema.openAPIV3Schema);
    const theirFacets = facetsAt(upVersion.schema.openAPIV3Schema);
    const myFacets = facetsAt(ours.schema.openAPIV3Schema);
    const problems: string[] = [];
    for (const [path, facts] of theirs) {
      total++;
      const key = `${plural}:${path}`;
      const m = mine.get(path);
      const diffs: string[] = [];
      if (!m) diffs.push('missing');
      else {
        for (const k of ['type', 'enum', 'default', 'required'] as const) {
          if (facts[k] !== m[k]) diffs.push(`${k}: upstream ${String(facts[k])}, ours ${String(m[k])}`);
        }
        if (theirFacets.get(path) !== myFacets.get(path)) diffs.push(`facets: upstream ${theirFacets.get(path)}, ours ${myFacets.get(path)}`);
      }
      if (diffs.length === 0) matched++;
      else if (exceptions.has(key)) excused.add(key);
      else problems.push(`${path}: ${diffs.join('; ')}`);
    }
    assert.deepEqual(problems, [], `differences not listed in docs/compatibility.md:\n${problems.join('\n')}`);
    assert.deepEqual(crd.spec.names, up.spec.names, 'names (kind, plural, singular, listKind, shortNames)');
    assert.equal(crd.spec.scope, up.spec.scope);
    assert.deepEqual(ours.subresources, upVersion.subresources, 'subresources');
    const cols = (c: any[]) => c.map((x) => JSON.stringify(Object.fromEntries(Object.entries(x).sort())));
    assert.deepEqual(cols(ours.additionalPrinterColumns), cols(upVersion.additionalPrinterColumns), 'printer columns');
  });
}

test('docs/compatibility.md lists no exception that no longer applies', () => {
  const stale = [...exceptions.keys()].filter((k) => !excused.has(k));
  assert.deepEqual(stale, [], 'remove these rows: the CRDs now agree there');
  const pct = total ? ((matched / total) * 100).toFixed(1) : '0';
  console.log(`upstream CRD coverage: ${matched}/${total} property paths identical (${pct}%), ${excused.size} listed exceptions`);
});
