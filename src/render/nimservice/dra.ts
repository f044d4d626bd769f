/**
 * Dynamic Resource Allocation of a NIMService (inventory §2.0.4, §2.2.3 step 1, §2.2.11; §6
 * behaviours 45–47): the named list of claims its pods use, the ResourceClaimTemplates it creates
 * from `claimCreationSpec`, the pod and container claim references, and the checks upstream makes
 * before creating anything.
 */
import type { V1Container, V1PodResourceClaim, V1PodSpec, V1ResourceClaimTemplate } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { DRAResource } from '../../api/v1alpha1/dra.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { fnv1a32, safeEncode } from '../hash.js';
import { podAnnotations, serviceAnnotations, serviceLabels } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';
import { deviceExpressions, isSemver } from './dra-cel.js';

export const RESOURCE_API_VERSION = 'resource.k8s.io/v1';
/** The lowest Kubernetes version whose DRA API (resource.k8s.io/v1) upstream supports. */
export const MIN_DRA_VERSION = 'v1.34.0';
export const DEFAULT_TEMPLATE_PREFIX = 'claimtemplate';

/** How a pod claim refers to its resource: an existing claim, a template, or a ComputeDomain's template. */
export const FIELD_CLAIM = 0;
export const FIELD_TEMPLATE = 1;
export const FIELD_COMPUTE_DOMAIN = 2;
export type FieldType = typeof FIELD_CLAIM | typeof FIELD_TEMPLATE | typeof FIELD_COMPUTE_DOMAIN;

/** One claim of the pods, with the name the pod spec gives it. */
export interface NamedDRAResource {
  /** Pod claim name: `claim-<hash(svc)>-<fieldType>-<hash(resourceName)>-<n>`. */
  name: string;
  fieldType: FieldType;
  /** The ResourceClaim (field type 0) or ResourceClaimTemplate (1, 2) it uses. */
  resourceName: string;
  /** Requests of the claim the containers get; all of them when empty. */
  requests: string[];
  /** The spec to create the template from (only for `claimCreationSpec` entries). */
  creation?: NonNullable<DRAResource['claimCreationSpec']>;
  /** Index in `spec.draResources` (absent for the ComputeDomain's claim). */
  index?: number;
}

/** Why DRA validation stops the reconcile: upstream's reason, with its messages (§2.2.3 step 1). */
export interface DRAProblem {
  state: 'Failed';
  reason: 'DRAResourcesUnsupported';
  message: string;
}

/** `GetTruncatedStringHash(s, 12)` (§2.0.4): FNV-1a-32 in decimal, safe-encoded, at most 12 characters. */
export function nameHash(s: string): string {
  return safeEncode(String(fnv1a32(s))).slice(0, 12);
}

/** Name of the template the operator creates for `draResources[index]`: `<prefix>-<hash(name)>-<index>`. */
export function claimTemplateName(svcName: string, prefix: string | undefined, index?: number): string {
  const base = `${prefix || DEFAULT_TEMPLATE_PREFIX}-${nameHash(svcName)}`;
  return index === undefined ? base : `${base}-${index}`;
}

/** Builds pod claim names, counting repeats so that each is unique (the `-<n>` suffix). */
export class PodClaimNamer {
  private readonly seen = new Map<string, number>();
  constructor(private readonly svcName: string) {}
  name(fieldType: FieldType, resourceName: string): string {
    const base = `claim-${nameHash(this.svcName)}-${fieldType}-${nameHash(resourceName)}`;
    const n = this.seen.has(base) ? this.seen.get(base)! + 1 : 0;
    this.seen.set(base, n);
    return `${base}-${n}`;
  }
}

/**
 * The pods' claims, in `spec.draResources` order, then the ComputeDomain's channel template when
 * `computeDomainTemplate` is given (multi-node with a compute domain, §2.2.8).
 */
export function namedDRAResources(svc: NIMService, computeDomainTemplate?: string): NamedDRAResource[] {
  const svcName = svc.metadata.name ?? '';
  const namer = new PodClaimNamer(svcName);
  const out: NamedDRAResource[] = (svc.spec.draResources ?? []).map((r, index) => {
    let fieldType: FieldType = FIELD_TEMPLATE;
    let resourceName: string;
    if (r.resourceClaimName) {
      fieldType = FIELD_CLAIM;
      resourceName = r.resourceClaimName;
    } else if (r.resourceClaimTemplateName) {
      resourceName = r.resourceClaimTemplateName;
    } else {
      resourceName = claimTemplateName(svcName, r.claimCreationSpec?.generateName, index);
    }
    const named: NamedDRAResource = { name: namer.name(fieldType, resourceName), fieldType, resourceName, requests: [...(r.requests ?? [])], index };
    if (!r.resourceClaimName && !r.resourceClaimTemplateName && r.claimCreationSpec) named.creation = r.claimCreationSpec;
    return named;
  });
  if (computeDomainTemplate !== undefined) {
    out.push({ name: namer.name(FIELD_COMPUTE_DOMAIN, computeDomainTemplate), fieldType: FIELD_COMPUTE_DOMAIN, resourceName: computeDomainTemplate, requests: [] });
  }
  return out;
}

/** `v1.34.0` and later; the major.minor.patch numbers only, so vendor suffixes (`-gke.100`, `+k3s1`) do not count. */
export function versionAtLeast(version: string, min: string = MIN_DRA_VERSION): boolean {
  const parse = (v: string) => /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v)?.slice(1).map((x) => Number(x ?? 0));
  const have = parse(version);
  const want = parse(min)!;
  if (!have) return false;
  for (let i = 0; i < 3; i++) if (have[i]! !== want[i]!) return have[i]! > want[i]!;
  return true;
}

/**
 * Upstream's DRA checks, made before any child is written: the cluster's version (when known),
 * duplicate claim names, and semantic versions in `versionValue`. Undefined when all pass.
 */
export function validateDRA(svc: NIMService, facts: NIMServiceFacts): DRAProblem | undefined {
  const dra = svc.spec.draResources ?? [];
  if (!dra.length) return undefined;
  const fail = (message: string): DRAProblem => ({ state: 'Failed', reason: 'DRAResourcesUnsupported', message });
  if (facts.serverVersion !== undefined && !versionAtLeast(facts.serverVersion)) {
    return fail(`DRA resources are not supported by NIM-Operator on this cluster, please upgrade to k8s version '${MIN_DRA_VERSION}' or higher`);
  }
  const names = new Set<string>();
  for (const [i, r] of dra.entries()) {
    if (!r.resourceClaimName) continue;
    if (names.has(r.resourceClaimName)) return fail(`spec.draResources[${i}].resourceClaimName: duplicate resource claim name: '${r.resourceClaimName}'`);
    names.add(r.resourceClaimName);
  }
  for (const [i, r] of dra.entries()) {
    for (const [j, d] of (r.claimCreationSpec?.devices ?? []).entries()) {
      for (const [k, a] of (d.attributeSelectors ?? []).entries()) {
        const v = a.value?.versionValue;
        if (v === undefined || isSemver(v)) continue;
        return fail(
          `spec.draResources[${i}].claimCreationSpec.devices[${j}].attributeSelectors[${k}].value.versionValue.version: invalid version "${v}": not a semantic version (MAJOR.MINOR.PATCH, optionally -pre-release and +build)`,
        );
      }
    }
  }
  return undefined;
}

/**
 * ResourceClaimTemplate `<prefix>-<hash>-<i>` (resource.k8s.io/v1) for each `claimCreationSpec`:
 * one ExactCount request per device, with its CEL selectors; claims made from it carry the service
 * labels and the NIMService annotations (without the spec hash). Throws a SpecError for a device
 * whose selectors cannot be written.
 */
export function renderClaimTemplates(svc: NIMService, facts: NIMServiceFacts, named: NamedDRAResource[]): Wire<V1ResourceClaimTemplate>[] {
  const labels = serviceLabels(svc, facts.operatorVersion);
  return named
    .filter((r) => r.creation)
    .map((r) => ({
      apiVersion: RESOURCE_API_VERSION,
      kind: 'ResourceClaimTemplate',
      metadata: childMeta(svc, facts, { name: r.resourceName, labels, annotations: serviceAnnotations(svc) }),
      spec: {
        metadata: { labels: { ...labels }, annotations: podAnnotations(svc) },
        spec: {
          devices: {
            requests: r.creation!.devices.map((d, j) => ({
              name: d.name,
              exactly: {
                allocationMode: 'ExactCount',
                count: d.count ?? 1,
                deviceClassName: d.deviceClassName ?? 'gpu.nvidia.com',
                selectors: deviceExpressions(d, `spec.draResources[${r.index}].claimCreationSpec.devices[${j}]`).map((expression) => ({ cel: { expression } })),
              },
            })),
          },
        },
      },
    }));
}

/** The pod's `resourceClaims` entries. */
export function podResourceClaims(named: NamedDRAResource[]): Wire<V1PodResourceClaim>[] {
  return named.map((r) => (r.fieldType === FIELD_CLAIM ? { name: r.name, resourceClaimName: r.resourceName } : { name: r.name, resourceClaimTemplateName: r.resourceName }));
}

/**
 * Adds the claims to a pod spec: `spec.resourceClaims`, and, for every claim no container refers to
 * yet, a reference in each container (main and sidecars, not init containers): the whole claim, or
 * one entry per listed request. Without claims the pod spec is left as it is.
 */
export function addClaims(pod: Wire<V1PodSpec>, named: NamedDRAResource[]): void {
  if (!named.length) return;
  pod.resourceClaims = podResourceClaims(named);
  const containers: Wire<V1Container>[] = pod.containers;
  for (const r of named) {
    if (containers.some((c) => (c.resources?.claims ?? []).some((x) => x.name === r.name))) continue;
    for (const c of containers) {
      const resources = (c.resources ??= {});
      const claims = (resources.claims ??= []);
      if (!r.requests.length) claims.push({ name: r.name });
      else for (const request of r.requests) claims.push({ name: r.name, request });
    }
  }
}
