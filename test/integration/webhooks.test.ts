/** Admission webhooks honoured by the embedded control plane, as kube-apiserver honours them. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { startCluster, type TestCluster } from '../helpers/devcluster.js';

type Obj = Record<string, any>;
let c: TestCluster;
let hook: Server;
let hookUrl = '';
let caBundle = '';
const seen: Obj[] = [];
/** How the test webhook answers, by path. */
const behaviour: Record<string, (req: Obj) => Obj | 'hang'> = {
  '/deny-gpu-greedy': (req) => {
    const gpus = req.object?.spec?.resources?.limits?.['nvidia.com/gpu'];
    return gpus > 4
      ? { allowed: false, status: { code: 403, reason: 'Forbidden', message: 'spec.resources.limits[nvidia.com/gpu]: at most 4 GPUs per replica' } }
      : { allowed: true, warnings: ['spec.image.tag: pin an exact version'] };
  },
  '/add-label': () => ({
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify([{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }])).toString('base64'),
  }),
  '/protect': (req) => (req.operation === 'DELETE' ? { allowed: false, status: { message: 'this one is protected' } } : { allowed: true }),
  '/hang': () => 'hang',
};

before(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    notAfterDate: new Date(Date.now() + 2 * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  caBundle = Buffer.from(pems.cert).toString('base64');
  hook = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const review = JSON.parse(body);
      seen.push({ path: req.url, ...review.request });
      const answer = behaviour[req.url ?? '']?.(review.request) ?? { allowed: true };
      if (answer === 'hang') return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, ...answer } }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  hookUrl = `https://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  c = await startCluster();
});
after(async () => {
  await c?.stop();
  hook?.closeAllConnections();
  await new Promise((r) => hook?.close(r));
});

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${c.cp.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Obj, warning: res.headers.get('warning') };
}

function config(kind: 'Validating' | 'Mutating', name: string, path: string, extra: Obj = {}, rule: Obj = {}) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: [
      {
        name: `${name}.nimop.test`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        clientConfig: { url: `${hookUrl}${path}`, caBundle },
        rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps.nvidia.com'], apiVersions: ['v1alpha1'], resources: ['nimservices'], ...rule }],
        ...extra,
      },
    ],
  };
}

const svc = (name: string, spec: Obj = {}, labels: Obj = {}) => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name, labels },
  spec: { image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' }, ...spec },
});
const NS = '/apis/apps.nvidia.com/v1alpha1/namespaces/default/nimservices';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

describe('validating webhooks', () => {
  test('a denial is returned with the webhook\'s code and message; an allowed write carries its warnings', async () => {
    assert.equal((await api('POST', VWC, config('Validating', 'gpus', '/deny-gpu-greedy'))).status, 201);
    const denied = await api('POST', NS, svc('greedy', { resources: { limits: { 'nvidia.com/gpu': 8 } } }));
    assert.equal(denied.status, 403);
    assert.equal(denied.body.message, 'admission webhook "gpus.nimop.test" denied the request: spec.resources.limits[nvidia.com/gpu]: at most 4 GPUs per replica');
    const okay = await api('POST', NS, svc('modest', { resources: { limits: { 'nvidia.com/gpu': 2 } } }));
    assert.equal(okay.status, 201);
    assert.equal(okay.warning, '299 - "spec.image.tag: pin an exact version"');
    const review = seen.find((s) => s.name === 'modest')!;
    assert.equal(review.operation, 'CREATE');
    assert.deepEqual(review.resource, { group: 'apps.nvidia.com', version: 'v1alpha1', resource: 'nimservices' });
    assert.equal(review.object.spec.inferencePlatform, 'standalone', 'webhooks see the defaulted object');
    const upd = await api('PATCH', `${NS}/modest`, { spec: { resources: { limits: { 'nvidia.com/gpu': 6 } } } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(upd.status, 403);
    assert.equal(seen.at(-1)!.oldObject.spec.resources.limits['nvidia.com/gpu'], 2);
    assert.equal((await api('GET', `${NS}/modest`)).body.spec.resources.limits['nvidia.com/gpu'], 2, 'a denied update is not stored');
    assert.equal((await api('DELETE', `${VWC}/gpus`)).status, 200);
  });

  test('kubectl prints the denial and the warnings', async () => {
    await api('POST', VWC, config('Validating', 'gpus2', '/deny-gpu-greedy'));
    const r = await c.kubectl(['create', '-f', '-'], JSON.stringify(svc('via-kubectl')));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Warning: spec\.image\.tag: pin an exact version/);
    const bad = await c.kubectl(['create', '-f', '-'], JSON.stringify(svc('via-kubectl-2', { resources: { limits: { 'nvidia.com/gpu': 8 } } })));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /admission webhook "gpus2\.nimop\.test" denied the request: spec\.resources\.limits\[nvidia\.com\/gpu\]: at most 4 GPUs per replica/);
    await api('DELETE', `${VWC}/gpus2`);
  });

  test('DELETE goes through webhooks that name it', async () => {
    await api('POST', VWC, config('Validating', 'protect', '/protect', {}, { operations: ['DELETE'] }));
    const r = await api('DELETE', `${NS}/modest`);
    assert.equal(r.status, 400);
    assert.match(r.body.message, /denied the request: this one is protected/);
    await api('DELETE', `${VWC}/protect`);
    assert.equal((await api('DELETE', `${NS}/modest`)).status, 200);
  });

  test('objectSelector and namespaceSelector limit what is sent', async () => {
    const before = seen.length;
    await api('POST', VWC, config('Validating', 'selective', '/deny-gpu-greedy', { objectSelector: { matchLabels: { checked: 'true' } } }));
    assert.equal((await api('POST', NS, svc('unchecked', { resources: { limits: { 'nvidia.com/gpu': 8 } } }))).status, 201);
    assert.equal(seen.length, before, 'an object outside the objectSelector is not sent');
    assert.equal((await api('POST', NS, svc('checked', { resources: { limits: { 'nvidia.com/gpu': 8 } } }, { checked: 'true' }))).status, 403);
    await api('DELETE', `${VWC}/selective`);
    await api('POST', VWC, config('Validating', 'nssel', '/deny-gpu-greedy', { namespaceSelector: { matchLabels: { strict: 'true' } } }));
    assert.equal((await api('POST', NS, svc('lax', { resources: { limits: { 'nvidia.com/gpu': 8 } } }))).status, 201);
    await api('PATCH', '/api/v1/namespaces/default', { metadata: { labels: { strict: 'true' } } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal((await api('POST', NS, svc('strict', { resources: { limits: { 'nvidia.com/gpu': 8 } } }))).status, 403);
    await api('DELETE', `${VWC}/nssel`);
  });

  test('failurePolicy: Fail refuses when the webhook cannot be reached, Ignore lets the write through', async () => {
    const unreachable = { clientConfig: { url: 'https://127.0.0.1:1/nowhere', caBundle } };
    await api('POST', VWC, config('Validating', 'down', '/x', { ...unreachable, failurePolicy: 'Fail' }));
    const r = await api('POST', NS, svc('blocked'));
    assert.equal(r.status, 500);
    assert.match(r.body.message, /failed calling webhook "down\.nimop\.test"/);
    await api('DELETE', `${VWC}/down`);
    await api('POST', VWC, config('Validating', 'down-ignored', '/x', { ...unreachable, failurePolicy: 'Ignore' }));
    assert.equal((await api('POST', NS, svc('passes'))).status, 201);
    await api('DELETE', `${VWC}/down-ignored`);
  });

  test('timeoutSeconds bounds a webhook that does not answer', async () => {
    await api('POST', VWC, config('Validating', 'slow', '/hang', { timeoutSeconds: 1, failurePolicy: 'Fail' }));
    const started = Date.now();
    const r = await api('POST', NS, svc('waits'));
    assert.equal(r.status, 500);
    assert.match(r.body.message, /failed calling webhook "slow\.nimop\.test"/);
    assert.ok(Date.now() - started < 5000, 'the call was cut at its timeout');
    await api('DELETE', `${VWC}/slow`);
  });
});

describe('mutating webhooks', () => {
  test('a JSON patch from the webhook is applied before the object is validated and stored', async () => {
    await api('POST', MWC, config('Mutating', 'labeller', '/add-label'));
    const r = await api('POST', NS, svc('mutated', {}, { team: 'ai' }));
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.metadata.labels, { team: 'ai', mutated: 'yes' });
    assert.equal((await api('GET', `${NS}/mutated`)).body.metadata.labels.mutated, 'yes');
    await api('DELETE', `${MWC}/labeller`);
  });
});
