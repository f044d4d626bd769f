/** `nimop run` as an operator Deployment runs it: flags, endpoints, the Lease, SIGTERM. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';
import { REPO } from '../helpers/upstream.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
});
after(async () => c?.stop());

function nimop(args: string[]) {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'nimop.js'), ...args], { env: { ...process.env, KUBECONFIG: '' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, done, out: () => out, err: () => err };
}

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
