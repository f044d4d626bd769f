/**
 * The endpoints controller: each Service with a selector gets an Endpoints object of the same name
 * listing its pods' IPs — ready ones under `addresses`, the others under `notReadyAddresses` — with
 * the target ports resolved per pod (named ports by the pod's container ports).
 */
import type { ChangeEvent, Obj } from '../store.js';
import { EP, POD, SVC, keyOf, splitKey, type Controller, type Engine } from './engine.js';
import { isReady, isTerminal } from './pods.js';
import { labelSelectorObject } from '../selectors.js';

const MANAGER = 'kube-controller-manager';

function containerPort(pod: Obj, name: string): { port: number; protocol: string } | undefined {
  for (const c of (pod.spec?.containers ?? []) as Obj[]) {
    for (const p of (c.ports ?? []) as Obj[]) if (p.name === name) return { port: p.containerPort, protocol: p.protocol ?? 'TCP' };
  }
  return undefined;
}

/** The subsets of a Service's Endpoints. */
export function endpointSubsets(svc: Obj, pods: Obj[]): Obj[] {
  const match = labelSelectorObject({ matchLabels: svc.spec?.selector ?? {} });
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, { ports: Obj[]; addresses: Obj[]; notReadyAddresses: Obj[] }>();
  for (const pod of pods) {
    if (!match(pod.metadata?.labels ?? {}) || isTerminal(pod) || !pod.status?.podIP) continue;
    if (pod.metadata.deletionTimestamp && !publishNotReady) continue;
    const ports: Obj[] = [];
    for (const sp of (svc.spec?.ports ?? []) as Obj[]) {
      const target = sp.targetPort ?? sp.port;
      const resolved = typeof target === 'number' || /^\d+$/.test(String(target)) ? { port: Number(target), protocol: sp.protocol ?? 'TCP' } : containerPort(pod, String(target));
      if (!resolved) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port: resolved.port, protocol: sp.protocol ?? resolved.protocol, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    if ((svc.spec?.ports ?? []).length > 0 && ports.length === 0) continue;
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, addresses: [], notReadyAddresses: [] }));
    const address = {
      ip: pod.status.podIP,
      ...(svc.spec?.clusterIP === 'None' && pod.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
      nodeName: pod.spec?.nodeName,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    };
    (isReady(pod) || publishNotReady ? g.addresses : g.notReadyAddresses).push(address);
  }
  const byIP = (a: Obj, b: Obj) => String(a.ip).localeCompare(String(b.ip), undefined, { numeric: true });
  return [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses.sort(byIP) } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses.sort(byIP) } : {}),
    ...(g.ports.length ? { ports: g.ports } : {}),
  }));
}

export class Endpoints implements Controller {
  readonly name = 'endpoints';

  constructor(private readonly e: Engine) {}

  *initialKeys(): Iterable<string> {
    for (const s of this.e.list(SVC)) yield keyOf(s);
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === SVC) yield keyOf(ev.object);
    else if (ev.resource === POD) {
      const p = ev.object;
      const prev = ev.previous;
      // Only what Endpoints show: IP, readiness, labels, termination.
      if (ev.type === 'MODIFIED' && prev && prev.status?.podIP === p.status?.podIP && isReady(prev) === isReady(p) && isTerminal(prev) === isTerminal(p) && JSON.stringify(prev.metadata.labels) === JSON.stringify(p.metadata.labels) && !!prev.metadata.deletionTimestamp === !!p.metadata.deletionTimestamp) return;
      for (const s of this.e.list(SVC, p.metadata.namespace)) if (s.spec?.selector && Object.keys(s.spec.selector).length) yield keyOf(s);
    }
  }

  reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = this.e.get(SVC, ns, name);
    const current = this.e.get(EP, ns, name);
    if (!svc) {
      if (current) this.e.delete(EP, ns, name);
      return;
    }
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0 || svc.spec?.type === 'ExternalName') return;
    const subsets = endpointSubsets(svc, this.e.list(POD, ns));
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (svc.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const desired: Obj = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: ns, ...(Object.keys(labels).length ? { labels } : {}) },
      ...(subsets.length ? { subsets } : {}),
    };
    if (!current) {
      this.e.create(EP, desired, MANAGER);
      return;
    }
    const next = structuredClone(current);
    if (Object.keys(labels).length) next.metadata.labels = labels;
    else delete next.metadata.labels;
    if (subsets.length) next.subsets = subsets;
    else delete next.subsets;
    this.e.update(EP, current, next, MANAGER);
  }
}

/** The `kubernetes` Service in `default` and its Endpoints: the API server itself. */
export function kubernetesService(e: Engine, port: number): void {
  try {
    if (!e.get(SVC, 'default', 'kubernetes')) {
      e.create(SVC, {
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
      }, 'kube-apiserver');
    }
    if (!e.get(EP, 'default', 'kubernetes')) {
      e.create(EP, {
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
        subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
      }, 'kube-apiserver');
    }
  } catch (err) {
    e.log({ level: 'warn', msg: 'could not create the kubernetes Service', error: String(err) });
  }
}
