/**
 * The NIMService status: `state`, the `Ready` and `Failed` conditions (upstream's pair, §2.0.5),
 * `availableReplicas` and `model`. Built whole from what the reconcile found, so that a reconcile of a
 * settled object produces a deep-equal status and writes nothing.
 */
import { setCondition, type Condition } from '../../runtime/status.js';
import type { Json } from '../../runtime/client/rest.js';

export type State = 'Pending' | 'NotReady' | 'Ready' | 'Failed';

export interface Outcome {
  state: State;
  reason: string;
  message: string;
  availableReplicas?: number;
  model?: { name: string; clusterEndpoint: string; externalEndpoint: string };
  /** Other status fields (draResourceStatuses, computeDomainStatus), replaced whole. */
  extra?: Json;
}

/**
 * The next status. Differences from upstream, on purpose: a Failed service's `Ready` condition
 * carries the failure's reason and message (upstream leaves them as `Failed` and ""), so that
 * `kubectl wait --for=condition=Ready` and dashboards reading only `Ready` say why.
 */
export function nextStatus(current: Json | undefined, o: Outcome, generation: number | undefined): Json {
  let conditions: Condition[] = current?.conditions ?? [];
  const ready: Condition =
    o.state === 'Ready'
      ? { type: 'Ready', status: 'True', reason: o.reason, message: o.message }
      : { type: 'Ready', status: 'False', reason: o.reason, message: o.message };
  const failed: Condition =
    o.state === 'Failed'
      ? { type: 'Failed', status: 'True', reason: o.reason, message: o.message }
      : { type: 'Failed', status: 'False', reason: 'Ready', message: '' };
  conditions = setCondition(conditions, ready, generation);
  conditions = setCondition(conditions, failed, generation);
  const status: Json = { ...(current ?? {}), state: o.state, conditions };
  if (o.availableReplicas !== undefined) status.availableReplicas = o.availableReplicas;
  else delete status.availableReplicas;
  if (o.model) status.model = o.model;
  else if (o.state !== 'Ready') delete status.model;
  for (const key of ['draResourceStatuses', 'computeDomainStatus']) {
    if (o.extra?.[key] !== undefined) status[key] = o.extra[key];
    else delete status[key];
  }
  return status;
}

/** Reasons that deserve a Warning event (someone has to act). */
export const WARNING_REASONS = new Set([
  'ImagePullFailed', 'ContainerConfigError', 'InsufficientGPU', 'Unschedulable', 'ContainerCrashing',
  'NIMCacheNotFound', 'NIMCacheFailed', 'OptionalAPIMissing', 'ChildRejected', 'ChildConflict', 'InvalidSpec', 'Unsupported',
  'DRAResourcesUnsupported', 'ComputeDomainFailed',
]);
