/**
 * NIMCache status, decided by pure functions: the caching Job (and its pods) → state and conditions
 * (inventory §2.1.6), and the condition helpers every step uses. Wording of the reasons and of the
 * messages' first sentences is upstream's; what follows a colon is ours and says why.
 *
 * Appendix A4, decided: a Job that will still retry is not Failed. The cache is Failed only when
 * the Job itself has the `Failed` condition (its backoffLimit is used up, or its deadline passed);
 * while it retries the state is InProgress (an attempt runs) or Pending (waiting to retry) and the
 * condition message counts the failed attempts and quotes the last failure.
 */
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import type { NIMProfile } from '../../api/v1alpha1/common.js';
import type { NimManifest } from '../../nim/manifest.js';
import type { Json } from '../../runtime/client/rest.js';
import { setCondition } from '../../runtime/status.js';

export type CacheStatus = NonNullable<NIMCache['status']>;

export const COND_PVC_CREATED = 'NIM_CACHE_PVC_CREATED';
export const COND_JOB_CREATED = 'NIM_CACHE_JOB_CREATED';
export const COND_JOB_PENDING = 'NIM_CACHE_JOB_PENDING';
export const COND_JOB_COMPLETED = 'NIM_CACHE_JOB_COMPLETED';
export const COND_RECONCILE_FAILED = 'NIM_CACHE_RECONCILE_FAILED';

export type CacheState = 'NotReady' | 'PVC-Created' | 'Started' | 'InProgress' | 'Pending' | 'Ready' | 'Failed';

/** Sets a condition on a status being built (transition time kept unless the status flips). */
export function condition(status: CacheStatus, generation: number | undefined, type: string, value: 'True' | 'False', reason: string, message: string): void {
  status.conditions = setCondition(status.conditions as never, { type, status: value, reason, message }, generation) as CacheStatus['conditions'];
}

const terminal = (p: Json) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const jobCondition = (job: Json, type: string): Json | undefined =>
  ((job.status?.conditions ?? []) as Json[]).find((c) => c.type === type && c.status === 'True');

/** Why a pod that should run does not: an image it cannot pull, a missing Secret, no node that fits. */
export function podProblem(pod: Json): string | undefined {
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as Json[]) {
    const w = cs.state?.waiting;
    if (w && ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff'].includes(w.reason)) {
      return `container ${cs.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    }
  }
  const sched = ((pod.status?.conditions ?? []) as Json[]).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return `${sched.reason ?? 'Unschedulable'}: ${sched.message ?? ''}`.replace(/: $/, '');
  return undefined;
}

/** How a finished pod's main container ended: exit code, reason and its termination message. */
export function podFailure(pod: Json, container: string): { exitCode?: number; reason?: string; message?: string } {
  const cs = ((pod.status?.containerStatuses ?? []) as Json[]).find((c) => c.name === container);
  const t = cs?.state?.terminated ?? cs?.lastState?.terminated;
  if (!t) return pod.status?.reason ? { reason: pod.status.reason, message: pod.status.message } : {};
  const out: { exitCode?: number; reason?: string; message?: string } = { exitCode: t.exitCode };
  if (t.reason) out.reason = t.reason;
  if (typeof t.message === 'string' && t.message.trim()) out.message = t.message.trim();
  return out;
}

const finishedAt = (p: Json) => Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? p.metadata?.creationTimestamp ?? '') || 0;

/** The most recent failed pod of a Job. */
export function lastFailedPod(pods: Json[]): Json | undefined {
  return pods.filter((p) => p.status?.phase === 'Failed').sort((a, b) => finishedAt(b) - finishedAt(a) || String(b.metadata?.name).localeCompare(String(a.metadata?.name)))[0];
}

/** "exit code 1: <message>" for a failed attempt. */
export function describeFailure(f: { exitCode?: number; reason?: string; message?: string }, log?: string): string {
  const what = f.exitCode !== undefined ? `exit code ${f.exitCode}` : (f.reason ?? 'failed');
  const text = (f.message ?? log ?? '').trim().split('\n').filter(Boolean).slice(-3).join(' / ');
  return text ? `${what}: ${text}` : what;
}

export type JobOutcome =
  | { state: 'Ready' }
  | { state: 'Failed'; reason: string; message: string; attempts: number; lastPod?: Json }
  | { state: 'InProgress' | 'Pending'; detail?: string };

/** What the Job says, first matching case: complete, failed for good, an attempt running, waiting. */
export function jobOutcome(job: Json, pods: Json[], container: string, backoffLimit: number): JobOutcome {
  const st = job.status ?? {};
  if ((st.succeeded ?? 0) > 0 || jobCondition(job, 'Complete')) return { state: 'Ready' };
  const attempts: number = st.failed ?? 0;
  const failed = jobCondition(job, 'Failed');
  if (failed) {
    const out: JobOutcome = { state: 'Failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '', attempts };
    const last = lastFailedPod(pods);
    if (last) out.lastPod = last;
    return out;
  }
  const last = lastFailedPod(pods);
  const retry = attempts > 0
    ? `${attempts} of ${backoffLimit + 1} attempts failed, the last with ${describeFailure(last ? podFailure(last, container) : {})}`
    : undefined;
  const active = pods.filter((p) => !terminal(p) && !p.metadata?.deletionTimestamp);
  if ((st.active ?? 0) > 0 && (active.length === 0 || active.some((p) => p.status?.phase === 'Running'))) {
    return retry ? { state: 'InProgress', detail: `${retry}; retrying` } : { state: 'InProgress' };
  }
  const problem = active.map((p) => podProblem(p)).find(Boolean);
  const detail = [retry ? `${retry}; the Job retries after a back-off` : undefined, problem ? `pod ${active[0]?.metadata?.name}: ${problem}` : undefined]
    .filter(Boolean)
    .join('; ');
  return detail ? { state: 'Pending', detail } : { state: 'Pending' };
}

/** Status profiles at Ready: the selected ids found in the manifest, in the order selected (none for `all`). */
export function readyProfiles(selected: string[] | undefined, manifest: NimManifest | undefined): NIMProfile[] {
  if (!selected?.length || selected.includes('all') || !manifest) return [];
  const out: NIMProfile[] = [];
  for (const id of selected) {
    const p = manifest.profiles.find((x) => x.id === id);
    if (!p) continue;
    const entry: NIMProfile = { name: p.id };
    if (p.model) entry.model = p.model;
    if (p.release) entry.release = p.release;
    entry.config = { ...p.tags };
    out.push(entry);
  }
  return out;
}

/**
 * Applies a Job outcome to the status. `failureText` is the quoted failure of the last attempt (for
 * Failed); `profiles` the Ready profiles. Ready stays Ready: once the Job succeeded nothing undoes it.
 */
export function applyJobOutcome(
  status: CacheStatus,
  generation: number | undefined,
  o: JobOutcome,
  ready: { pvc: string; profiles: NIMProfile[] },
  failureText?: string,
): void {
  switch (o.state) {
    case 'Ready':
      if (status.state !== 'Ready') {
        status.pvc = ready.pvc;
        if (ready.profiles.length) status.profiles = ready.profiles;
        else delete status.profiles;
      }
      status.state = 'Ready';
      condition(status, generation, COND_JOB_COMPLETED, 'True', 'JobCompleted', 'The Job to cache NIM has successfully completed');
      return;
    case 'Failed': {
      if (status.state === 'Failed') return;
      const parts = [`${o.reason}: ${o.message}`.replace(/: $/, ''), `${o.attempts} attempt(s) failed`];
      if (failureText) parts.push(`the last with ${failureText}`);
      status.state = 'Failed';
      delete status.profiles;
      condition(status, generation, COND_JOB_COMPLETED, 'False', 'JobFailed', `The Job to cache NIM has failed: ${parts.join('; ')}`);
      return;
    }
    case 'InProgress':
      status.state = 'InProgress';
      delete status.profiles;
      condition(status, generation, COND_JOB_PENDING, 'False', 'JobRunning', `The Job to cache NIM is in progress${o.detail ? `: ${o.detail}` : ''}`);
      return;
    case 'Pending':
      status.state = 'Pending';
      delete status.profiles;
      condition(status, generation, COND_JOB_PENDING, 'True', 'JobPending', `The Job to cache NIM is in pending state${o.detail ? `: ${o.detail}` : ''}`);
  }
}
