/** The add-ons nimop dev installs for the operator's optional integrations. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ADDONS, installAddons } from '../../src/devcluster/ecosystem/index.js';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
});
after(async () => c?.stop());

test('each add-on serves its kinds (kubectl api-resources), objects of them can be applied, and installing twice changes nothing', async () => {
  installAddons(c.cp, ['gateway-api', 'prometheus-operator', 'inference-extension', 'compute-domains', 'kserve']);
  const rv = c.cp.store.list('apiextensions.k8s.io/customresourcedefinitions').map((o) => o.metadata.resourceVersion).join(',');
  installAddons(c.cp);
  assert.equal(c.cp.store.list('apiextensions.k8s.io/customresourcedefinitions').map((o) => o.metadata.resourceVersion).join(','), rv);
  const r = await c.kubectl(['api-resources', '-o', 'name']);
  assert.equal(r.status, 0, r.stderr);
  for (const name of ['httproutes.gateway.networking.k8s.io', 'grpcroutes.gateway.networking.k8s.io', 'gateways.gateway.networking.k8s.io', 'servicemonitors.monitoring.coreos.com', 'inferencepools.inference.networking.k8s.io', 'computedomains.resource.nvidia.com', 'inferenceservices.serving.kserve.io']) {
    assert.match(r.stdout, new RegExp(`^${name.replace(/\./g, '\\.')}$`, 'm'));
  }
  const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'svc', port: 8000 }] }] } };
  const applied = await c.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(route));
  assert.equal(applied.status, 0, applied.stderr);
  const got = await c.kubectl(['get', 'httproutes']);
  assert.match(got.stdout, /^NAME\s+HOSTNAMES\s+AGE\nr\s+\[a\.example\.com\]/);
});

test('an unknown add-on is an error naming the known ones', () => {
  assert.throws(() => installAddons(c.cp, ['nope']), new RegExp(`unknown add-on "nope" \\(known: ${Object.keys(ADDONS).join(', ')}\\)`));
});

test('nimop dev --without an unknown add-on exits 2 with the list', async () => {
  const dev = spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), 'dev', '--kubeconfig', join(c.dir, 'kc'), '--without', 'gateway-api,bogus']);
  assert.equal(await dev.done, 2);
  assert.match(dev.err(), new RegExp(`--without: unknown add-on bogus \\(known: ${Object.keys(ADDONS).join(', ')}\\)`));
});
