/** Service `<name>` of a standalone, single-node NIMService (inventory §2.2.6, §6 behaviour 9). */
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { mergeMaps, selectorLabels, serviceAnnotations, serviceLabels } from '../labels.js';
import { apiPort, childMeta, grpcPort, metricsPort, type NIMServiceFacts } from './common.js';

/** The Service's ports: `api` (always; 8000 when unset, A8), `grpc` and `metrics` when their ports are set. */
export function servicePorts(svc: NIMService): Wire<V1ServicePort>[] {
  const ports: Wire<V1ServicePort>[] = [{ name: 'api', port: apiPort(svc), targetPort: 'api', protocol: 'TCP' }];
  const grpc = grpcPort(svc);
  if (grpc !== undefined) ports.push({ name: 'grpc', port: grpc, targetPort: 'grpc', protocol: 'TCP' });
  const metrics = metricsPort(svc);
  if (metrics !== undefined) ports.push({ name: 'metrics', port: metrics, targetPort: 'metrics', protocol: 'TCP' });
  return ports;
}

/**
 * Labels: `expose.service.labels` overlaid by the service labels (service labels win). Annotations:
 * NIMService annotations overlaid by `expose.service.annotations`. Type `expose.service.type`, else
 * ClusterIP. `expose.service.name` is ignored, as upstream ignores it.
 */
export function renderService(svc: NIMService, facts: NIMServiceFacts): Wire<V1Service> {
  const exposed = svc.spec.expose?.service;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(svc, facts, {
      labels: mergeMaps(exposed?.labels, serviceLabels(svc, facts.operatorVersion)),
      annotations: mergeMaps(serviceAnnotations(svc), exposed?.annotations),
    }),
    spec: {
      type: exposed?.type || 'ClusterIP',
      selector: selectorLabels(svc),
      ports: servicePorts(svc),
    },
  };
}
