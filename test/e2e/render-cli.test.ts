/** `nimop render`: the plan view, without a cluster, through the controller's render functions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validateObject } from '../../src/api/validate.js';
import type { NIMService } from '../../src/api/v1alpha1/kinds.js';
import { assumeReady } from '../../src/cli/render.js';
import { VERSION } from '../../src/cli/version.js';
import { renderNIMService } from '../../src/render/nimservice/index.js';
import { parseManifests } from '../../src/api/manifests.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

const nimop = (args: string[], input?: string) => {
  const p = spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args]);
  if (input !== undefined) p.child.stdin!.end(input);
  else p.child.stdin!.end();
  return p;
};
type Obj = Record<string, any>;
const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);

test('the quick start: every child the controller applies, in order, the NIMCache taken as Ready', async () => {
  const r = nimop(['render', '-f', join(REPO, 'examples', 'quickstart.yaml')]);
  assert.equal(await r.done, 0, r.err());
  const out = docs(r.out());
  assert.deepEqual(out.map((o) => `${o.kind}/${o.metadata.name}`), [
    'ServiceAccount/llama3-8b', 'Role/llama3-8b', 'RoleBinding/llama3-8b', 'Service/llama3-8b',
    'HTTPRoute/llama3-8b', 'HorizontalPodAutoscaler/llama3-8b', 'Deployment/llama3-8b',
  ]);
  const d = out.find((o) => o.kind === 'Deployment')!;
  assert.equal(d.spec.template.spec.volumes.find((v: Obj) => v.name === 'model-store').persistentVolumeClaim.claimName, 'llama3-8b-cache-pvc');
  assert.equal(d.spec.replicas, 1, 'a new Deployment starts at minReplicas');
  assert.deepEqual(out.find((o) => o.kind === 'HTTPRoute')!.spec.hostnames, ['llama3-8b.default.example.com']);

  // Exactly what the render functions give for the same (defaulted) objects: the same code path.
  const parsed = parseManifests(readFileSync(join(REPO, 'examples', 'quickstart.yaml'), 'utf8')).docs.map((x) => x.value as Obj);
  const admitted = (kind: string) => {
    const v = validateObject(parsed.find((o) => o.kind === kind));
    assert.equal(v.status, 'valid');
    const o = v.object as Obj;
    o.metadata = { namespace: 'default', uid: `uid-${o.metadata.name}`, generation: 1, ...o.metadata };
    return o;
  };
  const expected = renderNIMService(admitted('NIMService') as NIMService, { operatorVersion: VERSION, sshPrivateKey: 'unused', nimCache: assumeReady(admitted('NIMCache') as never) });
  assert.deepEqual(out, JSON.parse(JSON.stringify(expected.children)));
});

test('-o json is a List; a NIMService whose NIMCache is not in the files has no Deployment, and says why', async () => {
  const svc = readFileSync(join(REPO, 'examples', 'quickstart.yaml'), 'utf8').split(/^---$/m).filter((d) => /kind: NIMService/.test(d)).join('');
  const r = nimop(['render', '-f', '-', '-o', 'json'], svc);
  assert.equal(await r.done, 0, r.err());
  const list = JSON.parse(r.out());
  assert.equal(list.kind, 'List');
  assert.equal(list.items.some((o: Obj) => o.kind === 'Deployment'), false);
  assert.match(r.err(), /NIMService default\/llama3-8b: no Deployment yet: NIMCache llama3-8b-cache not found \(NIMCacheNotFound\)/);
});

test('KServe and multi-node services render as the controller applies them: an InferenceService; a LeaderWorkerSet with its MPI objects', async () => {
  const kserve = nimop(['render', '-f', join(REPO, 'examples', 'kserve', 'raw.yaml')]);
  assert.equal(await kserve.done, 0, kserve.err());
  const k = docs(kserve.out());
  assert.ok(k.some((o) => o.kind === 'InferenceService'));
  assert.equal(k.some((o) => o.kind === 'Deployment' || o.kind === 'Service'), false);
  const multi = nimop(['render', '-f', join(REPO, 'examples', 'advanced', 'multi-node-mpi.yaml')]);
  assert.equal(await multi.done, 0, multi.err());
  const m = docs(multi.out()).map((o) => o.kind);
  for (const kind of ['LeaderWorkerSet', 'ConfigMap', 'Secret', 'ComputeDomain']) assert.ok(m.includes(kind), kind);
  assert.equal(m.includes('Deployment'), false);
});

test('a file with an invalid NIMService exits 1 naming the field', async () => {
  const r = nimop(['render', '-f', '-'], 'apiVersion: apps.nvidia.com/v1alpha1\nkind: NIMService\nmetadata: {name: x}\nspec: {image: {repository: r, tag: "1"}, replicas: 2, scale: {enabled: true, hpa: {maxReplicas: 3}}}\n');
  assert.equal(await r.done, 1);
  assert.match(r.err(), /spec\.replicas cannot be set when spec\.scale\.enabled is true/);
});
