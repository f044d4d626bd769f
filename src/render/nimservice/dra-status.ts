/**
 * `status.draResourceStatuses` and `status.computeDomainStatus` of a NIMService, computed from the
 * ResourceClaims and the ComputeDomain the controller reads (inventory §2.2.8, §2.2.11 "Status";
 * §6 behaviours 44, 46). Pure: the controller passes what its cache holds.
 */
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import type { NIMServiceFacts } from './common.js';
import { computeDomainName, computeDomainTemplate } from './computedomain.js';
import { FIELD_CLAIM, namedDRAResources } from './dra.js';
import type { ComputeDomainLike } from './multinode-types.js';

/** The annotation Kubernetes puts on a claim made from a pod's template: the pod claim name. */
export const POD_CLAIM_NAME_ANNOTATION = 'resource.kubernetes.io/pod-claim-name';

/** A ResourceClaim (resource.k8s.io/v1) as read from the cluster; only these fields are used. */
export interface ResourceClaimLike {
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
  };
  status?: { allocation?: unknown; reservedFor?: unknown[] };
}

export interface ClaimStatus {
  name: string;
  state: string;
}

export type DRAResourceStatus =
  | { name: string; resourceClaimStatus: ClaimStatus }
  | { name: string; resourceClaimTemplateStatus: { name: string; resourceClaimStatuses?: ClaimStatus[] } };

/**
 * A claim's state: the comma-joined subset of `deleted` (being deleted), `pending` (not allocated,
 * not being deleted), `allocated`, `reserved` (allocated and reserved for a pod).
 */
export function claimState(claim: ResourceClaimLike): string {
  const states: string[] = [];
  const deleting = !!claim.metadata?.deletionTimestamp;
  if (deleting) states.push('deleted');
  if (!claim.status?.allocation) {
    if (!deleting) states.push('pending');
  } else {
    states.push('allocated');
    if ((claim.status.reservedFor?.length ?? 0) > 0) states.push('reserved');
  }
  return states.join(',');
}

const time = (t: string | Date | undefined): number => (t === undefined ? 0 : new Date(t).getTime());

/**
 * `status.draResourceStatuses`: one entry per pod claim, in the pod's order (the ComputeDomain's
 * channel claim last). A claim named by `resourceClaimName` reports its own state (`pending` while
 * it does not exist: the pods wait for it; see `missingResourceClaims`); a template reports every
 * claim made from it for this pod claim name, oldest first. `claims` are the ResourceClaims of the
 * namespace; `facts.computeDomain` is the existing ComputeDomain a multi-node service names.
 * Empty when the service uses no DRA claim.
 */
export function draResourceStatuses(svc: NIMService, claims: ResourceClaimLike[], facts: Pick<NIMServiceFacts, 'computeDomain'> = {}): DRAResourceStatus[] {
  const ns = svc.metadata.namespace ?? 'default';
  const local = claims.filter((c) => (c.metadata?.namespace ?? ns) === ns);
  const cd = computeDomainTemplate(svc, facts);
  return namedDRAResources(svc, typeof cd === 'string' ? cd : undefined).map((r) => {
    if (r.fieldType === FIELD_CLAIM) {
      const claim = local.find((c) => c.metadata?.name === r.resourceName);
      return { name: r.name, resourceClaimStatus: { name: r.resourceName, state: claim ? claimState(claim) : 'pending' } };
    }
    const made = local
      .filter((c) => c.metadata?.annotations?.[POD_CLAIM_NAME_ANNOTATION] === r.name)
      .sort((a, b) => time(a.metadata?.creationTimestamp) - time(b.metadata?.creationTimestamp));
    const status: { name: string; resourceClaimStatuses?: ClaimStatus[] } = { name: r.resourceName };
    if (made.length) status.resourceClaimStatuses = made.map((c) => ({ name: c.metadata?.name ?? '', state: claimState(c) }));
    return { name: r.name, resourceClaimTemplateStatus: status };
  });
}

/** Names of the ResourceClaims named by `spec.draResources[].resourceClaimName` that do not exist. */
export function missingResourceClaims(svc: NIMService, claims: ResourceClaimLike[]): string[] {
  const ns = svc.metadata.namespace ?? 'default';
  const names = new Set(claims.filter((c) => (c.metadata?.namespace ?? ns) === ns).map((c) => c.metadata?.name));
  return (svc.spec.draResources ?? []).flatMap((r) => (r.resourceClaimName && !names.has(r.resourceClaimName) ? [r.resourceClaimName] : []));
}

export interface ComputeDomainStatus {
  name: string;
  status?: string;
  nodes?: { name: string; cliqueID: string; status?: 'Ready' | 'NotReady' }[];
}

/**
 * `status.computeDomainStatus` of a multi-node service with a compute domain: the domain's name,
 * its `status.status` and its nodes. `cd` is the ComputeDomain as read (the one the operator
 * created, `<name>`, or the one `computeDomain.name` names); undefined when the service has none.
 */
export function computeDomainStatus(svc: NIMService, cd: ComputeDomainLike | undefined): ComputeDomainStatus | undefined {
  const name = computeDomainName(svc);
  if (name === undefined) return undefined;
  const out: ComputeDomainStatus = { name };
  if (cd?.status?.status) out.status = cd.status.status;
  const nodes = cd?.status?.nodes;
  if (nodes?.length) {
    out.nodes = nodes.map((n) => ({
      name: n.name ?? '',
      cliqueID: n.cliqueID ?? '',
      ...(n.status === 'Ready' || n.status === 'NotReady' ? { status: n.status } : {}),
    }));
  }
  return out;
}
