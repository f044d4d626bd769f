/**
 * The NVIDIA ComputeDomain of a multi-node NIMService (inventory §2.2.8 "ComputeDomain"; §6
 * behaviour 44): created as `<name>` when `multiNode.computeDomain.create`, or an existing one named
 * by `computeDomain.name`; either way its channel ResourceClaimTemplate becomes a claim of the pods.
 */
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { serviceAnnotations } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';
import { claimTemplateName } from './dra.js';
import { COMPUTE_DOMAIN_API_VERSION, type ComputeDomain } from './multinode-types.js';
import { isMultiNode, pipelineSize } from './parallelism.js';

/** Why the pods cannot be rendered yet: the named ComputeDomain is missing or has no channel template. */
export interface ComputeDomainProblem {
  state: 'Failed';
  reason: 'ComputeDomainFailed';
  message: string;
}

/** A compute domain is used: multi-node and `multiNode.computeDomain` set. */
export function computeDomainEnabled(svc: NIMService): boolean {
  return isMultiNode(svc) && !!svc.spec.multiNode?.computeDomain;
}

/** The operator creates the ComputeDomain (`computeDomain.create: true`). */
export function computeDomainCreated(svc: NIMService): boolean {
  return computeDomainEnabled(svc) && svc.spec.multiNode?.computeDomain?.create === true;
}

/** The ComputeDomain's name: `<name>` when created, else `computeDomain.name`; undefined without one. */
export function computeDomainName(svc: NIMService): string | undefined {
  if (!computeDomainEnabled(svc)) return undefined;
  return computeDomainCreated(svc) ? (svc.metadata.name ?? '') : (svc.spec.multiNode?.computeDomain?.name ?? '');
}

/**
 * The ResourceClaimTemplate of the domain's channel: `cd-claimtemplate-<hash(<name>)>` for one we
 * create, else the existing domain's `spec.channel.resourceClaimTemplate.name` (from
 * `facts.computeDomain`). Undefined without a compute domain; a problem when the named one is
 * missing or has no template.
 */
export function computeDomainTemplate(svc: NIMService, facts: Pick<NIMServiceFacts, 'computeDomain'>): string | ComputeDomainProblem | undefined {
  const name = computeDomainName(svc);
  if (name === undefined) return undefined;
  if (computeDomainCreated(svc)) return claimTemplateName(name, 'cd-claimtemplate');
  const cd = facts.computeDomain;
  const ns = svc.metadata.namespace ?? 'default';
  if (!cd || cd.metadata?.name !== name) {
    return {
      state: 'Failed',
      reason: 'ComputeDomainFailed',
      message: `ComputeDomain ${name} not found in namespace ${ns}: create it, or set spec.multiNode.computeDomain.create to true instead of naming one`,
    };
  }
  const template = cd.spec?.channel?.resourceClaimTemplate?.name;
  if (!template) {
    return { state: 'Failed', reason: 'ComputeDomainFailed', message: `ComputeDomain ${name} has no spec.channel.resourceClaimTemplate.name` };
  }
  return template;
}

/** ComputeDomain `<name>` (resource.nvidia.com/v1beta1): one node per pod of a group, a Single channel. */
export function renderComputeDomain(svc: NIMService, facts: NIMServiceFacts, template: string): ComputeDomain {
  return {
    apiVersion: COMPUTE_DOMAIN_API_VERSION,
    kind: 'ComputeDomain',
    metadata: childMeta(svc, facts, { annotations: serviceAnnotations(svc) }),
    spec: { numNodes: pipelineSize(svc), channel: { resourceClaimTemplate: { name: template }, allocationMode: 'Single' } },
  };
}
