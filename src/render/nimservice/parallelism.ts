/**
 * Whether a NIMService runs one model replica across several pods, and the sizes involved
 * (inventory §2.2.8; Appendix A7). Upstream's test is `multiNode.parallelism.pipeline > 1`; with a
 * `multiNode` of pipeline 1 it still renders a Deployment but selects pods and checks readiness
 * the multi-node way, which matches nothing. Here every decision uses the same test: pipeline ≤ 1
 * is a single-node service in every respect.
 */
import type { NIMService } from '../../api/v1alpha1/kinds.js';

/** `multiNode.parallelism.pipeline > 1` (and the only backend, `lws`). */
export function isMultiNode(svc: NIMService): boolean {
  const mn = svc.spec.multiNode;
  return !!mn && (mn.backendType ?? 'lws') === 'lws' && (mn.parallelism?.pipeline ?? 0) > 1;
}

/** Pods per group (the LeaderWorkerSet size): `parallelism.pipeline`. */
export function pipelineSize(svc: NIMService): number {
  return svc.spec.multiNode?.parallelism?.pipeline ?? 0;
}

/** GPUs per pod: `parallelism.tensor`, 0 when unset (as upstream). */
export function tensorSize(svc: NIMService): number {
  return svc.spec.multiNode?.parallelism?.tensor ?? 0;
}

/** Name of the LeaderWorkerSet: `<name>-lws`. */
export function lwsName(svc: NIMService): string {
  return `${svc.metadata.name ?? ''}-lws`;
}

/** Number of groups: `spec.replicas`, 1 when unset (Appendix A7: upstream cannot render a nil count). */
export function groupCount(svc: NIMService): number {
  return svc.spec.replicas ?? 1;
}

/** Labels that select the leader pods (the Service's and the InferencePool's selector when multi-node). */
export function leaderSelector(svc: NIMService): Record<string, string> {
  return { app: lwsName(svc), 'nim-llm-role': 'leader' };
}
