/** `nimop run` as an operator Deployment runs it: flags, endpoints, the Lease, SIGTERM. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
});
after(async () => c?.stop());

const nimop = (args: string[]) =>
  spawnCollect(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { env: { ...process.env, KUBECONFIG: '' } });

test('nimop run serves health and metrics, takes the Lease, and exits 0 on SIGTERM, releasing it', async () => {
  const run = nimop(['run', '--kubeconfig', c.kubeconfig, '--leader-elect', '--leader-election-namespace', 'kube-system', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', '--log-level', 'info']);
  const running = await eventually(() => /"msg":"running"/.test(run.out()) && JSON.parse(run.out().split('\n').find((l) => l.includes('"msg":"running"'))!), 'the operator to start', 20_000);
  const health = await fetch(`http://127.0.0.1:${running.health.port}/readyz`);
  assert.equal(health.status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${running.metrics.port}/metrics`)).text();
  assert.match(metrics, /process_cpu_user_seconds_total/);
  const lease = await eventually(() => c.cp.store.get('coordination.k8s.io/leases', 'kube-system', 'a0715c6e.nvidia.com'), 'the Lease');
  assert.match(String(lease!.spec.holderIdentity), /_/);
  assert.match(run.out(), /"level":"info"/);
  run.child.kill('SIGTERM');
  assert.equal(await run.done, 0, run.err());
  const released = c.cp.store.get('coordination.k8s.io/leases', 'kube-system', 'a0715c6e.nvidia.com');
  assert.ok(!released?.spec.holderIdentity, 'the Lease was released');
});

test('bad flags are usage errors', async () => {
  const r = nimop(['run', '--kubeconfig', c.kubeconfig, '--max-concurrent-reconciles', 'zero', '--metrics-bind-address', '0', '--health-probe-bind-address', '0']);
  assert.equal(await r.done, 2);
  assert.match(r.err(), /--max-concurrent-reconciles must be a positive integer/);
});

test('nimop run --enable-webhooks serves the admission webhook from the certificate directory', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { selfSignedCertificate, webhookConfiguration, NIMSERVICE_PATH } = await import('../../src/webhooks/server.js');
  const certDir = mkdtempSync(join(tmpdir(), 'nimop-certs-'));
  try {
    const certs = await selfSignedCertificate(['localhost'], ['127.0.0.1']);
    writeFileSync(join(certDir, 'tls.crt'), certs.cert);
    writeFileSync(join(certDir, 'tls.key'), certs.key);
    const run = nimop(['run', '--kubeconfig', c.kubeconfig, '--enable-webhooks', '--webhook-port', '0', '--webhook-cert-dir', certDir, '--metrics-bind-address', '0', '--health-probe-bind-address', '0']);
    try {
      const line = await eventually(() => run.out().split('\n').find((l) => l.includes('admission webhook serving')), 'the webhook to serve', 20_000);
      const port = JSON.parse(line!).port as number;
      const type = c.cp.registry.get('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations')!;
      c.cp.objects.create(type, undefined, webhookConfiguration({ url: `https://127.0.0.1:${port}${NIMSERVICE_PATH}`, caBundle: certs.caBundle }) as Record<string, any>);
      const manifest = JSON.stringify({
        apiVersion: 'apps.nvidia.com/v1alpha1',
        kind: 'NIMService',
        metadata: { name: 'via-run' },
        spec: {
          image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' },
          authSecret: 'ngc-api-secret',
          storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
        },
      });
      const r = await c.kubectl(['apply', '-f', '-'], manifest);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /Warning: spec\.image\.tag: .*latest/);
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.done, 0, run.err());
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
});

test('--enable-webhooks without certificates is a clear error', async () => {
  const r = nimop(['run', '--kubeconfig', c.kubeconfig, '--enable-webhooks', '--webhook-cert-dir', '/nonexistent/certs', '--metrics-bind-address', '0', '--health-probe-bind-address', '0']);
  assert.equal(await r.done, 1);
  assert.match(r.err(), /--enable-webhooks needs tls\.crt and tls\.key in \/nonexistent\/certs/);
});
