/**
 * The webhook of `nimop run` against the embedded control plane, through kubectl: the namespace
 * label nimop.dev/admission-policy makes sharp edges refusals (strict) or warnings (warn) whatever
 * the operator's --strict, and the rules that need cluster facts (nodes, NIMCaches) see them
 * through the manager's informers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { Manager } from '../../src/runtime/manager.js';
import { createLogger } from '../../src/runtime/observability.js';
import { ADMISSION_POLICY_LABEL } from '../../src/webhooks/facts.js';
import { startOperatorWebhook, type OperatorWebhook } from '../../src/webhooks/operator.js';
import { NIMSERVICE_PATH, WEBHOOK_CONFIGURATION_NAME, webhookConfiguration } from '../../src/webhooks/server.js';
import { NIMCACHE } from '../../src/controllers/refs.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

const OP_NS = 'nim-operator';
const log = createLogger(process.env.NIMOP_TEST_LOG ?? 'silent');
let c: TestCluster;

interface Replica {
  manager: Manager;
  hook: OperatorWebhook;
  stop(): Promise<void>;
}

/** One operator replica (no leader election) serving the webhook with its own certificates, registered by URL. */
async function replica(strict: boolean): Promise<Replica> {
  const manager = new Manager({ kubeconfig: c.kubeconfig, userAgent: 'nim-operator/test', logger: log, gracefulShutdownMs: 2_000 });
  const hook = await startOperatorWebhook(manager, {
    port: 0,
    host: '127.0.0.1',
    strict,
    log,
    certMode: 'self',
    self: {
      namespace: OP_NS,
      serviceName: 'nim-operator-webhook-service',
      secretName: 'nim-operator-webhook-certs',
      configurationName: WEBHOOK_CONFIGURATION_NAME,
      servingValidityMs: 8760 * 3_600_000,
      caValidityMs: 87600 * 3_600_000,
      extraNames: ['127.0.0.1'],
    },
  });
  await manager.start();
  const config = webhookConfiguration({ url: `https://127.0.0.1:${hook.port}${NIMSERVICE_PATH}`, caBundle: '' });
  const r = await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(config));
  assert.equal(r.status, 0, r.stderr);
  // The operator fills in the caBundle; until then the API server cannot call the webhook.
  await eventually(() => {
    const vwc = c.cp.store.get('admissionregistration.k8s.io/validatingwebhookconfigurations', undefined, WEBHOOK_CONFIGURATION_NAME);
    return vwc?.webhooks.every((h: Obj) => h.clientConfig.caBundle);
  }, 'the caBundle');
  return {
    manager,
    hook,
    async stop() {
      await hook.stop();
      await manager.stop();
    },
  };
}

const service = (namespace: string, name: string, spec: Obj = {}) =>
  JSON.stringify({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name, namespace },
    spec: {
      image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: 'latest' },
      authSecret: 'ngc-api-secret',
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
      ...spec,
    },
  });

/** Labels a namespace and waits until the webhook's namespace cache has seen it. */
async function label(r: Replica, ns: string, value: string | undefined) {
  const arg = value === undefined ? `${ADMISSION_POLICY_LABEL}-` : `${ADMISSION_POLICY_LABEL}=${value}`;
  assert.equal((await c.kubectl(['label', '--overwrite', 'namespace', ns, arg])).status, 0);
  await eventually(() => r.hook.namespaces.get(undefined, ns)?.metadata?.labels?.[ADMISSION_POLICY_LABEL] === value, `the label on ${ns} to reach the webhook`);
}

before(async () => {
  c = await startCluster();
  for (const ns of [OP_NS, 'team-a', 'team-b']) assert.equal((await c.kubectl(['create', 'namespace', ns])).status, 0);
});
after(async () => c?.stop());

describe('namespace admission policy (operator not --strict)', () => {
  let r: Replica;
  before(async () => {
    r = await replica(false);
  });
  after(async () => r?.stop());

  test('the same manifest is warned about in an unlabelled namespace and refused in one labelled strict', async () => {
    await label(r, 'team-b', 'strict');
    const warned = await c.kubectl(['apply', '-f', '-'], service('team-a', 'llm'));
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: spec\.image\.tag: image nvcr\.io\/nim\/meta\/llama-3\.1-8b-instruct:latest uses the floating tag "latest"/);
    const refused = await c.kubectl(['apply', '-f', '-'], service('team-b', 'llm'));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /admission webhook "vnimservice-v1alpha1\.kb\.io" denied the request: spec\.image\.tag: Forbidden: image .*:latest uses the floating tag "latest"/);
    assert.equal(c.cp.store.get('apps.nvidia.com/nimservices', 'team-b', 'llm'), undefined);
  });

  test('labelling a namespace takes effect without a restart; a value that means nothing is said so', async () => {
    await label(r, 'team-a', 'strict');
    const refused = await c.kubectl(['apply', '-f', '-'], service('team-a', 'llm-2'));
    assert.notEqual(refused.status, 0);
    await label(r, 'team-a', 'Strict');
    const odd = await c.kubectl(['apply', '-f', '-'], service('team-a', 'llm-2'));
    assert.equal(odd.status, 0, odd.stderr);
    assert.match(odd.stderr, /Warning: the namespace label nimop\.dev\/admission-policy="Strict" is not one of "strict", "warn"; the operator's default policy \(warn\) applies/);
    await label(r, 'team-a', undefined);
  });

  test('facts from the informers: vGPU nodes without NVLink and the tensor parallelism of the NIMCache in use', async () => {
    const node = c.cp.registry.get('', 'v1', 'nodes')!;
    c.cp.objects.create(node, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'vgpu-l40s', labels: { 'nvidia.com/gpu.present': 'true', 'nvidia.com/vgpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L40S' } },
    });
    const cacheType = c.cp.registry.get('apps.nvidia.com', 'v1alpha1', 'nimcaches')!;
    const created = c.cp.objects.create(cacheType, 'team-a', {
      apiVersion: 'apps.nvidia.com/v1alpha1',
      kind: 'NIMCache',
      metadata: { name: 'llama-tp2', namespace: 'team-a' },
      spec: { source: { ngc: { modelPuller: 'nvcr.io/nim/meta/llama:1.8.4', authSecret: 'ngc-api' } }, storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } } },
    }).object;
    c.cp.objects.update(cacheType, 'team-a', 'llama-tp2', { ...created, status: { state: 'Ready', profiles: [{ name: 'tp2', config: { tp: '2' } }] } }, { subresource: 'status' });
    await eventually(() => r.manager.informer(NIMCACHE).get('team-a', 'llama-tp2')?.status?.profiles, 'the NIMCache status to reach the webhook');
    await eventually(() => r.manager.informer({ group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false }).get(undefined, 'vgpu-l40s'), 'the node to reach the webhook');
    const viaCache = await c.kubectl(['apply', '-f', '-'], service('team-a', 'tp2', { storage: { nimCache: { name: 'llama-tp2' } } }));
    assert.equal(viaCache.status, 0, viaCache.stderr);
    assert.match(viaCache.stderr, /Warning: spec\.storage\.nimCache\.name: the model needs 2 GPUs per pod, but vGPU nodes vgpu-l40s \(NVIDIA-L40S\) have no NVLink/);
    const refused = await c.kubectl(['apply', '-f', '-'], service('team-b', 'gpus', { resources: { limits: { 'nvidia.com/gpu': 2 } } }));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /spec\.resources\.limits\[nvidia\.com\/gpu\]: Forbidden: the model needs 2 GPUs per pod, but vGPU nodes vgpu-l40s/);
  });
});

describe('namespace admission policy (operator --strict)', () => {
  let r: Replica;
  before(async () => {
    r = await replica(true);
  });
  after(async () => r?.stop());

  test('a namespace labelled warn gets warnings where the others get refusals', async () => {
    await label(r, 'team-b', 'warn');
    const refused = await c.kubectl(['apply', '-f', '-'], service('team-a', 'strict-default'));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /spec\.image\.tag: Forbidden/);
    const warned = await c.kubectl(['apply', '-f', '-'], service('team-b', 'lenient'));
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: spec\.image\.tag: .*floating tag "latest"/);
  });
});
