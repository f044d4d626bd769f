/**
 * Every upstream sample and every manifest in examples/ works in the simulation with the built-in
 * catalogue: for each NIMCache, the manifest-probe pod prints a manifest (or says there is none) and
 * the caching Job its source calls for completes; for each NIMService (and each enabled service of
 * a NIMPipeline), pods shaped as the operator renders them — image, GPUs, placement, probes, init
 * and sidecar containers, multi-node groups — become ready and their NIM answers. The pod shapes
 * here are a test's approximation of the operator's rendering, enough to exercise the images.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { parseManifests } from '../../src/api/manifests.js';
import { resolveServiceAddress } from '../../src/devcluster/sim/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { REPO, UPSTREAM, listFiles, requireUpstream } from '../helpers/upstream.js';

requireUpstream();

const SAMPLES = join(UPSTREAM, 'samples', 'nim');
const PROBE = 'if [ -f /opt/nim/etc/default/model_manifest.yaml ]; then cat /opt/nim/etc/default/model_manifest.yaml; elif [ -f /etc/nim/config/model_manifest.yaml ]; then cat /etc/nim/config/model_manifest.yaml; else echo "model_manifest.yaml not found"; fi; sleep infinity';

const files = [...listFiles(SAMPLES), ...listFiles(join(REPO, 'examples'))];

let c: SimCluster;
before(async () => {
  // Secrets and ConfigMaps the samples name are a user's to create; this test is about images.
  c = await startSimCluster({ missingReferences: 'ignore' });
});
after(async () => {
  await c?.stop();
});

const img = (i: Obj | undefined) => (i ? `${String(i.repository)}${i.tag ? `:${String(i.tag)}` : ''}` : '');

/** Creates an object in-process (this test is about images, not kubectl; it creates many). */
async function apply(o: Obj): Promise<void> {
  const t = c.cp.registry.byKind(String(o.apiVersion), String(o.kind));
  if (!t) throw new Error(`no type for ${String(o.apiVersion)} ${String(o.kind)}`);
  c.cp.objects.create(t, t.namespaced ? o.metadata.namespace : undefined, o, { fieldManager: 'sim-samples-test', fieldValidation: 'Strict' });
}

function remove(resource: string, plural: string, ns: string | undefined, name: string): void {
  const t = c.cp.registry.all().find((x) => `${x.group}/${x.plural}` === resource && x.plural === plural)!;
  c.cp.deleter.delete(t, ns, name, { propagationPolicy: 'Background' });
  c.cp.deleter.reconcile();
}

/** The manifest probe and the caching Job of a NIMCache, as its source calls for. */
async function cache(ns: string, nc: Obj): Promise<void> {
  const name: string = nc.metadata.name;
  const src = nc.spec.source ?? {};
  const s = src.ngc ?? src.hf ?? src.dataStore;
  const puller: string = s.modelPuller;
  await apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `${name}-pvc`, namespace: ns }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '50Gi' } } } });
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-pod`, namespace: ns }, spec: { containers: [{ name: 'nim-cache-ctr', image: puller, command: ['sh', '-c', PROBE] }] } });
  await eventually(() => c.get('/pods', ns, `${name}-pod`)?.status?.phase === 'Running', `${name}-pod running`);
  const manifest = c.sim.podLog(ns, `${name}-pod`) ?? '';
  const modelFree = manifest.includes('model_manifest.yaml not found');
  if (src.ngc && !src.ngc.modelEndpoint) assert.ok(!modelFree, `${puller} has a model manifest`);
  let command: string[];
  if (src.ngc?.modelEndpoint) command = ['create-model-store', '--model-repo', src.ngc.modelEndpoint, '--model-store', '/model-store'];
  else if (src.ngc) {
    const profiles: string[] = src.ngc.model?.profiles ?? [];
    command = ['download-to-cache', ...(profiles.length ? (profiles.includes('all') ? ['--all'] : ['--profiles', ...profiles.filter((p) => manifest.includes(p))]) : ['--all'])];
    if (command.length === 2 && command[1] === '--profiles') command = ['download-to-cache', '--all'];
  } else {
    const repo = `${String(s.namespace ?? 'default')}/${String(s.modelName ?? s.datasetName)}`;
    command = modelFree
      ? ['download-to-cache', '--model-uri', `hf://${repo}`, '--manifest-file', '/model-store/model_manifest.json']
      : ['huggingface-cli', 'download', repo, '--local-dir', '/model-store', '--repo-type', s.modelName ? 'model' : 'dataset'];
  }
  remove('/pods', 'pods', ns, `${name}-pod`);
  await apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${name}-job`, namespace: ns },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          nodeSelector: nc.spec.nodeSelector ?? { 'feature.node.kubernetes.io/pci-10de.present': 'true' },
          ...(nc.spec.tolerations ? { tolerations: nc.spec.tolerations } : {}),
          volumes: [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: `${name}-pvc` } }],
          containers: [{ name: 'nim-cache-ctr', image: puller, command: [command[0]!], args: command.slice(1), env: [{ name: 'NIM_CACHE_PATH', value: '/model-store' }, ...(nc.spec.env ?? [])], volumeMounts: [{ name: 'nim-cache-volume', mountPath: '/model-store' }] }],
        },
      },
    },
  });
  await eventually(() => {
    const j = c.get('batch/jobs', ns, `${name}-job`);
    if (condition(j, 'Failed')?.status === 'True') throw new Error(`${name}-job failed: ${JSON.stringify(c.list('/pods', ns).map((p) => p.status?.containerStatuses))}`);
    return condition(j, 'Complete')?.status === 'True';
  }, `${name}-job to complete`);
}

function container(name: string, image: string, spec: Obj, port: number, role?: 'leader' | 'worker', gpus?: unknown): Obj {
  const probe = (key: string, path: string, delay: number) => {
    const p = spec[key];
    if (p?.enabled === false) return {};
    return { [key]: p?.probe ?? { httpGet: { path, port: 'api' }, initialDelaySeconds: delay } };
  };
  const env = [...(spec.env ?? []), { name: 'NIM_CACHE_PATH', value: '/model-store' }, ...(role ? [{ name: 'NIM_LEADER_ROLE', value: role === 'leader' ? '1' : '0' }] : [])];
  const resources = structuredClone(spec.resources ?? {});
  if (gpus !== undefined) resources.limits = { ...(resources.limits ?? {}), 'nvidia.com/gpu': gpus };
  return {
    name,
    image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    env,
    ports: [{ name: 'api', containerPort: port }, ...(spec.expose?.service?.grpcPort ? [{ name: 'grpc', containerPort: spec.expose.service.grpcPort }] : [])],
    resources,
    ...(role === 'worker' ? {} : { ...probe('readinessProbe', '/v1/health/ready', 15), ...probe('livenessProbe', '/v1/health/live', 15), ...probe('startupProbe', '/v1/health/ready', 30) }),
    volumeMounts: [{ name: 'model-store', mountPath: '/model-store' }],
  };
}

/** The pods of a NIMService: a Deployment, or a LeaderWorkerSet for multi-node; then its NIM answers. */
async function serve(ns: string, name: string, spec: Obj): Promise<void> {
  if (spec.inferencePlatform === 'kserve') return;
  const port: number = spec.expose?.service?.port ?? 8000;
  const image = img(spec.image);
  const claim = spec.storage?.nimCache?.name ? `${String(spec.storage.nimCache.name)}-pvc` : spec.storage?.pvc?.name ?? `${name}-pvc`;
  if (!c.get('/persistentvolumeclaims', ns, claim)) {
    await apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim, namespace: ns }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '50Gi' } } } });
  }
  const extra = (list: Obj[] | undefined) =>
    (list ?? []).map((x) => ({ name: x.name, image: img(x.image), ...(x.command ? { command: x.command } : {}), ...(x.args ? { args: x.args } : {}), env: [...(spec.env ?? []), ...(x.env ?? [])], ...(x.workingDir ? { workingDir: x.workingDir } : {}), volumeMounts: [{ name: 'model-store', mountPath: '/model-store' }, { name: 'scratch', mountPath: '/scratch' }] }));
  const podSpec = (main: Obj): Obj => ({
    ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
    ...(spec.affinity ? { affinity: spec.affinity } : {}),
    ...(spec.schedulerName ? { schedulerName: spec.schedulerName } : {}),
    volumes: [{ name: 'model-store', persistentVolumeClaim: { claimName: claim } }, { name: 'scratch', emptyDir: {} }],
    ...(spec.initContainers?.length ? { initContainers: extra(spec.initContainers) } : {}),
    containers: [main, ...extra(spec.sidecarContainers)],
  });
  const labels = { app: name };
  const pp = spec.multiNode?.parallelism?.pipeline ?? 1;
  if (pp > 1) {
    const tp = spec.multiNode.parallelism.tensor;
    await apply({
      apiVersion: 'leaderworkerset.x-k8s.io/v1',
      kind: 'LeaderWorkerSet',
      metadata: { name: `${name}-lws`, namespace: ns },
      spec: {
        replicas: spec.replicas ?? 1,
        leaderWorkerTemplate: {
          size: pp,
          restartPolicy: 'RecreateGroupOnPodRestart',
          leaderTemplate: { metadata: { labels: { app: `${name}-lws`, 'nim-llm-role': 'leader' } }, spec: podSpec(container('nim-leader', image, spec, port, 'leader', tp)) },
          workerTemplate: { metadata: { labels: { app: `${name}-lws`, 'nim-llm-role': 'worker' } }, spec: podSpec(container('nim-worker', image, spec, port, 'worker', tp)) },
        },
      },
    });
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: `${name}-lws`, 'nim-llm-role': 'leader' }, ports: [{ name: 'api', port, targetPort: 'api' }] } });
    await eventually(() => condition(c.get('leaderworkerset.x-k8s.io/leaderworkersets', ns, `${name}-lws`), 'Available')?.status === 'True', `${name}-lws Available`);
  } else {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: { replicas: spec.replicas ?? spec.scale?.hpa?.minReplicas ?? 1, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '25%' } }, template: { metadata: { labels }, spec: podSpec(container(`${name}-ctr`, image, spec, port)) } },
    });
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: labels, ports: [{ name: 'api', port, targetPort: 'api' }] } });
    await eventually(() => {
      const d = c.get('apps/deployments', ns, name);
      if (condition(d, 'Available')?.status === 'True' && d?.status?.readyReplicas === d?.spec?.replicas) return true;
      const pending = c.list('/pods', ns).map((p) => condition(p, 'PodScheduled')?.message).filter(Boolean);
      if (pending.length) throw new Error(`unschedulable: ${pending.join('; ')}`);
      return false;
    }, `deployment ${name} Available`);
  }
  const addr = await eventually(() => resolveServiceAddress(c.cp, ns, name, port), `an address for ${name}`);
  const ready = await fetch(`http://${addr.host}:${addr.port}/v1/health/ready`);
  assert.equal(ready.status, 200);
  const models = await fetch(`http://${addr.host}:${addr.port}/v1/models`);
  const metadata = await fetch(`http://${addr.host}:${addr.port}/v1/metadata`);
  assert.ok(models.status === 200 || metadata.status === 200, `${name} names its model`);
}

test('there are samples and examples to run', () => {
  assert.ok(files.length >= 40, `found ${files.length} files`);
});

let n = 0;
for (const file of files) {
  const docs = parseManifests(readFileSync(file, 'utf8')).docs.map((d) => d.value as Obj).filter((d) => d && d.apiVersion === 'apps.nvidia.com/v1alpha1');
  if (!docs.some((d) => ['NIMCache', 'NIMService', 'NIMPipeline'].includes(d.kind))) continue;
  const ns = `sample-${++n}`;
  const label = file.startsWith(SAMPLES) ? `upstream ${relative(SAMPLES, file)}` : relative(REPO, file);
  test(label, async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    try {
      for (const d of docs.filter((x) => x.kind === 'NIMCache')) await cache(ns, d);
      for (const d of docs.filter((x) => x.kind === 'NIMService')) await serve(ns, d.metadata.name, d.spec);
      for (const d of docs.filter((x) => x.kind === 'NIMPipeline')) {
        for (const s of (d.spec.services ?? []) as Obj[]) if (s.enabled) await serve(ns, s.name, s.spec);
      }
    } finally {
      // Free the GPUs for the next file.
      remove('/namespaces', 'namespaces', undefined, ns);
      await eventually(() => !c.get('/namespaces', undefined, ns), `namespace ${ns} to go`, 20_000);
    }
  });
}
