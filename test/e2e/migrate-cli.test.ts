/** `nimop migrate` as a user runs it: the built command on standard input, files and directories, --in-place. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO } from '../helpers/upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'nimop-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function nimop(args: string[], input?: string) {
  return spawnSync(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { cwd: dir, encoding: 'utf8', input });
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const LEGACY = `# chat endpoint
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: chat
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct
    tag: "1.8.4"
  authSecret: ngc-api-secret
  storage:
    nimCache:
      name: llama   # the cache
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          app: rag
  expose:
    ingress:
      enabled: true
      spec:
        ingressClassName: nginx
        rules:
        - host: chat.ai.example.com
          http:
            paths:
            - path: /
              pathType: Prefix
              backend:
                service:
                  name: chat
                  port:
                    name: api
`;

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}     # spacing kept
data:
  a: "1"
`;

test('standard input: the migrated stream on stdout, one line per change on stderr, and it validates', () => {
  const input = `${CONFIGMAP}---\n${LEGACY}`;
  const r = nimop(['migrate', '-f', '-'], input);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    '<stdin>: document 2: NIMService ai/chat: spec.podAffinity → spec.affinity.podAffinity',
    '<stdin>: document 2: NIMService ai/chat: spec.expose.ingress → spec.expose.router.ingress',
  ]);
  assert.ok(r.stdout.startsWith(`${CONFIGMAP}---\n# chat endpoint\n`), r.stdout);
  assert.match(r.stdout, /\n {6}name: llama # the cache\n {2}affinity:\n {4}podAffinity:\n/);
  assert.match(r.stdout, /\n {2}expose:\n {4}router:\n {6}hostDomainName: example.com\n {6}ingress:\n {8}ingressClass: nginx\n$/);

  const before = nimop(['validate', '-f', '-'], input);
  assert.match(before.stdout, /warning: spec\.expose\.ingress: \.spec\.expose\.ingress is deprecated/);
  const v = nimop(['validate', '-f', '-'], r.stdout);
  assert.equal(v.status, 0, v.stdout);
  assert.match(v.stdout, /document 2: NIMService ai\/chat: valid\n/);
  assert.doesNotMatch(v.stdout, /warning/);
});

test('files and directories: printed as one stream; files without deprecated fields pass through unchanged', () => {
  write('tree/a-cm.yaml', CONFIGMAP);
  write('tree/b-svc.yaml', LEGACY);
  const r = nimop(['migrate', '-f', 'tree']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${CONFIGMAP}---\n# chat endpoint\n`));
  assert.match(r.stderr, /^tree\/b-svc\.yaml: document 1: NIMService ai\/chat: spec\.expose\.ingress → spec\.expose\.router\.ingress$/m);
  // Nothing written without --in-place.
  assert.equal(readFileSync(join(dir, 'tree/b-svc.yaml'), 'utf8'), LEGACY);
});

test('--in-place rewrites the files that change and leaves the others alone', () => {
  const cm = write('inplace/cm.yaml', CONFIGMAP);
  const svc = write('inplace/sub/svc.yaml', LEGACY);
  const odd = write('inplace/sub/odd.yaml', LEGACY.replace('            - path: /\n', '            - path: /v1\n'));
  const cmTime = statSync(cm).mtimeMs;
  const r = nimop(['migrate', '--in-place', '-R', '-f', 'inplace']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^inplace\/sub\/odd\.yaml: document 1: NIMService ai\/chat: warning: spec\.expose\.ingress: left as is: its path is \/v1 \(Prefix\), and the router's is \/ \(Prefix\)$/m);
  assert.match(r.stderr, /^2 files rewritten$/m);
  assert.equal(readFileSync(cm, 'utf8'), CONFIGMAP);
  assert.equal(statSync(cm).mtimeMs, cmTime);
  const migrated = readFileSync(svc, 'utf8');
  assert.match(migrated, /router:\n {6}hostDomainName: example\.com/);
  assert.doesNotMatch(migrated, /podAffinity:\n {4}required/);
  // odd.yaml: podAffinity migrated, its ingress kept.
  assert.match(readFileSync(odd, 'utf8'), /\n {2}affinity:\n[\s\S]*\n {4}ingress:\n {6}enabled: true\n/);
  const v = nimop(['validate', '-f', svc]);
  assert.equal(v.status, 0, v.stdout);
  assert.doesNotMatch(v.stdout, /warning/);

  // A second run has nothing left to do.
  const again = nimop(['migrate', '--in-place', '-R', '-f', 'inplace']);
  assert.equal(again.status, 0);
  assert.match(again.stderr, /^0 files rewritten$/m);
  assert.equal(readFileSync(svc, 'utf8'), migrated);
});

test('a file that cannot be parsed: exit 1 with its line and column, and it is not rewritten', () => {
  const broken = `${LEGACY}---\nkind: [unclosed\n`;
  const p = write('broken/bad.yaml', broken);
  const r = nimop(['migrate', '--in-place', '-f', p]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*bad\.yaml:\d+: document 2: line \d+, column \d+: /m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(readFileSync(p, 'utf8'), broken);
});

test('usage errors: no input, and --in-place on standard input', () => {
  assert.equal(nimop(['migrate']).status, 2);
  const r = nimop(['migrate', '--in-place', '-f', '-'], LEGACY);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--in-place cannot rewrite standard input/);
  assert.equal(nimop(['migrate', '-f', 'missing.yaml']).status, 1);
});
