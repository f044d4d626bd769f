/** Our admission webhook server, registered with the embedded control plane and exercised by kubectl. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { NIMSERVICE_PATH, selfSignedCertificate, webhookConfiguration, WebhookServer } from '../../src/webhooks/server.js';

type Obj = Record<string, any>;
let c: TestCluster;
let server: WebhookServer;
let port = 0;
let caBundle = '';
let strict = false;
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

async function api(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${c.cp.url}${path}`, { method, headers: { 'Content-Type': contentType }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Obj };
}

/** Registers (or re-registers, after a rotation) the webhook with the current caBundle. */
async function register() {
  const config = webhookConfiguration({ url: `https://127.0.0.1:${port}${NIMSERVICE_PATH}`, caBundle });
  const name = (config.metadata as Obj).name as string;
  const existing = await api('GET', `${VWC}/${name}`);
  const r = existing.status === 200 ? await api('PUT', `${VWC}/${name}`, { ...config, metadata: existing.body.metadata }) : await api('POST', VWC, config);
  assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
}

/** POSTs raw text to the webhook, trusting the CA. */
function post(path: string, body: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json' }, ca: Buffer.from(ca, 'base64').toString('utf8'), agent: false },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const svc = (name: string, spec: Obj = {}) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, namespace: 'default' },
  spec: {
    image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' },
    authSecret: 'ngc-api-secret',
    storage: { nimCache: { name: 'llama-cache' } },
    ...spec,
  },
});
const apply = (obj: Obj) => c.kubectl(['apply', '-f', '-'], JSON.stringify(obj));

before(async () => {
  const pems = await selfSignedCertificate(['localhost'], ['127.0.0.1']);
  caBundle = pems.caBundle;
  server = new WebhookServer({ port: 0, host: '127.0.0.1', cert: pems.cert, key: pems.key, strict: () => strict });
  port = await server.start();
  c = await startCluster();
  await register();
});
after(async () => {
  await c?.stop();
  await server?.stop();
});

describe('the admission webhook server', () => {
  test('webhookConfiguration registers both kinds, upstream names and paths', () => {
    const cfg = webhookConfiguration({ service: { namespace: 'nim-operator', name: 'nim-operator-webhook-service' }, caBundle: 'Q0E=' }) as Obj;
    assert.equal(cfg.kind, 'ValidatingWebhookConfiguration');
    assert.deepEqual(
      cfg.webhooks.map((w: Obj) => [w.name, w.clientConfig.service.path, w.rules[0].resources[0], w.rules[0].operations.join(','), w.sideEffects, w.timeoutSeconds, w.failurePolicy]),
      [
        ['vnimcache-v1alpha1.kb.io', '/validate-apps-nvidia-com-v1alpha1-nimcache', 'nimcaches', 'CREATE,UPDATE', 'None', 10, 'Fail'],
        ['vnimservice-v1alpha1.kb.io', NIMSERVICE_PATH, 'nimservices', 'CREATE,UPDATE', 'None', 10, 'Fail'],
      ],
    );
    const byUrl = webhookConfiguration({ url: `https://127.0.0.1:9443${NIMSERVICE_PATH}`, caBundle: 'Q0E=', failurePolicy: 'Ignore' }) as Obj;
    assert.deepEqual(byUrl.webhooks.map((w: Obj) => w.clientConfig.url), ['https://127.0.0.1:9443/validate-apps-nvidia-com-v1alpha1-nimcache', `https://127.0.0.1:9443${NIMSERVICE_PATH}`]);
    assert.equal(byUrl.webhooks[0].failurePolicy, 'Ignore');
  });

  test('kubectl apply of a NIMService breaking an upstream rule is refused with the rule\'s message', async () => {
    const bad = svc('two-sources', { storage: { nimCache: { name: 'llama-cache' }, pvc: { name: 'models' } } });
    const r = await apply(bad);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(
      r.stderr,
      /admission webhook "vnimservice-v1alpha1\.kb\.io" denied the request: nimservice\.spec\.storage: Invalid value: "multiple storage sources defined": only one of nimservice\.spec\.storage\.nimCache, .* must be defined/,
    );
    assert.equal((await api('GET', '/apis/apps.nvidia.com/v1alpha1/namespaces/default/nimservices/two-sources')).status, 404);
    const good = await apply(svc('one-source'));
    assert.equal(good.status, 0, good.stderr);
    assert.doesNotMatch(good.stderr, /Warning:/);
  });

  test('a floating "latest" tag is accepted with a warning; under the strict policy it is refused', async () => {
    const latest = svc('floating', { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' } });
    const r = await apply(latest);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Warning: spec\.image\.tag: image nvcr\.io\/nim\/meta\/llama-3\.1-8b-instruct:latest uses the floating tag "latest", which changes on every pull: pin an exact version/);
    strict = true;
    try {
      const refused = await apply(svc('floating-strict', { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' } }));
      assert.notEqual(refused.status, 0, refused.stdout);
      assert.match(refused.stderr, /denied the request: .*image\.tag: Forbidden: .*floating tag "latest"/);
    } finally {
      strict = false;
    }
  });

  test('an update is checked against the stored object; DELETE is allowed', async () => {
    const moved = await apply(svc('one-source', { storage: { nimCache: { name: 'llama-cache' }, emptyDir: {} } }));
    assert.notEqual(moved.status, 0);
    assert.match(moved.stderr, /multiple storage sources defined/);
    const del = await c.kubectl(['delete', 'nimservice', 'one-source']);
    assert.equal(del.status, 0, del.stderr);
  });

  test('malformed reviews get 400; other paths 404', async () => {
    assert.equal((await post(NIMSERVICE_PATH, 'not json', caBundle)).status, 400);
    assert.equal((await post(NIMSERVICE_PATH, JSON.stringify({ apiVersion: 'v1', kind: 'Pod' }), caBundle)).status, 400);
    const noUid = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE', object: svc('x') } };
    assert.equal((await post(NIMSERVICE_PATH, JSON.stringify(noUid), caBundle)).status, 400);
    assert.equal((await post('/elsewhere', '{}', caBundle)).status, 404);
    const ok = await post(NIMSERVICE_PATH, JSON.stringify({ ...noUid, request: { ...noUid.request, uid: 'u-1', kind: { group: 'apps.nvidia.com', version: 'v1alpha1', kind: 'NIMService' } } }), caBundle);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
  });

  test('a rotated certificate is served at once, and trusted once the new caBundle is registered', async () => {
    const oldCa = caBundle;
    const fresh = await selfSignedCertificate(['localhost'], ['127.0.0.1']);
    server.setCertificate(fresh.cert, fresh.key);
    await assert.rejects(post('/elsewhere', '{}', oldCa), 'the old CA no longer verifies the server');
    assert.equal((await post('/elsewhere', '{}', fresh.caBundle)).status, 404, 'the new CA does');
    // Until the configuration carries the new CA, the API server cannot reach the webhook (failurePolicy Fail).
    const unreachable = await apply(svc('after-rotation'));
    assert.notEqual(unreachable.status, 0);
    assert.match(unreachable.stderr, /failed calling webhook "vnimservice-v1alpha1\.kb\.io"/);
    caBundle = fresh.caBundle;
    await register();
    await eventually(async () => (await apply(svc('after-rotation'))).status === 0, 'an apply through the rotated webhook');
    const bad = await apply(svc('after-rotation-bad', { storage: { nimCache: { name: 'llama-cache' }, pvc: { name: 'models' } } }));
    assert.match(bad.stderr, /denied the request: nimservice\.spec\.storage: Invalid value/);
  });
});
