/**
 * The Deployment controller, without ReplicaSets: pods are owned by the Deployment directly, named
 * `<deployment>-<pod-template-hash>-<random>`, labelled with the template's labels and
 * `pod-template-hash`. Rolling updates honour maxSurge and maxUnavailable (numbers or percentages)
 * as kube's controller does; Recreate removes the old pods first. Status carries the replica counts,
 * observedGeneration and the Available and Progressing conditions with kube's reasons and messages.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { DEPLOY, POD, controllerOf, randomSuffix, setCondition, splitKey, templateHash, nowRFC3339, type Controller, type Engine } from './engine.js';
import { deletionOrder, intOrPercent, isAvailable, isDeleting, isReady, isTerminal, ownedPods, podFromTemplate, untilAvailable } from './pods.js';

const MANAGER = 'kube-controller-manager';
const HASH = 'pod-template-hash';

/** maxSurge and maxUnavailable as counts, kube's way (both 0 means maxUnavailable 1). */
export function rollingBounds(d: Obj): { surge: number; unavailable: number } {
  const desired = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { surge: 0, unavailable: 0 };
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = intOrPercent(ru.maxSurge ?? '25%', desired, true, 1);
  let unavailable = intOrPercent(ru.maxUnavailable ?? '25%', desired, false, 0);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, desired) };
}

export class Deployments implements Controller {
  readonly name = 'deployments';

  constructor(private readonly e: Engine) {}

  *initialKeys(): Iterable<string> {
    for (const d of this.e.list(DEPLOY)) yield `${d.metadata.namespace}/${d.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === DEPLOY) yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    else if (ev.resource === POD) {
      const ref = controllerOf(ev.object);
      if (ref?.kind === 'Deployment' && ref.apiVersion === 'apps/v1') yield `${ev.object.metadata.namespace}/${ref.name}`;
    }
  }

  reconcile(key: string): number | void {
    const [ns, name] = splitKey(key);
    const d = this.e.get(DEPLOY, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const desired: number = d.spec?.replicas ?? 1;
    const minReady: number = d.spec?.minReadySeconds ?? 0;
    const hash = templateHash(d.spec?.template ?? {}, d.status?.collisionCount ?? 0);
    const rsName = `${name}-${hash}`;
    const now = Date.now();
    let pods = ownedPods(this.e.list(POD, ns), d).filter((p) => !isDeleting(p));
    // Terminal pods do not count; the controller replaces them.
    for (const p of pods.filter(isTerminal)) this.e.delete(POD, ns, p.metadata.name);
    pods = pods.filter((p) => !isTerminal(p));
    const isNew = (p: Obj) => p.metadata.labels?.[HASH] === hash;
    const available = (p: Obj) => isAvailable(p, minReady, now);
    const created: Obj[] = [];
    const deleted = new Set<string>();
    const scaled = new Map<string, [number, number]>();
    const countOf = (h: string) => pods.filter((p) => p.metadata.labels?.[HASH] === h && !deleted.has(p.metadata.name)).length + created.filter((p) => p.metadata.labels?.[HASH] === h).length;
    const note = (h: string, delta: number) => {
      const before = scaled.get(h)?.[0] ?? countOf(h) - delta;
      scaled.set(h, [before, countOf(h)]);
    };
    const create = (n: number) => {
      for (let i = 0; i < n; i++) {
        let podName = `${rsName}-${randomSuffix()}`;
        while (this.e.get(POD, ns, podName)) podName = `${rsName}-${randomSuffix()}`;
        const pod = podFromTemplate(d.spec?.template ?? {}, d, podName, { labels: { [HASH]: hash } });
        created.push(this.e.create(POD, pod, MANAGER));
      }
      if (n > 0) note(hash, n);
    };
    const remove = (list: Obj[], n: number) => {
      for (const p of [...list].sort(deletionOrder).slice(0, Math.max(0, n))) {
        this.e.delete(POD, ns, p.metadata.name);
        deleted.add(p.metadata.name);
        note(p.metadata.labels?.[HASH] ?? '', -1);
      }
    };
    const live = () => [...pods.filter((p) => !deleted.has(p.metadata.name)), ...created];
    const newPods = () => live().filter(isNew);
    const oldPods = () => live().filter((p) => !isNew(p));
    const { surge, unavailable } = rollingBounds(d);
    if (d.spec?.paused) {
      // Paused: scale only, the template change waits.
      const all = live();
      if (all.length > desired) remove(all, all.length - desired);
    } else if (d.spec?.strategy?.type === 'Recreate') {
      if (oldPods().length > 0) remove(oldPods(), oldPods().length);
      else if (newPods().length < desired) create(desired - newPods().length);
      else if (newPods().length > desired) remove(newPods(), newPods().length - desired);
    } else if (oldPods().length === 0) {
      if (newPods().length < desired) create(desired - newPods().length);
      else if (newPods().length > desired) remove(newPods(), newPods().length - desired);
    } else {
      // Scale up the new revision within maxSurge.
      const canCreate = Math.min(desired + surge - live().length, desired - newPods().length);
      if (canCreate > 0) create(canCreate);
      if (newPods().length > desired) remove(newPods(), newPods().length - desired);
      // Scale down old pods within maxUnavailable: unhealthy ones first, then available ones.
      const minAvailable = desired - unavailable;
      const newUnavailable = newPods().filter((p) => !available(p)).length;
      const maxScaledDown = live().length - minAvailable - newUnavailable;
      if (maxScaledDown > 0) {
        const unhealthy = oldPods().filter((p) => !available(p));
        const cleanup = Math.min(maxScaledDown, unhealthy.length);
        remove(unhealthy, cleanup);
        const availableNow = live().filter(available).length;
        const scaleDown = Math.min(availableNow - minAvailable, oldPods().length);
        if (scaleDown > 0) remove(oldPods().filter(available), scaleDown);
      }
    }
    for (const [h, [from, to]] of scaled) {
      if (from === to) continue;
      this.e.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${name}-${h} from ${from} to ${to}`, 'deployment-controller');
    }
    return this.writeStatus(d, live(), hash, rsName, minReady, now, created.length > 0 && !d.status);
  }

  private writeStatus(d: Obj, pods: Obj[], hash: string, rsName: string, minReady: number, now: number, justCreated: boolean): number | undefined {
    const desired: number = d.spec?.replicas ?? 1;
    const updated = pods.filter((p) => p.metadata.labels?.[HASH] === hash);
    const ready = pods.filter(isReady).length;
    const availableCount = pods.filter((p) => isAvailable(p, minReady, now)).length;
    const { unavailable } = rollingBounds(d);
    const prev: Obj = d.status ?? {};
    const counts: Obj = {
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: availableCount,
      unavailableReplicas: Math.max(0, pods.length - availableCount),
    };
    const status: Obj = { observedGeneration: d.metadata.generation };
    for (const [k, v] of Object.entries(counts)) if (v) status[k] = v;
    if (prev.collisionCount) status.collisionCount = prev.collisionCount;
    const stamp = nowRFC3339();
    const times = ['lastUpdateTime', 'lastTransitionTime'];
    let conditions: Obj[] = [...(prev.conditions ?? [])];
    const availableOk = availableCount >= desired - unavailable;
    conditions = setCondition(
      conditions,
      availableOk
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      stamp,
      times,
    );
    const complete = updated.length === desired && pods.length === desired && availableCount === desired;
    const progressed = justCreated || ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'].some((k) => (prev[k] ?? 0) !== (status[k] ?? 0)) || prev.observedGeneration !== status.observedGeneration;
    const current = conditions.find((c) => c.type === 'Progressing');
    const deadline: number = d.spec?.progressDeadlineSeconds ?? 600;
    let wake: number | undefined;
    if (d.spec?.paused) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, stamp, times);
    } else if (complete) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, stamp, times);
    } else if (justCreated || !current) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }, stamp, times);
      wake = deadline * 1000;
    } else if (progressed) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }, stamp, times);
      const i = conditions.findIndex((c) => c.type === 'Progressing');
      conditions[i] = { ...conditions[i], lastUpdateTime: stamp };
      wake = deadline * 1000;
    } else if (current.reason !== 'ProgressDeadlineExceeded') {
      const since = Date.parse(current.lastUpdateTime ?? current.lastTransitionTime ?? stamp);
      if (now - since >= deadline * 1000) {
        conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }, stamp, times);
      } else wake = since + deadline * 1000 - now;
    }
    // Keep kube's order: Available first, then Progressing.
    status.conditions = ['Available', 'Progressing'].map((t) => conditions.find((c) => c.type === t)).filter(Boolean);
    this.e.writeStatus(DEPLOY, d, status, MANAGER);
    // Pods that are ready but not yet available for minReadySeconds.
    for (const p of pods) {
      const until = untilAvailable(p, minReady, now);
      if (until !== undefined && until > 0) wake = Math.min(wake ?? Infinity, until + 1);
    }
    return wake;
  }
}
