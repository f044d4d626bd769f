/**
 * Why a NIMService is not Ready, read from its Deployment's and pods' own status: the small,
 * documented set of reasons of docs/status.md, each with a message that says what to do.
 * Pure: the reconciler passes what its caches hold.
 */
import type { Json } from '../../runtime/client/rest.js';

export interface Diagnosis {
  /** Pending: no pod has started yet (scheduling); NotReady: started, not serving. */
  state: 'Pending' | 'NotReady';
  reason: string;
  message: string;
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_ERRORS = new Set(['CreateContainerConfigError', 'CreateContainerError']);

interface ContainerProblem {
  pod: string;
  container: string;
  reason: string;
  message: string;
  image: string;
}

function containerProblems(pod: Json): ContainerProblem[] {
  const out: ContainerProblem[] = [];
  const statuses: Json[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const waiting = s.state?.waiting;
    const last = s.lastState?.terminated;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      let message = waiting.message ?? '';
      if (waiting.reason === 'CrashLoopBackOff' && last) message = `exit code ${String(last.exitCode)}${last.message ? `: ${String(last.message).trim()}` : ''}`;
      out.push({ pod: pod.metadata.name, container: s.name, reason: waiting.reason, message, image: s.image ?? '' });
    } else if (s.state?.running && s.ready === false) {
      out.push({ pod: pod.metadata.name, container: s.name, reason: 'NotReady', message: '', image: s.image ?? '' });
    }
  }
  return out;
}

function unschedulable(pod: Json): string | undefined {
  const c = (pod.status?.conditions ?? []).find((x: Json) => x.type === 'PodScheduled');
  return c && c.status === 'False' && c.reason === 'Unschedulable' ? String(c.message ?? '') : undefined;
}

/** A GPU request of the pod's containers, for messages ("asks for 2 nvidia.com/gpu"). */
function gpuRequest(pod: Json): number {
  let n = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'];
    if (q !== undefined) n += Number(q) || 0;
  }
  return n;
}

/**
 * The first cause that holds, most actionable first: image pulls, container configuration (a
 * missing Secret or ConfigMap), GPUs, other scheduling, crashes, failing probes. `undefined` when
 * the pods show nothing wrong (a rollout simply in progress).
 */
export function diagnosePods(pods: Json[]): Diagnosis | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const problems = live.flatMap(containerProblems);
  const pull = problems.find((p) => IMAGE_PULL.has(p.reason));
  if (pull) {
    return {
      state: 'NotReady',
      reason: 'ImagePullFailed',
      message: `pod ${pull.pod} cannot pull image ${pull.image} (${pull.reason}${pull.message ? `: ${pull.message}` : ''}); check spec.image and spec.image.pullSecrets`,
    };
  }
  const config = problems.find((p) => CONFIG_ERRORS.has(p.reason));
  if (config) {
    return {
      state: 'NotReady',
      reason: 'ContainerConfigError',
      message: `pod ${config.pod} cannot start container ${config.container}: ${config.message || config.reason}; create what it names (spec.authSecret, spec.env, spec.image.pullSecrets) or fix the reference`,
    };
  }
  for (const p of live) {
    const why = unschedulable(p);
    if (why === undefined) continue;
    const gpus = gpuRequest(p);
    if (/nvidia\.com\/gpu/.test(why)) {
      return {
        state: 'Pending',
        reason: 'InsufficientGPU',
        message: `pod ${String(p.metadata.name)} asks for ${gpus} nvidia.com/gpu and no node has that many free: ${why.trim()}; free GPUs, add nodes, or lower spec.resources (or pick a profile with a smaller tp)`,
      };
    }
    return { state: 'Pending', reason: 'Unschedulable', message: `pod ${String(p.metadata.name)} cannot be scheduled: ${why.trim()}; check spec.nodeSelector, spec.tolerations, spec.affinity and spec.resources` };
  }
  const crash = problems.find((p) => p.reason === 'CrashLoopBackOff' || p.reason === 'RunContainerError');
  if (crash) {
    return {
      state: 'NotReady',
      reason: 'ContainerCrashing',
      message: `container ${crash.container} of pod ${crash.pod} keeps exiting (${crash.message || crash.reason}); see kubectl logs ${crash.pod} -c ${crash.container} --previous`,
    };
  }
  const probe = problems.find((p) => p.reason === 'NotReady');
  if (probe) {
    return {
      state: 'NotReady',
      reason: 'ProbeFailing',
      message: `container ${probe.container} of pod ${probe.pod} runs but its readiness probe fails (a model still loading, or a wrong spec.readinessProbe); see kubectl logs ${probe.pod} -c ${probe.container}`,
    };
  }
  return undefined;
}

/** Deployment rollout readiness, with kubectl's rollout-status messages (§2.2.12). */
export function deploymentReadiness(d: Json | undefined, name: string): { ready: boolean; message: string; started: boolean } {
  if (!d) return { ready: false, message: `deployment "${name}" does not exist yet`, started: false };
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  if (!spec.replicas) return { ready: false, message: `deployment "${name}" is scaled down`, started: true };
  if (st.observedGeneration !== undefined && d.metadata?.generation !== undefined && st.observedGeneration < d.metadata.generation) {
    return { ready: false, message: `Waiting for deployment "${name}" spec update to be observed...`, started: true };
  }
  const progressing = (st.conditions ?? []).find((c: Json) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { ready: false, message: `deployment "${name}" exceeded its progress deadline`, started: true };
  const updated = st.updatedReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const replicas = spec.replicas as number;
  if (updated < replicas) return { ready: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`, started: (st.replicas ?? 0) > 0 };
  if ((st.replicas ?? 0) > updated) return { ready: false, message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...`, started: true };
  if (available < updated) return { ready: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`, started: true };
  return { ready: true, message: `deployment "${name}" successfully rolled out`, started: true };
}
