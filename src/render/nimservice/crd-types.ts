/**
 * Minimal typed shapes of the third-party kinds a NIMService owns, which `@kubernetes/client-node`
 * has no models for: Gateway API HTTPRoute and GRPCRoute (gateway.networking.k8s.io/v1) and the
 * Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1). Only the fields we write are
 * typed; the API server's CRD schema is the authority on the rest.
 */
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';

export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

/** A route's attachment to a Gateway (Gateway API `ParentReference`). */
export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

/** Where a route sends traffic (Gateway API `BackendRef`); group "" and kind Service when omitted. */
export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface HTTPPathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value?: string;
}

export interface HTTPRouteRule {
  matches?: { path?: HTTPPathMatch }[];
  backendRefs?: BackendRef[];
}

export interface HTTPRoute {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'HTTPRoute';
  metadata: Wire<V1ObjectMeta>;
  spec: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
}

export interface GRPCRouteRule {
  backendRefs?: BackendRef[];
}

export interface GRPCRoute {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'GRPCRoute';
  metadata: Wire<V1ObjectMeta>;
  spec: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: GRPCRouteRule[] };
}

/** One scrape target of a ServiceMonitor: a named port of the selected Services. */
export interface ServiceMonitorEndpoint {
  port?: string;
  path?: string;
  interval?: string;
  scrapeTimeout?: string;
}

export interface ServiceMonitor {
  apiVersion: typeof MONITORING_API_VERSION;
  kind: 'ServiceMonitor';
  metadata: Wire<V1ObjectMeta>;
  spec: {
    namespaceSelector?: { any?: boolean; matchNames?: string[] };
    selector: Wire<V1LabelSelector>;
    endpoints: ServiceMonitorEndpoint[];
  };
}
