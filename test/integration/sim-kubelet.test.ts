/**
 * The simulated kubelet: container states and pod phases per the image catalogue, init containers
 * first, crash-loop restarts, configuration errors that clear when the Secret appears, image pull
 * failures, and `kubectl logs` (current and previous) over the log subresource.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster({ crashLoopBackoffMs: 20 });
});
after(async () => {
  await c?.stop();
});

const podOf = (ns: string, name: string) => c.get('/pods', ns, name);

describe('kubelet', () => {
  test('a run-to-completion pod prints what its script says and Succeeds; kubectl logs shows it', async () => {
    const ns = 'kl-logs';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['create', 'configmap', 'greeting', '--from-literal=text=hello from a configmap', '-n', ns]);
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'script', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'cfg', configMap: { name: 'greeting' } }],
        containers: [{
          name: 'main',
          image: 'busybox:1.37',
          env: [{ name: 'WHO', value: 'world' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          command: ['sh', '-c'],
          args: ['echo "hello $WHO from $POD"; cat /etc/cfg/text; echo; if [ -f /nope ]; then echo no; else echo "no /nope"; fi; for i in 1 2; do echo "n=$i"; done'],
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
        }],
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(p));
    await eventually(() => podOf(ns, 'script')?.status?.phase === 'Succeeded', 'Succeeded');
    assert.equal(await c.ok(['logs', 'script', '-n', ns]), 'hello world from script\nhello from a configmap\nno /nope\nn=1\nn=2\n');
    assert.equal(await c.ok(['logs', 'script', '-n', ns, '--tail=1']), 'n=2\n');
    const st = podOf(ns, 'script')!.status;
    assert.equal(st.containerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(condition({ status: st }, 'Ready')?.reason, 'PodCompleted');
  });

  test('init containers run first, in order, sharing volumes with the main container', async () => {
    const ns = 'kl-init';
    await c.ok(['create', 'namespace', ns]);
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: ns },
      spec: {
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          { name: 'first', image: 'busybox:1.37', command: ['sh', '-c', 'echo one > /work/msg'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          { name: 'second', image: 'busybox:1.37', command: ['sh', '-c', 'echo two >> /work/msg'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        ],
        containers: [{ name: 'main', image: 'busybox:1.37', command: ['sh', '-c', 'cat /work/msg; exec sleep infinity'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(p));
    await eventually(() => condition(podOf(ns, 'web'), 'Ready')?.status === 'True', 'Ready');
    const st = podOf(ns, 'web')!.status;
    assert.equal(st.phase, 'Running');
    assert.deepEqual(st.initContainerStatuses.map((s: Obj) => s.state.terminated?.reason), ['Completed', 'Completed']);
    assert.equal(condition({ status: st }, 'Initialized')?.status, 'True');
    assert.equal(await c.ok(['logs', 'web', '-n', ns]), 'one\ntwo\n');
    assert.equal(await c.ok(['logs', 'web', '-n', ns, '-c', 'first']), '');
  });

  test('a crashing container restarts with back-off; --previous shows the last run', async () => {
    const ns = 'kl-crash';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['create', 'deployment', 'crash', '--image=busybox:1.37', '-n', ns, '--', 'sh', '-c', 'echo crashing; exit 2']);
    const name = await eventually(() => c.list('/pods', ns).find((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2)?.metadata.name as string | undefined, 'two restarts');
    const cs = podOf(ns, name)!.status.containerStatuses[0];
    assert.equal(cs.lastState.terminated.exitCode, 2);
    assert.equal(cs.lastState.terminated.reason, 'Error');
    assert.equal(podOf(ns, name)!.status.phase, 'Running');
    assert.equal(await c.ok(['logs', name, '-n', ns, '--previous']), 'crashing\n');
    const d = c.get('apps/deployments', ns, 'crash')!;
    assert.equal(condition(d, 'Available')?.status, 'False');
  });

  test('a missing Secret is a CreateContainerConfigError until the Secret exists', async () => {
    const ns = 'kl-secret';
    await c.ok(['create', 'namespace', ns]);
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'needs-key', namespace: ns },
      spec: { containers: [{ name: 'main', image: 'busybox:1.37', command: ['sh', '-c', 'echo "key=$NGC_API_KEY"; sleep infinity'], envFrom: [{ secretRef: { name: 'ngc-api-secret' } }] }] },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(p));
    const waiting = await eventually(() => podOf(ns, 'needs-key')?.status?.containerStatuses?.[0]?.state?.waiting, 'waiting');
    assert.equal(waiting.reason, 'CreateContainerConfigError');
    assert.equal(waiting.message, 'secret "ngc-api-secret" not found');
    assert.equal(podOf(ns, 'needs-key')!.status.phase, 'Pending');
    const r = await c.kubectl(['logs', 'needs-key', '-n', ns]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /container "main" in pod "needs-key" is waiting to start: CreateContainerConfigError/);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
    await eventually(() => podOf(ns, 'needs-key')?.status?.phase === 'Running', 'Running');
    assert.equal(await c.ok(['logs', 'needs-key', '-n', ns]), 'key=nvapi-test\n');
  });

  test('an image that cannot be pulled waits in ErrImagePull / ImagePullBackOff', async () => {
    const ns = 'kl-pull';
    await c.ok(['create', 'namespace', ns]);
    const undo = c.sim.failImage('registry.example.com/private/**', { pullError: 'pull access denied, repository does not exist or may require authorization' });
    try {
      await c.ok(['run', 'img', '--image=registry.example.com/private/app:1', '-n', ns]);
      const w = await eventually(() => podOf(ns, 'img')?.status?.containerStatuses?.[0]?.state?.waiting, 'waiting');
      assert.match(w.reason, /^(ErrImagePull|ImagePullBackOff)$/);
      assert.match(w.message, /pull access denied/);
    } finally {
      undo();
    }
  });
});

describe('kubectl get pods shows the STATUS kube prints, from the container states', () => {
  const statusOf = async (ns: string, name: string) => {
    const out = await c.ok(['get', 'pod', name, '-n', ns, '--no-headers']);
    return out.trim().split(/\s+/)[2];
  };
  test('Completed, Error, CrashLoopBackOff, Init:N/M, CreateContainerConfigError and Running', async () => {
    const ns = 'kl-status';
    await c.ok(['create', 'namespace', ns]);
    const pod = (name: string, spec: Obj) => c.ok(['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec }));
    await pod('done', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.37', command: ['sh', '-c', 'echo ok'] }] });
    await pod('fails', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.37', command: ['sh', '-c', 'exit 3'] }] });
    await pod('loops', { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox:1.37', command: ['sh', '-c', 'exit 1'] }] });
    // pause runs until stopped (shell sleeps are instant in tests).
    const pause = 'registry.k8s.io/pause:3.10';
    await pod('waits', { initContainers: [{ name: 'i', image: pause }], containers: [{ name: 'c', image: pause }] });
    await pod('nokey', { containers: [{ name: 'c', image: pause, env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }] }] });
    await pod('runs', { containers: [{ name: 'c', image: pause }] });
    const want: Record<string, string> = { done: 'Completed', fails: 'Error', loops: 'CrashLoopBackOff', waits: 'Init:0/1', nokey: 'CreateContainerConfigError', runs: 'Running' };
    for (const [name, status] of Object.entries(want)) {
      await eventually(async () => (await statusOf(ns, name)) === status, `${name} shown as ${status} (now ${String(await statusOf(ns, name))})`);
    }
  });
});
