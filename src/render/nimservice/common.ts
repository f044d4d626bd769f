/** What the NIMService render functions share: facts, metadata and the service port (inventory §1.0.1, §2.2). */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache, NIMService } from '../../api/v1alpha1/kinds.js';
import { ownerReference, serviceLabels } from '../labels.js';
import type { ComputeDomainLike } from './multinode-types.js';

/** Facts the reconciler reads from its cache; render never does I/O. */
export interface NIMServiceFacts {
  /** $OPERATOR_VERSION of the running operator ('' when unset, as upstream's chart ships it). */
  operatorVersion?: string;
  /**
   * The NIMCache named by `spec.storage.nimCache.name`, as read from the cache; `undefined` when it
   * does not exist. Ignored when the NIMService names no NIMCache.
   */
  nimCache?: NIMCache;
  /** Orchestrator detected from node labels (§2.0.6); `TKGS` adds seccompProfile RuntimeDefault. */
  orchestrator?: string;
  /**
   * Whether `spec.image` uses the native model layout (registry inspection, §2.1.5), used only when no
   * NIMCache is referenced. Default false (legacy layout), as upstream falls back on any error.
   */
  nativeImage?: boolean;
  /**
   * `spec.replicas` of the live Deployment `<name>`; `undefined` when it does not exist. Under
   * autoscaling the Deployment keeps this count, which is the HPA's to choose.
   */
  liveReplicas?: number;
  /**
   * Multi-node MPI mode: the PEM private key stored in Secret `<name>-ssh-pk` (see `sshKeyFromSecret`).
   * Render never makes a key: without this fact the Secret is left out of the children, and the
   * controller creates it once with `generateSSHKey()`, then passes it here on every reconcile.
   */
  sshPrivateKey?: string;
  /**
   * The API server's version (`/version` gitVersion, e.g. `v1.34.1`). With `draResources`, a version
   * below v1.34.0 blocks the render (reason DRAResourcesUnsupported); unknown (undefined) is not checked.
   */
  serverVersion?: string;
  /**
   * Multi-node with `multiNode.computeDomain.name`: that ComputeDomain, as read from the cache
   * (its `spec.channel.resourceClaimTemplate.name` becomes a pod claim); `undefined` when missing.
   */
  computeDomain?: ComputeDomainLike;
  /**
   * Whether children of an endpoint picker may be left from an earlier spec (e.g. the cache holds
   * Deployment `<name>-epp` or InferencePool `<name>` owned by this NIMService). With
   * `expose.router.eppConfig` unset, the picker's children are listed in `absent` only then.
   */
  eppExists?: boolean;
}

/**
 * A spec the render cannot turn into a valid child (the admission webhook refuses it, but the webhook
 * may be off). `field` is the spec path at fault; the message says what to change.
 */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'SpecError';
  }
}

/** The API port: `expose.service.port`, 8000 when absent (Appendix A8: upstream dereferences nil). */
export function apiPort(svc: NIMService): number {
  return svc.spec.expose?.service?.port ?? 8000;
}

export function grpcPort(svc: NIMService): number | undefined {
  return svc.spec.expose?.service?.grpcPort;
}

export function metricsPort(svc: NIMService): number | undefined {
  return svc.spec.expose?.service?.metricsPort;
}

/**
 * The host name of the Ingress and the routes: `<name>.<ns>.<hostDomainName>`. Throws a SpecError
 * without `hostDomainName` (upstream renders `<name>.<ns>.`, which the API server then refuses).
 */
export function routerHost(svc: NIMService): string {
  const domain = svc.spec.expose?.router?.hostDomainName;
  if (!domain) {
    throw new SpecError('spec.expose.router.hostDomainName', 'Required value: is required when spec.expose.router.ingress or spec.expose.router.gateway is set');
  }
  return `${svc.metadata.name ?? ''}.${svc.metadata.namespace ?? 'default'}.${domain}`;
}

/** Metadata of a child: `<name>` (or the given name) in the NIMService's namespace, service labels, owner. */
export function childMeta(
  svc: NIMService,
  facts: NIMServiceFacts,
  extra: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Wire<V1ObjectMeta> {
  const meta: Wire<V1ObjectMeta> = {
    name: extra.name ?? svc.metadata.name ?? '',
    namespace: svc.metadata.namespace ?? 'default',
    labels: extra.labels ?? serviceLabels(svc, facts.operatorVersion),
  };
  if (extra.annotations) meta.annotations = extra.annotations;
  meta.ownerReferences = [ownerReference(svc)];
  return meta;
}
