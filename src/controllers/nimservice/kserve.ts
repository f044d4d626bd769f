/**
 * The KServe platform of the NIMService controller (inventory §2.2.14; §6 behaviour 52): the facts
 * its render needs, and readiness read from the InferenceService — its `PredictorReady` condition,
 * then the model answering at the cluster address KServe reports — with `status.model` endpoints
 * from `status.address.url` and `status.url`. The children are applied by the common loop of
 * reconcile.ts.
 */
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import type { NIMServiceFacts } from '../../render/nimservice/index.js';
import {
  KSERVE_API_VERSION, liveMode, requestedMode, type InferenceServiceLike, type KServeFacts, type KServeRender,
} from '../../render/nimservice/kserve.js';
import type { ChildRef } from '../../render/nimservice/index.js';
import type { Json } from '../../runtime/client/rest.js';
import type { Address, ControllerContext } from '../context.js';
import { INFERENCESERVICE } from '../refs.js';
import { diagnosePods } from './diagnose.js';
import { kserveConfigFor } from './kserve-config.js';
import { askModel } from './model.js';
import type { NIMServiceCaches } from './reconcile.js';
import type { Outcome } from './status.js';

/** What OptionalAPIMissing says when KServe is not installed. */
export const KSERVE_REQUIREMENT = 'KServe (serving.kserve.io/v1beta1 InferenceService): install it, or set spec.inferencePlatform to standalone';

/** The label KServe puts on every pod of an InferenceService. */
export const ISVC_POD_LABEL = 'serving.kserve.io/inferenceservice';
/** The pods informer's index of that label (`<namespace>/<InferenceService>`). */
export const ISVC_POD_INDEX = 'isvc';

export const isKServe = (svc: NIMService): boolean => svc.spec.inferencePlatform === 'kserve';

/** What gatherFacts adds for a KServe service: KServe's default mode, when it decides. */
export type KServeConfigFacts = Pick<KServeFacts, 'kserveDefaultMode'>;

/**
 * KServe's default deployment mode (its ConfigMap), read only when it decides: a KServe service
 * whose InferenceService has no mode yet and whose spec asks for none.
 */
export async function kserveConfigFacts(ctx: ControllerContext, caches: NIMServiceCaches, svc: NIMService & Json): Promise<KServeConfigFacts> {
  if (!isKServe(svc) || requestedMode(svc) !== undefined || !ctx.apis.has(INFERENCESERVICE)) return {};
  const live = caches.child(INFERENCESERVICE).get(svc.metadata.namespace as string, svc.metadata.name as string);
  if (liveMode(live as InferenceServiceLike | undefined)) return {};
  return { kserveDefaultMode: await kserveConfigFor(ctx.manager.client).defaultMode() };
}

/** The render facts plus the live InferenceService `<name>` (whose deployment mode is kept). */
export function kserveFacts(caches: NIMServiceCaches, svc: NIMService & Json, facts: NIMServiceFacts & KServeConfigFacts): KServeFacts {
  const live = caches.child(INFERENCESERVICE).get(svc.metadata.namespace as string, svc.metadata.name as string);
  return live ? { ...facts, liveInferenceService: live as InferenceServiceLike } : facts;
}

/** A standalone service has no InferenceService: one left from a KServe spec is pruned. */
export function inferenceServiceAbsent(svc: NIMService): ChildRef {
  return { apiVersion: KSERVE_API_VERSION, kind: 'InferenceService', name: svc.metadata.name ?? '' };
}

/**
 * Where a cluster URL answers: a `<service>.<namespace>.svc[.cluster.local]` host goes through the
 * resolver (cluster DNS in a cluster, the simulation's endpoints in `nimop dev`); any other host is
 * used as it is. The port is the URL's, else 80 (443 for https).
 */
export async function resolveURL(ctx: ControllerContext, url: string): Promise<Address | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?\.?$/.exec(u.hostname);
  if (m) return (await ctx.resolveService(m[2]!, m[1]!, port)) ?? undefined;
  return { host: u.hostname, port };
}

const condition = (isvc: Json, type: string): Json | undefined => (isvc.status?.conditions ?? []).find((c: Json) => c.type === type);

/**
 * Readiness of a KServe service: the InferenceService's `PredictorReady` condition (`Ready` when a
 * KServe reports no PredictorReady), then the model asked at `status.address.url`. Not ready ⇒
 * NotReady with the condition's message (or the pods' own trouble), checked again every 30 s besides
 * the InferenceService's watch (#640: readiness that changes after the last reconcile is seen).
 * `render.mode.note` (a mode change KServe would refuse) is appended to every message.
 */
export async function kserveReadiness(
  ctx: ControllerContext,
  caches: NIMServiceCaches,
  svc: NIMService & Json,
  render: KServeRender,
): Promise<{ outcome: Outcome; requeueAfterMs?: number }> {
  const ns = svc.metadata.namespace as string;
  const name = svc.metadata.name as string;
  const note = render.mode.note ? `; ${render.mode.note}` : '';
  const pods = caches.pods.byIndex(ISVC_POD_INDEX, `${ns}/${name}`);
  const availableReplicas = pods.filter((p) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True')).length;
  const base = { availableReplicas };
  const notReady = (message: string, started = true, requeueAfterMs = 30_000) => {
    const why = diagnosePods(pods);
    if (why) return { outcome: { ...base, ...why, message: `${why.message}${note}` }, requeueAfterMs };
    return { outcome: { ...base, state: started ? ('NotReady' as const) : ('Pending' as const), reason: 'NotReady', message: `${message}${note}` }, requeueAfterMs };
  };
  const isvc = caches.child(INFERENCESERVICE).get(ns, name);
  if (!isvc) return notReady(`Waiting for InferenceService "${name}" creation`, false);
  const gen = isvc.metadata?.generation;
  const observed = isvc.status?.observedGeneration;
  if (typeof gen === 'number' && typeof observed === 'number' && observed < gen) {
    return notReady(`Waiting for InferenceService "${name}" to observe its spec update`);
  }
  const predictor = condition(isvc, 'PredictorReady') ?? condition(isvc, 'Ready');
  if (!predictor) return notReady(`Waiting for InferenceService "${name}" reporting Predictor readiness`, pods.length > 0);
  if (predictor.status !== 'True') {
    return notReady(predictor.message || `InferenceService "${name}" predictor is not ready${predictor.reason ? ` (${String(predictor.reason)})` : ''}`);
  }
  const externalEndpoint: string = isvc.status?.url ?? '';
  const clusterEndpoint: string = isvc.status?.address?.url ?? '';
  if (!externalEndpoint || !clusterEndpoint) {
    return { outcome: { ...base, state: 'NotReady', reason: 'NotReady', message: `InferenceService "${name}" is ready but reports no ${externalEndpoint ? 'status.address.url' : 'status.url'} yet${note}` }, requeueAfterMs: ctx.pollMs };
  }
  const addr = await resolveURL(ctx, clusterEndpoint);
  if (!addr) {
    return { outcome: { ...base, state: 'NotReady', reason: 'ModelNotAnswering', message: `the predictor is ready but nothing answers at ${clusterEndpoint} yet${note}` }, requeueAfterMs: ctx.pollMs };
  }
  const answer = await askModel(addr);
  if (!answer.ok) {
    return { outcome: { ...base, state: 'NotReady', reason: 'ModelNotAnswering', message: `the predictor is ready but the model at ${clusterEndpoint} does not answer: ${answer.message}${note}` }, requeueAfterMs: ctx.pollMs };
  }
  return {
    outcome: {
      ...base,
      state: 'Ready',
      reason: 'Ready',
      message: `InferenceService "${name}" is ready (${render.mode.mode} mode); model ${answer.name || '(unnamed)'} answers on /v1/models${note}`,
      model: { name: answer.name, clusterEndpoint, externalEndpoint },
    },
  };
}
