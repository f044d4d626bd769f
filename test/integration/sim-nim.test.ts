/**
 * Simulated NIMs: the manifest a model-puller image prints (v1, v2, or none), the cache Job's
 * download-to-cache, a serving pod's live endpoint reached through resolveServiceAddress (health,
 * models, metadata, chat completions, metrics driven by a test), readiness that follows the
 * endpoint, LoRA adapters, an engine build and its local manifest, and an HPA on NIM metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { resolveServiceAddress } from '../../src/devcluster/sim/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster();
});
after(async () => {
  await c?.stop();
});

const LLAMA = 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0';
const PROBE = 'if [ -f /opt/nim/etc/default/model_manifest.yaml ]; then cat /opt/nim/etc/default/model_manifest.yaml; elif [ -f /etc/nim/config/model_manifest.yaml ]; then cat /etc/nim/config/model_manifest.yaml; else echo "model_manifest.yaml not found"; fi; sleep infinity';
const CACHE_MOUNT = { name: 'nim-cache-volume', mountPath: '/model-store' };

async function namespace(ns: string): Promise<void> {
  await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=nvapi-test', '-n', ns]);
}

async function apply(o: Obj): Promise<void> {
  await c.ok(['apply', '-f', '-'], JSON.stringify(o));
}

function pvc(name: string, ns: string): Obj {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '50Gi' } } } };
}

function probePod(name: string, ns: string, image: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { restartPolicy: 'Never', containers: [{ name: 'nim-cache-ctr', image, command: ['sh', '-c', PROBE] }] },
  };
}

function cacheJob(name: string, ns: string, image: string, args: string[], claim: string, command = ['download-to-cache']): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          volumes: [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: claim } }],
          containers: [{ name: 'nim-cache-ctr', image, command, args, env: [{ name: 'NIM_CACHE_PATH', value: '/model-store' }], envFrom: [{ secretRef: { name: 'ngc-api-secret' } }], volumeMounts: [CACHE_MOUNT] }],
        },
      },
    },
  };
}

/** A Deployment and Service shaped as the operator renders a NIMService. */
function nimService(name: string, ns: string, image: string, opts: { claim?: string; env?: Obj[]; gpus?: number; replicas?: number; initContainers?: Obj[]; nodeSelector?: Obj } = {}): Obj[] {
  const probe = (path: string, delay: number) => ({ httpGet: { path, port: 'api' }, initialDelaySeconds: delay, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
  const mounts = opts.claim ? [{ name: 'model-store', mountPath: '/model-store' }] : [];
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: {
        replicas: opts.replicas ?? 1,
        selector: { matchLabels: { app: name } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
            ...(opts.claim ? { volumes: [{ name: 'model-store', persistentVolumeClaim: { claimName: opts.claim } }] } : {}),
            ...(opts.initContainers ? { initContainers: opts.initContainers.map((i) => ({ ...i, volumeMounts: mounts })) } : {}),
            containers: [
              {
                name: `${name}-ctr`,
                image,
                ports: [{ name: 'api', containerPort: 8000 }],
                env: [{ name: 'NIM_CACHE_PATH', value: '/model-store' }, { name: 'NIM_SERVER_PORT', value: '8000' }, { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: 'ngc-api-secret', key: 'NGC_API_KEY' } } }, ...(opts.env ?? [])],
                resources: { limits: { 'nvidia.com/gpu': opts.gpus ?? 1 } },
                readinessProbe: probe('/v1/health/ready', 15),
                livenessProbe: probe('/v1/health/live', 15),
                startupProbe: { ...probe('/v1/health/ready', 30), failureThreshold: 120 },
                volumeMounts: mounts,
              },
            ],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: 'api', port: 8000, targetPort: 'api' }] } },
  ];
}

async function call(addr: { host: string; port: number }, path: string, body?: unknown): Promise<{ status: number; json: Obj; text: string }> {
  const res = await fetch(`http://${addr.host}:${addr.port}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: Obj = {};
  try {
    json = JSON.parse(text) as Obj;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

function profilesOf(manifest: string): { id: string; tags: Record<string, string> }[] {
  const doc = parse(manifest.replace(/!(workspace|name)\b/g, '')) as Obj;
  if (doc.schema_version) return (doc.profiles as Obj[]).map((p) => ({ id: p.id, tags: p.tags }));
  return Object.entries(doc).map(([id, p]) => ({ id, tags: (p as Obj).tags }));
}

describe('model manifests and caching', () => {
  test('a model puller prints a v1 manifest with profiles across engines, precisions, TP, GPUs, LoRA and buildable', async () => {
    const ns = 'nim-manifest';
    await namespace(ns);
    await apply(probePod('cache-pod', ns, LLAMA));
    await eventually(() => c.get('/pods', ns, 'cache-pod')?.status?.phase === 'Running', 'the probe pod running');
    const log = await c.ok(['logs', 'cache-pod', '-n', ns]);
    assert.match(log, /^[0-9a-f]{64}:\n {2}model: meta\/llama-3\.1-8b-instruct\n {2}release: '1\.12\.0'/);
    assert.match(log, /workspace: !workspace/);
    const profiles = profilesOf(log);
    const values = (k: string) => new Set(profiles.map((p) => p.tags[k]).filter(Boolean));
    assert.deepEqual([...values('llm_engine')].sort(), ['tensorrt_llm', 'vllm']);
    assert.deepEqual([...values('precision')].sort(), ['bf16', 'fp8']);
    assert.deepEqual([...values('tp')].sort(), ['1', '2', '4', '8']);
    assert.deepEqual([...values('gpu')].sort(), ['A100', 'H100', 'L40S']);
    assert.ok(profiles.some((p) => p.tags.feat_lora === 'true'));
    assert.ok(profiles.some((p) => p.tags.trtllm_buildable === 'true'));
    assert.ok(profiles.some((p) => p.tags.gpu === 'H100' && p.tags.gpu_device === '2330:10de' && p.tags.precision === 'fp8'));
  });

  test('a v2 image prints schema_version 2; the multi-LLM NIM has no manifest', async () => {
    const ns = 'nim-v2';
    await namespace(ns);
    await apply(probePod('v2', ns, 'nvcr.io/nim/meta/llama-3.2-1b-instruct:1.12.0'));
    await apply(probePod('none', ns, 'nvcr.io/nim/nvidia/llm-nim:1.12'));
    await eventually(() => c.get('/pods', ns, 'v2')?.status?.phase === 'Running' && c.get('/pods', ns, 'none')?.status?.phase === 'Running', 'running');
    const v2 = await c.ok(['logs', 'v2', '-n', ns]);
    assert.match(v2, /^schema_version: '2\.0\.0'\nprofile_selection_criteria: default\nprofiles:\n/);
    assert.ok(profilesOf(v2).length > 10);
    assert.equal(await c.ok(['logs', 'none', '-n', ns]), 'model_manifest.yaml not found\n');
  });

  test('download-to-cache fills the cache volume; an unknown profile fails the Job; the NIM serves the cached profile', async () => {
    const ns = 'nim-cache';
    await namespace(ns);
    await apply(pvc('cache', ns));
    await apply(probePod('probe', ns, LLAMA));
    await eventually(() => c.get('/pods', ns, 'probe')?.status?.phase === 'Running', 'probe running');
    const profiles = profilesOf(await c.ok(['logs', 'probe', '-n', ns]));
    const h100 = profiles.find((p) => p.tags.gpu === 'H100' && p.tags.tp === '1' && p.tags.precision === 'fp8' && p.tags.feat_lora === 'false')!;
    await apply(cacheJob('cache-job', ns, LLAMA, ['--profiles', h100.id], 'cache'));
    await c.ok(['wait', '--for=condition=Complete', 'job/cache-job', '-n', ns, '--timeout=20s']);
    const jobPod = c.list('/pods', ns).find((p) => p.metadata.labels?.['job-name'] === 'cache-job')!;
    assert.match(await c.ok(['logs', jobPod.metadata.name, '-n', ns]), new RegExp(`Profile ${h100.id} downloaded`));
    await apply(cacheJob('bad-job', ns, LLAMA, ['--profiles', 'no-such-profile'], 'cache'));
    await c.ok(['wait', '--for=condition=Failed', 'job/bad-job', '-n', ns, '--timeout=20s']);
    const badPod = c.list('/pods', ns).find((p) => p.metadata.labels?.['job-name'] === 'bad-job')!;
    assert.match(await c.ok(['logs', badPod.metadata.name, '-n', ns]), /Invalid profile\(s\): no-such-profile/);
    // A server on an H100 node with the cache mounted picks the cached profile.
    for (const o of nimService('llama', ns, LLAMA, { claim: 'cache', nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' } })) await apply(o);
    await c.ok(['wait', '--for=condition=Available', 'deployment/llama', '-n', ns, '--timeout=20s']);
    const pod = c.list('/pods', ns).find((p) => p.metadata.labels?.app === 'llama')!;
    const log = await c.ok(['logs', pod.metadata.name, '-n', ns]);
    assert.match(log, new RegExp(`Selected profile: ${h100.id} \\(tensorrt_llm-h100-fp8-tp1-pp1-throughput\\)`));
    assert.match(log, /Uvicorn running on http:\/\/0\.0\.0\.0:8000/);
  });
});

describe('the NIM endpoint', () => {
  test('a ready NIM answers through resolveServiceAddress: health, models, metadata, chat, metrics', async () => {
    const ns = 'nim-serve';
    await namespace(ns);
    for (const o of nimService('llm', ns, LLAMA)) await apply(o);
    await c.ok(['wait', '--for=condition=Available', 'deployment/llm', '-n', ns, '--timeout=20s']);
    const addr = await eventually(() => resolveServiceAddress(c.cp, ns, 'llm', 8000), 'an address for the Service');
    assert.deepEqual(resolveServiceAddress(c.cp, ns, 'llm', 'api'), addr);
    assert.equal(resolveServiceAddress(c.cp, ns, 'llm', 9999), undefined);
    assert.equal(resolveServiceAddress(c.cp, ns, 'nope', 8000), undefined);
    assert.equal((await call(addr, '/v1/health/live')).status, 200);
    assert.equal((await call(addr, '/v1/health/ready')).json.message, 'Service is ready.');
    const models = (await call(addr, '/v1/models')).json;
    assert.equal(models.object, 'list');
    assert.deepEqual(models.data.map((m: Obj) => [m.id, m.object, m.root]), [['meta/llama-3.1-8b-instruct', 'model', 'meta/llama-3.1-8b-instruct']]);
    assert.match((await call(addr, '/v1/metadata')).json.modelInfo[0].shortName, /^meta\/llama-3\.1-8b-instruct:1\.12\.0$/);
    const chat = await call(addr, '/v1/chat/completions', { model: 'meta/llama-3.1-8b-instruct', messages: [{ role: 'user', content: 'Hello' }] });
    assert.equal(chat.status, 200);
    assert.equal(chat.json.object, 'chat.completion');
    assert.equal(chat.json.choices[0].message.role, 'assistant');
    assert.ok(chat.json.usage.total_tokens > 0);
    assert.equal((await call(addr, '/v1/chat/completions', { model: 'other', messages: [] })).status, 404);
    c.sim.setNimLoad({ namespace: ns, service: 'llm' }, { waiting: 12, running: 3, kvCacheUsage: 0.8, ttftSeconds: 0.3 });
    await call(addr, '/v1/chat/completions', { messages: [{ role: 'user', content: 'again' }] });
    const metrics = (await call(addr, '/v1/metrics')).text;
    assert.match(metrics, /^num_requests_waiting\{model_name="meta\/llama-3\.1-8b-instruct"\} 12$/m);
    assert.match(metrics, /^num_requests_running\{model_name="meta\/llama-3\.1-8b-instruct"\} 3$/m);
    assert.match(metrics, /^gpu_cache_usage_perc\{model_name="meta\/llama-3\.1-8b-instruct"\} 0\.8$/m);
    assert.match(metrics, /^request_success_total\{model_name="meta\/llama-3\.1-8b-instruct"\} 2$/m);
    assert.match(metrics, /^time_to_first_token_seconds_bucket\{le="0\.25",model_name="meta\/llama-3\.1-8b-instruct"\} 1$/m);
    assert.match(metrics, /^time_to_first_token_seconds_count\{model_name="meta\/llama-3\.1-8b-instruct"\} 2$/m);
  });

  test('an unready NIM turns its pod unready, leaves the Endpoints and the resolver; it comes back', async () => {
    const ns = 'nim-health';
    await namespace(ns);
    for (const o of nimService('llm', ns, LLAMA, { replicas: 2 })) await apply(o);
    await c.ok(['wait', '--for=condition=Available', 'deployment/llm', '-n', ns, '--timeout=20s']);
    const [a, b] = c.list('/pods', ns).map((p) => p.metadata.name as string);
    c.sim.setNimHealth({ namespace: ns, pod: a }, { ready: false });
    await eventually(() => condition(c.get('/pods', ns, a!), 'Ready')?.status === 'False', 'pod a unready');
    const ep = await eventually(() => {
      const e = c.get('/endpoints', ns, 'llm');
      return e?.subsets?.[0]?.notReadyAddresses?.length === 1 ? e : undefined;
    }, 'a in notReadyAddresses');
    assert.equal(ep.subsets[0].notReadyAddresses[0].targetRef.name, a);
    const bAddr = c.sim.nimEndpoint(ns, b!)!;
    for (let i = 0; i < 4; i++) assert.deepEqual(resolveServiceAddress(c.cp, ns, 'llm', 8000), bAddr);
    assert.equal((await call(c.sim.nimEndpoint(ns, a!)!, '/v1/health/ready')).status, 503);
    c.sim.setNimHealth({ namespace: ns, service: 'llm' }, { ready: false });
    await eventually(() => resolveServiceAddress(c.cp, ns, 'llm', 8000) === undefined, 'no address');
    c.sim.setNimHealth({ namespace: ns, service: 'llm' }, { ready: true });
    await eventually(() => c.get('apps/deployments', ns, 'llm')?.status?.readyReplicas === 2, 'both ready again');
    // Deleting a pod stops its endpoint.
    const port = c.sim.nimEndpoint(ns, a!)!.port;
    await c.ok(['delete', 'pod', a!, '-n', ns, '--wait=false']);
    await eventually(async () => {
      try {
        await fetch(`http://127.0.0.1:${port}/v1/health/live`);
        return false;
      } catch {
        return true;
      }
    }, 'the endpoint to close');
  });

  test('a LoRA adapter fetched by an init container is listed by /v1/models', async () => {
    const ns = 'nim-lora';
    await namespace(ns);
    await apply(pvc('cache', ns));
    const init = { name: 'fetch-adapters', image: 'nvcr.io/nvidia/nemo-microservices/nds-v2-huggingface-cli:25.06', command: ['huggingface-cli'], args: ['download', 'example-org/llama-3.1-8b-support-tickets-lora', '--local-dir', '/model-store/loras/support-tickets'] };
    const env = [{ name: 'NIM_PEFT_SOURCE', value: '/model-store/loras' }];
    for (const o of nimService('lora', ns, LLAMA, { claim: 'cache', env, initContainers: [init] })) await apply(o);
    await c.ok(['wait', '--for=condition=Available', 'deployment/lora', '-n', ns, '--timeout=20s']);
    const addr = resolveServiceAddress(c.cp, ns, 'lora', 8000)!;
    const models = (await call(addr, '/v1/models')).json.data as Obj[];
    assert.deepEqual(models.map((m) => [m.id, m.parent]), [['meta/llama-3.1-8b-instruct', null], ['support-tickets', 'meta/llama-3.1-8b-instruct']]);
    assert.equal((await call(addr, '/v1/chat/completions', { model: 'support-tickets', messages: [] })).status, 200);
  });

  test('an engine build on an L40S writes a local manifest with the built profile', async () => {
    const ns = 'nim-build';
    await namespace(ns);
    await apply(pvc('cache', ns));
    await apply(probePod('probe', ns, LLAMA));
    await eventually(() => c.get('/pods', ns, 'probe')?.status?.phase === 'Running', 'probe running');
    const buildable = profilesOf(await c.ok(['logs', 'probe', '-n', ns])).find((p) => p.tags.trtllm_buildable === 'true' && p.tags.tp === '1' && p.tags.precision === 'bf16')!;
    await apply(cacheJob('cache-job', ns, LLAMA, ['--profiles', buildable.id], 'cache'));
    await c.ok(['wait', '--for=condition=Complete', 'job/cache-job', '-n', ns, '--timeout=20s']);
    const build = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'engine-build-pod', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L40S' },
        volumes: [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'cache' } }],
        containers: [{
          name: 'nim-build-ctr',
          image: LLAMA,
          ports: [{ name: 'api', containerPort: 8000 }],
          env: [{ name: 'NIM_CACHE_PATH', value: '/model-store' }, { name: 'NIM_CUSTOM_MODEL_NAME', value: 'llama-l40s' }, { name: 'NIM_MODEL_PROFILE', value: buildable.id }],
          resources: { limits: { 'nvidia.com/gpu': 1 } },
          readinessProbe: { httpGet: { path: '/v1/health/ready', port: 'api' } },
          volumeMounts: [CACHE_MOUNT],
        }],
      },
    };
    await apply(build);
    await eventually(() => condition(c.get('/pods', ns, 'engine-build-pod'), 'Ready')?.status === 'True', 'the build pod Ready');
    const reader = probePod('local-manifest-pod', ns, LLAMA);
    reader.spec.volumes = [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'cache' } }];
    reader.spec.containers[0].command = ['sh', '-c', 'cat /model-store/local_cache/local_manifest.yaml; sleep infinity'];
    reader.spec.containers[0].volumeMounts = [CACHE_MOUNT];
    await apply(reader);
    await eventually(() => c.get('/pods', ns, 'local-manifest-pod')?.status?.phase === 'Running', 'reader running');
    const built = profilesOf(await c.ok(['logs', 'local-manifest-pod', '-n', ns]));
    assert.equal(built.length, 1);
    assert.equal(built[0]!.tags.model_name, 'llama-l40s');
    assert.equal(built[0]!.tags.gpu, 'L40S');
    assert.equal(built[0]!.tags.trtllm_buildable, 'false');
  });

  test('an HPA on the NIMs\' num_requests_waiting follows the load a test puts on the Service', async () => {
    const ns = 'nim-hpa';
    await namespace(ns);
    for (const o of nimService('llm', ns, LLAMA)) await apply(o);
    await apply({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'llm', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llm' },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [{ type: 'Pods', pods: { metric: { name: 'num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '10' } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    });
    await c.ok(['wait', '--for=condition=Available', 'deployment/llm', '-n', ns, '--timeout=20s']);
    c.sim.setNimLoad({ namespace: ns, service: 'llm' }, { waiting: 35 }, 'total');
    await eventually(() => c.get('apps/deployments', ns, 'llm')?.status?.readyReplicas === 4, 'four ready replicas');
    // With four pods sharing the load, each reports 8.75 waiting requests.
    const hpa = await eventually(() => {
      const h = c.get('autoscaling/horizontalpodautoscalers', ns, 'llm');
      return h?.status?.currentMetrics?.[0]?.pods?.current?.averageValue === '8750m' ? h : undefined;
    }, 'the HPA to see the shared load');
    assert.equal(hpa.status.desiredReplicas, 4);
    c.sim.setNimLoad({ namespace: ns, service: 'llm' }, { waiting: 0 }, 'total');
    await eventually(() => c.get('apps/deployments', ns, 'llm')?.spec?.replicas === 1, 'back to one replica');
  });
});
