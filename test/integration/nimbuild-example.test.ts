/**
 * examples/builds/engine-build.yaml with the operator's own NIMCache and NIMBuild controllers,
 * through kubectl: the buildable cache is downloaded, the engine is built on an L40S node as the
 * example asks, and the cache lists the built profile.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { REPO } from '../helpers/upstream.js';

let c: SimCluster;
let op: RunningOperator;
before(async () => {
  c = await startSimCluster();
  op = await startOperator(c, { only: ['nimcache', 'nimbuild'] });
});
after(async () => {
  await op?.stop();
  await c?.stop();
});

test('examples/builds/engine-build.yaml: the engine is built and added to the cache', async () => {
  await c.ok(['create', 'namespace', 'nim-service']);
  await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=nvapi-test', '-n', 'nim-service']);
  await c.ok(['apply', '-f', '-'], readFileSync(join(REPO, 'examples', 'builds', 'engine-build.yaml'), 'utf8'));
  // The build pod is seen while it runs (the simulation builds at once, so it may be brief).
  const seen: Obj[] = [];
  const build = await eventually(() => {
    const pod = c.get('/pods', 'nim-service', 'llama3-8b-l40s-engine-engine-build-pod');
    if (pod?.spec?.nodeName && !seen.length) seen.push(pod);
    const b = c.get('apps.nvidia.com/nimbuilds', 'nim-service', 'llama3-8b-l40s-engine');
    return b?.status?.state === 'Ready' ? b : undefined;
  }, 'the NIMBuild to be Ready', 30_000);
  const out = build.status.outputProfile;
  assert.equal(out.config.model_name, 'llama-3.1-8b-instruct-l40s');
  assert.equal(out.config.gpu, 'L40S', 'built on the L40S node the example selects');
  assert.equal(out.config.input_profile, build.status.inputProfile.name);
  if (seen[0]) assert.match(String(seen[0].spec.nodeName), /l40s/);
  const cache = c.get('apps.nvidia.com/nimcaches', 'nim-service', 'llama3-8b-buildable')!;
  assert.ok((cache.status.profiles as Obj[]).some((p) => p.name === out.name), 'the cache lists the built profile');
  assert.match(await c.ok(['get', 'nimbuild', '-n', 'nim-service', 'llama3-8b-l40s-engine', '-o', 'jsonpath={.status.outputProfile.name}']), new RegExp(`^${out.name}$`));
});
