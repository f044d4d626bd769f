/** The NIMServices a NIMPipeline renders, and its status (inventory §1.3, §2.3, §6 behaviours 77–78). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NIMPipeline } from '../../../src/api/v1alpha1/kinds.js';
import { dependencyEnv, ownedByPipeline, renderPipeline, renderPipelineServices } from '../../../src/render/nimpipeline/index.js';
import { computeOutcome, nextPipelineStatus } from '../../../src/controllers/nimpipeline/status.js';

const IMAGE = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' };
const pipeline = (services: NonNullable<NIMPipeline['spec']['services']>): NIMPipeline => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMPipeline',
  metadata: { name: 'rag', namespace: 'team', uid: 'uid-rag', generation: 1 },
  spec: { services },
});
const spec = (extra: Record<string, unknown> = {}) => ({ image: IMAGE, authSecret: 'ngc', ...extra }) as never;

describe('renderPipelineServices', () => {
  test('one NIMService per enabled entry, named after it, in the pipeline\'s namespace, controlled by the pipeline; no labels (as upstream)', () => {
    const out = renderPipelineServices(pipeline([
      { name: 'a', enabled: true, spec: spec() },
      { name: 'b', spec: spec() },
      { name: 'c', enabled: false, spec: spec() },
    ]));
    assert.deepEqual(out.map((s) => s.metadata.name), ['a']);
    const a = out[0]!;
    assert.equal(a.apiVersion, 'apps.nvidia.com/v1alpha1');
    assert.equal(a.kind, 'NIMService');
    assert.equal(a.metadata.namespace, 'team');
    assert.deepEqual(a.metadata.ownerReferences, [{ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMPipeline', name: 'rag', uid: 'uid-rag', controller: true, blockOwnerDeletion: true }]);
    assert.equal(a.metadata.labels, undefined);
    assert.match(a.metadata.annotations!['nvidia.com/last-applied-hash']!, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(a.spec.image, IMAGE);
    assert.ok(ownedByPipeline(a, pipeline([])));
  });

  test('dependencies with envName and envValue become env on the dependent service, the dependency winning over spec.env (behaviour 77)', () => {
    const [a] = renderPipelineServices(pipeline([
      {
        name: 'a',
        enabled: true,
        spec: spec({ env: [{ name: 'KEEP', value: '1' }, { name: 'B_URL', value: 'old' }] }),
        dependencies: [
          { name: 'b', port: 8000, envName: 'B_URL', envValue: 'http://b:8000' },
          { name: 'c', port: 9000, envName: 'C_URL', envValue: 'http://c:9000/v1' },
          { name: 'd', port: 8000, envName: 'D_URL' },
          { name: 'e', port: 8000 },
        ],
      },
    ]));
    assert.deepEqual(a!.spec.env, [
      { name: 'KEEP', value: '1' },
      { name: 'B_URL', value: 'http://b:8000' },
      { name: 'C_URL', value: 'http://c:9000/v1' },
    ]);
    assert.deepEqual(dependencyEnv([{ name: 'x', port: 1, envValue: 'v' }]), []);
  });

  test('the pipeline\'s own spec is not modified, and a service without dependencies keeps its env as written', () => {
    const p = pipeline([{ name: 'a', enabled: true, spec: spec({ env: [{ name: 'X', value: '1' }] }), dependencies: [{ name: 'b', port: 1, envName: 'B', envValue: 'b' }] }]);
    const [a] = renderPipelineServices(p);
    assert.equal(a!.spec.env!.length, 2);
    assert.equal(p.spec.services![0]!.spec!.env!.length, 1);
    const [b] = renderPipelineServices(pipeline([{ name: 'b', enabled: true, spec: spec() }]));
    assert.equal(b!.spec.env, undefined);
  });

  test('the hash changes with the spec and only with it', () => {
    const h = (tag: string) => renderPipelineServices(pipeline([{ name: 'a', enabled: true, spec: spec({ image: { ...IMAGE, tag } }) }]))[0]!.metadata.annotations!['nvidia.com/last-applied-hash'];
    assert.equal(h('1'), h('1'));
    assert.notEqual(h('1'), h('2'));
  });

  test('an enabled entry without a name, or repeating a name, renders nothing and is reported', () => {
    const r = renderPipeline(pipeline([
      { enabled: true, spec: spec() },
      { name: 'a', enabled: true, spec: spec() },
      { name: 'a', enabled: true, spec: spec({ replicas: 2 }) },
      { name: 'a', enabled: false },
    ]));
    assert.deepEqual(r.services.map((s) => s.metadata.name), ['a']);
    assert.equal(r.services[0]!.spec.replicas, undefined);
    assert.deepEqual(r.enabled, ['a']);
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0]!.message, /spec\.services\[0\]\.name is empty/);
    assert.match(r.problems[1]!.message, /spec\.services\[2\]\.name a repeats spec\.services\[1\]/);
  });

  test('ownership is by the pipeline\'s uid, as controller', () => {
    const p = pipeline([]);
    const ref = { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMPipeline', name: 'rag', uid: 'uid-rag', controller: true };
    assert.ok(ownedByPipeline({ metadata: { ownerReferences: [ref] } }, p));
    assert.ok(!ownedByPipeline({ metadata: { ownerReferences: [{ ...ref, uid: 'other' }] } }, p));
    assert.ok(!ownedByPipeline({ metadata: { ownerReferences: [{ ...ref, controller: false }] } }, p));
    assert.ok(!ownedByPipeline({ metadata: {} }, p));
  });
});

describe('NIMPipeline status', () => {
  const owned = (state?: string) => ({ kind: 'owned' as const, state });
  test('Ready only when every enabled service is Ready', () => {
    const o = computeOutcome({ name: 'rag', services: [{ name: 'a', finding: owned('Ready') }, { name: 'b', finding: owned('Ready') }], problems: [] });
    assert.equal(o.state, 'Ready');
    assert.deepEqual(o.states, { a: 'Ready', b: 'Ready' });
    assert.equal(o.reason, 'Ready');
    assert.equal(computeOutcome({ name: 'rag', services: [], problems: [] }).state, 'Ready');
  });
  test('NotReady while any is not Ready; a service not created yet or without a state counts as NotReady', () => {
    const o = computeOutcome({ name: 'rag', services: [{ name: 'a', finding: owned('Ready') }, { name: 'b', finding: owned('Pending') }, { name: 'c', finding: { kind: 'missing' } }, { name: 'd', finding: owned(undefined) }], problems: [] });
    assert.equal(o.state, 'NotReady');
    assert.deepEqual(o.states, { a: 'Ready', b: 'Pending', c: 'NotReady', d: 'NotReady' });
    assert.equal(o.reason, 'NotReady');
    assert.match(o.message, /waiting for b \(Pending\), c \(NotReady\), d \(NotReady\)/);
    assert.equal(o.warning, false);
  });
  test('Failed when any service failed, or was refused, or an entry is invalid', () => {
    assert.equal(computeOutcome({ name: 'p', services: [{ name: 'a', finding: owned('Failed') }, { name: 'b', finding: owned('NotReady') }], problems: [] }).state, 'Failed');
    const r = computeOutcome({ name: 'p', services: [{ name: 'a', finding: { kind: 'rejected', message: 'spec.image: Required value' } }], problems: [] });
    assert.deepEqual([r.state, r.reason, r.states.a], ['Failed', 'NIMServiceRejected', 'Failed']);
    assert.match(r.message, /NIMService a was refused by the API server: spec\.image: Required value/);
    const i = computeOutcome({ name: 'p', services: [{ name: 'a', finding: owned('Ready') }], problems: ['spec.services[1].name is empty'] });
    assert.deepEqual([i.state, i.reason], ['Failed', 'InvalidSpec']);
  });
  test('a NIMService of an entry\'s name that the pipeline does not own is NotReady, named in the message, with a warning', () => {
    const o = computeOutcome({ name: 'rag', services: [{ name: 'a', finding: { kind: 'conflict' } }], problems: [] });
    assert.deepEqual([o.state, o.reason, o.states.a, o.warning], ['NotReady', 'NIMServiceConflict', 'NotReady', true]);
    assert.match(o.message, /NIMService a already exists and is not owned by NIMPipeline rag/);
  });
  test('the conditions keep their transition time while their status holds, and carry the generation', () => {
    const o = computeOutcome({ name: 'rag', services: [{ name: 'a', finding: owned('Pending') }], problems: [] });
    const s1 = nextPipelineStatus(undefined, o, 3);
    const ready = s1.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.observedGeneration], ['False', 'NotReady', 3]);
    const again = nextPipelineStatus(s1, o, 3);
    assert.deepEqual(again, s1);
    assert.equal(s1.conditions.find((c: { type: string }) => c.type === 'Failed').status, 'False');
  });
});
