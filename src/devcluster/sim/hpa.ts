/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2): reads simulated metrics — values tests
 * set, or the load the simulated NIMs report — computes the desired replicas per metric as kube's
 * controller does (ratio to target, 10% tolerance, min/max, scale-down stabilization window), writes
 * the target's replicas, and reports currentReplicas, desiredReplicas, currentMetrics and conditions.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { HPA, POD, controllerOf, nowRFC3339, setCondition, splitKey, type Controller, type Engine } from './engine.js';
import type { NimFleet } from './nim-fleet.js';
import { isReady, isTerminal, selectorMatcher } from './pods.js';
import { formatQuantity, parseQuantity, podRequests } from './quantity.js';

const MANAGER = 'kube-controller-manager';
const TOLERANCE = 0.1;

export interface MetricSetting {
  namespace: string;
  /** `cpu` or `memory` for Resource metrics; else the Pods, Object or External metric's name. */
  name: string;
  /** Only for this scale target (Deployment, StatefulSet, LeaderWorkerSet …) or described object, by name. */
  target?: string;
  /**
   * The value. Resource metrics: utilization in percent of the pods' requests (or, for an
   * AverageValue target, a quantity per pod). Pods metrics: the value per pod. Object and External
   * metrics: the object's value.
   */
  value: number;
  /**
   * 'perPod' (default): every pod reports `value`. 'total': `value` is the load of the whole
   * workload, shared by its ready pods — so adding pods lowers each one's value, as real load does.
   */
  spread?: 'perPod' | 'total';
}

export class Hpas implements Controller {
  readonly name = 'hpa';
  private readonly settings: MetricSetting[] = [];
  /** Recommendations over time, per HPA, for the stabilization windows. */
  private readonly history = new Map<string, { at: number; replicas: number }[]>();

  constructor(
    private readonly e: Engine,
    private readonly fleet: NimFleet | undefined,
    private readonly syncMs: number,
  ) {}

  setMetric(m: MetricSetting): void {
    this.settings.push(m);
    for (const h of this.e.list(HPA, m.namespace)) this.e.enqueue(this.name, `${h.metadata.namespace}/${h.metadata.name}`);
  }

  clearMetrics(): void {
    this.settings.length = 0;
    for (const h of this.e.list(HPA)) this.e.enqueue(this.name, `${h.metadata.namespace}/${h.metadata.name}`);
  }

  /** Re-checks every HPA of a namespace (NIM load changed). */
  poke(namespace: string): void {
    for (const h of this.e.list(HPA, namespace)) this.e.enqueue(this.name, `${h.metadata.namespace}/${h.metadata.name}`);
  }

  *initialKeys(): Iterable<string> {
    for (const h of this.e.list(HPA)) yield `${h.metadata.namespace}/${h.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === HPA) {
      if (ev.type === 'DELETED') this.history.delete(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
      yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
      return;
    }
    const o = ev.object;
    // Only pods and scalable targets concern an HPA.
    if (ev.resource !== POD && !this.e.type(ev.resource)?.scale) return;
    const hpas = this.e.list(HPA, o.metadata?.namespace);
    if (hpas.length === 0) return;
    let targetName: string | undefined;
    if (ev.resource === POD) {
      // Only readiness and existence move metrics.
      if (ev.type === 'MODIFIED' && ev.previous && isReady(ev.previous) === isReady(o) && isTerminal(ev.previous) === isTerminal(o)) return;
      targetName = controllerOf(o)?.name;
    } else targetName = o.metadata?.name;
    for (const h of hpas) {
      const ref = h.spec?.scaleTargetRef ?? {};
      if (ev.resource === POD ? ref.name === targetName || this.podOf(h, o) : ref.name === targetName && this.typeOf(ref) && ev.resource === this.resourceOf(ref)) {
        yield `${h.metadata.namespace}/${h.metadata.name}`;
      }
    }
  }

  private typeOf(ref: Obj) {
    return this.e.cp.registry.byKind(String(ref.apiVersion ?? ''), String(ref.kind ?? ''));
  }

  private resourceOf(ref: Obj): string | undefined {
    const t = this.typeOf(ref);
    return t ? `${t.group}/${t.plural}` : undefined;
  }

  private podOf(h: Obj, pod: Obj): boolean {
    const target = this.target(h);
    return !!target && this.selector(target.obj)(pod.metadata?.labels ?? {});
  }

  private target(h: Obj): { obj: Obj; resource: string } | undefined {
    const ref = h.spec?.scaleTargetRef ?? {};
    const resource = this.resourceOf(ref);
    const t = this.typeOf(ref);
    if (!resource || !t?.scale) return undefined;
    const obj = this.e.get(resource, h.metadata.namespace, ref.name);
    return obj ? { obj, resource } : undefined;
  }

  private selector(target: Obj): (labels: Record<string, string>) => boolean {
    if (target.spec?.selector) return selectorMatcher(target.spec.selector);
    const hpaSel: string | undefined = target.status?.hpaPodSelector;
    if (hpaSel) {
      const pairs = Object.fromEntries(hpaSel.split(',').map((kv) => kv.split('=') as [string, string]));
      return selectorMatcher({ matchLabels: pairs });
    }
    return () => false;
  }

  private setting(ns: string, name: string, target: string | undefined): MetricSetting | undefined {
    for (let i = this.settings.length - 1; i >= 0; i--) {
      const s = this.settings[i]!;
      if (s.namespace === ns && s.name === name && (!s.target || s.target === target)) return s;
    }
    return undefined;
  }

  reconcile(key: string): number | void {
    const [namespace, name] = splitKey(key);
    const ns = namespace ?? 'default';
    const h = this.e.get(HPA, ns, name);
    if (!h) return;
    const target = this.target(h);
    const stamp = nowRFC3339();
    const prev: Obj = h.status ?? {};
    let conditions: Obj[] = prev.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string) => {
      conditions = setCondition(conditions, { type, status, reason, message }, stamp);
    };
    if (!target) {
      const ref = h.spec?.scaleTargetRef ?? {};
      cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${String(ref.kind ?? '').toLowerCase()}s.${String(ref.apiVersion ?? '').split('/')[0]} "${String(ref.name)}" not found`);
      this.e.writeStatus(HPA, h, { ...prev, currentReplicas: prev.currentReplicas ?? 0, desiredReplicas: prev.desiredReplicas ?? 0, conditions }, MANAGER);
      return this.syncMs;
    }
    const current: number = target.obj.spec?.replicas ?? 1;
    const min: number = h.spec?.minReplicas ?? 1;
    const max: number = h.spec?.maxReplicas ?? current;
    const match = this.selector(target.obj);
    const pods = this.e.list(POD, ns).filter((p) => match(p.metadata?.labels ?? {}) && !isTerminal(p) && !p.metadata.deletionTimestamp);
    const ready = pods.filter(isReady);
    const metrics: Obj[] = h.spec?.metrics?.length ? h.spec.metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    let proposal = -1;
    let reason = '';
    const currentMetrics: Obj[] = [];
    let error: [string, string] | undefined;
    if (current === 0 && min > 0) {
      cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else {
      for (const m of metrics) {
        const r = this.evaluate(m, target.obj, ns, ready, current);
        if ('error' in r) {
          error ??= r.error;
          continue;
        }
        currentMetrics.push(r.current);
        if (r.replicas > proposal) {
          proposal = r.replicas;
          reason = r.reason;
        }
      }
      if (proposal < 0 && error) cond('ScalingActive', 'False', error[0], `the HPA was unable to compute the replica count: ${error[1]}`);
      else cond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${reason}`);
    }
    const computed = proposal >= 0;
    let desired = computed ? proposal : current;
    if (current === 0 && min > 0) desired = 0;
    // Stabilization: scale down to the highest recommendation of the window, up to the lowest.
    const now = Date.now();
    const hist = (this.history.get(key) ?? []).concat(computed ? [{ at: now, replicas: desired }] : []);
    const downWindow = (h.spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300) * 1000;
    const upWindow = (h.spec?.behavior?.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const keep = hist.filter((x) => now - x.at <= Math.max(downWindow, upWindow));
    this.history.set(key, keep.slice(-200));
    let wake: number | undefined = this.syncMs;
    if (computed && current > 0) {
      if (desired < current) {
        const recent = keep.filter((x) => now - x.at <= downWindow).map((x) => x.replicas);
        const held = Math.min(current, Math.max(desired, ...recent));
        if (held > desired) wake = Math.min(wake, downWindow);
        desired = held;
      } else if (desired > current) {
        const recent = keep.filter((x) => now - x.at <= upWindow).map((x) => x.replicas);
        desired = Math.max(current, Math.min(desired, ...recent));
      }
    }
    let limited = false;
    if (current > 0 || min === 0) {
      if (desired > max) {
        desired = max;
        limited = true;
        cond('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count');
      } else if (desired < min) {
        desired = min;
        limited = true;
        cond('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count');
      }
    }
    if (!limited) cond('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range');
    const status: Obj = { currentReplicas: current, desiredReplicas: desired, ...(currentMetrics.length ? { currentMetrics } : {}), observedGeneration: h.metadata.generation };
    if (prev.lastScaleTime) status.lastScaleTime = prev.lastScaleTime;
    if (desired !== current && !(current === 0 && min > 0)) {
      const next = structuredClone(target.obj);
      next.spec = { ...(next.spec ?? {}), replicas: desired };
      this.e.update(target.resource, target.obj, next, MANAGER);
      status.lastScaleTime = stamp;
      cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      const why =
        current > max
          ? 'Current number of replicas above Spec.MaxReplicas'
          : current < min
            ? 'Current number of replicas below Spec.MinReplicas'
            : desired > current
              ? `${reason} above target`
              : 'All metrics below target';
      this.e.event(h, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${why}`, 'horizontal-pod-autoscaler');
    } else cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    status.conditions = ['AbleToScale', 'ScalingActive', 'ScalingLimited'].map((t) => conditions.find((c) => c.type === t)).filter(Boolean);
    this.e.writeStatus(HPA, h, status, MANAGER);
    return wake;
  }

  /** Per-pod values of a metric (a set value, else what the NIM endpoints report). */
  private podValues(ns: string, name: string, targetName: string, ready: Obj[], resource?: string): number[] | undefined {
    const s = this.setting(ns, name, targetName);
    if (s) return ready.map(() => (s.spread === 'total' ? s.value / Math.max(1, ready.length) : s.value));
    if (resource) return undefined;
    const values = ready.map((p) => this.fleet?.podMetric(ns, p.metadata.name, name));
    if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
    return values as number[];
  }

  private evaluate(m: Obj, target: Obj, ns: string, ready: Obj[], current: number): { replicas: number; reason: string; current: Obj } | { error: [string, string] } {
    const targetName: string = target.metadata.name;
    const byRatio = (ratio: number, count: number) => (Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(ratio * count));
    if (m.type === 'Resource' || m.type === 'ContainerResource') {
      const src = m.resource ?? m.containerResource ?? {};
      const res: string = src.name;
      const values = this.podValues(ns, res, targetName, ready, res);
      if (!values || values.length === 0) return { error: ['FailedGetResourceMetric', `failed to get ${res} utilization: unable to get metrics for resource ${res}: no metrics returned from resource metrics API`] };
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      if (src.target?.type === 'AverageValue') {
        const t = parseQuantity(src.target.averageValue);
        return { replicas: byRatio(avg / t, ready.length), reason: `${res} resource`, current: { type: 'Resource', resource: { name: res, current: { averageValue: formatQuantity(avg) } } } };
      }
      const t = Number(src.target?.averageUtilization ?? 80);
      const request = ready.length ? (podRequests(ready[0]!.spec).get(res) ?? 0) : 0;
      const noRequest = ready.find((p) => !podRequests(p.spec).get(res));
      if (noRequest) {
        const ctr = ((noRequest.spec?.containers ?? []) as Obj[]).find((x) => !x.resources?.requests?.[res] && !x.resources?.limits?.[res]);
        return { error: ['FailedGetResourceMetric', `failed to get ${res} utilization: missing request for ${res} in container ${String(ctr?.name ?? '')} of Pod ${String(noRequest.metadata.name)}`] };
      }
      return {
        replicas: byRatio(avg / t, ready.length),
        reason: `${res} resource utilization (percentage of request)`,
        current: { type: 'Resource', resource: { name: res, current: { averageUtilization: Math.round(avg), averageValue: formatQuantity((avg / 100) * request) } } },
      };
    }
    if (m.type === 'Pods') {
      const name: string = m.pods?.metric?.name;
      const values = this.podValues(ns, name, targetName, ready);
      if (!values || values.length === 0) return { error: ['FailedGetPodsMetric', `failed to get pods metric value: unable to get metric ${name}: no metrics returned from custom metrics API`] };
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      const t = parseQuantity(m.pods?.target?.averageValue);
      return { replicas: byRatio(avg / t, ready.length), reason: `pods metric ${name}`, current: { type: 'Pods', pods: { metric: { name }, current: { averageValue: formatQuantity(avg) } } } };
    }
    if (m.type === 'Object' || m.type === 'External') {
      const src = m.type === 'Object' ? m.object : m.external;
      const name: string = src?.metric?.name;
      const described: string | undefined = src?.describedObject?.name;
      let value = this.setting(ns, name, described ?? targetName)?.value;
      if (value === undefined && m.type === 'Object') {
        // A NIM metric of the described object (a Service): the average over its ready pods.
        const per = this.podValues(ns, name, targetName, ready);
        if (per && per.length) value = per.reduce((a, b) => a + b, 0) / per.length;
      }
      if (value === undefined) {
        return { error: [m.type === 'Object' ? 'FailedGetObjectMetric' : 'FailedGetExternalMetric', `failed to get ${m.type.toLowerCase()} metric value: unable to get metric ${name}: no metrics returned`] };
      }
      const cur = m.type === 'Object' ? { metric: { name }, describedObject: src.describedObject } : { metric: { name } };
      if (src.target?.type === 'AverageValue') {
        const t = parseQuantity(src.target.averageValue);
        const replicas = Math.ceil(value / t);
        return { replicas: Math.abs(value / (t * current) - 1) <= TOLERANCE ? current : replicas, reason: `${m.type.toLowerCase()} metric ${name}`, current: { type: m.type, [m.type === 'Object' ? 'object' : 'external']: { ...cur, current: { averageValue: formatQuantity(value / Math.max(1, current)) } } } };
      }
      const t = parseQuantity(src.target?.value);
      return { replicas: byRatio(value / t, current), reason: `${m.type.toLowerCase()} metric ${name}`, current: { type: m.type, [m.type === 'Object' ? 'object' : 'external']: { ...cur, current: { value: formatQuantity(value) } } } };
    }
    return { error: ['InvalidMetricSourceType', `unknown metric source type "${String(m.type)}"`] };
  }
}
