/**
 * The README example (examples/quickstart.yaml: a NIMCache and a NIMService with an HPA and an
 * HTTPRoute) with every controller, through kubectl: the service waits for the cache, starts the
 * moment it is Ready, and answers through its Service.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installAddons } from '../../src/devcluster/ecosystem/index.js';
import { resolveServiceAddress } from '../../src/devcluster/sim/index.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { REPO } from '../helpers/upstream.js';

let c: SimCluster;
let op: RunningOperator;
before(async () => {
  // Downloads and model loads take a little time, as in nimop dev (scaled down).
  c = await startSimCluster({ timeScale: 0.1 });
  installAddons(c.cp);
  op = await startOperator(c);
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

test('examples/quickstart.yaml: cache Ready, then the service Ready with its HPA and HTTPRoute, answering chat completions', async () => {
  await c.ok(['apply', '-f', '-'], readFileSync(join(REPO, 'examples', 'quickstart.yaml'), 'utf8'));
  await c.ok(['wait', 'nimcache/llama3-8b-cache', '--for=jsonpath={.status.state}=Ready', '--timeout=60s']);
  await c.ok(['wait', 'nimservice/llama3-8b', '--for=condition=Ready', '--timeout=60s']);
  const out = await c.ok(['get', 'nimservices,nimcaches']);
  assert.match(out, /nimservice\.apps\.nvidia\.com\/llama3-8b\s+Ready\s+/);
  assert.match(out, /nimcache\.apps\.nvidia\.com\/llama3-8b-cache\s+Ready\s+llama3-8b-cache-pvc\s+/);
  // The Deployment was made once the cache was Ready, not before, and without a polling delay.
  const cache = c.get('apps.nvidia.com/nimcaches', 'default', 'llama3-8b-cache')!;
  const deployment = c.get('apps/deployments', 'default', 'llama3-8b')!;
  const readyAt = Date.parse(condition(cache, 'NIM_CACHE_JOB_COMPLETED')!.lastTransitionTime);
  const createdAt = Date.parse(deployment.metadata.creationTimestamp);
  assert.ok(createdAt >= readyAt && createdAt - readyAt <= 1_000, `Deployment created ${createdAt - readyAt} ms after the cache was Ready`);
  assert.equal(deployment.spec.template.spec.volumes.find((v: any) => v.name === 'model-store').persistentVolumeClaim.claimName, 'llama3-8b-cache-pvc');
  assert.ok(c.get('autoscaling/horizontalpodautoscalers', 'default', 'llama3-8b'));
  assert.deepEqual(c.get('gateway.networking.k8s.io/httproutes', 'default', 'llama3-8b')!.spec.hostnames, ['llama3-8b.default.example.com']);
  // The model answers through the Service.
  const addr = resolveServiceAddress(c.cp, 'default', 'llama3-8b', 8000)!;
  const res = await fetch(`http://${addr.host}:${addr.port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: c.get('apps.nvidia.com/nimservices', 'default', 'llama3-8b')!.status.model.name, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { object: string }).object, 'chat.completion');
});
