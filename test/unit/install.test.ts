/**
 * The install manifests: deploy/ is what src/install/ generates (no drift), the RBAC is the merge of
 * the controllers' declarations, `kubectl kustomize deploy/` equals `nimop install --render`, and the
 * Deployment runs the operator the way the brief for production asks.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { CONTROLLERS } from '../../src/controllers/index.js';
import { CONTROLLER_PERMISSIONS } from '../../src/controllers/permissions.js';
import { NIMSERVICE, OWN } from '../../src/controllers/refs.js';
import { checkDeploy, renderInstall, writeDeploy } from '../../src/install/files.js';
import { installObjects, type Component } from '../../src/install/manifests.js';
import { clusterRole, leaderElectionRole, mergeRules } from '../../src/install/rbac.js';
import { diffObjectSets, parseStream } from '../../src/install/yaml.js';
import { webhookConfiguration } from '../../src/webhooks/server.js';
import { installCommand, type InstallCommandOptions } from '../../src/cli/install.js';
import { KUBECTL } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

type Obj = Record<string, any>;
const DEPLOY = join(REPO, 'deploy');

async function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnCollect(cmd, args, { cwd: REPO });
  const code = await p.done;
  return { code, out: p.out(), err: p.err() };
}

const nimop = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'nimop-src.ts'), ...args]);

/** `kubectl kustomize` of deploy/ with some of its components. */
async function kustomize(components: Component[]): Promise<Obj[]> {
  let dir = DEPLOY;
  const tmp = mkdtempSync(join(tmpdir(), 'nimop-kustomize-'));
  try {
    if (components.length) {
      dir = join(tmp, 'overlay');
      mkdirSync(dir);
      const rel = relative(dir, DEPLOY);
      writeFileSync(join(dir, 'kustomization.yaml'), `resources: [${rel}]\ncomponents:\n${components.map((c) => `  - ${rel}/components/${c}\n`).join('')}`);
    }
    const r = await run(KUBECTL, ['kustomize', dir]);
    assert.equal(r.code, 0, r.err);
    return parseStream(r.out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('deploy/ matches what src/install/ generates (npm run manifests:check)', () => {
  assert.deepEqual(checkDeploy(DEPLOY), []);
});

test('install --check reports a drifted, missing or stray file; install --write repairs all but the stray one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimop-deploy-'));
  try {
    cpSync(DEPLOY, dir, { recursive: true });
    const role = join(dir, 'base', 'rbac', 'role.yaml');
    writeFileSync(role, readFileSync(role, 'utf8').replace('- watch', '- "*"'));
    rmSync(join(dir, 'helm', 'nim-operator', 'values.yaml'));
    writeFileSync(join(dir, 'components', 'old.yaml'), 'kind: ConfigMap\n');
    const check = await nimop('install', '--check', '--dir', dir);
    assert.equal(check.code, 1);
    assert.match(check.err, /base\/rbac\/role\.yaml: differs/);
    assert.match(check.err, /values\.yaml: missing/);
    assert.match(check.err, /components\/old\.yaml: not generated any more/);
    writeDeploy(dir);
    assert.deepEqual(checkDeploy(dir).map((p) => relative(dir, p.split(':')[0]!)), ['components/old.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the ClusterRole merges the declared permissions: one rule per group and resource, sorted, no wildcard', () => {
  const rules = mergeRules([
    { controller: 'a', permissions: [{ ref: NIMSERVICE, verbs: ['watch', 'get'], why: 'x' }, { ref: NIMSERVICE, subresource: 'status', verbs: ['update'], why: 'y' }] },
    { controller: 'b', permissions: [{ ref: NIMSERVICE, verbs: ['get', 'list'], why: 'z' }, { ref: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true }, verbs: ['get'], why: 'w' }] },
  ]);
  assert.deepEqual(
    rules.map((r) => r.rule),
    [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps.nvidia.com'], resources: ['nimservices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps.nvidia.com'], resources: ['nimservices/status'], verbs: ['update'] },
    ],
  );
  assert.deepEqual(rules[1]!.reasons, ['a: x', 'b: z']);
  assert.throws(() => mergeRules([{ controller: 'c', permissions: [{ ref: { ...NIMSERVICE, plural: '*' }, verbs: OWN, why: 'all' }] }]), /c: apps\.nvidia\.com\/\*: a wildcard is not allowed/);
  assert.throws(() => mergeRules([{ controller: 'c', permissions: [{ ref: NIMSERVICE, verbs: ['get'], why: ' ' }] }]), /say why/);
});

test('every registered controller has its permissions in controllers/permissions.ts', () => {
  const declared = CONTROLLER_PERMISSIONS.map((s) => s.controller);
  for (const name of Object.keys(CONTROLLERS)) assert.ok(declared.includes(name), `add ${name.toUpperCase()}_PERMISSIONS to src/controllers/permissions.ts, then npm run manifests`);
});

test('the generated ClusterRole grants every declared permission, and the runtime\'s, and says why in comments', () => {
  const role = clusterRole().object as Obj;
  const grants = (group: string, resource: string, verb: string) =>
    role.rules.some((r: Obj) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const set of CONTROLLER_PERMISSIONS) {
    for (const p of set.permissions) {
      const resource = p.subresource ? `${p.ref.plural}/${p.subresource}` : p.ref.plural;
      for (const verb of p.verbs) assert.ok(grants(p.ref.group, resource, verb), `${set.controller}: ${verb} ${resource}`);
    }
  }
  assert.ok(grants('', 'events', 'create') && grants('', 'nodes', 'list') && grants('apps.nvidia.com', 'nimcaches', 'list'));
  assert.ok(!JSON.stringify(role.rules).includes('*'));
  assert.ok(!grants('coordination.k8s.io', 'leases', 'update'), 'Leases only in the operator\'s namespace');
  const lease = leaderElectionRole('ops').object as Obj;
  assert.equal(lease.metadata.namespace, 'ops');
  assert.deepEqual(lease.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] }]);
  const text = readFileSync(join(DEPLOY, 'base', 'rbac', 'role.yaml'), 'utf8');
  assert.match(text, /# nimservice: the primary object;/);
  assert.match(text, /# webhook: admission webhook: the NIMCache a NIMService uses/);
});

test('kubectl kustomize deploy/ equals nimop install --render, with and without components', async () => {
  const cases: Component[][] = [[], ['cert-manager', 'servicemonitor', 'network-policy'], ['without-webhook']];
  for (const components of cases) {
    const rendered = parseStream(renderInstall({ components }));
    assert.deepEqual(diffObjectSets(await kustomize(components), rendered), [], components.join(',') || 'base');
  }
  const cli = await nimop('install', '--render');
  assert.equal(cli.code, 0, cli.err);
  assert.deepEqual(diffObjectSets(parseStream(cli.out), await kustomize([])), []);
});

test('install --render --namespace --version puts every namespaced reference in the namespace and pins the image', async () => {
  const r = await nimop('install', '--render', '--namespace', 'ops', '--version', 'v1.2.3', '--component', 'cert-manager', '--no-crds');
  assert.equal(r.code, 0, r.err);
  const objs = parseStream(r.out);
  assert.ok(!objs.some((o) => o.kind === 'CustomResourceDefinition'));
  for (const o of objs as Obj[]) if (o.metadata.namespace) assert.equal(o.metadata.namespace, 'ops', `${o.kind} ${o.metadata.name}`);
  const byKind = (k: string) => objs.find((o) => o.kind === k) as Obj;
  assert.equal(byKind('Namespace').metadata.name, 'ops');
  assert.equal(byKind('ClusterRoleBinding').subjects[0].namespace, 'ops');
  assert.equal(byKind('Deployment').spec.template.spec.containers[0].image, 'ghcr.io/nim-operator/nim-operator:1.2.3');
  const vwc = byKind('ValidatingWebhookConfiguration');
  assert.equal(vwc.metadata.annotations['cert-manager.io/inject-ca-from'], 'ops/nim-operator-serving-cert');
  assert.ok(vwc.webhooks.every((w: Obj) => w.clientConfig.service.namespace === 'ops'));
  assert.ok(byKind('Certificate').spec.dnsNames.includes('nim-operator-webhook-service.ops.svc'));
  const image = parseStream(renderInstall({ image: 'mirror.local/nim-operator@sha256:abc', crds: false })).find((o) => o.kind === 'Deployment') as Obj;
  assert.equal(image.spec.template.spec.containers[0].image, 'mirror.local/nim-operator@sha256:abc');
  const refused = (opts: Partial<InstallCommandOptions>): string => {
    const write = process.stderr.write;
    let err = '';
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof write;
    try {
      assert.equal(installCommand({ dir: DEPLOY, crds: false, ...opts }), 2);
    } finally {
      process.stderr.write = write;
    }
    return err;
  };
  assert.match(refused({ component: ['istio'] }), /unknown component istio \(known: cert-manager, servicemonitor, network-policy, without-webhook\)/);
  assert.match(refused({ component: ['cert-manager', 'without-webhook'] }), /does not go with without-webhook/);
  assert.match(refused({ namespace: 'Not_A_Name' }), /not a valid namespace name/);
  assert.match(refused({ render: true, check: true }), /one of --render, --write and --check/);
});

test('the webhook configuration is the code\'s own, pointed at the webhook Service, its CA left to cert-manager', () => {
  const vwc = installObjects().find((o) => o.kind === 'ValidatingWebhookConfiguration') as Obj;
  const code = webhookConfiguration({ service: { namespace: 'nim-operator', name: 'nim-operator-webhook-service', port: 443 }, caBundle: 'X' }) as Obj;
  for (const h of code.webhooks) delete h.clientConfig.caBundle;
  assert.deepEqual(vwc.webhooks, code.webhooks);
  assert.equal(vwc.metadata.name, code.metadata.name);
  const svc = installObjects().find((o) => o.kind === 'Service' && (o as Obj).metadata.name === 'nim-operator-webhook-service') as Obj;
  assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, targetPort: 'webhook-server', protocol: 'TCP' }]);
});

test('the Deployment: 2 replicas with leader election, non-root, read-only, probes, ports and certificate volume', async () => {
  const d = installObjects().find((o) => o.kind === 'Deployment') as Obj;
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(d.spec.replicas, 2);
  assert.ok(c.args.includes('--leader-elect'));
  assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory);
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'health' });
  assert.deepEqual(c.ports.map((p: Obj) => [p.name, p.containerPort]), [['metrics', 8080], ['health', 8081], ['webhook-server', 9443]]);
  assert.deepEqual(c.env.find((e: Obj) => e.name === 'ENABLE_WEBHOOKS'), { name: 'ENABLE_WEBHOOKS', value: 'true' });
  assert.deepEqual(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }, { name: 'webhook-certs', mountPath: '/tmp/k8s-webhook-server/serving-certs', readOnly: true }]);
  assert.deepEqual(pod.volumes, [{ name: 'tmp', emptyDir: {} }, { name: 'webhook-certs', secret: { secretName: 'nim-operator-webhook-server-cert' } }]);
  assert.ok(c.args.includes('--webhook-cert-dir=/tmp/k8s-webhook-server/serving-certs'));
  // Every flag the Deployment passes is one `nimop run` knows.
  const help = await nimop('run', '--help');
  for (const arg of c.args as string[]) assert.ok(help.out.includes(arg.split('=')[0]!), `nimop run has no ${arg}`);
  const ns = installObjects().find((o) => o.kind === 'Namespace') as Obj;
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
});
