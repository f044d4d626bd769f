/**
 * Simulated workload controllers driven with the real kubectl: Deployments (availability, rolling
 * updates within maxSurge/maxUnavailable, Recreate), Jobs (backoffLimit, completion, TTL),
 * StatefulSets and LeaderWorkerSets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster();
});
after(async () => {
  await c?.stop();
});

function deployment(name: string, ns: string, replicas: number, image: string, strategy: Obj): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image, readinessProbe: { httpGet: { path: '/', port: 80 } } }] },
      },
    },
  });
}

/** Watches a Deployment's pods in the store: the most pods and the fewest ready ones at any time. */
function observe(ns: string, app: string) {
  const pods = () => c.list('/pods', ns).filter((p) => p.metadata.labels?.app === app);
  const ready = (p: Obj) => ((p.status?.conditions ?? []) as Obj[]).some((x) => x.type === 'Ready' && x.status === 'True');
  const seen = { maxPods: 0, minReady: Infinity, hashes: new Set<string>() };
  const unsubscribe = c.cp.store.subscribe((e) => {
    if (e.resource !== '/pods') return;
    const all = pods();
    seen.maxPods = Math.max(seen.maxPods, all.length);
    seen.minReady = Math.min(seen.minReady, all.filter(ready).length);
    for (const p of all) seen.hashes.add(p.metadata.labels?.['pod-template-hash']);
  });
  return { seen, stop: unsubscribe, pods };
}

describe('Deployment', () => {
  test('becomes Available, with pods named <deploy>-<hash>-<rand> carrying pod-template-hash', async () => {
    await c.ok(['create', 'namespace', 'wl-avail']);
    await c.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '-n', 'wl-avail']);
    await c.ok(['wait', '--for=condition=Available', 'deployment/web', '-n', 'wl-avail', '--timeout=20s']);
    await c.ok(['rollout', 'status', 'deployment/web', '-n', 'wl-avail', '--timeout=20s']);
    const d = await c.json(['get', 'deployment', 'web', '-n', 'wl-avail']);
    assert.equal(d.status.replicas, 3);
    assert.equal(d.status.readyReplicas, 3);
    assert.equal(d.status.availableReplicas, 3);
    assert.equal(d.status.updatedReplicas, 3);
    assert.equal(d.status.unavailableReplicas, undefined);
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    assert.equal(condition(d, 'Available')?.reason, 'MinimumReplicasAvailable');
    assert.equal(condition(d, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    const pods = (await c.json(['get', 'pods', '-n', 'wl-avail', '-l', 'app=web'])).items as Obj[];
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const hash = p.metadata.labels['pod-template-hash'];
      assert.match(p.metadata.name, new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      assert.equal(p.metadata.ownerReferences[0].kind, 'Deployment');
      assert.equal(p.status.phase, 'Running');
      assert.match(p.status.podIP, /^10\.244\.\d+\.\d+$/);
      assert.ok(p.spec.nodeName);
    }
  });

  test('a new image rolls out one surge pod at a time (maxSurge 1, maxUnavailable 0)', async () => {
    const ns = 'wl-surge';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['apply', '-f', '-'], deployment('api', ns, 4, 'nginx:1.27', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }));
    await c.ok(['rollout', 'status', `deployment/api`, '-n', ns, '--timeout=20s']);
    const o = observe(ns, 'api');
    try {
      await c.ok(['set', 'image', 'deployment/api', 'web=nginx:1.28', '-n', ns]);
      await c.ok(['rollout', 'status', 'deployment/api', '-n', ns, '--timeout=30s']);
      const d = await c.json(['get', 'deployment', 'api', '-n', ns]);
      assert.equal(d.status.updatedReplicas, 4);
      assert.equal(d.status.availableReplicas, 4);
      assert.equal(o.seen.maxPods, 5, 'never more than replicas + maxSurge pods');
      assert.equal(o.seen.minReady, 4, 'never fewer than replicas - maxUnavailable ready pods');
      assert.equal(o.seen.hashes.size, 2);
      assert.ok(o.pods().every((p) => p.spec.containers[0].image === 'nginx:1.28'));
    } finally {
      o.stop();
    }
  });

  test('maxUnavailable as a percentage: 50% of 4 lets two go at once, with no surge', async () => {
    const ns = 'wl-pct';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['apply', '-f', '-'], deployment('pct', ns, 4, 'nginx:1.27', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '50%' } }));
    await c.ok(['rollout', 'status', 'deployment/pct', '-n', ns, '--timeout=20s']);
    const o = observe(ns, 'pct');
    try {
      await c.ok(['set', 'image', 'deployment/pct', 'web=nginx:1.28', '-n', ns]);
      await c.ok(['rollout', 'status', 'deployment/pct', '-n', ns, '--timeout=30s']);
      assert.equal(o.seen.maxPods, 4);
      assert.equal(o.seen.minReady, 2);
    } finally {
      o.stop();
    }
  });

  test('Recreate removes every old pod before a new one starts; scaling changes the pod count', async () => {
    const ns = 'wl-recreate';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['apply', '-f', '-'], deployment('rec', ns, 2, 'nginx:1.27', { type: 'Recreate' }));
    await c.ok(['rollout', 'status', 'deployment/rec', '-n', ns, '--timeout=20s']);
    const o = observe(ns, 'rec');
    let mixed = false;
    const off = c.cp.store.subscribe(() => {
      const images = new Set(o.pods().map((p) => p.spec.containers[0].image));
      if (images.size > 1) mixed = true;
    });
    try {
      await c.ok(['set', 'image', 'deployment/rec', 'web=nginx:1.28', '-n', ns]);
      await c.ok(['rollout', 'status', 'deployment/rec', '-n', ns, '--timeout=30s']);
      assert.equal(mixed, false, 'old and new pods never ran together');
      await c.ok(['scale', 'deployment/rec', '--replicas=5', '-n', ns]);
      await eventually(() => c.get('apps/deployments', ns, 'rec')?.status?.availableReplicas === 5, 'five available');
      await c.ok(['scale', 'deployment/rec', '--replicas=1', '-n', ns]);
      await eventually(() => o.pods().length === 1 && c.get('apps/deployments', ns, 'rec')?.status?.replicas === 1, 'one pod');
    } finally {
      off();
      o.stop();
    }
  });

  test('pods that never turn ready leave the Deployment unavailable; the progress deadline is reported', async () => {
    const ns = 'wl-deadline';
    await c.ok(['create', 'namespace', ns]);
    const d = JSON.parse(deployment('slow', ns, 1, 'nimop.dev/sim/never-ready:1', { type: 'RollingUpdate' }));
    d.spec.progressDeadlineSeconds = 1;
    await c.ok(['apply', '-f', '-'], JSON.stringify(d));
    await eventually(() => condition(c.get('apps/deployments', ns, 'slow'), 'Progressing')?.reason === 'ProgressDeadlineExceeded', 'deadline exceeded', 5000);
    const got = c.get('apps/deployments', ns, 'slow')!;
    assert.equal(condition(got, 'Available')?.status, 'False');
    assert.equal(got.status.unavailableReplicas, 1);
    assert.equal(condition(got, 'Progressing')?.message, `ReplicaSet "slow-${c.list('/pods', ns)[0]!.metadata.labels['pod-template-hash']}" has timed out progressing.`);
  });
});

describe('Job', () => {
  test('a failing image ends Failed after backoffLimit+1 pods', async () => {
    const ns = 'wl-jobfail';
    await c.ok(['create', 'namespace', ns]);
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'boom', namespace: ns },
      spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'nimop.dev/sim/failing:1' }] } } },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(job));
    await c.ok(['wait', '--for=condition=Failed', 'job/boom', '-n', ns, '--timeout=20s']);
    const j = await c.json(['get', 'job', 'boom', '-n', ns]);
    assert.equal(j.status.failed, 3);
    assert.equal(j.status.active, undefined);
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(j, 'FailureTarget')?.status, 'True');
    const pods = (await c.json(['get', 'pods', '-n', ns, '-l', 'job-name=boom'])).items as Obj[];
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.status.phase === 'Failed' && p.status.containerStatuses[0].state.terminated.exitCode === 1));
    assert.equal((await c.ok(['logs', pods[0]!.metadata.name, '-n', ns])).trim(), 'Error: simulated failure (nimop.dev/sim/failing)');
    // The API server gave the Job its selector and labels.
    assert.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': j.metadata.uid } });
  });

  test('a succeeding Job completes, and ttlSecondsAfterFinished deletes it and its pods', async () => {
    const ns = 'wl-jobok';
    await c.ok(['create', 'namespace', ns]);
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'ok', namespace: ns },
      spec: {
        completions: 2,
        parallelism: 2,
        ttlSecondsAfterFinished: 1,
        template: { metadata: { labels: { app: 'batch' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37', command: ['sh', '-c', 'echo done'] }] } },
      },
    };
    // The Job is deleted a second after it completes: watch its states as they are stored.
    let completed: Obj | undefined;
    const off = c.cp.store.subscribe((e) => {
      if (e.resource === 'batch/jobs' && e.object.metadata.name === 'ok' && e.type !== 'DELETED' && condition(e.object, 'Complete')?.status === 'True') completed ??= e.object;
    });
    await c.ok(['apply', '-f', '-'], JSON.stringify(job));
    const j = await eventually(() => completed, 'the Job to complete');
    off();
    assert.equal(j.status.succeeded, 2);
    assert.ok(j.status.completionTime);
    assert.equal(condition(j, 'Complete')?.reason, 'CompletionsReached');
    assert.equal(j.metadata.labels.app, 'batch', 'the Job takes its template labels');
    await eventually(() => !c.get('batch/jobs', ns, 'ok') && c.list('/pods', ns).length === 0, 'the Job and its pods to be deleted', 5000);
  });
});

describe('StatefulSet and LeaderWorkerSet', () => {
  test('a StatefulSet creates ordinal pods one by one and reports them ready', async () => {
    const ns = 'wl-sts';
    await c.ok(['create', 'namespace', ns]);
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'registry.k8s.io/pause:3.10' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(sts));
    await c.ok(['rollout', 'status', 'statefulset/db', '-n', ns, '--timeout=20s']);
    const s = c.get('apps/statefulsets', ns, 'db')!;
    assert.equal(s.status.readyReplicas, 3);
    assert.equal(s.status.availableReplicas, 3);
    assert.deepEqual(c.list('/pods', ns).map((p) => p.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
    assert.deepEqual(c.list('/persistentvolumeclaims', ns).map((p) => [p.metadata.name, p.status?.phase]).sort(), [['data-db-0', 'Bound'], ['data-db-1', 'Bound'], ['data-db-2', 'Bound']]);
  });

  test('a LeaderWorkerSet runs replicas groups of size pods and becomes Available', async () => {
    const ns = 'wl-lws';
    await c.ok(['create', 'namespace', ns]);
    const lws = {
      apiVersion: 'leaderworkerset.x-k8s.io/v1',
      kind: 'LeaderWorkerSet',
      metadata: { name: 'llm-lws', namespace: ns },
      spec: {
        replicas: 2,
        leaderWorkerTemplate: {
          size: 2,
          workerTemplate: { metadata: { labels: { app: 'llm' } }, spec: { containers: [{ name: 'w', image: 'registry.k8s.io/pause:3.10', resources: { limits: { 'nvidia.com/gpu': 4 } } }] } },
        },
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(lws));
    await c.ok(['wait', '--for=condition=Available', 'leaderworkerset/llm-lws', '-n', ns, '--timeout=20s']);
    const pods = c.list('/pods', ns);
    assert.deepEqual(pods.map((p) => p.metadata.name).sort(), ['llm-lws-0', 'llm-lws-0-1', 'llm-lws-1', 'llm-lws-1-1']);
    const worker = pods.find((p) => p.metadata.name === 'llm-lws-1-1')!;
    assert.equal(worker.metadata.labels['leaderworkerset.sigs.k8s.io/worker-index'], '1');
    assert.equal(worker.metadata.labels['leaderworkerset.sigs.k8s.io/group-index'], '1');
    assert.equal(worker.metadata.annotations['leaderworkerset.sigs.k8s.io/leader-name'], 'llm-lws-1');
    assert.ok(worker.spec.containers[0].env.some((e: Obj) => e.name === 'LWS_LEADER_ADDRESS' && e.value === `llm-lws-1.llm-lws.${ns}`));
    const got = c.get('leaderworkerset.x-k8s.io/leaderworkersets', ns, 'llm-lws')!;
    assert.equal(got.status.readyReplicas, 2);
    assert.equal(condition(got, 'Available')?.reason, 'AllGroupsReady');
    assert.ok(pods.every((p) => p.spec.hostname === p.metadata.name && p.spec.subdomain === 'llm-lws'));
    assert.equal(c.get('/services', ns, 'llm-lws')?.spec.clusterIP, 'None', 'the headless Service of the groups');
  });
});
