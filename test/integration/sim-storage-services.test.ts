/**
 * Simulated storage and service controllers: PVC binding through the default StorageClass (or not,
 * when the class does not exist), dynamic PVs and their reclaim, pvc-protection; Service cluster IPs
 * allocated on create and Endpoints that follow pod readiness.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster();
});
after(async () => {
  await c?.stop();
});

const claim = (name: string, ns: string, extra: Obj = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } }, ...extra } });

describe('PersistentVolumeClaims', () => {
  test('a claim without a class gets the default StorageClass and binds to a new volume', async () => {
    await c.ok(['create', 'namespace', 'st-bind']);
    const sc = await c.json(['get', 'storageclass', 'standard']);
    assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
    await c.ok(['apply', '-f', '-'], claim('cache', 'st-bind'));
    await c.ok(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/cache', '-n', 'st-bind', '--timeout=20s']);
    const pvc = await c.json(['get', 'pvc', 'cache', '-n', 'st-bind']);
    assert.equal(pvc.spec.storageClassName, 'standard');
    assert.equal(pvc.status.capacity.storage, '50Gi');
    assert.deepEqual(pvc.status.accessModes, ['ReadWriteOnce']);
    assert.ok(pvc.metadata.finalizers.includes('kubernetes.io/pvc-protection'));
    const pv = await c.json(['get', 'pv', pvc.spec.volumeName]);
    assert.equal(pv.status.phase, 'Bound');
    assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    // Deleting the claim releases and deletes its dynamically provisioned volume.
    await c.ok(['delete', 'pvc', 'cache', '-n', 'st-bind']);
    await eventually(() => !c.get('/persistentvolumes', undefined, pvc.spec.volumeName), 'the PV to be deleted');
  });

  test('a claim whose class does not exist stays Pending, and binds once the class is created', async () => {
    await c.ok(['create', 'namespace', 'st-noclass']);
    await c.ok(['apply', '-f', '-'], claim('fast', 'st-noclass', { storageClassName: 'fast-nvme' }));
    await eventually(() => c.get('/persistentvolumeclaims', 'st-noclass', 'fast')?.status?.phase === 'Pending', 'Pending');
    const events = await c.ok(['get', 'events', '-n', 'st-noclass', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /storageclass\.storage\.k8s\.io "fast-nvme" not found/);
    assert.equal(c.get('/persistentvolumeclaims', 'st-noclass', 'fast')!.spec.volumeName, undefined);
    await c.ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast-nvme' }, provisioner: 'example.com/nvme', reclaimPolicy: 'Retain' }));
    await eventually(() => c.get('/persistentvolumeclaims', 'st-noclass', 'fast')?.status?.phase === 'Bound', 'Bound');
  });

  test('a claim in use by a pod stays Terminating until the pod is gone', async () => {
    const ns = 'st-protect';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['apply', '-f', '-'], claim('data', ns));
    await c.ok(['run', 'user', '--image=registry.k8s.io/pause:3.10', '-n', ns, '--overrides', JSON.stringify({ spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }], containers: [{ name: 'user', image: 'registry.k8s.io/pause:3.10', volumeMounts: [{ name: 'd', mountPath: '/data' }] }] } })]);
    await eventually(() => c.get('/pods', ns, 'user')?.status?.phase === 'Running', 'the pod running');
    await c.ok(['delete', 'pvc', 'data', '-n', ns, '--wait=false']);
    await c.sim.idle();
    const held = c.get('/persistentvolumeclaims', ns, 'data');
    assert.ok(held?.metadata.deletionTimestamp, 'the claim is Terminating');
    await c.ok(['delete', 'pod', 'user', '-n', ns, '--wait=false']);
    await eventually(() => !c.get('/persistentvolumeclaims', ns, 'data'), 'the claim to go');
  });
});

describe('Services', () => {
  test('a Service gets a cluster IP in the create response, and Endpoints list its ready pods', async () => {
    const ns = 'st-svc';
    await c.ok(['create', 'namespace', ns]);
    const out = await c.ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', ns, '-o', 'json']);
    const svc = JSON.parse(out) as Obj;
    assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
    await c.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=8080', '-n', ns]);
    await c.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
    const ep = await eventually(() => {
      const e = c.get('/endpoints', ns, 'web');
      return e?.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    }, 'two addresses');
    const pods = c.list('/pods', ns);
    assert.deepEqual(ep.subsets[0].addresses.map((a: Obj) => a.ip).sort(), pods.map((p) => p.status.podIP).sort());
    assert.deepEqual(ep.subsets[0].ports, [{ name: '80-8080', port: 8080, protocol: 'TCP' }]);
    assert.equal(ep.subsets[0].addresses[0].targetRef.kind, 'Pod');
    // A pod that goes leaves the Endpoints.
    await c.ok(['scale', 'deployment/web', '--replicas=1', '-n', ns]);
    await eventually(() => c.get('/endpoints', ns, 'web')?.subsets?.[0]?.addresses?.length === 1 && c.list('/pods', ns).length === 1, 'one address');
    // An update that leaves the cluster IP out keeps it.
    await c.ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ name: '80-8080', port: 80, targetPort: 8080 }] } }));
    assert.equal(c.get('/services', ns, 'web')!.spec.clusterIP, svc.spec.clusterIP);
    // Deleting the Service deletes its Endpoints.
    await c.ok(['delete', 'service', 'web', '-n', ns]);
    await eventually(() => !c.get('/endpoints', ns, 'web'), 'the Endpoints to go');
  });

  test('named target ports resolve per pod; the kubernetes Service points at the API server', async () => {
    const ns = 'st-named';
    await c.ok(['create', 'namespace', ns]);
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns },
      spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ name: 'api', containerPort: 8000 }] }] } } },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(d));
    await c.ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: ns }, spec: { selector: { app: 'api' }, ports: [{ name: 'api', port: 8000, targetPort: 'api' }] } }));
    const ep = await eventually(() => c.get('/endpoints', ns, 'api')?.subsets?.[0], 'endpoints');
    assert.deepEqual(ep.ports, [{ name: 'api', port: 8000, protocol: 'TCP' }]);
    const k = await c.json(['get', 'service', 'kubernetes', '-n', 'default']);
    assert.equal(k.spec.clusterIP, '10.96.0.1');
    const kep = await c.json(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    assert.equal(kep.subsets[0].ports[0].port, c.cp.port);
  });
});
