/**
 * What kube-apiserver itself adds to objects as they are stored, and the simulation needs:
 * Service cluster IPs and node ports, a Job's generated selector and labels, a PVC's default
 * StorageClass and its in-use protection finalizer. Installed as a write hook, after managed-fields
 * tracking (these fields belong to no manager, as in kube).
 */
import type { ControlPlane } from '../server.js';
import type { ResourceType } from '../registry.js';
import type { Obj } from '../store.js';

const installed = new WeakSet<ControlPlane>();
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

/** The default StorageClass's name, if exactly one is marked default (kube takes the newest). */
export function defaultStorageClass(cp: ControlPlane): string | undefined {
  const defaults = cp.store
    .list('storage.k8s.io/storageclasses')
    .filter((s) => s.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' || s.metadata?.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true')
    .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  return defaults[0]?.metadata.name;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The service CIDR 10.96.0.0/12: .1 is the `kubernetes` Service. */
const CIDR_START = ipToInt('10.96.0.10');
const CIDR_END = ipToInt('10.111.255.254');

function allocateClusterIP(cp: ControlPlane): string {
  const used = new Set(cp.store.list('/services').flatMap((s) => (s.spec?.clusterIPs ?? [s.spec?.clusterIP]).filter(Boolean)));
  for (let n = CIDR_START; n <= CIDR_END; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw new Error('the service IP range is full');
}

function allocateNodePort(cp: ControlPlane, taken: Set<number>): number {
  for (const s of cp.store.list('/services')) for (const p of (s.spec?.ports ?? []) as Obj[]) if (p.nodePort) taken.add(p.nodePort);
  for (let port = 30000; port <= 32767; port++) if (!taken.has(port)) return port;
  throw new Error('the node port range is full');
}

function service(cp: ControlPlane, before: Obj | undefined, after: Obj): void {
  const spec = (after.spec ??= {});
  const old = before?.spec ?? {};
  if (spec.type === 'ExternalName') return;
  // Updates keep what was allocated when they leave it out (kube's patchAllocatedValues).
  if (!spec.clusterIP && old.clusterIP) {
    spec.clusterIP = old.clusterIP;
    if (old.clusterIPs) spec.clusterIPs = old.clusterIPs;
  }
  if (!spec.clusterIP) spec.clusterIP = allocateClusterIP(cp);
  if (spec.clusterIP !== 'None') {
    spec.clusterIPs ??= [spec.clusterIP];
    spec.ipFamilies ??= old.ipFamilies ?? ['IPv4'];
    spec.ipFamilyPolicy ??= old.ipFamilyPolicy ?? 'SingleStack';
  } else {
    spec.clusterIPs ??= ['None'];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    const taken = new Set<number>();
    for (const p of (spec.ports ?? []) as Obj[]) {
      if (p.nodePort) continue;
      const prev = ((old.ports ?? []) as Obj[]).find((q) => q.port === p.port && (q.name ?? '') === (p.name ?? ''));
      p.nodePort = prev?.nodePort ?? allocateNodePort(cp, taken);
      taken.add(p.nodePort);
    }
    spec.externalTrafficPolicy ??= 'Cluster';
  }
}

const JOB_LABELS = ['batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name', 'controller-uid', 'job-name'];

function job(after: Obj): void {
  const spec = (after.spec ??= {});
  const uid = after.metadata.uid;
  const name = after.metadata.name;
  const template = (spec.template ??= {});
  const tmeta = (template.metadata ??= {});
  // (A write that went through admission webhooks carries a dry run's generated values: replace them.)
  const userLabels = Object.fromEntries(Object.entries((tmeta.labels ?? {}) as Record<string, string>).filter(([k]) => !JOB_LABELS.includes(k)));
  if (!after.metadata.labels || Object.keys(after.metadata.labels).length === 0) {
    if (Object.keys(userLabels).length) after.metadata.labels = userLabels;
  }
  if (!spec.podFailurePolicy) spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  if (spec.manualSelector) return;
  const generated = !spec.selector || (Object.keys(spec.selector.matchLabels ?? {}).join() === JOB_LABELS[0] && !spec.selector.matchExpressions?.length);
  if (generated) spec.selector = { matchLabels: { [JOB_LABELS[0]!]: uid } };
  tmeta.labels = { [JOB_LABELS[0]!]: uid, [JOB_LABELS[1]!]: name, [JOB_LABELS[2]!]: uid, [JOB_LABELS[3]!]: name, ...userLabels };
}

function pvc(cp: ControlPlane, after: Obj): void {
  const spec = (after.spec ??= {});
  if (spec.storageClassName === undefined) {
    const def = defaultStorageClass(cp);
    if (def) spec.storageClassName = def;
  }
  const finalizers: string[] = after.metadata.finalizers ?? [];
  if (!finalizers.includes(PVC_PROTECTION)) after.metadata.finalizers = [...finalizers, PVC_PROTECTION];
}

/** Installs the hooks (once per control plane). */
export function installApiServerHooks(cp: ControlPlane): void {
  if (installed.has(cp)) return;
  installed.add(cp);
  const previous = cp.objects.hooks.beforeStore;
  cp.objects.hooks.beforeStore = (t: ResourceType, before: Obj | undefined, after: Obj, opts) => {
    const obj = previous ? previous(t, before, after, opts) : after;
    if (t.crd) return obj;
    const created = before === undefined;
    if (t.group === '' && t.kind === 'Service') service(cp, before, obj);
    else if (t.group === 'batch' && t.kind === 'Job' && created) job(obj);
    else if (t.group === '' && t.kind === 'PersistentVolumeClaim' && created) pvc(cp, obj);
    return obj;
  };
}
