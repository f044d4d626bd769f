/** `nimop dev` as a user runs it: the built command, a sample, kubectl, /metrics, Ctrl-C. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { KUBECTL, eventually } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'nimop-dev-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => spawnCollect(cmd, args, { env, cwd: dir });

test('nimop dev serves kubectl with the sample created, counts requests, and stops cleanly on Ctrl-C', async () => {
  const kubeconfig = join(dir, 'kube', 'config');
  const dev = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', kubeconfig, '-f', join(REPO, 'examples', 'basic', 'llm.yaml')], process.env);
  try {
    await eventually(() => dev.out().includes('Press Ctrl-C'), 'nimop dev to start', 20_000);
    assert.match(dev.out(), new RegExp(`export KUBECONFIG=${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(dev.out(), /nimservice\.apps\.nvidia\.com\/llama3-8b created/);
    assert.match(dev.out(), /^OBJECTS\s+WATCHES\s+NODES\s+PODS PENDING\s+RUNNING\s+SUCCEEDED\s+FAILED\s+NIM ENDPOINTS$/m);
    assert.match(dev.out(), /^\d+\s+\d+\s+6\s+\d+/m);
    const server: string = parse(readFileSync(kubeconfig, 'utf8')).clusters[0].cluster.server;
    const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') };
    const get = run(KUBECTL, ['get', 'nimservices,nimcaches'], env);
    assert.equal(await get.done, 0, get.err());
    assert.match(get.out(), /nimservice\.apps\.nvidia\.com\/llama3-8b/);
    assert.match(get.out(), /nimcache\.apps\.nvidia\.com\/llama3-8b-cache/);
    const metrics = await (await fetch(`${server}/metrics`)).text();
    assert.match(metrics, /apiserver_request_total\{verb="list",group="apps\.nvidia\.com",resource="nimservices",subresource="",code="200",client="kubectl[^"]*"\} [1-9]/);
    assert.match(metrics, /apiserver_storage_objects\{resource="apps\.nvidia\.com\/nimservices"\} 1/);
  } finally {
    dev.child.kill('SIGINT');
  }
  assert.equal(await dev.done, 0);
  assert.match(dev.out(), /nimop dev: stopped/);
});

test('a port that is taken is a clear error', async () => {
  const first = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', join(dir, 'a'), '--port', '0'], process.env);
  await eventually(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(first.out()), 'the first server');
  const port = /127\.0\.0\.1:(\d+)/.exec(first.out())![1]!;
  const second = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', join(dir, 'b'), '--port', port], process.env);
  assert.equal(await second.done, 1);
  assert.match(second.err(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  first.child.kill('SIGTERM');
  assert.equal(await first.done, 0);
});

test('nimop dev --data-dir keeps objects (same resourceVersion) across a restart', async () => {
  const data = join(dir, 'data');
  const kubeconfig = join(dir, 'kube-data', 'config');
  const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache-data') };
  // The control plane alone: the operator would (rightly) write finalizers and status in between.
  const start = async () => {
    const dev = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--no-operator', '--kubeconfig', kubeconfig, '--data-dir', data], process.env);
    await eventually(() => dev.out().includes('Press Ctrl-C'), 'nimop dev to start', 20_000);
    return dev;
  };
  const first = await start();
  assert.match(first.out(), /Objects persist in/);
  const create = run(KUBECTL, ['create', '-f', join(REPO, 'examples', 'basic', 'llm.yaml')], env);
  assert.equal(await create.done, 0, create.err());
  const rv = run(KUBECTL, ['get', 'nimservice', 'llama3-8b', '-o', 'jsonpath={.metadata.resourceVersion}'], env);
  assert.equal(await rv.done, 0);
  first.child.kill('SIGINT');
  assert.equal(await first.done, 0);
  const second = await start();
  try {
    const again = run(KUBECTL, ['get', 'nimservice', 'llama3-8b', '-o', 'jsonpath={.metadata.resourceVersion}'], env);
    assert.equal(await again.done, 0, again.err());
    assert.equal(again.out(), rv.out());
  } finally {
    second.child.kill('SIGINT');
  }
  assert.equal(await second.done, 0);
});

test('a malformed --fault is a usage error', async () => {
  const dev = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', join(dir, 'c'), '--fault', 'error=bogus'], process.env);
  assert.equal(await dev.done, 2);
  assert.match(dev.err(), /error: /);
});

test('nimop dev registers the admission webhook: kubectl shows its warnings; --strict refuses', async () => {
  const floating = JSON.stringify({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'floating' },
    spec: {
      image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' },
      authSecret: 'ngc-api-secret',
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
    },
  });
  for (const strict of [false, true]) {
    const kubeconfig = join(dir, `kube-wh-${strict}`, 'config');
    const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, `cache-wh-${strict}`) };
    const dev = run(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', kubeconfig, '--step-delay', '0', ...(strict ? ['--strict'] : [])], process.env);
    try {
      await eventually(() => dev.out().includes('Press Ctrl-C'), 'nimop dev to start', 20_000);
      assert.match(dev.out(), /Admission webhook registered/);
      const apply = run(KUBECTL, ['apply', '-f', '-'], env);
      apply.child.stdin!.end(floating);
      const code = await apply.done;
      if (strict) {
        assert.notEqual(code, 0);
        assert.match(apply.err(), /denied the request: .*spec\.image\.tag/);
      } else {
        assert.equal(code, 0, apply.err());
        assert.match(apply.err(), /Warning: spec\.image\.tag: .*latest/);
        // A namespace labelled strict refuses what the default policy only warns about.
        for (const args of [['create', 'namespace', 'strict-ns'], ['label', 'namespace', 'strict-ns', 'nimop.dev/admission-policy=strict']]) {
          const k = run(KUBECTL, args, env);
          assert.equal(await k.done, 0, k.err());
        }
        await eventually(async () => {
          const again = run(KUBECTL, ['apply', '-n', 'strict-ns', '-f', '-'], env);
          again.child.stdin!.end(floating);
          return (await again.done) !== 0 && /denied the request: .*spec\.image\.tag/.test(again.err());
        }, 'the labelled namespace to refuse');
      }
    } finally {
      dev.child.kill('SIGINT');
    }
    assert.equal(await dev.done, 0);
  }
});
