/**
 * The README's quick start, as a newcomer runs it: `npm start` (nimop dev with the operator and
 * examples/quickstart.yaml) prints within 60 s that the service is Ready, with a kubectl line and a
 * curl line that work when pasted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KUBECTL, eventually } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'nimop-quickstart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm start runs nimop dev on examples/quickstart.yaml', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.equal(pkg.scripts.start, 'node bin/nimop.js dev -f examples/quickstart.yaml');
  assert.match(readFileSync(join(REPO, 'README.md'), 'utf8'), /npm ci && npm start/);
});

test('the quick start reaches Ready within 60 s and its kubectl and curl lines work when pasted', async () => {
  // The start script's command, with the kubeconfig in a temporary directory.
  const dev = spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '-f', join(REPO, 'examples', 'quickstart.yaml'), '--kubeconfig', join(dir, 'kubeconfig')], { cwd: dir });
  try {
    const started = Date.now();
    await eventually(() => /is Ready/.test(dev.out()), `the Ready line (output so far:\n${dev.out()}\n${dev.err()})`, 60_000);
    assert.ok(Date.now() - started < 60_000);
    assert.match(dev.out(), /NIMService default\/llama3-8b is Ready: model "[^"]+"\./);
    await eventually(() => /^\s+curl /m.test(dev.out()), 'the curl line');
    const lines = dev.out().split('\n');
    const kubectlLine = lines.find((l) => /^\s+KUBECONFIG=\S+ kubectl /.test(l))!.trim();
    const curlLine = lines.find((l) => /^\s+curl /.test(l))!.trim();
    // Pasted into a shell; `kubectl` is the versioned binary the tests use.
    const env = { ...process.env, KUBECACHEDIR: join(dir, 'cache'), PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` };
    const k = spawnCollect('sh', ['-c', kubectlLine.replace(/ kubectl /, ` ${KUBECTL} `)], { env, cwd: dir });
    assert.equal(await k.done, 0, k.err());
    assert.match(k.out(), /^NAME\s+STATUS\s+AGE\nllama3-8b\s+Ready\s+/);
    const c = spawnCollect('sh', ['-c', curlLine], { env, cwd: dir });
    assert.equal(await c.done, 0, c.err());
    const answer = JSON.parse(c.out());
    assert.equal(answer.object, 'chat.completion');
    assert.ok(answer.choices[0].message.content.length > 0);
  } finally {
    dev.child.kill('SIGINT');
  }
  assert.equal(await dev.done, 0);
});
