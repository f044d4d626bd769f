/**
 * Sharp-edge rules (issue 9 §2): mistakes that pass upstream's webhook but hurt in production.
 * Each yields a finding naming the field and the fix; it is a warning by default and a refusal
 * (a Forbidden field error) under a strict policy.
 */
import type { NIMCache, NIMService } from '../../api/v1alpha1/kinds.js';
import { fieldError, OMIT_VALUE, type FieldError } from '../../api/validation/index.js';
import type { ServiceSpec } from './nimservice.js';
import { isObject, parseQuantity } from './util.js';

/** The parts of a Node the rules read (a V1Node fits). */
export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { capacity?: Record<string, string>; allocatable?: Record<string, string> };
}

export interface SharpEdgeFacts {
  nodes?: NodeLike[];
  /** NIMCaches of the object's namespace (for the cached profile's tensor parallelism). */
  nimCaches?: NIMCache[];
}

export interface Finding {
  /** A stable id of the rule, e.g. `image-tag`. */
  rule: string;
  field: string;
  message: string;
}

export const GPU = 'nvidia.com/gpu';

/** A finding as a warning line: the field, then what is wrong and the fix. */
export function asWarning(f: Finding): string {
  return `${f.field}: ${f.message}`;
}

/** A finding as a refusal under the strict policy. */
export function asError(f: Finding): FieldError {
  return fieldError('FieldValueForbidden', f.field, OMIT_VALUE, f.message);
}

/** The tag of an image reference ("repo:tag", "repo@sha256:…"), '' when it has none. */
export function imageTag(ref: string): { tag: string; digest: boolean } {
  if (ref.includes('@')) return { tag: '', digest: true };
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const i = last.lastIndexOf(':');
  return { tag: i >= 0 ? last.slice(i + 1) : '', digest: false };
}

function tagFinding(field: string, tag: string, what: string): Finding | undefined {
  if (tag === '') {
    return { rule: 'image-tag', field, message: `${what} has no tag, so it means "latest" and changes on every pull: pin an exact version (for example :1.8.4) or a digest` };
  }
  if (tag.toLowerCase() === 'latest') {
    return { rule: 'image-tag', field, message: `${what} uses the floating tag "latest", which changes on every pull: pin an exact version (for example 1.8.4) or a digest` };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// GPU topology facts

/** Whether the node runs vGPU guests (GPU Feature Discovery's vGPU labels). */
export function isVGPUNode(n: NodeLike): boolean {
  const labels = n.metadata?.labels ?? {};
  return labels['nvidia.com/vgpu.present'] === 'true' || Object.keys(labels).some((k) => k.startsWith('nvidia.com/vgpu.host-driver-'));
}

/**
 * Whether the node's GPUs can run a multi-GPU (tensor-parallel) model under vGPU: peer-to-peer
 * over vGPU works only over NVLink, which the seeds allow for A100 and H100 (SXM/NVL/HGX boards),
 * never over PCIe boards (L40S, A100-PCIE …) and never for MIG-backed vGPUs.
 */
export function isNVLinkCapable(n: NodeLike): boolean {
  const product = n.metadata?.labels?.['nvidia.com/gpu.product'] ?? '';
  return /A100|H100/i.test(product) && !/PCIE|MIG/i.test(product);
}

function hasGPUs(n: NodeLike): boolean {
  const labels = n.metadata?.labels ?? {};
  const cap = parseQuantity(n.status?.capacity?.[GPU] ?? n.status?.allocatable?.[GPU]) ?? 0;
  return cap > 0 || labels['nvidia.com/gpu.present'] === 'true' || 'nvidia.com/gpu.product' in labels;
}

function matchesSelector(n: NodeLike, selector: Record<string, string> | undefined): boolean {
  const labels = n.metadata?.labels ?? {};
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** GPUs one pod of the service needs, and the field that says so. */
export function gpusPerPod(spec: ServiceSpec, caches: NIMCache[]): { count: number; field: string } {
  const res = spec.resources;
  const fromResources = Math.max(parseQuantity(res?.limits?.[GPU]) ?? 0, parseQuantity(res?.requests?.[GPU]) ?? 0);
  if (fromResources > 0) {
    const which = res?.limits?.[GPU] !== undefined ? 'limits' : 'requests';
    return { count: fromResources, field: `spec.resources.${which}[${GPU}]` };
  }
  const tensor = spec.multiNode?.parallelism?.tensor;
  if (tensor !== undefined) return { count: tensor, field: 'spec.multiNode.parallelism.tensor' };
  const ref = spec.storage?.nimCache;
  const cache = ref?.name ? caches.find((c) => c.metadata?.name === ref.name) : undefined;
  if (cache) {
    const profiles = cache.status?.profiles ?? [];
    const profile = ref?.profile ? profiles.find((p) => p.name === ref.profile) : profiles.length === 1 ? profiles[0] : undefined;
    const tp = Number(profile?.config?.tensorParallelism ?? profile?.config?.tp ?? cache.spec?.source?.ngc?.model?.tensorParallelism ?? 1);
    if (tp > 0) return { count: tp, field: ref?.profile ? 'spec.storage.nimCache.profile' : 'spec.storage.nimCache.name' };
  }
  return { count: 1, field: '' };
}

// ---------------------------------------------------------------------------------------------
// The rules

/** Sharp edges of a NIMService. */
export function serviceSharpEdges(svc: NIMService, facts: SharpEdgeFacts = {}): Finding[] {
  const spec = svc.spec ?? ({} as ServiceSpec);
  const out: Finding[] = [];
  const fix = 'use a NIMCache on a PVC (spec.storage.nimCache.name)';

  // spec.replicas with autoscaling is refused by the CRD's CEL rule and by upstream's rule S12.

  // Model storage that does not survive the pod or pins it to one node.
  if (spec.storage?.emptyDir !== undefined && spec.storage.emptyDir !== null) {
    out.push({ rule: 'model-storage', field: 'spec.storage.emptyDir', message: `an emptyDir model store re-pulls the model on every restart: ${fix}` });
  }
  if (spec.storage?.hostPath) {
    out.push({ rule: 'model-storage', field: 'spec.storage.hostPath', message: `a hostPath model store pins the pod to one node: ${fix}` });
  }

  const autoscales = spec.scale?.enabled === true;
  // Autoscaling without a NIMCache: every new replica downloads the model before it serves.
  if (autoscales && !spec.storage?.nimCache?.name) {
    out.push({
      rule: 'autoscale-without-cache',
      field: 'spec.storage.nimCache',
      message: 'an autoscaled NIMService without a NIMCache downloads the model again in every new replica, so scale-up is slow when load is high: create a NIMCache and set spec.storage.nimCache.name',
    });
  }

  // Image tag.
  const tag = spec.image?.tag ?? '';
  if (tag !== '') {
    const f = tagFinding('spec.image.tag', tag, `image ${spec.image.repository}:${tag}`);
    if (f) out.push(f);
  }

  // CPU-only HPA metrics on a GPU workload (an empty list means the HPA's default: CPU at 80 %).
  // KServe maps only a cpu or memory metric to its autoscaler, so the fix does not apply there.
  if (autoscales && spec.inferencePlatform !== 'kserve') {
    const metrics = spec.scale?.hpa?.metrics ?? [];
    const cpuOnly = metrics.every((m) => {
      const r = m.type === 'Resource' ? m.resource : m.type === 'ContainerResource' ? m.containerResource : undefined;
      return r?.name === 'cpu';
    });
    const gpu = gpusPerPod(spec, facts.nimCaches ?? []).count > 0 || (spec.draResources ?? []).length > 0;
    if (cpuOnly && gpu) {
      out.push({
        rule: 'cpu-only-hpa',
        field: 'spec.scale.hpa.metrics',
        message: `${metrics.length === 0 ? 'no metrics means the HPA scales on CPU only' : 'the HPA scales on CPU only'}, which does not track load on a GPU model server: add a Pods or Object metric of the model (for example num_requests_waiting or gpu_cache_usage_perc)`,
      });
    }
  }

  // A multi-GPU model on vGPU nodes without NVLink.
  const { count, field } = gpusPerPod(spec, facts.nimCaches ?? []);
  if (count > 1 && facts.nodes) {
    const bad = facts.nodes.filter((n) => hasGPUs(n) && matchesSelector(n, spec.nodeSelector) && isVGPUNode(n) && !isNVLinkCapable(n));
    if (bad.length > 0) {
      const names = bad.map((n) => `${n.metadata?.name ?? '<unnamed>'} (${n.metadata?.labels?.['nvidia.com/gpu.product'] ?? 'unknown GPU'})`).join(', ');
      out.push({
        rule: 'multi-gpu-vgpu',
        field: field || `spec.resources.limits[${GPU}]`,
        message: `the model needs ${count} GPUs per pod, but vGPU nodes ${names} have no NVLink, and tensor parallelism over vGPU needs NVLink peer-to-peer (only A100 or H100 with NVLink): set spec.nodeSelector to NVLink A100/H100 nodes (nvidia.com/gpu.product) or choose a profile with tensor parallelism 1`,
      });
    }
  }

  // The deprecated legacy ingress, with the exact rewrite.
  const legacy = spec.expose?.ingress;
  if (legacy?.enabled === true) {
    out.push({ rule: 'deprecated-ingress', field: 'spec.expose.ingress', message: deprecatedIngressMessage(svc) });
  }
  return out;
}

/** Upstream's deprecation warning, followed by the `spec.expose.router.ingress` that replaces the legacy Ingress. */
export function deprecatedIngressMessage(svc: NIMService): string {
  const legacy = svc.spec.expose?.ingress ?? {};
  const ing = isObject(legacy.spec) ? legacy.spec : {};
  const name = svc.metadata?.name ?? '<name>';
  const ns = svc.metadata?.namespace ?? '<namespace>';
  const host = ing.rules?.find((r) => r.host)?.host;
  const prefix = `${name}.${ns}.`;
  const domain = host?.startsWith(prefix) ? host.slice(prefix.length) : host;
  const router: Record<string, unknown> = { hostDomainName: domain ?? '<domain>' };
  if (legacy.annotations && Object.keys(legacy.annotations).length > 0) router.annotations = legacy.annotations;
  const ingress: Record<string, unknown> = { ingressClass: ing.ingressClassName ?? '<ingress class>' };
  const tls = ing.tls?.find((t) => t.secretName)?.secretName;
  if (tls) ingress.tlsSecretName = tls;
  router.ingress = ingress;
  const yaml = `spec.expose.router: ${flow(router)}`;
  const hostNote = host && !host.startsWith(prefix) ? ` (the router's host is ${prefix}<hostDomainName>, not ${host})` : '';
  return `.spec.expose.ingress is deprecated, use .spec.expose.router instead. Remove spec.expose.ingress and set ${yaml}${hostNote}`;
}

/** YAML flow style, one line. */
function flow(v: unknown): string {
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(', ')}}`;
  if (typeof v === 'string') {
    const plain = /^[A-Za-z0-9._/ -]+$/.test(v) && !/^[-\s]|\s$/.test(v) && !/^([-+.0-9][-+.0-9eE]*|true|false|yes|no|on|off|null|~)$/i.test(v);
    return plain ? v : JSON.stringify(v);
  }
  return JSON.stringify(v);
}

/** Sharp edges of a NIMCache. */
export function cacheSharpEdges(cache: NIMCache): Finding[] {
  const out: Finding[] = [];
  const puller = cache.spec?.source?.ngc?.modelPuller;
  if (puller) {
    const { tag, digest } = imageTag(puller);
    if (!digest) {
      const f = tagFinding('spec.source.ngc.modelPuller', tag, `modelPuller ${puller}`);
      if (f) out.push(f);
    }
  }
  if (cache.spec?.storage?.hostPath) {
    out.push({
      rule: 'model-storage',
      field: 'spec.storage.hostPath',
      message: 'hostPath is deprecated and ignored for a NIMCache: the model is stored on spec.storage.pvc; remove spec.storage.hostPath',
    });
  }
  return out;
}
