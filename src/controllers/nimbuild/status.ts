/**
 * NIMBuild status, decided by pure functions (inventory §2.4): whether the cache lets the build
 * start, which profile to build from, what the build pod says, and the profile the build produced.
 * Condition types and the first sentence of each message are upstream's; every reason is a valid
 * condition reason (Appendix A2: upstream's cache reasons contain spaces and their writes fail),
 * and what follows a colon says why and what to do.
 */
import type { NIMProfile } from '../../api/v1alpha1/common.js';
import type { NIMBuild, NIMCache } from '../../api/v1alpha1/kinds.js';
import type { NimManifest } from '../../nim/manifest.js';
import { isOptimizedNIM } from '../../nim/source.js';
import { INPUT_PROFILE_TAG, MODEL_NAME_TAG, isBuildable } from '../../render/nimbuild/index.js';
import type { Json } from '../../runtime/client/rest.js';
import { getCondition, setCondition } from '../../runtime/status.js';
import { podProblem } from '../nimcache/status.js';

export type BuildStatus = NonNullable<NIMBuild['status']>;
export type BuildState = 'Pending' | 'InProgress' | 'Ready' | 'Failed';

export const COND_WAIT_FOR_CACHE = 'NIM_BUILD_WAIT_FOR_NIM_CACHE_READY';
export const COND_RECONCILE_FAILED = 'NIM_BUILD_RECONCILE_FAILED';
export const COND_MULTIPLE = 'NIM_BUILD_MULTIPLE_BUILDABLE_PROFILES_FOUND';
export const COND_SINGLE = 'NIM_BUILD_SINGLE_BUILDABLE_PROFILE_FOUND';
export const COND_NONE = 'NIM_BUILD_NO_BUILDABLE_PROFILE_FOUND';
export const COND_POD_CREATED = 'NIM_BUILD_ENGINE_BUILD_POD_CREATED';
export const COND_POD_COMPLETED = 'NIM_BUILD_ENGINE_BUILD_POD_COMPLETED';
export const COND_POD_PENDING = 'NIM_BUILD_ENGINE_BUILD_POD_PENDING';
export const COND_MANIFEST_COMPLETED = 'NIM_BUILD_MODEL_MANIFEST_POD_COMPLETED';
export const COND_CACHE_NOT_FOUND = 'NIM_BUILD_NIM_CACHE_NOT_FOUND';
export const COND_CACHE_FAILED = 'NIM_BUILD_NIM_CACHE_FAILED';

/** Sets a condition on a status being built (transition time kept unless the status flips). */
export function condition(status: BuildStatus, generation: number | undefined, type: string, value: 'True' | 'False', reason: string, message: string): void {
  status.conditions = setCondition(status.conditions as never, { type, status: value, reason, message }, generation) as BuildStatus['conditions'];
}

/** Sets a condition to False only when it is there (a resolved problem stops saying True). */
export function clearCondition(status: BuildStatus, generation: number | undefined, type: string, reason: string, message: string): void {
  if (getCondition(status.conditions as never, type)) condition(status, generation, type, 'False', reason, message);
}

export const isTrue = (status: BuildStatus, type: string) => getCondition(status.conditions as never, type)?.status === 'True';

/**
 * Whether the cache lets the build go on; sets the cache conditions and, when it does not, the
 * state: `Pending` while the cache is missing or not Ready (upstream: `Failed`), `Failed` while the
 * cache is Failed. A later change of the cache wakes the build. Returns the cache when Ready.
 */
export function cacheGate(status: BuildStatus, generation: number | undefined, name: string, cache: NIMCache | undefined): NIMCache | undefined {
  if (!cache || cache.metadata.deletionTimestamp) {
    const why = cache ? `NIMCache ${name} is being deleted` : `NIMCache ${name} does not exist in this namespace`;
    condition(status, generation, COND_CACHE_NOT_FOUND, 'True', 'NIMCacheNotFound', `Not able to get NIMCache for NIMBuild: ${why}; the build starts once it exists and is Ready`);
    status.state = 'Pending';
    return undefined;
  }
  clearCondition(status, generation, COND_CACHE_NOT_FOUND, 'NIMCacheFound', `NIMCache ${name} exists`);
  const state = cache.status?.state;
  if (state === 'Failed') {
    const cause = getCondition(cache.status?.conditions as never, 'NIM_CACHE_JOB_COMPLETED')?.message;
    condition(status, generation, COND_CACHE_FAILED, 'True', 'NIMCacheFailed', `NIMCache is failed. NIMBuild can not progress: NIMCache ${name}${cause ? `: ${cause}` : ' is Failed'}`);
    status.state = 'Failed';
    return undefined;
  }
  clearCondition(status, generation, COND_CACHE_FAILED, 'NIMCacheNotFailed', `NIMCache ${name} is not Failed`);
  if (state !== 'Ready') {
    condition(status, generation, COND_WAIT_FOR_CACHE, 'True', 'NIMCacheNotReady', `Waiting for NIMCache to be ready before building engines: NIMCache ${name} is ${state || 'not reconciled yet'}`);
    status.state = 'Pending';
    return undefined;
  }
  clearCondition(status, generation, COND_WAIT_FOR_CACHE, 'NIMCacheReady', `NIMCache ${name} is Ready`);
  return cache;
}

export type ProfileChoice =
  | { profile: NIMProfile; message: string }
  | { refused: typeof COND_NONE | typeof COND_MULTIPLE; reason: string; message: string };

const describe = (p: NIMProfile) => {
  const t = p.config ?? {};
  const tags = [t.llm_engine, t.precision, t.tp ? `tp${t.tp}` : undefined, t.gpu].filter(Boolean).join(', ');
  return tags ? `${p.name} (${tags})` : `${p.name}`;
};
const RECREATE = 'delete and re-create the NIMBuild (its spec cannot be changed)';

/**
 * The profile to build from, among the cache's `status.profiles` tagged `trtllm_buildable: "true"`:
 * the one `spec.nimCache.profile` names, or the only one there is. A refusal names the fix.
 */
export function chooseInputProfile(cache: NIMCache, wanted: string | undefined): ProfileChoice {
  const name = cache.metadata.name;
  const profiles = cache.status?.profiles ?? [];
  const buildable = profiles.filter(isBuildable);
  const none = (why: string) => ({ refused: COND_NONE, reason: 'NoBuildableProfilesFound', message: why }) as const;
  if (wanted) {
    const p = profiles.find((x) => x.name === wanted);
    const others = buildable.length ? `its buildable profiles: ${buildable.map(describe).join('; ')}` : 'it lists no buildable profile';
    if (!p) return none(`No buildable profiles found for NIM Cache, please select a valid profile from the NIM cache: profile ${wanted} is not in NIMCache ${name}'s status.profiles (${others}); ${RECREATE}`);
    if (!isBuildable(p)) return none(`No buildable profiles found for NIM Cache, please select a valid profile from the NIM cache: profile ${wanted} of NIMCache ${name} is not buildable (its tag trtllm_buildable is "${p.config?.trtllm_buildable ?? ''}"; ${others}); ${RECREATE}`);
    return { profile: structuredClone(p), message: `Single buildable profile found: ${describe(p)}` };
  }
  if (buildable.length === 1) return { profile: structuredClone(buildable[0]!), message: `Single buildable profile cached in NIM Cache: ${describe(buildable[0]!)}` };
  if (buildable.length > 1) {
    return {
      refused: COND_MULTIPLE,
      reason: 'MultipleBuildableProfilesFound',
      message: `Multiple buildable profiles found in NIM Cache, please select one profile to build: NIMCache ${name} holds ${buildable.map(describe).join('; ')}; name one in spec.nimCache.profile (${RECREATE})`,
    };
  }
  return none(`No buildable profiles found for NIM Cache: ${whyNoBuildable(cache)}`);
}

/** Why a cache lists no buildable profile, and how to get one. */
function whyNoBuildable(cache: NIMCache): string {
  const name = cache.metadata.name;
  const fix = 'cache one with spec.source.ngc.model.buildable: true (or name a buildable profile in spec.source.ngc.model.profiles) and point spec.nimCache.name at that NIMCache';
  if (!isOptimizedNIM(cache.spec)) {
    const what = cache.spec.source?.ngc ? 'a multi-model NIM (spec.source.ngc.modelEndpoint)' : 'Hugging Face or NeMo Data Store';
    return `NIMCache ${name} downloads from ${what}, which has no engine profiles to build from; engines are built from an NGC NIM cache of engine profiles: ${fix}`;
  }
  if (cache.status?.type === 'native') return `NIMCache ${name} was downloaded with the image's native protocol and lists no profiles in its status; ${fix}`;
  const listed = cache.status?.profiles ?? [];
  if (listed.length === 0) {
    return `NIMCache ${name} lists no profiles in status.profiles (a cache of model.profiles: [all] lists none); ${fix}`;
  }
  return `NIMCache ${name} holds no profile tagged trtllm_buildable: "true" (it holds ${listed.map(describe).join('; ')}); ${fix}`;
}

export type PodOutcome =
  | { state: 'Ready' }
  | { state: 'Failed' }
  | { state: 'Running' }
  | { state: 'Pending'; problem: string };

/** What the engine build pod says: Ready (built), Failed (or exited before serving), blocked, or at work. */
export function enginePodOutcome(pod: Json): PodOutcome {
  const ready = ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready) return { state: 'Ready' };
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return { state: 'Failed' };
  const problem = podProblem(pod);
  return problem ? { state: 'Pending', problem } : { state: 'Running' };
}

/**
 * The profile a build produced, found in the local manifest by its `model_name` tag: `{name, model,
 * release, config}` with the tag `input_profile` added (as upstream, in the build's status too).
 */
export function findOutputProfile(manifest: NimManifest, model: string, inputName: string): NIMProfile | undefined {
  const p = manifest.profiles.find((x) => x.tags[MODEL_NAME_TAG] === model);
  if (!p) return undefined;
  const out: NIMProfile = { name: p.id };
  if (p.model) out.model = p.model;
  if (p.release) out.release = p.release;
  out.config = { ...p.tags, [INPUT_PROFILE_TAG]: inputName };
  return out;
}

/** The cache's profiles with `built` appended, or undefined when a profile of that name is there already. */
export function withBuiltProfile(cache: NIMCache, built: NIMProfile): NIMProfile[] | undefined {
  const profiles = cache.status?.profiles ?? [];
  if (profiles.some((p) => p.name === built.name)) return undefined;
  return [...profiles.map((p) => structuredClone(p)), structuredClone(built)];
}
