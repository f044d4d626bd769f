/**
 * The Job controller: pods up to `parallelism` until `completions` succeed; a failed pod is replaced
 * after a back-off until more than `backoffLimit` have failed, then the Job fails
 * (FailureTarget and Failed, reason BackoffLimitExceeded); success adds SuccessCriteriaMet and
 * Complete. activeDeadlineSeconds, suspend, Indexed completion and ttlSecondsAfterFinished are
 * honoured.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { JOB, POD, controllerOf, nowRFC3339, randomSuffix, setCondition, splitKey, type Controller, type Engine } from './engine.js';
import { isDeleting, isReady, isTerminal, ownedPods, podFromTemplate } from './pods.js';

const MANAGER = 'kube-controller-manager';
const INDEX = 'batch.kubernetes.io/job-completion-index';

function finished(job: Obj): Obj | undefined {
  return ((job.status?.conditions ?? []) as Obj[]).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class Jobs implements Controller {
  readonly name = 'jobs';

  constructor(
    private readonly e: Engine,
    private readonly backoffMs: number,
  ) {}

  *initialKeys(): Iterable<string> {
    for (const j of this.e.list(JOB)) yield `${j.metadata.namespace}/${j.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === JOB) yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    else if (ev.resource === POD) {
      const ref = controllerOf(ev.object);
      if (ref?.kind === 'Job') yield `${ev.object.metadata.namespace}/${ref.name}`;
    }
  }

  reconcile(key: string): number | void {
    const [ns, name] = splitKey(key);
    const job = this.e.get(JOB, ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const now = Date.now();
    const done = finished(job);
    if (done) return this.ttl(job, done, now);
    const spec: Obj = job.spec ?? {};
    const pods = ownedPods(this.e.list(POD, ns), job);
    const status: Obj = structuredClone(job.status ?? {});
    let conditions: Obj[] = status.conditions ?? [];
    const active = pods.filter((p) => !isTerminal(p) && !isDeleting(p));
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const onFailure = spec.template?.spec?.restartPolicy === 'OnFailure';
    const restarts = onFailure ? active.reduce((n, p) => n + ((p.status?.containerStatuses ?? []) as Obj[]).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0) : 0;
    const failed = failedPods.length + restarts;
    const indexed = spec.completionMode === 'Indexed';
    const completions: number = spec.completions ?? 1;
    const parallelism: number = spec.parallelism ?? 1;
    const backoffLimit: number = spec.backoffLimit ?? 6;
    const succeededIdx = new Set(succeededPods.map((p) => Number(p.metadata.annotations?.[INDEX] ?? -1)));
    const succeeded = indexed ? succeededIdx.size : succeededPods.length;
    let wake: number | undefined;
    if (spec.suspend) {
      for (const p of active) this.e.delete(POD, ns, p.metadata.name);
      conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, nowRFC3339(), ['lastProbeTime', 'lastTransitionTime']);
      delete status.startTime;
      return this.write(job, { ...status, conditions, active: 0, succeeded, failed });
    }
    if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
      conditions = setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, nowRFC3339(), ['lastProbeTime', 'lastTransitionTime']);
    }
    status.startTime ??= nowRFC3339();
    const deadline: number | undefined = spec.activeDeadlineSeconds;
    let failure: [string, string] | undefined;
    if (failed > backoffLimit) failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
    else if (deadline !== undefined) {
      const left = Date.parse(status.startTime) + deadline * 1000 - now;
      if (left <= 0) failure = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
      else wake = left;
    }
    const stamp = nowRFC3339();
    const times = ['lastProbeTime', 'lastTransitionTime'];
    let remaining = active;
    if (failure) {
      for (const p of active) this.e.delete(POD, ns, p.metadata.name);
      remaining = [];
      conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', reason: failure[0], message: failure[1] }, stamp, times);
      conditions = setCondition(conditions, { type: 'Failed', status: 'True', reason: failure[0], message: failure[1] }, stamp, times);
      this.e.event(job, 'Warning', failure[0], failure[1], 'job-controller');
    } else if (succeeded >= completions) {
      for (const p of active) this.e.delete(POD, ns, p.metadata.name);
      remaining = [];
      conditions = setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, stamp, times);
      conditions = setCondition(conditions, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, stamp, times);
      status.completionTime = stamp;
      this.e.event(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
    } else {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      if (want > 0) {
        const lastFailure = Math.max(0, ...failedPods.map((p) => Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? p.metadata.creationTimestamp)));
        const delay = failed > 0 ? Math.min(360_000, this.backoffMs * 2 ** (failed - 1)) : 0;
        const due = lastFailure + delay;
        if (failed > 0 && delay > 0 && now < due) wake = Math.min(wake ?? Infinity, due - now);
        else {
          const busy = new Set([...active, ...succeededPods].map((p) => Number(p.metadata.annotations?.[INDEX] ?? -1)));
          const free = indexed ? Array.from({ length: completions }, (_, i) => i).filter((i) => !busy.has(i)) : [];
          const created: Obj[] = [];
          for (let i = 0; i < want; i++) {
            const index = indexed ? free[i] : undefined;
            if (indexed && index === undefined) break;
            created.push(this.createPod(job, index));
          }
          remaining = [...active, ...created];
        }
      }
    }
    const out: Obj = {
      ...status,
      conditions,
      active: remaining.length,
      ready: remaining.filter(isReady).length,
      succeeded,
      failed,
      terminating: 0,
      uncountedTerminatedPods: {},
    };
    if (indexed) {
      const done = [...succeededIdx].filter((i) => i >= 0).sort((a, b) => a - b);
      if (done.length) out.completedIndexes = done.join(',');
    }
    this.write(job, out);
    return wake;
  }

  private createPod(job: Obj, index: number | undefined): Obj {
    const base = index === undefined ? job.metadata.name : `${job.metadata.name}-${index}`;
    const extra = index === undefined ? {} : { labels: { [INDEX]: String(index) }, annotations: { [INDEX]: String(index) }, hostname: base };
    const pod = podFromTemplate(job.spec?.template ?? {}, job, `${base}-${randomSuffix()}`, extra);
    if (index !== undefined) {
      for (const c of (pod.spec.containers ?? []) as Obj[]) c.env = [{ name: 'JOB_COMPLETION_INDEX', value: String(index) }, ...(c.env ?? [])];
    }
    return this.e.create(POD, pod, MANAGER);
  }

  /** Writes status with kube's omitempty counts. */
  private write(job: Obj, status: Obj): void {
    for (const k of ['active', 'succeeded', 'failed']) if (!status[k]) delete status[k];
    if (!status.conditions?.length) delete status.conditions;
    this.e.writeStatus(JOB, job, status, MANAGER);
  }

  /** Deletes a finished Job once ttlSecondsAfterFinished has passed. */
  private ttl(job: Obj, done: Obj, now: number): number | void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return;
    const finishedAt = Date.parse(job.status?.completionTime ?? done.lastTransitionTime ?? nowRFC3339());
    const due = finishedAt + ttl * 1000;
    if (now >= due) {
      this.e.delete(JOB, job.metadata.namespace, job.metadata.name, 'Background');
      return;
    }
    return due - now;
  }
}
