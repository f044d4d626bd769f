/**
 * One pass over one NIMService: finalizer, admission rules (in case the webhook was bypassed),
 * children applied (server-side apply, nothing written when they already match) and pruned, then
 * readiness — rollout complete AND the model answering — and the status that says why not.
 */
import { isDeepStrictEqual } from 'node:util';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import type { NIMServiceFacts } from '../../render/nimservice/index.js';
import {
  SpecError, computeDomainName, computeDomainStatus, draResourceStatuses, isCreateOnly, isMultiNode, lwsName, lwsReadiness, renderNIMService,
} from '../../render/nimservice/index.js';
import { gatherFacts } from './facts.js';
import { apiPort } from '../../render/nimservice/common.js';
import type { ResourceRef } from '../../runtime/client/client.js';
import { KubeError, isConflict, isNotFound, type Json } from '../../runtime/client/rest.js';
import type { Request, Result } from '../../runtime/controller.js';
import { ensureFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { Informer } from '../../runtime/informer.js';
import { FIELD_MANAGER, isControlledBy } from '../../runtime/apply.js';
import { admissionCheck } from '../../webhooks/rules/index.js';
import type { ControllerContext } from '../context.js';
import { COMPUTEDOMAIN, DEPLOYMENT, LEADERWORKERSET, NIMSERVICE, RESOURCECLAIM, refOf } from '../refs.js';
import { deploymentReadiness, diagnosePods } from './diagnose.js';
import { askModel } from './model.js';
import { KSERVE_REQUIREMENT, inferenceServiceAbsent, isKServe, kserveFacts, kserveReadiness } from './kserve.js';
import { renderKServe, type KServeRender } from '../../render/nimservice/kserve.js';
import { WARNING_REASONS, nextStatus, type Outcome } from './status.js';

export const FINALIZER = 'finalizer.nimservice.apps.nvidia.com';
const OPTIONAL_KINDS: Record<string, string> = {
  HTTPRoute: 'the Gateway API (gateway.networking.k8s.io/v1 HTTPRoute): install its CRDs, or remove spec.expose.router.gateway',
  GRPCRoute: 'the Gateway API (gateway.networking.k8s.io/v1 GRPCRoute): install its CRDs, or set spec.expose.router.gateway.grpcRoutesEnabled to false',
  ServiceMonitor: 'the Prometheus Operator (monitoring.coreos.com/v1 ServiceMonitor): install it, or set spec.metrics.enabled to false',
  LeaderWorkerSet: 'LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) for multi-node serving: install it, or remove spec.multiNode',
  ComputeDomain: 'the NVIDIA DRA driver\'s ComputeDomain (resource.nvidia.com/v1beta1): install the driver, or remove spec.multiNode.computeDomain',
  InferencePool: 'the Gateway API inference extension (inference.networking.k8s.io/v1 InferencePool): install it, or remove spec.expose.router.eppConfig',
  ResourceClaimTemplate: 'Dynamic Resource Allocation (resource.k8s.io/v1): a cluster of Kubernetes 1.34 or later, or remove spec.draResources',
  InferenceService: KSERVE_REQUIREMENT,
};

export interface NIMServiceCaches {
  services: Informer;
  nimCaches: Informer;
  nodes: Informer;
  pods: Informer;
  /** The informer of a child kind, holding what we made (created on first use for optional APIs). */
  child(ref: ResourceRef): Informer;
  /** An informer of every object of a kind (ResourceClaims, ComputeDomains someone else made). */
  all(ref: ResourceRef): Informer;
}

export class NIMServiceReconciler {
  constructor(
    private readonly ctx: ControllerContext,
    private readonly caches: NIMServiceCaches,
  ) {}

  private get client() {
    return this.ctx.manager.client;
  }

  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.caches.services.get(req.namespace, req.name);
    if (!cached) return;
    if (cached.metadata.deletionTimestamp) {
      // Children go with the owner (garbage collection); nothing is re-created while it is deleted,
      // foreground deletion included (upstream keeps re-creating them and the deletion loops).
      if (hasFinalizer(cached, FINALIZER)) await this.ignoreGone(removeFinalizer(this.client, NIMSERVICE, cached, FINALIZER, FIELD_MANAGER));
      return;
    }
    let svc: Json;
    try {
      svc = await ensureFinalizer(this.client, NIMSERVICE, cached, FINALIZER, FIELD_MANAGER);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 50 };
      throw e;
    }
    const { outcome, requeueAfterMs } = await this.sync(svc as NIMService & Json);
    if (!(await this.writeStatus(svc, outcome))) return { requeueAfterMs: 50 };
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  }

  private async ignoreGone<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Applies what is wanted and works out the outcome; throws only on errors worth a retry. */
  private async sync(svc: NIMService & Json): Promise<{ outcome: Outcome; requeueAfterMs?: number }> {
    const ns = svc.metadata.namespace as string;
    const name = svc.metadata.name as string;
    const kserve = isKServe(svc);
    const { facts, sshSecretExists } = await gatherFacts(this.ctx, this.caches, svc);
    // The webhook may be off or bypassed (failurePolicy Ignore): the same refusals hold here.
    const kserveMode = facts.kserveDefaultMode?.mode;
    const { errors } = admissionCheck(svc as unknown as Record<string, unknown>, {
      facts: {
        nodes: this.caches.nodes.list() as never,
        nimCaches: this.caches.nimCaches.list().filter((c) => c.metadata.namespace === ns) as never,
        ...(kserveMode ? { kserveDefaultDeploymentMode: kserveMode } : {}),
      },
    });
    if (errors.length) {
      return { outcome: { state: 'Failed', reason: 'InvalidSpec', message: `${errors.map((e) => `${e.field}: ${e.detail}`).join('; ')} (the admission webhook would refuse this; fix the spec)` } };
    }
    let render;
    try {
      // KServe (kserve.ts): an InferenceService instead of our own Deployment, Service and autoscaler.
      if (kserve) render = renderKServe(svc, kserveFacts(this.caches, svc, facts));
      else (render = renderNIMService(svc, facts)).absent.push(inferenceServiceAbsent(svc));
    } catch (e) {
      if (e instanceof SpecError) return { outcome: { state: 'Failed', reason: 'InvalidSpec', message: e.message } };
      // Not the spec's fault (e.g. KServe's configuration): looked at again later, without a spec edit.
      return { outcome: { state: 'Failed', reason: 'Failed', message: (e as Error).message }, requeueAfterMs: 30_000 };
    }
    const problems: Outcome[] = [];
    for (const child of render.children as Json[]) {
      const ref = refOf(child.apiVersion, child.kind);
      if (!ref) throw new Error(`no resource known for ${child.apiVersion} ${child.kind}`);
      if (OPTIONAL_KINDS[child.kind] && !this.ctx.apis.has(ref)) {
        problems.push({ state: 'Failed', reason: 'OptionalAPIMissing', message: `${child.kind} ${name} needs ${OPTIONAL_KINDS[child.kind]}` });
        continue;
      }
      // The SSH key Secret is not cached (no cluster-wide Secret informer): gatherFacts looked it up.
      const live = child.kind === 'Secret' ? (sshSecretExists ? {} : undefined) : this.caches.child(ref).get(ns, child.metadata.name);
      // A claim is created once and then left alone (its spec is mostly immutable); one that exists
      // already, ours or not, is reused, as upstream does.
      if (live && isCreateOnly(child)) continue;
      if (live && !isControlledBy(live, svc)) {
        problems.push({ state: 'Failed', reason: 'ChildConflict', message: `${child.kind} ${child.metadata.name} already exists and is not owned by this NIMService; delete or rename it` });
        continue;
      }
      try {
        await this.ctx.manager.applier.apply(ref, child, live);
      } catch (e) {
        if (e instanceof KubeError && [400, 403, 404, 422].includes(e.code)) {
          problems.push({ state: 'Failed', reason: 'ChildRejected', message: `${child.kind} ${child.metadata.name} was refused by the API server: ${e.message}` });
          continue;
        }
        throw e;
      }
    }
    for (const a of render.absent) {
      const ref = refOf(a.apiVersion, a.kind);
      if (!ref || (OPTIONAL_KINDS[a.kind] && !this.ctx.apis.has(ref))) continue;
      const live = this.caches.child(ref).get(ns, a.name);
      if (live && isControlledBy(live, svc) && !live.metadata.deletionTimestamp) await this.client.delete(ref, ns, a.name, { propagationPolicy: 'Background' });
    }
    const extra = this.extraStatus(svc, facts);
    if (problems.length) return { outcome: { ...problems[0]!, extra } };
    if (render.blocked) return { outcome: { state: render.blocked.state, reason: render.blocked.reason, message: render.blocked.message, extra } };
    const r = kserve ? await kserveReadiness(this.ctx, this.caches, svc, render as KServeRender) : await this.readiness(svc);
    return { ...r, outcome: { ...r.outcome, extra } };
  }

  /** status.draResourceStatuses and status.computeDomainStatus, when the spec uses them. */
  private extraStatus(svc: NIMService & Json, facts: NIMServiceFacts): Json {
    const extra: Json = {};
    if (svc.spec.draResources?.length && this.ctx.apis.has(RESOURCECLAIM)) {
      extra.draResourceStatuses = draResourceStatuses(svc, this.caches.all(RESOURCECLAIM).list() as never, facts);
    }
    if (isMultiNode(svc) && svc.spec.multiNode?.computeDomain && this.ctx.apis.has(COMPUTEDOMAIN)) {
      const cdName = computeDomainName(svc);
      const cd = cdName ? (this.caches.all(COMPUTEDOMAIN).get(svc.metadata.namespace, cdName) as never) : undefined;
      const st = computeDomainStatus(svc, cd);
      if (st) extra.computeDomainStatus = st;
    }
    return extra;
  }

  private async readiness(svc: NIMService & Json): Promise<{ outcome: Outcome; requeueAfterMs?: number }> {
    const ns = svc.metadata.namespace as string;
    const name = svc.metadata.name as string;
    const multi = isMultiNode(svc);
    const d = multi ? this.caches.child(LEADERWORKERSET).get(ns, lwsName(svc)) : this.caches.child(DEPLOYMENT).get(ns, name);
    const rollout = multi ? lwsReadiness(d, lwsName(svc)) : deploymentReadiness(d, name);
    const available = multi ? (d?.status?.readyReplicas ?? 0) : (d?.status?.availableReplicas ?? 0);
    const base = { availableReplicas: available };
    if (!rollout.ready) {
      const pods = this.caches.pods.byIndex('app', `${ns}/${multi ? lwsName(svc) : name}`);
      const why = diagnosePods(pods);
      if (why) return { outcome: { ...base, ...why } };
      return { outcome: { ...base, state: rollout.started ? 'NotReady' : 'Pending', reason: 'NotReady', message: rollout.message.trim() }, requeueAfterMs: 30_000 };
    }
    const port = apiPort(svc);
    const addr = await this.ctx.resolveService(ns, name, port);
    if (!addr) {
      return { outcome: { ...base, state: 'NotReady', reason: 'ModelNotAnswering', message: `the rollout is complete but no ready endpoint of Service ${name} port ${port} answers yet` }, requeueAfterMs: this.ctx.pollMs };
    }
    const answer = await askModel(addr);
    if (!answer.ok) {
      return { outcome: { ...base, state: 'NotReady', reason: 'ModelNotAnswering', message: `the rollout is complete but the model does not answer: ${answer.message}` }, requeueAfterMs: this.ctx.pollMs };
    }
    const model = { name: answer.name, ...this.endpoints(svc) };
    return { outcome: { ...base, state: 'Ready', reason: 'Ready', message: `${rollout.message}; model ${answer.name || '(unnamed)'} answers on /v1/models`, model } };
  }

  /** status.model endpoints (§2.2.13), plus a Gateway route's hostname (upstream leaves it empty). */
  private endpoints(svc: NIMService & Json): { clusterEndpoint: string; externalEndpoint: string } {
    const ns = svc.metadata.namespace as string;
    const name = svc.metadata.name as string;
    const port = apiPort(svc);
    const service = this.caches.child(refOf('v1', 'Service')!).get(ns, name);
    const ip = service?.spec?.clusterIP;
    const clusterEndpoint = ip && ip !== 'None' ? `${ip}:${port}` : '';
    let externalEndpoint = '';
    const ingress = this.caches.child(refOf('networking.k8s.io/v1', 'Ingress')!).get(ns, name);
    if (ingress && isControlledBy(ingress, svc)) {
      const rule = (ingress.spec?.rules ?? []).find((r: Json) => (r.http?.paths ?? []).some((p: Json) => p.backend?.service?.name === name));
      const lb = ingress.status?.loadBalancer?.ingress?.[0];
      externalEndpoint = rule?.host ?? lb?.hostname ?? lb?.ip ?? '';
    } else if (svc.spec.expose?.router?.gateway && this.ctx.apis.has(refOf('gateway.networking.k8s.io/v1', 'HTTPRoute')!)) {
      const route = this.caches.child(refOf('gateway.networking.k8s.io/v1', 'HTTPRoute')!).get(ns, name);
      externalEndpoint = route?.spec?.hostnames?.[0] ?? '';
    } else if (service?.spec?.type === 'LoadBalancer') {
      const lb = service.status?.loadBalancer?.ingress?.[0];
      const host = lb?.hostname ?? lb?.ip ?? service.spec.loadBalancerIP;
      externalEndpoint = host ? `${host}:${port}` : '';
    }
    return { clusterEndpoint, externalEndpoint };
  }

  /** Writes the status if it changed; false when the object moved meanwhile (reconcile again). */
  private async writeStatus(svc: Json, o: Outcome): Promise<boolean> {
    const status = nextStatus(svc.status, o, svc.metadata.generation);
    const before = svc.status ?? {};
    if (isDeepStrictEqual(before, status)) return true;
    try {
      await this.client.updateStatus(NIMSERVICE, { ...svc, status }, FIELD_MANAGER);
    } catch (e) {
      if (isNotFound(e)) return true;
      if (isConflict(e)) return false;
      throw e;
    }
    const prevReason = (before.conditions ?? []).find((c: Json) => c.type === (before.state === 'Failed' ? 'Failed' : 'Ready'))?.reason;
    if (before.state !== o.state || prevReason !== o.reason) {
      const type = o.state === 'Failed' || WARNING_REASONS.has(o.reason) ? 'Warning' : 'Normal';
      await this.ctx.recorder('nimservice-controller').record(svc, type, o.reason, `NIMService ${String(svc.metadata.name)} is ${o.state}: ${o.message}`);
    }
    return true;
  }
}
