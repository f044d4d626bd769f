/**
 * The install manifests against the embedded control plane: `kubectl apply --server-side
 * --dry-run=server -k deploy/` is accepted (every kind served, every object valid), and so is a
 * real apply, after which the operator's ServiceAccount holds what its controllers declared.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { ADDONS } from '../../src/devcluster/ecosystem/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { CONTROLLER_PERMISSIONS } from '../../src/controllers/permissions.js';
import { stringify } from 'yaml';
import { kubeconfigFor } from '../../src/devcluster/kubeconfig.js';
import { REPO } from '../helpers/upstream.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';

const DEPLOY = join(REPO, 'deploy');
const SA = 'system:serviceaccount:nim-operator:nim-operator';
let c: TestCluster;

before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const ok = (r: { status: number | null; stdout: string; stderr: string }) => assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);

/** A kustomization in the cluster's temp dir: deploy/ plus some of its components. */
function overlay(name: string, components: string[]): string {
  const dir = join(c.dir, name);
  mkdirSync(dir, { recursive: true });
  const rel = relative(dir, DEPLOY);
  writeFileSync(join(dir, 'kustomization.yaml'), `resources:\n  - ${rel}\ncomponents:\n${components.map((n) => `  - ${rel}/components/${n}\n`).join('')}`);
  return dir;
}

test('kubectl apply --server-side --dry-run=server -k deploy/ is accepted', async () => {
  // A dry run creates nothing, so the namespaced objects need their namespace to exist already
  // (kube-apiserver refuses them the same way).
  ok(await c.kubectl(['create', 'namespace', 'nim-operator']));
  const r = await c.kubectl(['apply', '--server-side', '--dry-run=server', '-k', DEPLOY]);
  ok(r);
  for (const kind of ['customresourcedefinition.apiextensions.k8s.io/nimservices.apps.nvidia.com', 'clusterrole.rbac.authorization.k8s.io/nim-operator-role', 'deployment.apps/nim-operator', 'validatingwebhookconfiguration.admissionregistration.k8s.io/nim-operator-validating-webhook-configuration']) {
    assert.match(r.stdout, new RegExp(`${kind.replace(/\./g, '\\.')} serverside-applied \\(server dry run\\)`));
  }
  // Nothing was stored.
  const get = await c.kubectl(['get', 'deployment', 'nim-operator', '-n', 'nim-operator', '--ignore-not-found', '-o', 'name']);
  ok(get);
  assert.equal(get.stdout.trim(), '');
});

test('with the Prometheus Operator installed, the servicemonitor component is accepted too', async () => {
  const crdType = c.cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  for (const crd of ADDONS['prometheus-operator']!.crds()) c.cp.objects.ensure(crdType, undefined, crd as Obj);
  const dir = overlay('with-monitor', ['servicemonitor']);
  // Discovery may lag a freshly installed CRD by a moment: retry a few times (no fixed sleep).
  let r = await c.kubectl(['apply', '--server-side', '--dry-run=server', '-k', dir]);
  for (let i = 0; i < 20 && r.status !== 0 && /no matches for kind/.test(r.stderr); i++) r = await c.kubectl(['apply', '--server-side', '--dry-run=server', '-k', dir]);
  ok(r);
  assert.match(r.stdout, /servicemonitor\.monitoring\.coreos\.com\/nim-operator-metrics-monitor serverside-applied \(server dry run\)/);
});

test('applied for real, the operator\'s ServiceAccount can do what the controllers declared, and no more', async () => {
  ok(await c.kubectl(['apply', '--server-side', '-k', overlay('without-webhook', ['without-webhook'])]));
  const checks: { what: string; expect: boolean; attrs: Record<string, string> }[] = [];
  for (const set of CONTROLLER_PERMISSIONS) {
    for (const p of set.permissions) {
      for (const verb of p.verbs) {
        checks.push({
          what: `${set.controller}: ${verb} ${p.ref.group || 'core'}/${p.ref.plural}${p.subresource ? `/${p.subresource}` : ''}`,
          expect: true,
          attrs: { verb, group: p.ref.group, resource: p.ref.plural, ...(p.subresource ? { subresource: p.subresource } : {}), ...(p.ref.namespaced ? { namespace: 'default' } : {}) },
        });
      }
    }
  }
  const lease = { group: 'coordination.k8s.io', resource: 'leases' };
  checks.push({ what: 'update the Lease in its namespace', expect: true, attrs: { verb: 'update', ...lease, namespace: 'nim-operator' } });
  checks.push({ what: 'update a Lease elsewhere', expect: false, attrs: { verb: 'update', ...lease, namespace: 'default' } });
  checks.push({ what: 'delete nodes', expect: false, attrs: { verb: 'delete', group: '', resource: 'nodes' } });
  checks.push({ what: 'create ClusterRoles', expect: false, attrs: { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' } });
  // One SubjectAccessReview per check, created in one kubectl call.
  const reviews = checks.map((ch) => JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:nim-operator', 'system:authenticated'], resourceAttributes: ch.attrs } }));
  const r = await c.kubectl(['create', '-o', 'jsonpath={.status.allowed}{" "}', '-f', '-'], reviews.join('\n---\n'));
  ok(r);
  const results = r.stdout.trim().split(/\s+/);
  assert.equal(results.length, checks.length, r.stdout);
  const wrong = checks.filter((ch, i) => results[i] !== String(ch.expect)).map((ch) => `${ch.what}: expected ${ch.expect ? 'allowed' : 'denied'}`);
  assert.deepEqual(wrong, []);
});

test('nimop run with the ServiceAccount\'s token takes the Lease and reconciles a NIMService without a denied request', async () => {
  // Relies on the previous test's real apply (tests in a file run in order).
  const token = await c.kubectl(['create', 'token', 'nim-operator', '-n', 'nim-operator']);
  ok(token);
  const kubeconfig = join(c.dir, 'operator-kubeconfig');
  writeFileSync(kubeconfig, stringify({ ...kubeconfigFor(c.cp.url, 'nim-operator'), users: [{ name: 'nimop-dev', user: { token: token.stdout.trim() } }] }));
  c.cp.authz.resetAudit();
  const run = spawnCollect(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts', 'nimop-src.ts'), 'run', '--kubeconfig', kubeconfig, '--leader-elect', '--leader-election-namespace', 'nim-operator', '--metrics-bind-address', '0', '--health-probe-bind-address', '0'],
    { cwd: REPO, env: { ...process.env, KUBECONFIG: '', ENABLE_WEBHOOKS: '' } },
  );
  const denied = () =>
    c.cp.authz.audit({ user: SA }).denied.map((d) => `${d.verb} ${d.group || 'core'}/${d.resource ?? d.path}${d.subresource ? `/${d.subresource}` : ''} ${d.namespace ?? ''}`.trim());
  const within = <T>(p: Promise<T>) => p.catch((e: Error) => Promise.reject(new Error(`${e.message}; denied: ${JSON.stringify(denied())}\n${run.err()}`)));
  try {
    await within(eventually(() => /"msg":"running"/.test(run.out()), 'the operator to start', 30_000));
    await within(eventually(() => c.cp.store.get('coordination.k8s.io/leases', 'nim-operator', 'a0715c6e.nvidia.com'), 'the Lease in nim-operator'));
    const svc = {
      apiVersion: 'apps.nvidia.com/v1alpha1',
      kind: 'NIMService',
      metadata: { name: 'rbac-probe', namespace: 'default' },
      spec: {
        image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.12.0' },
        authSecret: 'ngc-api-secret',
        storage: { emptyDir: { sizeLimit: '50Gi' } },
        expose: { service: { type: 'ClusterIP', port: 8000 } },
      },
    };
    ok(await c.kubectl(['apply', '-f', '-'], JSON.stringify(svc)));
    await within(eventually(() => c.cp.store.get('apps/deployments', 'default', 'rbac-probe'), 'the NIMService\'s Deployment', 20_000));
    await within(eventually(() => c.cp.store.get('apps.nvidia.com/nimservices', 'default', 'rbac-probe')?.status?.state, 'the NIMService\'s status'));
    const audit = c.cp.authz.audit({ user: SA });
    assert.ok(audit.allowed.some((a) => a.resource === 'deployments' && a.role === 'ClusterRole/nim-operator-role'), 'the audit saw the operator\'s requests');
    assert.deepEqual(denied(), [], run.err());
  } finally {
    run.child.kill('SIGTERM');
    await run.done;
  }
});
