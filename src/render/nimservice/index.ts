/**
 * The core children of a standalone, single-node NIMService (inventory §2.2.0, §2.2.3): ServiceAccount,
 * Role, RoleBinding, Service and Deployment, all named `<name>`, each with a controller owner reference
 * to the NIMService and the two hash annotations. Pure: the same (svc, facts) always yields deep-equal
 * children.
 */
import type { V1Deployment, V1Role, V1RoleBinding, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { specHash, withHashes } from '../labels.js';
import type { NIMServiceFacts } from './common.js';
import { renderDeployment } from './deployment.js';
import { renderRole, renderRoleBinding, renderServiceAccount } from './rbac.js';
import { renderService } from './service.js';
import { isStorageProblem, resolveModelStore, type StorageProblem } from './storage.js';

export type { NIMServiceFacts } from './common.js';
export type { StorageProblem } from './storage.js';

export type Child =
  | Wire<V1ServiceAccount>
  | Wire<V1Role>
  | Wire<V1RoleBinding>
  | Wire<V1Service>
  | Wire<V1Deployment>;

export interface NIMServiceRender {
  /** Desired children, in upstream's creation order. */
  children: Child[];
  /**
   * Set when the workload cannot be rendered yet (missing or unready NIMCache, no model storage):
   * the Deployment is then absent from `children`, as upstream creates none (§6 behaviours 22–24, 28).
   * The reconciler turns it into the status (state, reason, message).
   */
  blocked?: StorageProblem;
}

/** Renders a standalone single-node NIMService. Throws only on a profile with an unparsable tp tag. */
export function renderNIMService(svc: NIMService, facts: NIMServiceFacts = {}): NIMServiceRender {
  const hash = specHash(svc);
  const children: Child[] = [
    withHashes(renderServiceAccount(svc, facts), hash),
    withHashes(renderRole(svc, facts), hash),
    withHashes(renderRoleBinding(svc, facts), hash),
    withHashes(renderService(svc, facts), hash),
  ];
  const store = resolveModelStore(svc, facts);
  if (isStorageProblem(store)) return { children, blocked: store };
  children.push(withHashes(renderDeployment(svc, facts, store), hash));
  return { children };
}
