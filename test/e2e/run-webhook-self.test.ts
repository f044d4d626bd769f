/**
 * `nimop run --enable-webhooks --webhook-cert-mode=self` as a process: it makes its certificates,
 * stores them in a Secret, fills in the webhook configuration's caBundle, and serves warnings and,
 * in a namespace labelled nimop.dev/admission-policy=strict, refusals, to kubectl.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NIMSERVICE_PATH, WEBHOOK_CONFIGURATION_NAME, webhookConfiguration } from '../../src/webhooks/server.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { LLAMA_IMAGE, testNIMService } from '../helpers/nim.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
  for (const ns of ['nim-operator', 'strict-team']) assert.equal((await c.kubectl(['create', 'namespace', ns])).status, 0);
});
after(async () => c?.stop());

const nimop = (args: string[], env: Record<string, string> = {}) =>
  spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { env: { ...process.env, KUBECONFIG: '', ...env } });
const base = () => ['run', '--kubeconfig', c.kubeconfig, '--enable-webhooks', '--webhook-port', '0', '--metrics-bind-address', '0', '--health-probe-bind-address', '0'];

const manifest = (namespace: string, name: string) =>
  JSON.stringify(testNIMService(name, { image: { ...LLAMA_IMAGE, tag: 'latest' }, storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } } }, namespace));

test('self mode: the Secret is made, the caBundle filled in, and kubectl warned or refused by namespace', async () => {
  const run = nimop([...base(), '--webhook-cert-mode', 'self', '--webhook-cert-hosts', '127.0.0.1', '--webhook-cert-validity', '720h'], { POD_NAMESPACE: 'nim-operator' });
  try {
    const line = await eventually(() => run.out().split('\n').find((l) => l.includes('admission webhook serving')), 'the webhook to serve', 20_000);
    const serving = JSON.parse(line!);
    assert.equal(serving.certMode, 'self');
    assert.equal(serving.secret, 'nim-operator/nim-operator-webhook-certs');
    const secret = c.cp.store.get('/secrets', 'nim-operator', 'nim-operator-webhook-certs');
    assert.ok(secret?.data?.['tls.crt'], 'the Secret holds the serving certificate');
    const config = webhookConfiguration({ url: `https://127.0.0.1:${serving.port}${NIMSERVICE_PATH}`, caBundle: '' });
    assert.equal((await c.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(config))).status, 0);
    await eventually(() => {
      const vwc = c.cp.store.get('admissionregistration.k8s.io/validatingwebhookconfigurations', undefined, WEBHOOK_CONFIGURATION_NAME);
      return vwc?.webhooks.every((h: Record<string, any>) => h.clientConfig.caBundle === secret.data['ca.crt']);
    }, 'the caBundle to be filled in', 20_000);
    const warned = await c.kubectl(['apply', '-f', '-'], manifest('default', 'llm'));
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: spec\.image\.tag: .*floating tag "latest"/);
    assert.equal((await c.kubectl(['label', 'namespace', 'strict-team', 'nimop.dev/admission-policy=strict'])).status, 0);
    // The label reaches the webhook through its watch: a server-side dry run until it is refused.
    const refused = await eventually(async () => {
      const r = await c.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('strict-team', 'llm'));
      return r.status !== 0 ? r : undefined;
    }, 'a refusal in the strict namespace', 20_000);
    assert.match(refused!.stderr, /denied the request: spec\.image\.tag: Forbidden: .*floating tag "latest"/);
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.done, 0, run.err());
});

test('bad certificate flags are usage errors', async () => {
  const mode = nimop([...base(), '--webhook-cert-mode', 'cert-manager']);
  assert.equal(await mode.done, 2);
  assert.match(mode.err(), /--webhook-cert-mode must be one of provided, self, got "cert-manager"/);
  const validity = nimop([...base(), '--webhook-cert-mode', 'self', '--webhook-cert-validity', '365d']);
  assert.equal(await validity.done, 2);
  assert.match(validity.err(), /"365d" is not a duration/);
  const ca = nimop([...base()], { WEBHOOK_CERT_MODE: 'self', WEBHOOK_CERT_VALIDITY: '48h', WEBHOOK_CA_VALIDITY: '24h' });
  assert.equal(await ca.done, 2);
  assert.match(ca.err(), /--webhook-ca-validity must not be shorter than --webhook-cert-validity/);
});
