/**
 * `--webhook-cert-mode=self` against the embedded control plane: two replicas (leader election)
 * share one Secret; the leader keeps the ValidatingWebhookConfiguration's caBundle current and
 * renews the serving certificate and the CA (short validities) while kubectl apply goes on through
 * the follower's webhook without a failure; at rest nothing is written.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { leaderElection } from '../../src/runtime/leader.js';
import { Manager } from '../../src/runtime/manager.js';
import { createLogger } from '../../src/runtime/observability.js';
import { certInfo, signedBy, splitPems } from '../../src/webhooks/certs.js';
import { startOperatorWebhook, type OperatorWebhook } from '../../src/webhooks/operator.js';
import { NIMSERVICE_PATH, WEBHOOK_CONFIGURATION_NAME, selfSignedCertificate, webhookConfiguration } from '../../src/webhooks/server.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

type Obj = Record<string, any>;
const OP_NS = 'nim-operator';
const SECRET = 'nim-operator-webhook-certs';
const log = createLogger(process.env.NIMOP_TEST_LOG ?? 'silent');

interface Replica {
  manager: Manager;
  hook: OperatorWebhook;
  stop(): Promise<void>;
}

async function replica(c: TestCluster, validity: { servingValidityMs: number; caValidityMs: number }, elect = true): Promise<Replica> {
  const manager = new Manager({ kubeconfig: c.kubeconfig, userAgent: 'nim-operator/test', logger: log, gracefulShutdownMs: 2_000 });
  if (elect) {
    manager.useLeaderElection(leaderElection(manager.client, { namespace: OP_NS, name: 'webhook-test', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200, logger: log }));
  }
  const hook = await startOperatorWebhook(manager, {
    port: 0,
    host: '127.0.0.1',
    strict: false,
    log,
    certMode: 'self',
    self: { namespace: OP_NS, serviceName: 'nim-operator-webhook-service', secretName: SECRET, configurationName: WEBHOOK_CONFIGURATION_NAME, ...validity, extraNames: ['127.0.0.1'] },
  });
  await manager.start();
  return {
    manager,
    hook,
    async stop() {
      await hook.stop();
      await manager.stop();
    },
  };
}

/** The fingerprint of the certificate a port serves. */
function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

const secretOf = (c: TestCluster) => c.cp.store.get('/secrets', OP_NS, SECRET) as Obj | undefined;
const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const vwc = (c: TestCluster) => c.cp.store.get('admissionregistration.k8s.io/validatingwebhookconfigurations', undefined, WEBHOOK_CONFIGURATION_NAME) as Obj | undefined;
const bundleCurrent = (c: TestCluster) => {
  const want = secretOf(c)?.data?.['ca.crt'];
  return want !== undefined && (vwc(c)?.webhooks ?? []).every((h: Obj) => h.clientConfig.caBundle === want);
};

const service = (name: string, labels: Obj = {}) =>
  JSON.stringify({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name, namespace: 'default', labels },
    spec: {
      image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' },
      authSecret: 'ngc-api-secret',
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
    },
  });

/** Registers the webhook at `port` with a caBundle the operator has to fix (an unrelated CA). */
async function register(c: TestCluster, port: number) {
  const { caBundle } = await selfSignedCertificate(['unrelated'], []);
  const config = webhookConfiguration({ url: `https://127.0.0.1:${port}${NIMSERVICE_PATH}`, caBundle });
  const r = await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(config));
  assert.equal(r.status, 0, r.stderr);
}

describe('self-made webhook certificates, two replicas, short validity', () => {
  let c: TestCluster;
  let replicas: Replica[] = [];
  const SHORT = { servingValidityMs: 6_000, caValidityMs: 15_000 };
  before(async () => {
    c = await startCluster();
    assert.equal((await c.kubectl(['create', 'namespace', OP_NS])).status, 0);
    // Both start at once: each finds no Secret and races to create it.
    replicas = await Promise.all([replica(c, SHORT), replica(c, SHORT)]);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await c?.stop();
  });
  const leader = () => replicas.find((r) => r.manager.isLeader());
  const follower = () => replicas.find((r) => !r.manager.isLeader())!;

  test('the two replicas agree on one Secret and serve the same certificate; one leads', async () => {
    await eventually(() => leader(), 'a leader');
    assert.equal(replicas.filter((r) => r.manager.isLeader()).length, 1);
    await eventually(async () => {
      const s = secretOf(c);
      const fp = s && certInfo(pem(s.data['tls.crt']))!.fingerprint;
      const [a, b] = await Promise.all(replicas.map((r) => served(r.hook.port)));
      return fp && a === fp && b === fp;
    }, 'both replicas serving the Secret\'s certificate');
    const s = secretOf(c)!;
    assert.equal(s.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(s.data).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const leaf = certInfo(pem(s.data['tls.crt']))!;
    assert.ok(leaf.names.includes('nim-operator-webhook-service.nim-operator.svc'));
    assert.ok(leaf.names.includes('127.0.0.1'));
  });

  test('the leader sets the webhook configuration\'s caBundle to the Secret\'s CAs, and kubectl goes through the follower\'s webhook', async () => {
    await register(c, follower().hook.port);
    await eventually(() => bundleCurrent(c), 'the caBundle to be patched');
    const r = await c.kubectl(['apply', '-f', '-'], service('through-follower'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Warning: spec\.image\.tag: .*latest/);
  });

  test('the serving certificate and then the CA are renewed while every kubectl apply through the webhook succeeds', async () => {
    const port = follower().hook.port;
    const firstCA = splitPems(pem(secretOf(c)!.data['ca.crt']))[0]!;
    const leaves = new Set<string>([await served(port)]);
    let overlap = false;
    let signedByNewCA = false;
    const deadline = Date.now() + 60_000;
    for (let round = 0; !(signedByNewCA && leaves.size >= 3); round++) {
      assert.ok(Date.now() < deadline, `rotation not seen in time (leaves seen: ${leaves.size}, overlap: ${overlap})`);
      const r = await c.kubectl(['apply', '-f', '-'], service('across-rotation', { round: String(round) }));
      assert.equal(r.status, 0, `apply ${round} failed: ${r.stderr}`);
      const fp = await served(port);
      leaves.add(fp);
      const cas = splitPems(pem(secretOf(c)!.data['ca.crt']));
      if (cas.length === 2 && cas[1] === firstCA) overlap = true;
      const leaf = certInfo(pem(secretOf(c)!.data['tls.crt']))!;
      if (cas[0] !== firstCA && leaf.fingerprint === fp && signedBy(leaf, certInfo(cas[0])!)) signedByNewCA = true;
    }
    assert.ok(overlap, 'the old CA stayed in the bundle beside the new one');
    await eventually(() => bundleCurrent(c), 'the caBundle to follow the Secret');
  });
});

describe('self-made webhook certificates at rest', () => {
  let c: TestCluster;
  let r: Replica;
  before(async () => {
    c = await startCluster();
    await c.kubectl(['create', 'namespace', OP_NS]);
    // No leader election: the only replica keeps the certificates.
    r = await replica(c, { servingValidityMs: 8760 * 3_600_000, caValidityMs: 87600 * 3_600_000 }, false);
  });
  after(async () => {
    await r?.stop();
    await c?.stop();
  });

  test('once the caBundle is current, events that change nothing lead to no write', async () => {
    await register(c, r.hook.port);
    await eventually(() => bundleCurrent(c), 'the caBundle to be patched');
    const stats = r.hook.certificates!.stats;
    const writes = stats.writes;
    const secretRV = secretOf(c)!.metadata.resourceVersion;
    // Touch both watched objects: each brings a pass, neither a write.
    let passes = stats.passes;
    assert.equal((await c.kubectl(['label', 'validatingwebhookconfiguration', WEBHOOK_CONFIGURATION_NAME, 'touched=1'])).status, 0);
    await eventually(() => stats.passes > passes, 'a pass after the configuration changed');
    passes = stats.passes;
    assert.equal((await c.kubectl(['annotate', '-n', OP_NS, 'secret', SECRET, 'touched=1'])).status, 0);
    await eventually(() => stats.passes > passes, 'a pass after the Secret changed');
    assert.equal(stats.writes, writes);
    assert.equal(vwc(c)!.metadata.labels.touched, '1');
    assert.notEqual(secretOf(c)!.metadata.resourceVersion, secretRV, 'the annotation was stored');
    const apply = await c.kubectl(['apply', '-f', '-'], service('at-rest'));
    assert.equal(apply.status, 0, apply.stderr);
  });

  test('a caBundle reset by someone else (a Helm upgrade) is put back', async () => {
    await register(c, r.hook.port);
    await eventually(() => bundleCurrent(c), 'the caBundle to be put back');
  });
});
