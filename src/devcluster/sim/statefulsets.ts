/**
 * The StatefulSet controller: ordinal pods `<name>-<i>` (OrderedReady: one at a time, each after the
 * previous is ready; or Parallel), a PVC per volumeClaimTemplate and ordinal, rolling updates from
 * the highest ordinal down to the partition, and the status counts and revisions.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { POD, PVC, STS, controllerOf, splitKey, templateHash, type Controller, type Engine } from './engine.js';
import { isAvailable, isDeleting, isReady, isTerminal, ownedPods, podFromTemplate } from './pods.js';

const MANAGER = 'kube-controller-manager';
const REVISION = 'controller-revision-hash';

export class StatefulSets implements Controller {
  readonly name = 'statefulsets';

  constructor(private readonly e: Engine) {}

  *initialKeys(): Iterable<string> {
    for (const s of this.e.list(STS)) yield `${s.metadata.namespace}/${s.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === STS) yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    else if (ev.resource === POD) {
      const ref = controllerOf(ev.object);
      if (ref?.kind === 'StatefulSet') yield `${ev.object.metadata.namespace}/${ref.name}`;
    }
  }

  reconcile(key: string): number | void {
    const [ns, name] = splitKey(key);
    const sts = this.e.get(STS, ns, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const replicas: number = sts.spec?.replicas ?? 1;
    const parallel = sts.spec?.podManagementPolicy === 'Parallel';
    const revision = `${name}-${templateHash(sts.spec?.template ?? {})}`;
    const byName = new Map(ownedPods(this.e.list(POD, ns), sts).map((p) => [p.metadata.name as string, p]));
    const ordinal = (p: Obj) => Number(String(p.metadata.name).slice(name.length + 1));
    let changed = false;
    // Failed or finished pods are replaced.
    for (const p of byName.values()) {
      if (isTerminal(p) && !isDeleting(p)) {
        this.e.delete(POD, ns, p.metadata.name);
        byName.delete(p.metadata.name);
        changed = true;
      }
    }
    for (let i = 0; i < replicas; i++) {
      const podName = `${name}-${i}`;
      const p = byName.get(podName);
      if (!p) {
        byName.set(podName, this.createPod(sts, i, revision));
        changed = true;
        if (!parallel) break;
        continue;
      }
      if (!parallel && (!isReady(p) || isDeleting(p))) break;
    }
    // Scale down from the highest ordinal.
    const extra = [...byName.values()].filter((p) => ordinal(p) >= replicas && !isDeleting(p)).sort((a, b) => ordinal(b) - ordinal(a));
    for (const p of parallel ? extra : extra.slice(0, 1)) {
      if (!parallel && [...byName.values()].some((q) => ordinal(q) < replicas && !isReady(q))) break;
      this.e.delete(POD, ns, p.metadata.name);
      byName.delete(p.metadata.name);
      changed = true;
    }
    // Rolling update from the highest ordinal down to the partition, one pod at a time.
    const strategy = sts.spec?.updateStrategy ?? { type: 'RollingUpdate' };
    if (!changed && strategy.type !== 'OnDelete') {
      const partition: number = strategy.rollingUpdate?.partition ?? 0;
      const pods = [...byName.values()].filter((p) => ordinal(p) < replicas);
      const allReady = pods.length === replicas && pods.every((p) => isReady(p) && !isDeleting(p));
      const stale = pods.filter((p) => ordinal(p) >= partition && p.metadata.labels?.[REVISION] !== revision).sort((a, b) => ordinal(b) - ordinal(a));
      if (stale.length && (allReady || parallel)) {
        this.e.delete(POD, ns, stale[0]!.metadata.name);
        byName.delete(stale[0]!.metadata.name);
      }
    }
    this.writeStatus(sts, [...byName.values()].filter((p) => !isDeleting(p)), revision);
  }

  private createPod(sts: Obj, i: number, revision: string): Obj {
    const name = `${sts.metadata.name}-${i}`;
    const pod = podFromTemplate(sts.spec?.template ?? {}, sts, name, {
      labels: { [REVISION]: revision, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(i) },
      hostname: name,
      ...(sts.spec?.serviceName ? { subdomain: sts.spec.serviceName } : {}),
    });
    for (const tpl of (sts.spec?.volumeClaimTemplates ?? []) as Obj[]) {
      const claimName = `${tpl.metadata?.name}-${name}`;
      if (!this.e.get(PVC, sts.metadata.namespace, claimName)) {
        const labels = { ...(tpl.metadata?.labels ?? {}), ...(sts.spec?.selector?.matchLabels ?? {}) };
        this.e.create(PVC, { metadata: { name: claimName, namespace: sts.metadata.namespace, labels }, spec: structuredClone(tpl.spec ?? {}) }, MANAGER);
      }
      const volumes: Obj[] = (pod.spec.volumes ??= []);
      if (!volumes.some((v) => v.name === tpl.metadata?.name)) volumes.push({ name: tpl.metadata?.name, persistentVolumeClaim: { claimName } });
    }
    return this.e.create(POD, pod, MANAGER);
  }

  private writeStatus(sts: Obj, pods: Obj[], revision: string): void {
    const replicas: number = sts.spec?.replicas ?? 1;
    const updated = pods.filter((p) => p.metadata.labels?.[REVISION] === revision).length;
    const prev: Obj = sts.status ?? {};
    const currentRevision = updated === pods.length && pods.length >= replicas ? revision : (prev.currentRevision ?? revision);
    const current = pods.filter((p) => p.metadata.labels?.[REVISION] === currentRevision).length;
    const status: Obj = {
      observedGeneration: sts.metadata.generation,
      replicas: pods.length,
      availableReplicas: pods.filter((p) => isAvailable(p, sts.spec?.minReadySeconds ?? 0)).length,
      currentRevision,
      updateRevision: revision,
      collisionCount: prev.collisionCount ?? 0,
    };
    const ready = pods.filter(isReady).length;
    if (ready) status.readyReplicas = ready;
    if (current) status.currentReplicas = current;
    if (updated) status.updatedReplicas = updated;
    this.e.writeStatus(STS, sts, status, MANAGER);
  }
}
