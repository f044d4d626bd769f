/**
 * The simulated NIM endpoints of all pods, the load tests drive on them, and the address of a
 * Service's port as the operator reaches it in `nimop dev`.
 */
import { labelSelectorObject } from '../selectors.js';
import type { Store, Obj } from '../store.js';
import { IDLE, NimEndpoint, type EndpointOptions, type NimLoad } from './nim-endpoint.js';

export interface LoadTarget {
  namespace: string;
  /** One pod, by name. */
  pod?: string;
  /** The pods a Service selects. */
  service?: string;
  /** Pods by labels. */
  selector?: Record<string, string>;
}

interface LoadSetting {
  target: LoadTarget;
  load: Partial<NimLoad>;
  /** 'perPod': every selected pod reports the values; 'total': the ready ones share them. */
  spread: 'perPod' | 'total';
}

const podKey = (ns: string, name: string) => `${ns}/${name}`;

export class NimFleet {
  readonly endpoints = new Map<string, NimEndpoint>();
  private readonly loads: LoadSetting[] = [];
  private readonly rr = new Map<string, number>();

  constructor(
    private readonly store: Store,
    /** Called when an endpoint's readiness or load changes (the kubelet and HPA re-check). */
    private readonly changed: (namespace: string, pod: string) => void,
  ) {}

  get(namespace: string, pod: string): NimEndpoint | undefined {
    return this.endpoints.get(podKey(namespace, pod));
  }

  /** Starts the endpoint of a pod's NIM container unless it runs already. */
  ensure(o: Omit<EndpointOptions, 'load' | 'onChange'>): NimEndpoint {
    const key = podKey(o.namespace, o.pod);
    const existing = this.endpoints.get(key);
    if (existing) return existing;
    const ep = new NimEndpoint({ ...o, load: () => this.loadOf(o.namespace, o.pod), onChange: () => this.changed(o.namespace, o.pod) });
    this.endpoints.set(key, ep);
    ep.start().catch(() => this.endpoints.delete(key));
    return ep;
  }

  stop(namespace: string, pod: string): void {
    const key = podKey(namespace, pod);
    const ep = this.endpoints.get(key);
    if (!ep) return;
    this.endpoints.delete(key);
    void ep.stop();
  }

  async stopAll(): Promise<void> {
    const all = [...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.all(all.map((e) => e.stop()));
  }

  private selectorOf(t: LoadTarget): ((labels: Record<string, string>) => boolean) | undefined {
    if (t.selector) return labelSelectorObject({ matchLabels: t.selector });
    if (t.service) {
      const svc = this.store.get('/services', t.namespace, t.service);
      const sel = svc?.spec?.selector;
      if (!sel || Object.keys(sel).length === 0) return () => false;
      return labelSelectorObject({ matchLabels: sel });
    }
    return undefined;
  }

  private applies(t: LoadTarget, pod: Obj): boolean {
    if (t.namespace !== pod.metadata?.namespace) return false;
    if (t.pod) return t.pod === pod.metadata?.name;
    const sel = this.selectorOf(t);
    return sel ? sel(pod.metadata?.labels ?? {}) : true;
  }

  /** Sets load on the NIMs a target selects (later settings override earlier ones per field). */
  setLoad(target: LoadTarget, load: Partial<NimLoad>, spread: 'perPod' | 'total' = 'perPod'): void {
    this.loads.push({ target, load, spread });
    for (const ep of this.endpoints.values()) this.changed(ep.o.namespace, ep.o.pod);
  }

  clearLoad(): void {
    this.loads.length = 0;
    for (const ep of this.endpoints.values()) this.changed(ep.o.namespace, ep.o.pod);
  }

  /** The load a pod's NIM reports now. */
  loadOf(namespace: string, name: string): NimLoad {
    const pod = this.store.get('/pods', namespace, name);
    const out: NimLoad = { ...IDLE };
    if (!pod) return out;
    for (const s of this.loads) {
      if (!this.applies(s.target, pod)) continue;
      let share = 1;
      if (s.spread === 'total') {
        const peers = [...this.endpoints.values()].filter((e) => e.ready && this.applies(s.target, this.store.get('/pods', e.o.namespace, e.o.pod) ?? {}));
        share = 1 / Math.max(1, peers.length);
      }
      for (const [k, v] of Object.entries(s.load) as [keyof NimLoad, number][]) {
        out[k] = k === 'ttftSeconds' || k === 'kvCacheUsage' || s.spread === 'perPod' ? v : v * share;
      }
    }
    return out;
  }

  /** A NIM metric of a pod as the HPA would read it from Prometheus (undefined: not a NIM metric). */
  podMetric(namespace: string, pod: string, metric: string): number | undefined {
    const ep = this.get(namespace, pod);
    if (!ep) return undefined;
    const load = this.loadOf(namespace, pod);
    switch (metric) {
      case 'num_requests_running':
        return load.running;
      case 'num_requests_waiting':
        return load.waiting;
      case 'gpu_cache_usage_perc':
        return load.kvCacheUsage;
      case 'time_to_first_token_seconds':
        return load.ttftSeconds;
      default:
        return undefined;
    }
  }

  setHealth(target: LoadTarget, health: { live?: boolean; ready?: boolean }): void {
    for (const ep of this.endpoints.values()) {
      const pod = this.store.get('/pods', ep.o.namespace, ep.o.pod);
      if (pod && this.applies(target, pod)) ep.setHealth(health);
    }
  }

  /** One live endpoint among the ready pods a Service port leads to (round robin). */
  resolveService(namespace: string, service: string, port: number | string): { host: string; port: number } | undefined {
    const svc = this.store.get('/services', namespace, service);
    if (!svc) return undefined;
    const ports: Obj[] = svc.spec?.ports ?? [];
    const sp = ports.find((p) => p.port === Number(port) || (typeof port === 'string' && p.name === port)) ?? (ports.length === 1 && port === undefined ? ports[0] : undefined);
    if (!sp) return undefined;
    const ep = this.store.get('/endpoints', namespace, service);
    const names: string[] = [];
    if (ep) {
      for (const subset of (ep.subsets ?? []) as Obj[]) {
        if (!((subset.ports ?? []) as Obj[]).some((p) => (sp.name ? p.name === sp.name : true))) continue;
        for (const a of (subset.addresses ?? []) as Obj[]) if (a.targetRef?.kind === 'Pod') names.push(a.targetRef.name);
      }
    } else {
      // No endpoints controller: the Service's selector over the pods.
      const sel = this.selectorOf({ namespace, service });
      for (const p of this.store.list('/pods', namespace)) if (sel?.(p.metadata?.labels ?? {})) names.push(p.metadata.name);
    }
    const live = names.filter((n) => this.get(namespace, n)?.ready);
    if (live.length === 0) return undefined;
    const key = `${namespace}/${service}`;
    const i = (this.rr.get(key) ?? 0) % live.length;
    this.rr.set(key, i + 1);
    const chosen = this.get(namespace, live[i]!)!;
    return { host: '127.0.0.1', port: chosen.port };
  }
}
