/**
 * `nimop validate --cluster` against an embedded control plane: node labels and NIMCaches feed the
 * rules that need them, and an existing object makes the check an update (immutability rules).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

let c: TestCluster;

async function nimop(args: string[], env: Record<string, string> = {}) {
  const p = spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], {
    cwd: c.dir,
    env: { ...process.env, HOME: c.dir, KUBECONFIG: '', ...env },
  });
  const status = await p.done;
  return { status, stdout: p.out(), stderr: p.err() };
}

const CACHE_SPEC = {
  source: { ngc: { authSecret: 'ngc-api-secret', modelPuller: 'nvcr.io/nim/meta/llama-3.1-70b-instruct:1.8.4' } },
  storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
};

// A cache whose spec differs from the stored one (the PVC size), and a service of its 2-GPU profile.
const MANIFESTS = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMCache
metadata:
  name: llama
  namespace: ai
spec:
  source:
    ngc:
      authSecret: ngc-api-secret
      modelPuller: nvcr.io/nim/meta/llama-3.1-70b-instruct:1.8.4
  storage:
    pvc:
      create: true
      size: 100Gi
      volumeAccessMode: ReadWriteOnce
---
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: chat
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-70b-instruct
    tag: "1.8.4"
  authSecret: ngc-api-secret
  storage:
    nimCache:
      name: llama
      profile: tp2
`;

before(async () => {
  c = await startCluster();
  const type = (group: string, plural: string) => c.cp.registry.get(group, group ? 'v1alpha1' : 'v1', plural)!;
  c.cp.objects.create(type('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ai' } });
  // vGPU nodes with PCIe L40S boards: no NVLink.
  for (const name of ['gpu-1', 'gpu-2']) {
    c.cp.objects.create(type('', 'nodes'), undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'nvidia.com/vgpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L40S', 'nvidia.com/gpu.count': '2' } },
    });
  }
  const caches = (await eventually(() => c.cp.registry.get('apps.nvidia.com', 'v1alpha1', 'nimcaches'), 'the NIMCache resource'))!;
  const stored = c.cp.objects.create(caches, 'ai', { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMCache', metadata: { name: 'llama', namespace: 'ai' }, spec: CACHE_SPEC });
  const status = { state: 'Ready', profiles: [{ name: 'tp2', model: 'meta/llama-3.1-70b-instruct', config: { tp: '2', precision: 'fp8' } }] };
  c.cp.objects.update(caches, 'ai', 'llama', { ...(stored.object as Obj), status } as Obj, { subresource: 'status' });
  writeFileSync(join(c.dir, 'manifests.yaml'), MANIFESTS);
});

after(async () => {
  await c?.stop();
});

test('offline: nothing is read from a cluster, and both objects are valid', async () => {
  const r = await nimop(['validate', '-f', 'manifests.yaml'], { KUBECONFIG: c.kubeconfig });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'manifests.yaml:1: document 1: NIMCache ai/llama: valid',
    'manifests.yaml:17: document 2: NIMService ai/chat: valid',
    '2 valid, 0 invalid, 0 skipped',
  ]);
  // --kubeconfig means nothing without --cluster: a usage error, not a silent offline check.
  assert.equal((await nimop(['validate', '--kubeconfig', c.kubeconfig, '-f', 'manifests.yaml'])).status, 2);
});

test('--cluster: the stored NIMCache makes it an update (immutable spec); nodes and the cache\'s profile fire the vGPU rule', async () => {
  const r = await nimop(['validate', '--cluster', '--kubeconfig', c.kubeconfig, '-f', 'manifests.yaml']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines[0], 'manifests.yaml:1: document 1: NIMCache ai/llama: nimcache.spec: Forbidden: is immutable once the object is created');
  assert.equal(lines[1], 'manifests.yaml:17: document 2: NIMService ai/chat: valid');
  assert.match(
    lines[2]!,
    /^manifests\.yaml:17: document 2: NIMService ai\/chat: warning: spec\.storage\.nimCache\.profile: the model needs 2 GPUs per pod, but vGPU nodes gpu-1 \(NVIDIA-L40S\), gpu-2 \(NVIDIA-L40S\) have no NVLink/,
  );
  assert.equal(lines.at(-1), '1 valid, 1 invalid, 0 skipped');

  // The same through $KUBECONFIG, and --strict turns the sharp edge into a refusal.
  const strict = await nimop(['validate', '--cluster', '--strict', '-o', 'json', '-f', 'manifests.yaml'], { KUBECONFIG: c.kubeconfig });
  assert.equal(strict.status, 1, strict.stderr);
  const out = JSON.parse(strict.stdout);
  assert.deepEqual(out.summary, { valid: 0, invalid: 2, skipped: 0, missing: 0 });
  assert.equal(out.results[1].errors[0].field, 'spec.storage.nimCache.profile');
  assert.equal(out.results[1].errors[0].reason, 'FieldValueForbidden');
});

test('--cluster with the stored spec unchanged: valid; an object that does not exist yet is a create', async () => {
  const same = MANIFESTS.replace('size: 100Gi', 'size: 50Gi').replace('name: chat', 'name: new-chat').replace('profile: tp2', 'profile: tp2\n  resources:\n    limits:\n      nvidia.com/gpu: 1');
  writeFileSync(join(c.dir, 'same.yaml'), same);
  const r = await nimop(['validate', '--cluster', '--kubeconfig', c.kubeconfig, '-f', 'same.yaml']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /warning|immutable/);
  assert.match(r.stdout, /2 valid, 0 invalid, 0 skipped/);
});

test('a cluster that cannot be reached: exit 1 with one clear line', async () => {
  const kc = join(c.dir, 'unreachable.kubeconfig');
  writeFileSync(
    kc,
    'apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: x, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: x, user: x}}]\ncurrent-context: x\n',
  );
  const r = await nimop(['validate', '--cluster', '--kubeconfig', kc, '-f', 'manifests.yaml']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: cannot reach the cluster at https:\/\/127\.0\.0\.1:1 \(kubeconfig .*unreachable\.kubeconfig\): .*ECONNREFUSED.*\n$/);
  const missing = await nimop(['validate', '--cluster', '--kubeconfig', join(c.dir, 'nope'), '-f', 'manifests.yaml']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^error: cannot load the kubeconfig .*nope: .*\n$/);
});
