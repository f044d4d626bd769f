/** `nimop validate` as a user runs it: the built command, files, directories, stdin, exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO } from '../helpers/upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'nimop-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function nimop(args: string[], input?: string) {
  return spawnSync(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { cwd: dir, encoding: 'utf8', input });
}

const CACHE = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMCache
metadata:
  name: llama
  namespace: ai
spec:
  source:
    ngc:
      authSecret: ngc-api-secret
      modelPuller: nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.4
  storage:
    pvc:
      create: true
      size: 50Gi
      volumeAccessMode: ReadWriteOnce
`;

const BAD_SERVICE = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct
  replicas: 2
  scale:
    enabled: true
    hpa:
      maxReplicas: 4
  expose:
    service:
      prot: 8000
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
`;

function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

test('a multi-document file: each problem with file, line, document, object and field; exit 1', () => {
  write('mixed.yaml', `${CACHE}---\n${BAD_SERVICE}---\n${DEPLOYMENT}`);
  const r = nimop(['validate', '-f', 'mixed.yaml']);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    'mixed.yaml:1: document 1: NIMCache ai/llama: valid',
    'mixed.yaml:17: document 2: NIMService ai/llama: spec.image.tag: Required value',
    'mixed.yaml:17: document 2: NIMService ai/llama: Invalid value: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    'mixed.yaml:17: document 2: NIMService ai/llama: spec.expose.service.prot: Unknown field: field not declared in the NIMService schema',
    'mixed.yaml:34: document 3: Deployment web: skipped (apps/v1 Deployment is not a kind of apps.nvidia.com)',
    '1 valid, 1 invalid, 1 skipped',
  ]);
});

test('CEL rules are enforced with upstream\'s message once the schema errors are fixed', () => {
  write('rules.yaml', BAD_SERVICE.replace('  replicas: 2', '    tag: 1.8.4\n  replicas: 2').replace('      prot: 8000', '      port: 8000'));
  const r = nimop(['validate', '-f', 'rules.yaml']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /NIMService ai\/llama: spec: Invalid value: "object": spec\.replicas cannot be set when spec\.scale\.enabled is true/);
});

test('all valid: exit 0', () => {
  write('ok/cache.yaml', CACHE);
  const r = nimop(['validate', '-f', 'ok/cache.yaml']);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /1 valid, 0 invalid, 0 skipped/);
});

test('directories: top level by default, subdirectories with -R; positional paths too', () => {
  write('tree/a.yaml', CACHE);
  write('tree/sub/b.yml', CACHE.replace('name: llama', 'name: other'));
  write('tree/notes.txt', 'not a manifest');
  assert.match(nimop(['validate', '-f', 'tree']).stdout, /1 valid, 0 invalid/);
  assert.match(nimop(['validate', '-R', '-f', 'tree']).stdout, /2 valid, 0 invalid/);
  assert.match(nimop(['validate', '-R', 'tree']).stdout, /2 valid, 0 invalid/);
});

test('standard input with -f -', () => {
  const r = nimop(['validate', '-f', '-'], BAD_SERVICE);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^<stdin>:1: document 1: NIMService ai\/llama: spec\.image\.tag: Required value$/m);
});

test('-o json: machine-readable results with field, reason and message', () => {
  write('mixed2.yaml', `${CACHE}---\n${BAD_SERVICE}---\n${DEPLOYMENT}`);
  const r = nimop(['validate', '-o', 'json', '-f', 'mixed2.yaml']);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.summary, { valid: 1, invalid: 1, skipped: 1, missing: 0 });
  const bad = out.results[1];
  assert.equal(bad.kind, 'NIMService');
  assert.equal(bad.namespace, 'ai');
  assert.deepEqual(bad.errors[0], { field: 'spec.image.tag', reason: 'FieldValueRequired', message: 'Required value' });
});

test('a file that is not YAML: line and column, no stack trace', () => {
  write('broken.yaml', `${CACHE}---\napiVersion: apps.nvidia.com/v1alpha1\nkind: NIMService\nmetadata:\n  name: x\n spec: [unclosed\n`);
  const r = nimop(['validate', '-f', 'broken.yaml']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /broken\.yaml:\d+: document 2: document: line \d+, column \d+: /);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
  assert.match(r.stdout, /document 1: NIMCache ai\/llama: valid/);
});

test('a missing path is an error, not silence', () => {
  const r = nimop(['validate', '-f', 'nope.yaml']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /error: the path "nope\.yaml" does not exist/);
});

test('a List is expanded into its items', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMBuild', metadata: { name: 'b' }, spec: { nimCache: {} } }] };
  write('list.json', JSON.stringify(list));
  const r = nimop(['validate', '-f', 'list.json']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /document 1 item 0: NIMBuild b: spec\.image: Required value/);
  assert.match(r.stdout, /document 1 item 0: NIMBuild b: spec\.nimCache\.name: Required value/);
});

test('no input: usage error, exit 2', () => {
  const r = nimop(['validate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /give manifests with -f/);
});

const LATEST_SERVICE = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct
    tag: latest
  authSecret: ngc-api-secret
  storage:
    nimCache:
      name: llama
  expose:
    service:
      port: 8000
`;

test('admission rules: a sharp edge is a warning line, and the object stays valid', () => {
  write('latest.yaml', LATEST_SERVICE);
  const r = nimop(['validate', '-f', 'latest.yaml']);
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'latest.yaml:1: document 1: NIMService ai/llama: valid',
    'latest.yaml:1: document 1: NIMService ai/llama: warning: spec.image.tag: image nvcr.io/nim/meta/llama-3.1-8b-instruct:latest uses the floating tag "latest", which changes on every pull: pin an exact version (for example 1.8.4) or a digest',
    '1 valid, 0 invalid, 0 skipped',
  ]);
});

test('admission rules: --strict refuses the sharp edge; upstream webhook rules refuse with their message', () => {
  write('latest.yaml', LATEST_SERVICE);
  const r = nimop(['validate', '--strict', '-f', 'latest.yaml']);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, /^latest\.yaml:1: document 1: NIMService ai\/llama: spec\.image\.tag: Forbidden: image nvcr\.io\/nim\/meta\/llama-3\.1-8b-instruct:latest uses the floating tag "latest".*or a digest$/m);
  assert.match(r.stdout, /0 valid, 1 invalid, 0 skipped/);
  write('two-sources.yaml', LATEST_SERVICE.replace('tag: latest', 'tag: 1.8.4').replace('      name: llama\n  expose', '      name: llama\n    pvc:\n      name: models\n  expose'));
  const u = nimop(['validate', '-o', 'json', '-f', 'two-sources.yaml']);
  assert.equal(u.status, 1, u.stdout);
  assert.deepEqual(JSON.parse(u.stdout).results[0].errors[0], {
    field: 'nimservice.spec.storage',
    reason: 'FieldValueInvalid',
    message:
      'Invalid value: "multiple storage sources defined": only one of nimservice.spec.storage.nimCache, nimservice.spec.storage.pvc, nimservice.spec.storage.emptyDir or nimservice.spec.storage.hostPath must be defined',
  });
});
