/** The real kubectl against the embedded control plane: what a user types, asserted on its output. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({ bookmarkIntervalMs: 200 });
});
after(async () => c?.stop());

const ok = (r: { status: number | null; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, `kubectl failed: ${r.stderr}`);
  return r.stdout;
};

const SERVICE = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama
  labels: {team: ai}
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct
    tag: 1.8.4
  replicas: 1
  expose:
    service: {}
`;

describe('discovery and metadata', () => {
  test('get --raw /version reports the imitated Kubernetes version', async () => {
    const v = JSON.parse(ok(await c.kubectl(['get', '--raw', '/version'])));
    assert.equal(v.major, '1');
    assert.ok(Number(v.minor) >= 34);
  });

  test('api-resources lists built-ins and our kinds with short names', async () => {
    const out = ok(await c.kubectl(['api-resources']));
    assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(out, /^nimservices\s+apps\.nvidia\.com\/v1alpha1\s+true\s+NIMService$/m);
    assert.match(out, /^resourceclaimtemplates\s+resource\.k8s\.io\/v1\s+true\s+ResourceClaimTemplate$/m);
  });

  test('explain nimservice.spec.scale.hpa prints our descriptions', async () => {
    const out = ok(await c.kubectl(['explain', 'nimservice.spec.scale.hpa']));
    assert.match(out, /KIND:\s+NIMService/);
    assert.match(out, /maxReplicas\s+<integer> -required-/);
    assert.match(out, /Most replicas\./);
  });
});

describe('objects', () => {
  test('create, get, get -o yaml, -o jsonpath, -l', async () => {
    writeFileSync(join(c.dir, 'svc.yaml'), SERVICE);
    assert.match(ok(await c.kubectl(['create', '-f', 'svc.yaml'])), /nimservice\.apps\.nvidia\.com\/llama created/);
    const table = ok(await c.kubectl(['get', 'nimservices']));
    assert.match(table, /^NAME\s+STATUS\s+AGE$/m);
    assert.match(table, /^llama\s+\d+s$/m);
    const yaml = ok(await c.kubectl(['get', 'nimservice', 'llama', '-o', 'yaml']));
    assert.match(yaml, /inferencePlatform: standalone/);
    assert.match(yaml, /port: 8000/);
    assert.equal(ok(await c.kubectl(['get', 'nimservice', 'llama', '-o', 'jsonpath={.metadata.generation}'])), '1');
    assert.match(ok(await c.kubectl(['get', 'nimservices', '-l', 'team=ai', '-o', 'name'])), /nimservice\.apps\.nvidia\.com\/llama/);
    assert.equal(ok(await c.kubectl(['get', 'nimservices', '-l', 'team=other', '-o', 'name'])).trim(), '');
  });

  test('a bad manifest is refused with the field and upstream\'s message', async () => {
    writeFileSync(join(c.dir, 'bad.yaml'), SERVICE.replace('name: llama', 'name: bad').replace('  expose:', '  scale:\n    enabled: true\n    hpa: {maxReplicas: 3}\n  expose:'));
    const r = await c.kubectl(['apply', '-f', 'bad.yaml']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /The NIMService "bad" is invalid: spec: Invalid value: "object": spec\.replicas cannot be set when spec\.scale\.enabled is true/);
  });

  test('an unknown field is refused by kubectl\'s strict field validation', async () => {
    writeFileSync(join(c.dir, 'typo.yaml'), SERVICE.replace('name: llama', 'name: typo').replace('  replicas: 1', '  replica: 1'));
    const r = await c.kubectl(['create', '-f', 'typo.yaml']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown field "spec\.replica"/);
  });

  test('label, annotate, and patch (merge, json)', async () => {
    ok(await c.kubectl(['label', 'nimservice', 'llama', 'tier=gold']));
    ok(await c.kubectl(['annotate', 'nimservice', 'llama', 'owner=alice']));
    ok(await c.kubectl(['patch', 'nimservice', 'llama', '--type=merge', '-p', '{"spec":{"replicas":2}}']));
    ok(await c.kubectl(['patch', 'nimservice', 'llama', '--type=json', '-p', '[{"op":"replace","path":"/spec/image/tag","value":"1.9.0"}]']));
    const o = JSON.parse(ok(await c.kubectl(['get', 'nimservice', 'llama', '-o', 'json'])));
    assert.equal(o.metadata.labels.tier, 'gold');
    assert.equal(o.metadata.annotations.owner, 'alice');
    assert.equal(o.spec.replicas, 2);
    assert.equal(o.spec.image.tag, '1.9.0');
    assert.equal(o.metadata.generation, 3, 'two spec changes, label and annotation do not count');
  });

  test('apply (client-side), then apply --server-side and --dry-run=server', async () => {
    writeFileSync(join(c.dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n');
    assert.match(ok(await c.kubectl(['apply', '-f', 'cm.yaml'])), /configmap\/cfg created/);
    writeFileSync(join(c.dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "2"\n');
    assert.match(ok(await c.kubectl(['apply', '-f', 'cm.yaml'])), /configmap\/cfg configured/);
    writeFileSync(join(c.dir, 'ssa.yaml'), SERVICE.replace('name: llama', 'name: ssa'));
    assert.match(ok(await c.kubectl(['apply', '--server-side', '-f', 'ssa.yaml'])), /nimservice\.apps\.nvidia\.com\/ssa serverside-applied/);
    const managers = JSON.parse(ok(await c.kubectl(['get', 'nimservice', 'ssa', '-o', 'json', '--show-managed-fields']))).metadata.managedFields;
    assert.ok(managers.some((m: { manager: string; operation: string }) => m.manager === 'kubectl' && m.operation === 'Apply'));
    writeFileSync(join(c.dir, 'dry.yaml'), SERVICE.replace('name: llama', 'name: dry'));
    assert.match(ok(await c.kubectl(['apply', '--dry-run=server', '-f', 'dry.yaml'])), /created \(server dry run\)/);
    assert.notEqual((await c.kubectl(['get', 'nimservice', 'dry'])).status, 0);
  });

  test('generator commands (sent as protobuf): create namespace, secret, configmap, serviceaccount', async () => {
    assert.match(ok(await c.kubectl(['create', 'namespace', 'nim-service'])), /namespace\/nim-service created/);
    assert.match(ok(await c.kubectl(['create', 'secret', 'generic', 'ngc-api-secret', '-n', 'nim-service', '--from-literal=NGC_API_KEY=abc'])), /secret\/ngc-api-secret created/);
    assert.match(ok(await c.kubectl(['create', 'secret', 'docker-registry', 'ngc-secret', '-n', 'nim-service', '--docker-server=nvcr.io', '--docker-username=$oauthtoken', '--docker-password=abc'])), /secret\/ngc-secret created/);
    assert.match(ok(await c.kubectl(['create', 'configmap', 'settings', '-n', 'nim-service', '--from-literal=a=1'])), /configmap\/settings created/);
    assert.match(ok(await c.kubectl(['create', 'serviceaccount', 'runner', '-n', 'nim-service'])), /serviceaccount\/runner created/);
    const secret = JSON.parse(ok(await c.kubectl(['get', 'secret', 'ngc-api-secret', '-n', 'nim-service', '-o', 'json'])));
    assert.equal(Buffer.from(secret.data.NGC_API_KEY, 'base64').toString(), 'abc');
    assert.equal(secret.type, 'Opaque');
    const pull = JSON.parse(ok(await c.kubectl(['get', 'secret', 'ngc-secret', '-n', 'nim-service', '-o', 'json'])));
    assert.equal(pull.type, 'kubernetes.io/dockerconfigjson');
  });

  test('describe shows the object', async () => {
    assert.match(ok(await c.kubectl(['describe', 'nimservice', 'llama'])), /Name:\s+llama[\s\S]*Kind:\s+NIMService/);
  });
});

describe('workload verbs', () => {
  test('scale a Deployment through the scale subresource', async () => {
    writeFileSync(
      join(c.dir, 'deploy.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n',
    );
    ok(await c.kubectl(['apply', '-f', 'deploy.yaml']));
    assert.match(ok(await c.kubectl(['scale', 'deployment', 'web', '--replicas=3'])), /deployment\.apps\/web scaled/);
    assert.equal(ok(await c.kubectl(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])), '3');
  });

  test('patch --type=strategic merges containers by name', async () => {
    ok(await c.kubectl(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}}']));
    const d = JSON.parse(ok(await c.kubectl(['get', 'deploy', 'web', '-o', 'json'])));
    assert.equal(d.spec.template.spec.containers.length, 1);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  });

  test('wait --for=condition on a CRD, and get -w reads events', async () => {
    ok(await c.kubectl(['wait', '--for=condition=Established', 'crd/nimservices.apps.nvidia.com', '--timeout=10s']));
    const w = c.kubectlAsync(['get', 'configmaps', '-w', '--output-watch-events']);
    await eventually(() => w.output().includes('cfg'), 'the initial list');
    ok(await c.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { x: 'y' } })));
    await eventually(() => /ADDED\s+later/.test(w.output()), 'the ADDED event of a new ConfigMap');
    w.kill();
    await w.done;
  });

  test('delete --cascade=orphan keeps dependents, background removes them, wait --for=delete', async () => {
    const owner = JSON.parse(ok(await c.kubectl(['get', 'cm', 'cfg', '-o', 'json'])));
    const child = (name: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', uid: owner.metadata.uid }] },
      });
    ok(await c.kubectl(['create', '-f', '-'], child('child-a')));
    ok(await c.kubectl(['delete', 'cm', 'cfg', '--cascade=orphan']));
    const orphan = JSON.parse(ok(await c.kubectl(['get', 'cm', 'child-a', '-o', 'json'])));
    assert.equal(orphan.metadata.ownerReferences, undefined);

    ok(await c.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'parent' } })));
    const parent = JSON.parse(ok(await c.kubectl(['get', 'cm', 'parent', '-o', 'json'])));
    ok(await c.kubectl(['create', '-f', '-'], child('child-b').replace(owner.metadata.uid, parent.metadata.uid).replace('"cfg"', '"parent"')));
    ok(await c.kubectl(['delete', 'cm', 'parent', '--cascade=background']));
    ok(await c.kubectl(['wait', '--for=delete', 'cm/child-b', '--timeout=10s']));
  });

  test('delete --cascade=foreground removes the dependents first, then the owner', async () => {
    ok(await c.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', finalizers: ['nimop.test/hold'] } })));
    const owner = JSON.parse(ok(await c.kubectl(['get', 'cm', 'owner', '-o', 'json'])));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, blockOwnerDeletion: true };
    ok(await c.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dep', ownerReferences: [ref] } })));
    ok(await c.kubectl(['delete', 'cm', 'owner', '--cascade=foreground', '--wait=false']));
    const deleting = JSON.parse(ok(await c.kubectl(['get', 'cm', 'owner', '-o', 'json'])));
    assert.ok(deleting.metadata.deletionTimestamp, 'the owner is being deleted');
    assert.notEqual((await c.kubectl(['get', 'cm', 'dep'])).status, 0, 'the dependent went first');
    ok(await c.kubectl(['patch', 'cm', 'owner', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']));
    ok(await c.kubectl(['wait', '--for=delete', 'cm/owner', '--timeout=10s']));
  });
});
