/**
 * The simulated kube-scheduler: binds each pending pod to a node that fits it (GPUs and other
 * resources, node selector and required node affinity, taints, pod (anti-)affinity, its claims), or
 * leaves it Pending with PodScheduled=False, reason Unschedulable and kube-scheduler's message.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { NODE, POD, PVC, SC, nowRFC3339, setCondition, type Controller, type Engine } from './engine.js';
import { filterNode, preFilterMessage, preferredAffinityScore, unschedulableMessage, type NodeVerdict } from './fit.js';
import { isTerminal, selectorMatcher } from './pods.js';
import type { DraAllocator } from './dra-allocator.js';
import { CLAIM, CLASS, SLICE } from './dra-slices.js';
import { parseQuantity, podRequests } from './quantity.js';

const ALL = '*';
const MANAGER = 'kube-scheduler';

interface NodeUse {
  used: Map<string, number>;
  pods: Obj[];
}

function wantsScheduling(p: Obj): boolean {
  return !p.spec?.nodeName && !p.metadata?.deletionTimestamp && !isTerminal(p) && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler';
}

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly e: Engine,
    private readonly stepDelayMs: number,
    private readonly dra?: DraAllocator,
  ) {}

  initialKeys(): Iterable<string> {
    return [ALL];
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === POD) {
      const p = ev.object;
      if (ev.type === 'DELETED') this.firstSeen.delete(p.metadata.uid);
      // New pending pods, and anything that frees or takes capacity.
      if (wantsScheduling(p) || ev.type === 'DELETED' || (ev.previous && isTerminal(p) !== isTerminal(ev.previous))) yield ALL;
    } else if (ev.resource === NODE || ev.resource === PVC || ev.resource === SC) yield ALL;
    else if (this.dra && (ev.resource === CLAIM || ev.resource === SLICE || ev.resource === CLASS)) yield ALL;
  }

  reconcile(): number | void {
    const pods = this.e.list(POD);
    const pending = pods.filter(wantsScheduling);
    if (pending.length === 0) return;
    const nodes = this.e.list(NODE);
    const use = new Map<string, NodeUse>(nodes.map((n) => [n.metadata.name, { used: new Map(), pods: [] }]));
    for (const p of pods) {
      const u = p.spec?.nodeName ? use.get(p.spec.nodeName) : undefined;
      if (!u || isTerminal(p)) continue;
      u.pods.push(p);
      for (const [k, v] of podRequests(p.spec)) u.used.set(k, (u.used.get(k) ?? 0) + v);
    }
    pending.sort(
      (a, b) =>
        (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) ||
        String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
        String(a.metadata.name).localeCompare(String(b.metadata.name)),
    );
    const now = Date.now();
    let wake: number | undefined;
    for (const pod of pending) {
      const seen = this.firstSeen.get(pod.metadata.uid) ?? now;
      this.firstSeen.set(pod.metadata.uid, seen);
      if (now < seen + this.stepDelayMs) {
        wake = Math.min(wake ?? Infinity, seen + this.stepDelayMs - now);
        continue;
      }
      this.scheduleOne(pod, nodes, use, pods);
    }
    return wake;
  }

  private scheduleOne(pod: Obj, nodes: Obj[], use: Map<string, NodeUse>, allPods: Obj[]): void {
    const spec: Obj = pod.spec ?? {};
    if ((spec.schedulingGates ?? []).length) {
      return this.unschedulable(pod, 'SchedulingGated', 'Scheduling is blocked due to non-empty scheduling gates', false);
    }
    const claimProblem = this.claims(pod);
    if (claimProblem) return this.unschedulable(pod, 'Unschedulable', preFilterMessage(nodes.length, claimProblem), true);
    const dra = this.dra?.prepare(pod);
    if (dra?.problem) return this.unschedulable(pod, 'Unschedulable', preFilterMessage(nodes.length, dra.problem), true);
    const verdicts: NodeVerdict[] = [];
    const feasible: Obj[] = [];
    for (const node of nodes) {
      const u = use.get(node.metadata.name)!;
      const v = filterNode(spec, node, u.used, u.pods.length) ?? this.podAffinity(pod, node, nodes, use) ?? dra?.filter(node);
      if (v) verdicts.push(v);
      else feasible.push(node);
    }
    if (feasible.length === 0) return this.unschedulable(pod, 'Unschedulable', unschedulableMessage(nodes.length, verdicts), true);
    const req = podRequests(spec);
    const score = (n: Obj) => {
      const u = use.get(n.metadata.name)!;
      const free = ['cpu', 'memory'].map((r) => {
        const cap = parseQuantity(n.status?.allocatable?.[r] ?? '0') || 1;
        return 1 - ((u.used.get(r) ?? 0) + (req.get(r) ?? 0)) / cap;
      });
      return preferredAffinityScore(spec, n) + this.preferredPodScore(pod, n, nodes, use) + 10 * ((free[0]! + free[1]!) / 2);
    };
    feasible.sort((a, b) => score(b) - score(a) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
    const node = feasible[0]!;
    dra?.commit(node);
    this.bind(pod, node);
    const u = use.get(node.metadata.name)!;
    u.pods.push({ ...pod, spec: { ...spec, nodeName: node.metadata.name } });
    for (const [k, v] of req) u.used.set(k, (u.used.get(k) ?? 0) + v);
    void allPods;
  }

  /** Why the pod's claims keep it from any node (kube's VolumeBinding pre-filter), if they do. */
  private claims(pod: Obj): string | undefined {
    for (const v of (pod.spec?.volumes ?? []) as Obj[]) {
      const name = v.persistentVolumeClaim?.claimName;
      if (!name) continue;
      const pvc = this.e.get(PVC, pod.metadata.namespace, name);
      if (!pvc) return `persistentvolumeclaim "${String(name)}" not found`;
      if (pvc.metadata.deletionTimestamp) return `persistentvolumeclaim "${String(name)}" is being deleted`;
      if (pvc.status?.phase === 'Bound') continue;
      const sc = pvc.spec?.storageClassName ? this.e.get(SC, undefined, pvc.spec.storageClassName) : undefined;
      if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return 'pod has unbound immediate PersistentVolumeClaims';
    }
    return undefined;
  }

  /** Required pod affinity and anti-affinity over topology domains. */
  private podAffinity(pod: Obj, node: Obj, nodes: Obj[], use: Map<string, NodeUse>): NodeVerdict | undefined {
    const aff = pod.spec?.affinity ?? {};
    for (const term of (aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) as Obj[]) {
      if (this.domainHasMatch(pod, term, node, nodes, use)) return { reasons: ["node(s) didn't match pod anti-affinity rules"], resolvable: false };
    }
    for (const term of (aff.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) as Obj[]) {
      if (!this.domainHasMatch(pod, term, node, nodes, use)) {
        const anywhere = nodes.some((n) => this.domainHasMatch(pod, term, n, nodes, use));
        const selfMatch = selectorMatcher(term.labelSelector)(pod.metadata.labels ?? {});
        if (anywhere || !selfMatch) return { reasons: ["node(s) didn't match pod affinity rules"], resolvable: false };
      }
    }
    return undefined;
  }

  private domainHasMatch(pod: Obj, term: Obj, node: Obj, nodes: Obj[], use: Map<string, NodeUse>): boolean {
    const key: string = term.topologyKey ?? 'kubernetes.io/hostname';
    const value = node.metadata.labels?.[key];
    if (value === undefined) return false;
    const match = selectorMatcher(term.labelSelector);
    const namespaces: string[] = term.namespaces?.length ? term.namespaces : [pod.metadata.namespace];
    return nodes.some(
      (n) =>
        n.metadata.labels?.[key] === value &&
        use.get(n.metadata.name)!.pods.some((p) => p.metadata.uid !== pod.metadata.uid && namespaces.includes(p.metadata.namespace) && match(p.metadata.labels ?? {})),
    );
  }

  private preferredPodScore(pod: Obj, node: Obj, nodes: Obj[], use: Map<string, NodeUse>): number {
    const aff = pod.spec?.affinity ?? {};
    let s = 0;
    for (const t of (aff.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as Obj[]) {
      if (this.domainHasMatch(pod, t.podAffinityTerm ?? {}, node, nodes, use)) s += Number(t.weight) || 0;
    }
    for (const t of (aff.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as Obj[]) {
      if (this.domainHasMatch(pod, t.podAffinityTerm ?? {}, node, nodes, use)) s -= Number(t.weight) || 0;
    }
    return s;
  }

  private bind(pod: Obj, node: Obj): void {
    const name = node.metadata.name;
    const bound = this.e.update(POD, pod, { ...structuredClone(pod), spec: { ...pod.spec, nodeName: name } }, MANAGER);
    const status = structuredClone(bound.status ?? {});
    status.phase ??= 'Pending';
    status.conditions = setCondition(status.conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null }, nowRFC3339());
    this.e.writeStatus(POD, bound, status, MANAGER);
    this.e.event(bound, 'Normal', 'Scheduled', `Successfully assigned ${String(pod.metadata.namespace)}/${String(pod.metadata.name)} to ${name}`, 'default-scheduler');
    // A claim that waits for its first consumer learns where that consumer landed.
    for (const v of (pod.spec?.volumes ?? []) as Obj[]) {
      const claim = v.persistentVolumeClaim?.claimName ? this.e.get(PVC, pod.metadata.namespace, v.persistentVolumeClaim.claimName) : undefined;
      if (!claim || claim.status?.phase === 'Bound' || claim.metadata.annotations?.['volume.kubernetes.io/selected-node']) continue;
      const next = structuredClone(claim);
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'volume.kubernetes.io/selected-node': name };
      this.e.update(PVC, claim, next, MANAGER);
    }
  }

  private unschedulable(pod: Obj, reason: string, message: string, event: boolean): void {
    const status = structuredClone(pod.status ?? {});
    status.phase ??= 'Pending';
    const before = ((status.conditions ?? []) as Obj[]).find((c) => c.type === 'PodScheduled');
    status.conditions = setCondition(status.conditions, { type: 'PodScheduled', status: 'False', lastProbeTime: null, reason, message }, nowRFC3339());
    this.e.writeStatus(POD, pod, status, MANAGER);
    if (event && before?.message !== message) this.e.event(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
  }
}
