/** NIMCache status from its Job (inventory §2.1.6; behaviours 55, 62; Appendix A4 decided). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyJobOutcome, jobOutcome, podProblem, readyProfiles, type CacheStatus,
} from '../../../src/controllers/nimcache/status.js';
import type { Json } from '../../../src/runtime/client/rest.js';
import { v1, v2 } from './fixtures.js';

const job = (status: Json): Json => ({ metadata: { name: 'c-job' }, status });
const failedPod = (name: string, at: string, exitCode = 1, message?: string): Json => ({
  metadata: { name },
  status: { phase: 'Failed', containerStatuses: [{ name: 'nim-cache-ctr', state: { terminated: { exitCode, reason: 'Error', finishedAt: at, ...(message ? { message } : {}) } } }] },
});
const running = (name: string): Json => ({ metadata: { name }, status: { phase: 'Running' } });
const unschedulable: Json = {
  metadata: { name: 'c-job-x' },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/6 nodes are available: 6 Insufficient memory.' }] },
};
const out = (j: Json, pods: Json[] = []) => jobOutcome(j, pods, 'nim-cache-ctr', 5);

describe('the Job\'s state', () => {
  test('succeeded or Complete: Ready', () => {
    assert.deepEqual(out(job({ succeeded: 1 })), { state: 'Ready' });
    assert.deepEqual(out(job({ conditions: [{ type: 'Complete', status: 'True' }] })), { state: 'Ready' });
  });
  test('failed attempts with retries left are not Failed: InProgress while one runs, Pending while it waits (A4)', () => {
    const pods = [failedPod('a', '2026-01-01T00:00:01Z'), failedPod('b', '2026-01-01T00:00:02Z', 3, 'ERROR connection refused'), running('c')];
    assert.deepEqual(out(job({ failed: 2, active: 1 }), pods), { state: 'InProgress', detail: '2 of 6 attempts failed, the last with exit code 3: ERROR connection refused; retrying' });
    assert.deepEqual(out(job({ failed: 2 }), pods.slice(0, 2)), { state: 'Pending', detail: '2 of 6 attempts failed, the last with exit code 3: ERROR connection refused; the Job retries after a back-off' });
  });
  test('Failed only with the Job\'s Failed condition, with its reason and the last failed pod', () => {
    const pods = [failedPod('a', '2026-01-01T00:00:05Z'), failedPod('b', '2026-01-01T00:00:02Z')];
    const o = out(job({ failed: 6, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }), pods);
    assert.equal(o.state, 'Failed');
    assert.equal(o.state === 'Failed' && o.lastPod?.metadata.name, 'a');
  });
  test('a pod that cannot start makes the cache Pending and says why', () => {
    assert.deepEqual(out(job({ active: 1 }), [unschedulable]), { state: 'Pending', detail: 'pod c-job-x: Unschedulable: 0/6 nodes are available: 6 Insufficient memory.' });
    const pulling: Json = { metadata: { name: 'p' }, status: { phase: 'Pending', containerStatuses: [{ name: 'nim-cache-ctr', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] } };
    assert.equal(podProblem(pulling), 'container nim-cache-ctr: ImagePullBackOff: Back-off pulling image');
    assert.deepEqual(out(job({})), { state: 'Pending' });
  });
});

describe('applying it to the status', () => {
  const ready = { pvc: 'c-pvc', profiles: [{ name: 'p1', config: { tp: '1' } as Record<string, string> }] };

  test('Ready sets pvc and profiles once; later reconciles keep what others appended (NIMBuild)', () => {
    const s: CacheStatus = { state: 'InProgress' };
    applyJobOutcome(s, 1, { state: 'Ready' }, ready);
    assert.equal(s.state, 'Ready');
    assert.equal(s.pvc, 'c-pvc');
    assert.deepEqual(s.profiles, ready.profiles);
    const cond = s.conditions!.find((c) => c.type === 'NIM_CACHE_JOB_COMPLETED')!;
    assert.deepEqual([cond.status, cond.reason, cond.message, cond.observedGeneration], ['True', 'JobCompleted', 'The Job to cache NIM has successfully completed', 1]);
    s.profiles!.push({ name: 'built', config: { input_profile: 'p1' } });
    const before = structuredClone(s);
    applyJobOutcome(s, 1, { state: 'Ready' }, ready);
    assert.deepEqual(s, before, 'a second pass changes nothing');
  });
  test('Failed: JobFailed with the Job\'s reason, the attempts and the last failure', () => {
    const s: CacheStatus = { state: 'InProgress' };
    applyJobOutcome(s, 2, { state: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', attempts: 6 }, ready, 'exit code 1: ERROR no route');
    assert.equal(s.state, 'Failed');
    const cond = s.conditions!.find((c) => c.type === 'NIM_CACHE_JOB_COMPLETED')!;
    assert.deepEqual([cond.status, cond.reason], ['False', 'JobFailed']);
    assert.equal(cond.message, 'The Job to cache NIM has failed: BackoffLimitExceeded: Job has reached the specified backoff limit; 6 attempt(s) failed; the last with exit code 1: ERROR no route');
  });
  test('InProgress and Pending: upstream\'s NIM_CACHE_JOB_PENDING condition, with the detail after a colon', () => {
    const s: CacheStatus = {};
    applyJobOutcome(s, 1, { state: 'InProgress' }, ready);
    assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason, c.message]), [['NIM_CACHE_JOB_PENDING', 'False', 'JobRunning', 'The Job to cache NIM is in progress']]);
    applyJobOutcome(s, 1, { state: 'Pending', detail: 'x' }, ready);
    assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason, c.message]), [['NIM_CACHE_JOB_PENDING', 'True', 'JobPending', 'The Job to cache NIM is in pending state: x']]);
  });
});

describe('profiles at Ready', () => {
  test('the selected ids found in the manifest, in selection order, with model, release and tags (v1)', () => {
    const m = v1();
    const [a, b] = [m.profiles[3]!, m.profiles[1]!];
    const r = readyProfiles([a.id, 'not-in-manifest', b.id], m);
    assert.deepEqual(r.map((p) => p.name), [a.id, b.id]);
    assert.deepEqual(r[0], { name: a.id, model: 'example/llama-3.1-8b-instruct', release: '1.12.0', config: a.tags });
  });
  test('v2 has no model or release; all, nothing selected or no manifest: no profiles', () => {
    const m = v2();
    assert.deepEqual(readyProfiles([m.profiles[0]!.id], m), [{ name: m.profiles[0]!.id, config: m.profiles[0]!.tags }]);
    assert.deepEqual(readyProfiles(['all'], m), []);
    assert.deepEqual(readyProfiles(undefined, m), []);
    assert.deepEqual(readyProfiles(['x'], undefined), []);
  });
});
