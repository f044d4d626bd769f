/** NIMBuild decisions (inventory §2.4; behaviours 80–82a, Appendix A2): the cache gate, the profile choice, the pod outcome, the built profile. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NIMProfile } from '../../../src/api/v1alpha1/common.js';
import type { NIMCache } from '../../../src/api/v1alpha1/kinds.js';
import {
  COND_CACHE_FAILED, COND_CACHE_NOT_FOUND, COND_MULTIPLE, COND_NONE, COND_WAIT_FOR_CACHE, cacheGate, chooseInputProfile, enginePodOutcome, findOutputProfile,
  withBuiltProfile, type BuildStatus,
} from '../../../src/controllers/nimbuild/status.js';
import { parseManifest } from '../../../src/nim/manifest.js';
import { ngcCache } from '../../unit/nim/cache-fixtures.js';

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

const profile = (name: string, tags: Record<string, string>): NIMProfile => ({ name, model: 'meta/x', release: '1.0', config: tags });
const B1 = profile('b1', { llm_engine: 'tensorrt_llm', precision: 'bf16', tp: '1', trtllm_buildable: 'true' });
const B2 = profile('b2', { llm_engine: 'tensorrt_llm', precision: 'fp8', tp: '1', trtllm_buildable: 'true' });
const E1 = profile('e1', { llm_engine: 'tensorrt_llm', precision: 'bf16', tp: '1', gpu: 'H100' });

function cache(profiles: NIMProfile[], state = 'Ready', patch: Partial<NIMCache['spec']> = {}): NIMCache {
  return { ...ngcCache(patch), status: { state, pvc: 'llama-pvc', profiles } };
}

const cond = (s: BuildStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('waiting for the cache (behaviour 82a, Appendix A2)', () => {
  test('missing or not Ready: Pending, with a valid reason; Failed cache: Failed, quoting it', () => {
    const s: BuildStatus = {};
    assert.equal(cacheGate(s, 1, 'llama', undefined), undefined);
    assert.equal(s.state, 'Pending');
    assert.equal(cond(s, COND_CACHE_NOT_FOUND)?.reason, 'NIMCacheNotFound');
    assert.equal(cacheGate(s, 1, 'llama', cache([], 'InProgress')), undefined);
    assert.equal(s.state, 'Pending');
    assert.deepEqual([cond(s, COND_CACHE_NOT_FOUND)?.status, cond(s, COND_WAIT_FOR_CACHE)?.status], ['False', 'True']);
    assert.match(cond(s, COND_WAIT_FOR_CACHE)!.message, /NIMCache llama is InProgress$/);
    const failed = cache([], 'Failed');
    failed.status!.conditions = [{ type: 'NIM_CACHE_JOB_COMPLETED', status: 'False', reason: 'JobFailed', message: 'The Job to cache NIM has failed: BackoffLimitExceeded', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    assert.equal(cacheGate(s, 1, 'llama', failed), undefined);
    assert.equal(s.state, 'Failed');
    assert.match(cond(s, COND_CACHE_FAILED)!.message, /^NIMCache is failed\. NIMBuild can not progress: NIMCache llama: The Job to cache NIM has failed: BackoffLimitExceeded$/);
    const ready = cache([B1]);
    assert.equal(cacheGate(s, 1, 'llama', ready), ready);
    assert.deepEqual([cond(s, COND_CACHE_FAILED)?.status, cond(s, COND_WAIT_FOR_CACHE)?.status], ['False', 'False']);
    for (const c of s.conditions!) assert.match(c.reason, REASON, c.type);
  });
  test('a Ready cache adds no condition to a fresh status', () => {
    const s: BuildStatus = {};
    cacheGate(s, 1, 'llama', cache([B1]));
    assert.equal(s.conditions, undefined);
  });
});

describe('choosing the profile to build (behaviours 80, 82)', () => {
  test('the only buildable profile, when none is named', () => {
    const c = chooseInputProfile(cache([E1, B1]), undefined);
    assert.ok('profile' in c);
    assert.deepEqual(c.profile, B1);
    assert.match(c.message, /^Single buildable profile cached in NIM Cache: b1 \(tensorrt_llm, bf16, tp1\)$/);
  });
  test('several buildable profiles and none named: refused, naming them and the field', () => {
    const c = chooseInputProfile(cache([B1, B2]), undefined);
    assert.ok('refused' in c);
    assert.equal(c.refused, COND_MULTIPLE);
    assert.equal(c.reason, 'MultipleBuildableProfilesFound');
    assert.match(c.message, /^Multiple buildable profiles found in NIM Cache, please select one profile to build: NIMCache llama holds b1 .*; b2 .*; name one in spec\.nimCache\.profile/);
  });
  test('the named one, if it is there and buildable', () => {
    const c = chooseInputProfile(cache([B1, B2]), 'b2');
    assert.ok('profile' in c && c.profile.name === 'b2');
    const missing = chooseInputProfile(cache([B1]), 'zz');
    assert.ok('refused' in missing && missing.refused === COND_NONE);
    assert.match(missing.message, /profile zz is not in NIMCache llama's status\.profiles \(its buildable profiles: b1 /);
    const notBuildable = chooseInputProfile(cache([B1, E1]), 'e1');
    assert.ok('refused' in notBuildable);
    assert.match(notBuildable.message, /profile e1 of NIMCache llama is not buildable/);
  });
  test('no buildable profile: refused, saying how to cache one', () => {
    const c = chooseInputProfile(cache([E1]), undefined);
    assert.ok('refused' in c);
    assert.equal(c.reason, 'NoBuildableProfilesFound');
    assert.match(c.message, /^No buildable profiles found for NIM Cache: NIMCache llama holds no profile tagged trtllm_buildable: "true" \(it holds e1 .*\); cache one with spec\.source\.ngc\.model\.buildable: true/);
    const all = chooseInputProfile(cache([], 'Ready', { source: { ngc: { authSecret: 'a', modelPuller: 'p', model: { profiles: ['all'] } } } }), undefined);
    assert.ok('refused' in all);
    assert.match(all.message, /lists no profiles in status\.profiles \(a cache of model\.profiles: \[all\] lists none\)/);
    const universal = chooseInputProfile(cache([], 'Ready', { source: { ngc: { authSecret: 'a', modelPuller: 'p', modelEndpoint: 'ngc://org/m' } } }), undefined);
    assert.ok('refused' in universal);
    assert.match(universal.message, /downloads from a multi-model NIM/);
  });
  test('the buildable tag is compared case-insensitively', () => {
    const upper = profile('u', { trtllm_buildable: 'True', tp: '1' });
    assert.ok('profile' in chooseInputProfile(cache([upper]), undefined));
  });
});

describe('the engine build pod', () => {
  test('Ready: built; Failed or exited: failed; blocked: why; else running', () => {
    assert.equal(enginePodOutcome({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }).state, 'Ready');
    assert.equal(enginePodOutcome({ status: { phase: 'Failed' } }).state, 'Failed');
    assert.equal(enginePodOutcome({ status: { phase: 'Succeeded' } }).state, 'Failed');
    const blocked = enginePodOutcome({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/6 nodes are available' }] } });
    assert.deepEqual(blocked, { state: 'Pending', problem: 'Unschedulable: 0/6 nodes are available' });
    assert.equal(enginePodOutcome({ status: { phase: 'Running' } }).state, 'Running');
  });
});

describe('the built profile (behaviour 81)', () => {
  const manifest = parseManifest(
    [
      'aaa:', '  model: meta/x', '  release: "1.0"', '  tags:', '    model_name: other', '    tp: "1"',
      'bbb:', '  model: meta/x', '  release: "1.0"', '  tags:', '    model_name: mine', '    gpu: H100', '    tp: "2"', '    trtllm_buildable: "false"',
    ].join('\n'),
  );
  test('found by its model_name tag, with input_profile added', () => {
    assert.deepEqual(findOutputProfile(manifest, 'mine', 'b1'), {
      name: 'bbb',
      model: 'meta/x',
      release: '1.0',
      config: { model_name: 'mine', gpu: 'H100', tp: '2', trtllm_buildable: 'false', input_profile: 'b1' },
    });
    assert.equal(findOutputProfile(manifest, 'nobody', 'b1'), undefined);
  });
  test('appended to the cache\'s profiles once', () => {
    const built = findOutputProfile(manifest, 'mine', 'b1')!;
    const c = cache([B1]);
    const next = withBuiltProfile(c, built)!;
    assert.deepEqual(next.map((p) => p.name), ['b1', 'bbb']);
    assert.deepEqual(c.status!.profiles!.map((p) => p.name), ['b1'], 'the cache object is not changed');
    c.status!.profiles = next;
    assert.equal(withBuiltProfile(c, built), undefined);
  });
});
