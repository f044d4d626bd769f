/** ServiceMonitor `<name>` of a NIMService (inventory §2.2.7; §6 behaviour 37). */
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { MANAGED_BY, MANAGED_BY_LABEL, mergeMaps, serviceAnnotations, serviceLabels } from '../labels.js';
import { childMeta, metricsPort, type NIMServiceFacts } from './common.js';
import { MONITORING_API_VERSION, type ServiceMonitor, type ServiceMonitorEndpoint } from './crd-types.js';

/** A ServiceMonitor is wanted: `spec.metrics.enabled`. */
export function serviceMonitorEnabled(svc: NIMService): boolean {
  return svc.spec.metrics?.enabled === true;
}

/**
 * ServiceMonitor `<name>` (monitoring.coreos.com/v1) selecting the NIMService's Service in its own
 * namespace by the service labels, scraping `/v1/metrics` on the `api` port, plus `/metrics` on the
 * `metrics` port when `expose.service.metricsPort` is set; `interval` and `scrapeTimeout` on each.
 * Labels: the service labels overlaid by `serviceMonitor.additionalLabels` (which win, so a
 * Prometheus selector can be matched), except the managed-by label, which the operator's filtered
 * caches need (§2.0.7). Annotations: the NIMService annotations overlaid by `serviceMonitor.annotations`.
 */
export function renderServiceMonitor(svc: NIMService, facts: NIMServiceFacts): ServiceMonitor {
  const sm = svc.spec.metrics?.serviceMonitor;
  const selected = serviceLabels(svc, facts.operatorVersion);
  const labels = { ...mergeMaps(selected, sm?.additionalLabels), [MANAGED_BY_LABEL]: MANAGED_BY };
  const endpoint = (port: string, path: string): ServiceMonitorEndpoint => {
    const e: ServiceMonitorEndpoint = { path, port };
    if (sm?.interval) e.interval = sm.interval;
    if (sm?.scrapeTimeout) e.scrapeTimeout = sm.scrapeTimeout;
    return e;
  };
  const endpoints = [endpoint('api', '/v1/metrics')];
  if (metricsPort(svc) !== undefined) endpoints.push(endpoint('metrics', '/metrics'));
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'ServiceMonitor',
    metadata: childMeta(svc, facts, { labels, annotations: mergeMaps(serviceAnnotations(svc), sm?.annotations) }),
    spec: {
      namespaceSelector: { matchNames: [svc.metadata.namespace ?? 'default'] },
      selector: { matchLabels: selected },
      endpoints,
    },
  };
}
