/** The generated CRDs: in sync with the TypeScript API, structural, and documented field by field. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { allCRDs } from '../../src/api/crd.js';
import type { JSONSchemaProps } from '../../src/api/k8s/schemas.js';
import { REPO } from '../helpers/upstream.js';

const nimop = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { cwd: REPO, encoding: 'utf8' });

test('deploy/crds matches the TypeScript API (npm run crds:check)', () => {
  const r = spawnSync('npm', ['run', '-s', 'crds:check'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

test('crds --check fails on a drifted, missing or stray file, and crds repairs it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimop-crds-'));
  try {
    cpSync(join(REPO, 'deploy', 'crds'), dir, { recursive: true });
    const file = join(dir, 'apps.nvidia.com_nimservices.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('default: 8000', 'default: 8080'));
    writeFileSync(join(dir, 'apps.nvidia.com_old.yaml'), 'kind: CustomResourceDefinition\n');
    rmSync(join(dir, 'apps.nvidia.com_nimbuilds.yaml'));
    const check = nimop('crds', '--check', '--dir', dir);
    assert.equal(check.status, 1);
    assert.match(check.stderr, /nimservices\.yaml: differs/);
    assert.match(check.stderr, /nimbuilds\.yaml: missing/);
    assert.match(check.stderr, /apps\.nvidia\.com_old\.yaml: not generated any more/);
    assert.equal(nimop('crds', '--dir', dir).status, 0);
    rmSync(join(dir, 'apps.nvidia.com_old.yaml'));
    assert.equal(nimop('crds', '--check', '--dir', dir).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('crds --stdout prints the four CRDs as one YAML stream', () => {
  const r = nimop('crds', '--stdout');
  assert.equal(r.status, 0);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.metadata.name).sort(), [
    'nimbuilds.apps.nvidia.com',
    'nimcaches.apps.nvidia.com',
    'nimpipelines.apps.nvidia.com',
    'nimservices.apps.nvidia.com',
  ]);
});

function walk(s: JSONSchemaProps, path: string, visit: (s: JSONSchemaProps, path: string) => void): void {
  visit(s, path);
  for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`, visit);
  if (s.items) walk(s.items, `${path}[]`, visit);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}{}`, visit);
}

for (const crd of allCRDs() as any[]) {
  const kind: string = crd.spec.names.kind;
  const root: JSONSchemaProps = crd.spec.versions[0].schema.openAPIV3Schema;

  test(`${kind}: the schema is structural`, () => {
    const problems: string[] = [];
    walk(root, '', (s, p) => {
      const open = s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
      if (!s.type && !open) problems.push(`${p}: no type`);
      if (s.properties && s.additionalProperties) problems.push(`${p}: both properties and additionalProperties`);
      for (const branch of s.anyOf ?? []) {
        const extra = Object.keys(branch).filter((k) => k !== 'type');
        if (extra.length) problems.push(`${p}: anyOf branch carries ${extra.join(',')}`);
      }
      if (s['x-kubernetes-list-type'] === 'map' && !s['x-kubernetes-list-map-keys']?.length) problems.push(`${p}: list-map without keys`);
    });
    assert.deepEqual(problems, []);
  });

  test(`${kind}: every field has a description (what kubectl explain prints)`, () => {
    const missing: string[] = [];
    walk(root, '', (s, p) => {
      for (const [k, c] of Object.entries(s.properties ?? {})) {
        if (p === '' && k === 'metadata') continue;
        if (!c.description?.trim()) missing.push(`${p}.${k}`);
      }
    });
    assert.deepEqual(missing, []);
  });
}
