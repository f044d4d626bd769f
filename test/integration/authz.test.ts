/**
 * Authentication and RBAC in the embedded control plane, as kube-apiserver enforces them: service
 * account tokens from the TokenRequest API (`kubectl create token`), 401 for tokens that are not
 * valid, Roles and ClusterRoles through RoleBindings and ClusterRoleBindings (verbs, groups,
 * resourceNames, subresources, scope), kube's 403 messages, access reviews (`kubectl auth can-i`),
 * impersonation, and the audit of which rule allowed what.
 *
 * kubectl sends a token only to an https:// server: the control plane also speaks TLS on its port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

type Json = Record<string, any>;
const SA = 'system:serviceaccount:a:reader';

const MANIFEST = `
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: c}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: a}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
- {apiGroups: [""], resources: [secrets], resourceNames: [allowed], verbs: [get, list]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
- {apiGroups: [apps], resources: [deployments/status, "*/scale"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: reader}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cm-watcher}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: watch-b, namespace: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cm-watcher}
subjects: [{kind: ServiceAccount, name: reader, namespace: a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules: [{apiGroups: [""], resources: [nodes], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: node-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer}
subjects: [{kind: ServiceAccount, name: reader, namespace: a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: patcher, namespace: c}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: patcher, namespace: c}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: patcher}
subjects: [{kind: ServiceAccount, name: reader, namespace: a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: broken, namespace: c}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
subjects: [{kind: ServiceAccount, name: reader, namespace: a}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-b, namespace: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: existing, namespace: c}
---
apiVersion: v1
kind: Secret
metadata: {name: allowed, namespace: a}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: a}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, annotations: {nimop.dev/log: "hello from p"}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: a}
spec:
  replicas: 2
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec: {containers: [{name: c, image: busybox}]}
`;

let c: TestCluster;
let https: string;
let token: string;

/** kubectl as the service account (its token, over https). */
const asSA = (args: string[], t = token) => c.kubectl(['--server', https, '--token', t, ...args]);

/** A raw request with a bearer token (plain HTTP: our clients, unlike kubectl, send tokens there too). */
async function call(path: string, init: { token?: string; method?: string; body?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.contentType) headers['Content-Type'] = init.contentType;
  const ac = new AbortController();
  const res = await fetch(`${c.cp.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body ?? null, signal: ac.signal });
  const streaming = /watch=1/.test(path) && res.status === 200;
  const text = streaming ? '' : await res.text();
  ac.abort();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
}

const forbidden = (what: string) => `Error from server (Forbidden): ${what}`;

before(async () => {
  c = await startCluster();
  https = c.cp.url.replace('http://', 'https://');
  const applied = await c.kubectl(['apply', '-f', '-'], MANIFEST);
  assert.equal(applied.status, 0, applied.stderr);
  const created = await c.kubectl(['create', 'token', 'reader', '-n', 'a']);
  assert.equal(created.status, 0, created.stderr);
  token = created.stdout.trim();
});
after(async () => c?.stop());

describe('authentication', () => {
  test('kubectl create token issues a JWT for the service account; requests with it are that account', async () => {
    assert.match(token, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Json;
    assert.equal(claims.sub, SA);
    assert.equal(claims.exp - claims.iat, 3600);
    const who = await asSA(['auth', 'whoami', '-o', 'json']);
    assert.equal(who.status, 0, who.stderr);
    const info = (JSON.parse(who.stdout) as Json).status.userInfo;
    assert.equal(info.username, SA);
    assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
    const tr = await c.kubectl(['create', 'token', 'reader', '-n', 'a', '--duration=2h', '-o', 'json']);
    const status = (JSON.parse(tr.stdout) as Json).status;
    assert.equal(Date.parse(status.expirationTimestamp) - Date.now() > 7190_000, true);
  });

  test('without a token, and with the kubeconfig token, a request is the cluster admin', async () => {
    const who = await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
    assert.match(who.stdout, /system:masters/);
    assert.equal((await call('/api/v1/namespaces/a/secrets', { token: 'nimop-dev-admin' })).status, 200);
    assert.equal((await call('/api/v1/namespaces/a/secrets')).status, 200);
  });

  test('a garbage, expired, foreign-audience or orphaned token is 401 Unauthorized', async () => {
    const garbage = await asSA(['get', 'configmaps', '-n', 'a'], 'garbage');
    assert.equal(garbage.status, 1);
    assert.match(garbage.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    const raw = await call('/api/v1/namespaces/a/configmaps', { token: 'garbage' });
    assert.deepEqual(raw, { status: 401, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 } });

    const short = (await c.kubectl(['create', 'token', 'reader', '-n', 'a', '--duration=10m'])).stdout.trim();
    assert.equal((await call('/api/v1/namespaces/a/configmaps', { token: short })).status, 200);
    const realNow = c.cp.authz.now;
    c.cp.authz.now = () => realNow() + 11 * 60_000;
    try {
      assert.equal((await call('/api/v1/namespaces/a/configmaps', { token: short })).status, 401);
      assert.equal((await call('/api/v1/namespaces/a/configmaps', { token })).status, 200);
    } finally {
      c.cp.authz.now = realNow;
    }
    const tooShort = await c.kubectl(['create', 'token', 'reader', '-n', 'a', '--duration=5m']);
    assert.match(tooShort.stderr, /spec\.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);

    const foreign = (await c.kubectl(['create', 'token', 'reader', '-n', 'a', '--audience=vault'])).stdout.trim();
    assert.equal((await call('/api/v1/namespaces/a/configmaps', { token: foreign })).status, 401);

    await c.kubectl(['create', 'serviceaccount', 'temp', '-n', 'a']);
    const temp = c.cp.authz.issueToken('a', 'temp').token;
    assert.equal((await call('/version', { token: temp })).status, 200);
    await c.kubectl(['delete', 'serviceaccount', 'temp', '-n', 'a']);
    await c.kubectl(['create', 'serviceaccount', 'temp', '-n', 'a']);
    assert.equal((await call('/version', { token: temp })).status, 401, 'a token dies with its account, even if the name comes back');
    const missing = await c.kubectl(['create', 'token', 'nobody', '-n', 'a']);
    assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  });

  test('discovery, /version and /healthz work with a service account token; /metrics does not', async () => {
    const resources = await asSA(['api-resources', '--api-group=authorization.k8s.io', '-o', 'name']);
    assert.equal(resources.status, 0, resources.stderr);
    assert.match(resources.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io/);
    assert.equal((await asSA(['version', '-o', 'json'])).status, 0);
    assert.equal((await call('/healthz', { token })).status, 200);
    assert.equal((await call('/openapi/v3', { token })).status, 200);
    const metrics = await call('/metrics', { token });
    assert.equal(metrics.status, 403);
    assert.equal(metrics.body.message, `forbidden: User "${SA}" cannot get path "/metrics"`);
    assert.deepEqual(metrics.body.details, {});
  });
});

describe('RBAC', () => {
  test('a Role allows get and list on configmaps in its namespace only, with kube 403 messages', async () => {
    const list = await asSA(['get', 'configmaps', '-n', 'a', '-o', 'name']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /configmap\/x/);
    assert.equal((await asSA(['get', 'configmap', 'x', '-n', 'a', '-o', 'name'])).stdout.trim(), 'configmap/x');

    const other = await asSA(['get', 'configmaps', '-n', 'default']);
    assert.equal(other.status, 1);
    assert.equal(other.stderr.trim(), forbidden(`configmaps is forbidden: User "${SA}" cannot list resource "configmaps" in API group "" in the namespace "default"`));
    const del = await asSA(['delete', 'configmap', 'x', '-n', 'a']);
    assert.equal(del.stderr.trim(), forbidden(`configmaps "x" is forbidden: User "${SA}" cannot delete resource "configmaps" in API group "" in the namespace "a"`));
    const ns = await asSA(['get', 'namespaces']);
    assert.equal(ns.stderr.trim(), forbidden(`namespaces is forbidden: User "${SA}" cannot list resource "namespaces" in API group "" at the cluster scope`));
    const raw = await call('/apis/apps/v1/namespaces/a/deployments/d', { token });
    assert.deepEqual(raw.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: `deployments.apps "d" is forbidden: User "${SA}" cannot get resource "deployments" in API group "apps" in the namespace "a"`,
      details: { name: 'd', group: 'apps', kind: 'deployments' },
    });
  });

  test('resourceNames: get and a list pinned to the name by fieldSelector are allowed, others are not', async () => {
    assert.equal((await asSA(['get', 'secret', 'allowed', '-n', 'a', '-o', 'name'])).stdout.trim(), 'secret/allowed');
    const denied = await asSA(['get', 'secret', 'other', '-n', 'a']);
    assert.equal(denied.stderr.trim(), forbidden(`secrets "other" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "a"`));
    const all = await asSA(['get', 'secrets', '-n', 'a']);
    assert.equal(all.stderr.trim(), forbidden(`secrets is forbidden: User "${SA}" cannot list resource "secrets" in API group "" in the namespace "a"`));
    const pinned = await asSA(['get', 'secrets', '-n', 'a', '--field-selector=metadata.name=allowed', '-o', 'name']);
    assert.equal(pinned.stdout.trim(), 'secret/allowed', pinned.stderr);
  });

  test('subresources must be granted by name (pods/log, deployments/status) or as */scale', async () => {
    const log = await asSA(['get', '--raw', '/api/v1/namespaces/a/pods/p/log']);
    assert.equal(log.stdout, 'hello from p', log.stderr);
    const pod = await asSA(['get', 'pod', 'p', '-n', 'a']);
    assert.equal(pod.stderr.trim(), forbidden(`pods "p" is forbidden: User "${SA}" cannot get resource "pods" in API group "" in the namespace "a"`));
    const status = await asSA(['get', 'deployment', 'd', '-n', 'a', '--subresource=status', '-o', 'name']);
    assert.equal(status.stdout.trim(), 'deployment.apps/d', status.stderr);
    const scale = await asSA(['get', 'deployment', 'd', '-n', 'a', '--subresource=scale', '-o', 'jsonpath={.spec.replicas}']);
    assert.equal(scale.stdout, '2', scale.stderr);
    const patch = await call('/apis/apps/v1/namespaces/a/deployments/d/status', { token, method: 'PATCH', body: '{}', contentType: 'application/merge-patch+json' });
    assert.equal(patch.body.message, `deployments.apps "d" is forbidden: User "${SA}" cannot patch resource "deployments/status" in API group "apps" in the namespace "a"`);
  });

  test('a ClusterRole bound by a RoleBinding grants in that namespace only; by a ClusterRoleBinding, everywhere', async () => {
    assert.equal((await asSA(['get', 'configmaps', '-n', 'b', '-o', 'name'])).stdout.trim(), 'configmap/cm-b');
    const all = await asSA(['get', 'configmaps', '-A']);
    assert.equal(all.stderr.trim(), forbidden(`configmaps is forbidden: User "${SA}" cannot list resource "configmaps" in API group "" at the cluster scope`));
    assert.equal((await asSA(['get', 'nodes'])).status, 0);
  });

  test('watch is its own verb: allowed where granted, 403 elsewhere', async () => {
    assert.equal((await call('/api/v1/namespaces/b/configmaps?watch=1', { token })).status, 200);
    const denied = await call('/api/v1/namespaces/a/configmaps?watch=1', { token });
    assert.equal(denied.body.message, `configmaps is forbidden: User "${SA}" cannot watch resource "configmaps" in API group "" in the namespace "a"`);
    const prefix = await call('/api/v1/watch/namespaces/a/configmaps', { token });
    assert.equal(prefix.status, 403);
  });

  test('server-side apply needs patch, and create when it creates; a missing role is named in the 403', async () => {
    const apply = (name: string) =>
      call(`/api/v1/namespaces/c/configmaps/${name}?fieldManager=t`, { token, method: 'PATCH', contentType: 'application/apply-patch+yaml', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } }) });
    assert.equal((await apply('existing')).status, 200);
    const create = await apply('fresh');
    assert.equal(create.status, 403);
    assert.equal(create.body.message, 'configmaps "fresh" is forbidden: RBAC: role.rbac.authorization.k8s.io "missing" not found');
    const get = await call('/api/v1/namespaces/c/configmaps/existing', { token });
    assert.equal(get.body.message, `configmaps "existing" is forbidden: User "${SA}" cannot get resource "configmaps" in API group "" in the namespace "c": RBAC: role.rbac.authorization.k8s.io "missing" not found`);
  });

  test('impersonation needs the impersonate verb; the admin may', async () => {
    const r = await call('/api/v1/namespaces/a/configmaps', { token, headers: { 'Impersonate-User': 'jane' } });
    assert.equal(r.body.message, `users "jane" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`);
    const admin = await call('/api/v1/namespaces/a/configmaps', { headers: { 'Impersonate-User': SA } });
    assert.equal(admin.status, 200);
    assert.equal((await call('/api/v1/namespaces/a/secrets', { headers: { 'Impersonate-User': SA } })).status, 403);
  });
});

describe('access reviews', () => {
  test('kubectl auth can-i answers for a service account through impersonation', async () => {
    const yes = await c.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'a', `--as=${SA}`]);
    assert.deepEqual([yes.status, yes.stdout.trim()], [0, 'yes']);
    const no = await c.kubectl(['auth', 'can-i', 'create', 'deployments', '-n', 'a', `--as=${SA}`]);
    assert.deepEqual([no.status, no.stdout.trim()], [1, 'no']);
    assert.equal((await c.kubectl(['auth', 'can-i', 'get', 'secrets/allowed', '-n', 'a', `--as=${SA}`])).stdout.trim(), 'yes');
    assert.equal((await c.kubectl(['auth', 'can-i', 'get', 'secrets/other', '-n', 'a', `--as=${SA}`])).stdout.trim(), 'no');
    const mine = await asSA(['auth', 'can-i', 'get', 'pods', '--subresource=log', '-n', 'a']);
    assert.equal(mine.stdout.trim(), 'yes', mine.stderr);
    const rules = await asSA(['auth', 'can-i', '--list', '-n', 'a']);
    assert.match(rules.stdout, /^configmaps\s+\[\]\s+\[\]\s+\[get list\]$/m);
    assert.match(rules.stdout, /^secrets\s+\[\]\s+\[allowed\]\s+\[get list\]$/m);
  });

  test('a SubjectAccessReview says which binding allowed the request', async () => {
    const sar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: SA, resourceAttributes: { namespace: 'a', verb: 'get', resource: 'configmaps', name: 'x' } } };
    const r = await c.kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify(sar));
    assert.deepEqual((JSON.parse(r.stdout) as Json).status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "reader/a" of Role "reader" to ServiceAccount "reader/a"' });
    const invalid = await c.kubectl(['create', '-f', '-'], JSON.stringify({ ...sar, spec: { resourceAttributes: sar.spec.resourceAttributes } }));
    assert.match(invalid.stderr, /spec\.user: Invalid value: "": at least one of user or group must be specified/);
  });
});

describe('audit', () => {
  test('records the rule that allowed each request and every denial; every rule of the Role is used', async () => {
    c.cp.authz.resetAudit();
    await asSA(['get', 'configmaps', '-n', 'a']);
    await asSA(['get', 'secret', 'allowed', '-n', 'a']);
    await asSA(['get', '--raw', '/api/v1/namespaces/a/pods/p/log']);
    await asSA(['get', 'deployment', 'd', '-n', 'a', '--subresource=status']);
    let audit = c.cp.authz.audit({ user: SA });
    assert.deepEqual(audit.denied, []);
    assert.deepEqual(audit.rulesUsed['Role/a/reader'], [0, 1, 2, 3]);
    assert.ok(audit.allowed.some((e) => e.verb === 'get' && e.resource === 'pods' && e.subresource === 'log' && e.namespace === 'a' && e.name === 'p' && e.role === 'Role/a/reader' && e.rule === 2 && e.binding === 'RoleBinding/a/reader'));

    await asSA(['get', 'configmaps', '-n', 'default']);
    audit = c.cp.authz.audit({ user: SA });
    assert.deepEqual(audit.denied, [
      { user: SA, verb: 'list', resource: 'configmaps', namespace: 'default', count: 1, message: `configmaps is forbidden: User "${SA}" cannot list resource "configmaps" in API group "" in the namespace "default"` },
    ]);
    const served = await call(`/nimop/authz/audit?user=${encodeURIComponent(SA)}`, { token: 'garbage' });
    assert.deepEqual(served.body, JSON.parse(JSON.stringify(audit)));
    assert.deepEqual(c.cp.authz.audit({ user: 'system:serviceaccount:a:nobody' }), { allowed: [], denied: [], rulesUsed: {}, dropped: 0 });
  });
});

describe('RBAC object names', () => {
  let k: TestCluster;
  before(async () => {
    k = await startCluster();
  });
  after(async () => k?.stop());
  test('RBAC names are path segments, as in kube: `system:x` is accepted, `.`, `..`, `/` and `%` are not', async () => {
    const role = (name: string) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [] });
    const ok = await k.kubectl(['create', '-f', '-'], role('system:custom-reader'));
    assert.equal(ok.status, 0, ok.stderr);
    const slash = await k.kubectl(['create', '-f', '-'], role('a%b'));
    assert.notEqual(slash.status, 0);
    assert.match(slash.stderr, /metadata\.name: Invalid value: "a%b": may not contain '%'/);
    const dot = await k.kubectl(['create', '-f', '-'], role('..'));
    assert.notEqual(dot.status, 0);
    // A ConfigMap name is still a DNS subdomain.
    const cm = await k.kubectl(['create', 'configmap', 'system:x']);
    assert.notEqual(cm.status, 0);
    assert.match(cm.stderr, /a lowercase RFC 1123 subdomain/);
  });
});
