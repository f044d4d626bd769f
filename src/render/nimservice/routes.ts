/**
 * Ingress, HTTPRoute and GRPCRoute `<name>` of a NIMService (inventory §2.2.7; §6 behaviours 31–34):
 * when each is wanted, and its contents.
 */
import type { V1Ingress, V1IngressSpec } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { mergeMaps, serviceAnnotations } from '../labels.js';
import { apiPort, childMeta, grpcPort, routerHost, type NIMServiceFacts } from './common.js';
import { GATEWAY_API_VERSION, type BackendRef, type GRPCRoute, type HTTPRoute, type ParentReference } from './crd-types.js';

/** The deprecated `expose.ingress` is on. */
function legacyIngressOn(svc: NIMService): boolean {
  return svc.spec.expose?.ingress?.enabled === true;
}

/** An Ingress is wanted: `router.ingress` with an ingressClass, or the deprecated `expose.ingress.enabled`. */
export function ingressEnabled(svc: NIMService): boolean {
  return !!svc.spec.expose?.router?.ingress?.ingressClass || legacyIngressOn(svc);
}

/** An HTTPRoute is wanted: a gateway is named and `httpRoutesEnabled` is not false (it defaults to true). */
export function httpRouteEnabled(svc: NIMService): boolean {
  const gw = svc.spec.expose?.router?.gateway;
  return !!gw && gw.httpRoutesEnabled !== false;
}

/**
 * A GRPCRoute is wanted: a gateway is named, `grpcRoutesEnabled` is true, and there is a gRPC port
 * to send to. Without `expose.service.grpcPort` (which the webhook requires) upstream writes a route
 * with an empty spec, which routes nothing; we write none.
 */
export function grpcRouteEnabled(svc: NIMService): boolean {
  const gw = svc.spec.expose?.router?.gateway;
  return !!gw && gw.grpcRoutesEnabled === true && grpcPort(svc) !== undefined;
}

/** The router path's Ingress spec: one host, every path to the Service's `api` port, TLS when a secret is named. */
function routerIngressSpec(svc: NIMService): Wire<V1IngressSpec> {
  const ingress = svc.spec.expose!.router!.ingress!;
  const host = routerHost(svc);
  const spec: Wire<V1IngressSpec> = {
    ingressClassName: ingress.ingressClass,
    rules: [
      {
        host,
        http: {
          paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc.metadata.name ?? '', port: { name: 'api' } } } }],
        },
      },
    ],
  };
  if (ingress.tlsSecretName) spec.tls = [{ hosts: [host], secretName: ingress.tlsSecretName }];
  return spec;
}

/**
 * Ingress `<name>`. The deprecated `expose.ingress` (when enabled) gives its spec verbatim and its
 * annotations; otherwise the spec is built from `router.ingress` and `router.annotations` are added.
 * Labels are the service labels (not `expose.service.labels`).
 */
export function renderIngress(svc: NIMService, facts: NIMServiceFacts): Wire<V1Ingress> {
  const expose = svc.spec.expose;
  const legacy = legacyIngressOn(svc);
  const extra = legacy ? expose?.ingress?.annotations : expose?.router?.annotations;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMeta(svc, facts, { annotations: mergeMaps(serviceAnnotations(svc), extra) }),
    spec: legacy ? structuredClone(expose?.ingress?.spec ?? {}) : routerIngressSpec(svc),
  };
}

function parentRefs(svc: NIMService): ParentReference[] {
  const gw = svc.spec.expose!.router!.gateway!;
  return [{ name: gw.name, namespace: gw.namespace }];
}

function routeAnnotations(svc: NIMService): Record<string, string> {
  return mergeMaps(serviceAnnotations(svc), svc.spec.expose?.router?.annotations);
}

/**
 * HTTPRoute `<name>`: attached to the gateway, host `<name>.<ns>.<hostDomainName>`, every path
 * (PathPrefix `/`) to the Service's API port, or to `gateway.backendRef` (e.g. an InferencePool)
 * when one is given.
 */
export function renderHTTPRoute(svc: NIMService, facts: NIMServiceFacts): HTTPRoute {
  const override = svc.spec.expose?.router?.gateway?.backendRef;
  const backend: BackendRef = override ? structuredClone(override) : { name: svc.metadata.name ?? '', port: apiPort(svc) };
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: childMeta(svc, facts, { annotations: routeAnnotations(svc) }),
    spec: {
      parentRefs: parentRefs(svc),
      hostnames: [routerHost(svc)],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend] }],
    },
  };
}

/**
 * GRPCRoute `<name>`: same gateway and host as the HTTPRoute, one rule without matches to the
 * Service's gRPC port. `gateway.backendRef` does not apply here: it replaces the HTTP backend only.
 */
export function renderGRPCRoute(svc: NIMService, facts: NIMServiceFacts): GRPCRoute {
  const port = grpcPort(svc);
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GRPCRoute',
    metadata: childMeta(svc, facts, { annotations: routeAnnotations(svc) }),
    spec: {
      parentRefs: parentRefs(svc),
      hostnames: [routerHost(svc)],
      rules: [{ backendRefs: [{ name: svc.metadata.name ?? '', ...(port !== undefined ? { port } : {}) }] }],
    },
  };
}
