/**
 * What the render needs from the cluster, read from the caches (and, for the one Secret the
 * operator keeps — the MPI SSH key —, from the API: Secrets are not cached cluster-wide; so is
 * KServe's ConfigMap, when its default deployment mode decides, see kserve-config.ts).
 */
import { isControlledBy } from '../../runtime/apply.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import {
  generateSSHKey, isMultiNode, lwsName, sshKeyFromSecret, sshSecretName, type NIMServiceFacts,
} from '../../render/nimservice/index.js';
import { isNotFound, type Json } from '../../runtime/client/rest.js';
import type { ControllerContext } from '../context.js';
import { COMPUTEDOMAIN, DEPLOYMENT, INFERENCEPOOL, LEADERWORKERSET, SECRET } from '../refs.js';
import { detectOrchestrator } from '../orchestrator.js';
import { kserveConfigFacts, type KServeConfigFacts } from './kserve.js';
import type { NIMServiceCaches } from './reconcile.js';

export interface GatheredFacts {
  /** With KServe's default deployment mode for a KServe service that needs it (kserve.ts). */
  facts: NIMServiceFacts & KServeConfigFacts;
  /** The SSH key Secret exists already (it is created once and never rewritten). */
  sshSecretExists: boolean;
}


export async function gatherFacts(ctx: ControllerContext, caches: NIMServiceCaches, svc: NIMService & Json): Promise<GatheredFacts> {
  const ns = svc.metadata.namespace as string;
  const name = svc.metadata.name as string;
  const facts: NIMServiceFacts & KServeConfigFacts = {
    operatorVersion: ctx.operatorVersion,
    orchestrator: detectOrchestrator(caches.nodes.list()),
    ...(await kserveConfigFacts(ctx, caches, svc)),
  };
  const cacheName = svc.spec.storage?.nimCache?.name;
  if (cacheName) {
    const cache = caches.nimCaches.get(ns, cacheName);
    if (cache) facts.nimCache = cache as NIMServiceFacts['nimCache'];
  }
  const live = caches.child(DEPLOYMENT).get(ns, name);
  if (typeof live?.spec?.replicas === 'number') facts.liveReplicas = live.spec.replicas;
  if (svc.spec.draResources?.length) {
    const v = await ctx.serverVersion();
    if (v) facts.serverVersion = v;
  }
  let sshSecretExists = false;
  if (isMultiNode(svc)) {
    const lws = caches.child(LEADERWORKERSET).get(ns, lwsName(svc));
    if (typeof lws?.spec?.replicas === 'number') facts.liveReplicas = lws.spec.replicas;
    const cdName = svc.spec.multiNode?.computeDomain?.name;
    if (cdName && !svc.spec.multiNode?.computeDomain?.create) {
      const cd = caches.child(COMPUTEDOMAIN).get(ns, cdName);
      if (cd) facts.computeDomain = cd as NIMServiceFacts['computeDomain'];
    }
    if (!svc.spec.multiNode?.ray) {
      // MPI mode: the key is made once and kept in its Secret.
      try {
        const secret = await ctx.manager.client.get(SECRET, ns, sshSecretName(svc));
        const key = sshKeyFromSecret(secret);
        if (key) {
          facts.sshPrivateKey = key;
          sshSecretExists = true;
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      facts.sshPrivateKey ??= generateSSHKey();
    }
  }
  facts.eppExists = isControlledBy(caches.child(DEPLOYMENT).get(ns, `${name}-epp`), svc) || (ctx.apis.has(INFERENCEPOOL) && isControlledBy(caches.child(INFERENCEPOOL).get(ns, name), svc));
  return { facts, sshSecretExists };
}
