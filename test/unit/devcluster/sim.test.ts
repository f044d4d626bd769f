/** Pure parts of the simulation: quantities, scheduler filters, the shell, manifests, the catalogue. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtins } from '../../../src/devcluster/sim/commands.js';
import { CatalogueError, Catalogue, normalizeImage, parseCatalogue } from '../../../src/devcluster/sim/catalogue.js';
import { filterNode, unschedulableMessage } from '../../../src/devcluster/sim/fit.js';
import { generateProfiles, manifestVersion, parseManifest, profileFits, renderV1, renderV2 } from '../../../src/devcluster/sim/manifest.js';
import { formatQuantity, parseQuantity, podRequests } from '../../../src/devcluster/sim/quantity.js';
import { runScript, type ShellContext } from '../../../src/devcluster/sim/shell.js';
import { intOrPercent } from '../../../src/devcluster/sim/pods.js';
import { rollingBounds } from '../../../src/devcluster/sim/deployments.js';
import { ContainerFS, FileTree } from '../../../src/devcluster/sim/vfs.js';

describe('quantities', () => {
  test('parse and format', () => {
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('8Gi'), 8 * 2 ** 30);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity(4), 4);
    assert.ok(Number.isNaN(parseQuantity('lots')));
    assert.equal(formatQuantity(8.75), '8750m');
    assert.equal(formatQuantity(3), '3');
  });

  test('pod requests: limits stand in for requests; init containers count by their maximum', () => {
    const r = podRequests({
      initContainers: [{ resources: { requests: { cpu: '4' } } }],
      containers: [{ resources: { limits: { 'nvidia.com/gpu': 2 }, requests: { cpu: '1' } } }, { resources: { requests: { cpu: '500m' } } }],
    });
    assert.equal(r.get('nvidia.com/gpu'), 2);
    assert.equal(r.get('cpu'), 4);
  });

  test('rolling bounds: percentages round as kube does; both zero means one unavailable', () => {
    assert.equal(intOrPercent('25%', 10, true, 0), 3);
    assert.equal(intOrPercent('25%', 10, false, 0), 2);
    assert.deepEqual(rollingBounds({ spec: { replicas: 4, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } } }), { surge: 0, unavailable: 1 });
    assert.deepEqual(rollingBounds({ spec: { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: {} } } }), { surge: 1, unavailable: 1 });
  });
});

describe('scheduler filters', () => {
  const node = { metadata: { name: 'n', labels: { 'nvidia.com/gpu.product': 'NVIDIA-L40S' } }, spec: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }, status: { allocatable: { cpu: '8', 'nvidia.com/gpu': '4', pods: '110' } } };
  test('taints first, then affinity, then resources', () => {
    assert.deepEqual(filterNode({}, node, new Map(), 0)?.reasons, ['node(s) had untolerated taint {gpu: yes}']);
    const tol = { tolerations: [{ key: 'gpu', operator: 'Exists' }] };
    assert.deepEqual(filterNode({ ...tol, nodeSelector: { x: 'y' } }, node, new Map(), 0)?.reasons, ["node(s) didn't match Pod's node affinity/selector"]);
    const big = { ...tol, containers: [{ resources: { limits: { 'nvidia.com/gpu': 5 }, requests: { cpu: '9' } } }] };
    assert.deepEqual(filterNode(big, node, new Map(), 0)?.reasons, ['Insufficient cpu', 'Insufficient nvidia.com/gpu']);
    assert.equal(filterNode({ ...tol, containers: [{ resources: { limits: { 'nvidia.com/gpu': 4 } } }] }, node, new Map(), 0), undefined);
  });

  test("the message lists reasons sorted with their counts, and preemption's verdict", () => {
    const msg = unschedulableMessage(3, [
      { reasons: ['Insufficient nvidia.com/gpu'], resolvable: true },
      { reasons: ['Insufficient nvidia.com/gpu', 'Insufficient cpu'], resolvable: true },
      { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false },
    ]);
    assert.equal(msg, "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.");
  });
});

describe('shell', () => {
  const ctx = (files: Record<string, string> = {}, env: Record<string, string> = {}): ShellContext => ({
    fs: new ContainerFS(new FileTree(files), []),
    env: new Map(Object.entries(env)),
    timeScale: 1,
    hostname: 'pod-0',
    clock: 0,
    stdin: '',
    tools: new Map(),
    builtins: builtins(),
    gpus: undefined,
  });
  const out = (r: ReturnType<typeof runScript>) => r.lines.map((l) => l.text);

  test('sequences, conditionals, exit codes and variables', () => {
    const r = runScript('X=1; echo "x=$X ${Y:-none}"; false || echo fallback; true && echo both; exit 3; echo never', ctx());
    assert.deepEqual(out(r), ['x=1 none', 'fallback', 'both']);
    assert.equal(r.code, 3);
    assert.equal(r.forever, false);
  });

  test('if/elif/else on files, cat, and command substitution', () => {
    const r = runScript('if [ -f /a ]; then cat /a; elif [ -f /b ]; then cat /b; else echo none; fi; echo "n=$(ls / | head -n 1)"', ctx({ b: 'from b\n', c: '' }));
    assert.deepEqual(out(r), ['from b', 'n=b']);
  });

  test('sleep advances the clock; sleep infinity and while true run forever', () => {
    const r = runScript('echo a; sleep 2; echo b; sleep infinity; echo never', ctx());
    assert.deepEqual(r.lines, [{ at: 0, text: 'a' }, { at: 2000, text: 'b' }]);
    assert.equal(r.forever, true);
    const w = runScript('while true; do echo tick; sleep 30; done', ctx());
    assert.deepEqual(out(w), ['tick']);
    assert.equal(w.forever, true);
  });

  test('set -e stops at the first failure; redirection writes files; unknown commands are 127', () => {
    const c = ctx();
    const r = runScript('set -e; echo hi > /tmp/f; cat /tmp/f; cat /missing; echo never', c);
    assert.deepEqual(out(r), ['hi', 'cat: /missing: No such file or directory']);
    assert.equal(r.code, 1);
    const u = runScript('frobnicate', c);
    assert.equal(u.code, 127);
    assert.deepEqual(out(u), ['sh: frobnicate: not found']);
  });
});

describe('manifests', () => {
  const profiles = generateProfiles('llm', 'meta/llama-3.1-8b-instruct', '1.12.0');

  test('v1 and v2 render and parse back to the same profiles', () => {
    for (const text of [renderV1(profiles, 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0'), renderV2(profiles)]) {
      const back = parseManifest(text);
      assert.deepEqual(back.map((p) => [p.id, p.tags]), profiles.map((p) => [p.id, p.tags]));
    }
    assert.equal(manifestVersion(renderV2(profiles)), 'v2');
    assert.equal(manifestVersion(renderV1(profiles, 'x')), 'v1');
  });

  test('profiles fit GPUs by product and count', () => {
    const trt = profiles.find((p) => p.name === 'tensorrt_llm-h100-fp8-tp2-pp1-latency')!;
    assert.ok(profileFits(trt, 'NVIDIA-H100-80GB-HBM3', 2));
    assert.ok(!profileFits(trt, 'NVIDIA-H100-80GB-HBM3', 1));
    assert.ok(!profileFits(trt, 'NVIDIA-A100-SXM4-80GB', 8));
    assert.ok(!profiles.some((p) => p.tags.gpu === 'A100' && p.tags.precision === 'fp8'), 'no fp8 on Ampere');
  });
});

describe('catalogue', () => {
  test('references are normalized as a container runtime does', () => {
    assert.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeImage('org/app:1'), 'docker.io/org/app:1');
    assert.equal(normalizeImage('nvcr.io/nim/x:1'), 'nvcr.io/nim/x:1');
    assert.equal(normalizeImage('localhost:5000/x'), 'localhost:5000/x:latest');
  });

  test('the built-in catalogue loads; entries match by glob, most specific first', () => {
    const cat = Catalogue.load();
    assert.equal(cat.nimOf('nvcr.io/nim/nvidia/llm-nim:1.12')?.manifest, 'none');
    assert.equal(cat.nimOf('nvcr.io/nim/acme/unknown-model:2.0')?.manifest, 'v1');
    assert.equal(cat.lookup('busybox:1.37')?.shell, true);
    assert.equal(cat.lookup('example.com/not/known:1'), undefined);
  });

  test('a malformed catalogue is refused with the file and the field', () => {
    assert.throws(() => parseCatalogue('images:\n  - match: x\n    exit: "one"\n', 'my.yaml'), (e: Error) => e instanceof CatalogueError && /^my\.yaml: \/images\/0\/exit/.test(e.message));
    assert.throws(() => parseCatalogue('images:\n  - match: x\n    run: [{when: {command: "("}}]\n', 'bad.yaml'), /bad\.yaml: \/images\/0\/run/);
    assert.throws(() => parseCatalogue('nope: 1\n', 'f.yaml'), CatalogueError);
  });
});
