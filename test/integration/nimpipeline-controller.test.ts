/** The NIMPipeline controller with the NIMService controller, against the simulated cluster, through kubectl. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setupNIMPipelineController } from '../../src/controllers/nimpipeline/index.js';
import { setupNIMServiceController } from '../../src/controllers/nimservice/index.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { writesBy } from '../helpers/writes.js';

const NS = 'default';
const entry = (name: string, repository: string, tag: string, extra: Record<string, unknown> = {}) => ({
  name,
  enabled: true,
  spec: {
    image: { repository, tag },
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '50Gi' } },
    resources: { limits: { 'nvidia.com/gpu': 1 } },
    expose: { service: { type: 'ClusterIP', port: 8000 } },
  },
  ...extra,
});
const RAG = {
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMPipeline',
  metadata: { name: 'rag', namespace: NS },
  spec: {
    services: [
      entry('rag-embedding', 'nvcr.io/nim/nvidia/nv-embedqa-e5-v5', '1.0.0'),
      entry('rag-reranking', 'nvcr.io/nim/nvidia/nv-rerankqa-mistral-4b-v3', '1.0.0'),
      entry('rag-llm', 'nvcr.io/nim/meta/llama-3.1-8b-instruct', '1.3.3', {
        dependencies: [
          { name: 'rag-embedding', port: 8000, envName: 'EMBEDDING_ENDPOINT', envValue: 'http://rag-embedding.default.svc.cluster.local:8000/v1' },
          { name: 'rag-reranking', port: 8000, envName: 'RERANKING_ENDPOINT', envValue: 'http://rag-reranking.default.svc.cluster.local:8000/v1' },
          { name: 'ignored', port: 8000 },
        ],
      }),
    ],
  },
};

describe('NIMPipeline controller', () => {
  let c: SimCluster;
  let op: RunningOperator;
  const pipeline = (name: string) => c.get('apps.nvidia.com/nimpipelines', NS, name);
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', NS, name);
  const deployment = (name: string) => c.get('apps/deployments', NS, name);
  const apply = (obj: unknown) => c.ok(['apply', '-f', '-'], JSON.stringify(obj));
  const waitReady = (name: string) => c.ok(['wait', `nimpipeline/${name}`, '--for=jsonpath={.status.state}=Ready', '--timeout=90s']);

  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c, { setups: [setupNIMPipelineController, setupNIMServiceController] });
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('a RAG pipeline of three services becomes Ready; each NIMService is the pipeline\'s, with dependencies as env', async () => {
    await apply(RAG);
    await waitReady('rag');
    const p = pipeline('rag')!;
    assert.deepEqual(p.status.states, { 'rag-embedding': 'Ready', 'rag-reranking': 'Ready', 'rag-llm': 'Ready' });
    assert.equal(condition(p, 'Ready')?.status, 'True');
    assert.equal(condition(p, 'Failed')?.status, 'False');
    assert.deepEqual(p.metadata.finalizers, ['finalizer.nimpipeline.apps.nvidia.com']);
    for (const name of ['rag-embedding', 'rag-reranking', 'rag-llm']) {
      const s = nimService(name)!;
      assert.equal(s.status.state, 'Ready');
      assert.deepEqual(s.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid, r.controller]), [['NIMPipeline', 'rag', p.metadata.uid, true]]);
      assert.ok(s.metadata.annotations['nvidia.com/last-applied-hash']);
    }
    const env = deployment('rag-llm')!.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === 'EMBEDDING_ENDPOINT')?.value, 'http://rag-embedding.default.svc.cluster.local:8000/v1');
    assert.equal(env.find((e) => e.name === 'RERANKING_ENDPOINT')?.value, 'http://rag-reranking.default.svc.cluster.local:8000/v1');
    assert.equal((deployment('rag-embedding')!.spec.template.spec.containers[0].env as { name: string }[]).find((e) => e.name === 'EMBEDDING_ENDPOINT'), undefined);

    const out = await c.ok(['get', 'nimpipelines']);
    assert.match(out, /^NAME\s+STATUS\s+AGE\n/);
    assert.match(out, /\nrag\s+Ready\s+/);
    const metrics = await op.manager.metrics.registry.metrics();
    assert.match(metrics, /nimPipeline_status_total\{status="Ready"\} 1/);
    assert.match(metrics, /nimPipeline_status_total\{status="all"\} 1/);
    const events = await c.ok(['get', 'events', '--field-selector', 'involvedObject.name=rag,involvedObject.kind=NIMPipeline', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /\bReady\b/);
  });

  test('a settled pipeline makes no writes when it is reconciled again', async () => {
    const reconciles = async () => Number(/controller_runtime_reconcile_total\{controller="nimpipeline",result="success"\} (\d+)/.exec(await op.manager.metrics.registry.metrics())?.[1] ?? 0);
    const writes0 = await writesBy(c.cp.url, 'nim-operator');
    const n0 = await reconciles();
    await c.ok(['annotate', 'nimpipeline', 'rag', 'touched=yes']);
    await eventually(async () => (await reconciles()) > n0, 'a reconcile after the annotation');
    assert.equal(await writesBy(c.cp.url, 'nim-operator'), writes0);
  });

  test('editing one entry\'s image rolls only that service\'s Deployment', async () => {
    const gen = (n: string) => deployment(n)!.metadata.generation;
    const before = { embedding: gen('rag-embedding'), reranking: gen('rag-reranking'), llm: gen('rag-llm') };
    await c.ok(['patch', 'nimpipeline', 'rag', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/services/2/spec/image/tag', value: '1.3.4' }])]);
    await eventually(() => deployment('rag-llm')!.spec.template.spec.containers[0].image === 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.4', 'the new image in the LLM Deployment');
    assert.equal(nimService('rag-llm')!.spec.image.tag, '1.3.4');
    // The dependency env survives the edit, and the NIMService controller's finalizer too.
    assert.ok((nimService('rag-llm')!.spec.env as { name: string }[]).some((e) => e.name === 'EMBEDDING_ENDPOINT'));
    assert.deepEqual(nimService('rag-llm')!.metadata.finalizers, ['finalizer.nimservice.apps.nvidia.com']);
    await c.ok(['rollout', 'status', 'deployment/rag-llm', '--timeout=60s']);
    await waitReady('rag');
    assert.ok(gen('rag-llm') > before.llm);
    assert.equal(gen('rag-embedding'), before.embedding);
    assert.equal(gen('rag-reranking'), before.reranking);
  });

  test('a field removed from an entry is removed from its NIMService; one changed by hand is put back', async () => {
    await c.ok(['patch', 'nimpipeline', 'rag', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/services/0/spec/nodeSelector', value: { 'nvidia.com/gpu.present': 'true' } }])]);
    await eventually(() => nimService('rag-embedding')!.spec.nodeSelector?.['nvidia.com/gpu.present'] === 'true', 'the nodeSelector on the NIMService');
    await c.ok(['patch', 'nimpipeline', 'rag', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/services/0/spec/nodeSelector' }])]);
    await eventually(() => nimService('rag-embedding')!.spec.nodeSelector === undefined, 'the nodeSelector gone from the NIMService');
    // A field the entry sets, changed by hand on the NIMService, is put back.
    const gen = nimService('rag-embedding')!.metadata.generation;
    await c.ok(['patch', 'nimservice', 'rag-embedding', '--type=merge', '-p', JSON.stringify({ spec: { image: { tag: '9.9.9' } } })]);
    await eventually(() => nimService('rag-embedding')!.spec.image.tag === '1.0.0' && nimService('rag-embedding')!.metadata.generation >= gen + 2, 'the image tag put back to the entry\'s');
    await waitReady('rag');
  });

  test('disabling an entry deletes its NIMService and drops it from the states', async () => {
    await c.ok(['patch', 'nimpipeline', 'rag', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/services/1/enabled', value: false }])]);
    await eventually(() => !nimService('rag-reranking') && !deployment('rag-reranking'), 'rag-reranking and its Deployment deleted', 30_000);
    await eventually(() => pipeline('rag')!.status.states['rag-reranking'] === undefined && pipeline('rag')!.status.state === 'Ready', 'states without rag-reranking');
    assert.ok(nimService('rag-embedding'));
    assert.ok(nimService('rag-llm'));
  });

  test('a NIMService of an entry\'s name that the pipeline does not own is left untouched and reported, then replaced once it is gone', async () => {
    const own = { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', metadata: { name: 'taken', namespace: NS }, spec: entry('x', 'nvcr.io/nim/nvidia/nv-embedqa-e5-v5', '1.0.0').spec };
    await apply(own);
    await eventually(() => nimService('taken')?.status?.state === 'Ready', 'the unowned NIMService Ready', 60_000);
    const rv = nimService('taken')!.metadata.resourceVersion;
    await apply({ ...RAG, metadata: { name: 'other', namespace: NS }, spec: { services: [entry('taken', 'nvcr.io/nim/nvidia/nv-rerankqa-mistral-4b-v3', '1.0.0')] } });
    const p = await eventually(() => (condition(pipeline('other'), 'Ready')?.reason === 'NIMServiceConflict' ? pipeline('other') : undefined), 'the conflict reported');
    assert.equal(p.status.state, 'NotReady');
    assert.deepEqual(p.status.states, { taken: 'NotReady' });
    assert.match(condition(p, 'Ready')!.message, /NIMService taken already exists and is not owned by NIMPipeline other/);
    const warning = await c.ok(['get', 'events', '--field-selector', 'involvedObject.name=other,involvedObject.kind=NIMPipeline,type=Warning', '-o', 'jsonpath={.items[*].message}']);
    assert.match(warning, /NIMService taken already exists/);
    const taken = nimService('taken')!;
    assert.equal(taken.metadata.resourceVersion, rv);
    assert.equal(taken.metadata.ownerReferences, undefined);
    assert.equal(taken.spec.image.repository, 'nvcr.io/nim/nvidia/nv-embedqa-e5-v5');
    // Deleting the other NIMService wakes the pipeline, which creates its own.
    await c.ok(['delete', 'nimservice', 'taken', '--wait=false']);
    await eventually(() => nimService('taken')?.metadata.ownerReferences?.[0]?.name === 'other', 'the pipeline\'s own NIMService taken', 30_000);
    await waitReady('other');
  });

  test('an entry whose NIMService the API server refuses makes the pipeline Failed, saying why', async () => {
    await apply({ ...RAG, metadata: { name: 'broken', namespace: NS }, spec: { services: [{ name: 'no-spec', enabled: true }] } });
    const p = await eventually(() => (pipeline('broken')?.status?.state === 'Failed' ? pipeline('broken') : undefined), 'the pipeline Failed');
    assert.deepEqual(p.status.states, { 'no-spec': 'Failed' });
    assert.equal(condition(p, 'Failed')?.reason, 'NIMServiceRejected');
    assert.match(condition(p, 'Failed')!.message, /NIMService no-spec was refused by the API server: .*image/);
    assert.equal(nimService('no-spec'), undefined);
    await c.ok(['delete', 'nimpipeline', 'broken', '--timeout=30s']);
  });

  test('deleting a pipeline removes its NIMServices', async () => {
    await c.ok(['delete', 'nimpipeline', 'other', '--timeout=30s']);
    await eventually(() => !nimService('taken') && !deployment('taken'), 'the NIMService of the deleted pipeline garbage-collected', 30_000);
    assert.equal(pipeline('other'), undefined);
    assert.ok(nimService('rag-llm'), 'the other pipeline\'s services stay');
  });
});
