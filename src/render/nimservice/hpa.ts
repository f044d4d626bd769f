/** HorizontalPodAutoscaler `<name>` of a NIMService (inventory §2.2.7; §6 behaviour 35). */
import type { V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerSpec } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { mergeMaps, serviceAnnotations } from '../labels.js';
import { childMeta, SpecError, type NIMServiceFacts } from './common.js';

/** Autoscaling is on: `spec.scale.enabled`. */
export function autoscalingEnabled(svc: NIMService): boolean {
  return svc.spec.scale?.enabled === true;
}

/** `scale.hpa.minReplicas`, 1 when unset (the CRD default). */
export function minReplicas(svc: NIMService): number {
  return svc.spec.scale?.hpa?.minReplicas ?? 1;
}

/**
 * HPA `<name>` (autoscaling/v2) scaling Deployment `<name>` between `scale.hpa.minReplicas` and
 * `maxReplicas`, with `metrics` and `behavior` passed through unchanged (in the order given).
 * Annotations: the NIMService annotations overlaid by `scale.annotations`. Throws a SpecError when
 * `scale.hpa` is missing (no maxReplicas: no valid HPA).
 */
export function renderHPA(svc: NIMService, facts: NIMServiceFacts): Wire<V2HorizontalPodAutoscaler> {
  const hpa = svc.spec.scale?.hpa;
  if (!hpa) throw new SpecError('spec.scale.hpa', 'Required value: must be defined if spec.scale.enabled is true');
  const spec: Wire<V2HorizontalPodAutoscalerSpec> = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: svc.metadata.name ?? '' },
    minReplicas: minReplicas(svc),
    maxReplicas: hpa.maxReplicas,
  };
  if (hpa.metrics?.length) spec.metrics = structuredClone(hpa.metrics);
  if (hpa.behavior) spec.behavior = structuredClone(hpa.behavior);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(svc, facts, { annotations: mergeMaps(serviceAnnotations(svc), svc.spec.scale?.annotations) }),
    spec,
  };
}
