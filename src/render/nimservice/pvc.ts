/** The model PVC a NIMService creates for itself (inventory §2.2.3 step 12; §6 behaviour 26). */
import type { V1PersistentVolumeClaim, V1PersistentVolumeClaimSpec } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { modelPVCLabels } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';

/** The NIMService creates its model PVC: `storage.pvc.create` and no NIMCache named. */
export function modelPVCWanted(svc: NIMService): boolean {
  const storage = svc.spec.storage;
  return storage?.pvc?.create === true && !storage.nimCache?.name;
}

/** Name of the model PVC: `storage.pvc.name`, else `<name>-pvc`. */
export function modelPVCName(svc: NIMService): string {
  return svc.spec.storage?.pvc?.name || `${svc.metadata.name ?? ''}-pvc`;
}

/**
 * PersistentVolumeClaim `storage.pvc.name` or `<name>-pvc`: access mode `volumeAccessMode`, request
 * `size`, `storageClass` when set, annotations `storage.pvc.annotations`, the PVC labels of
 * `modelPVCLabels`, owned by the NIMService (deleted with it). An empty access mode or size is left
 * out rather than written empty, so the API server names the missing field if the claim must be
 * created. A claim that already exists is reused as it is: the controller creates this child only
 * when it is missing (`isCreateOnly`).
 */
export function renderModelPVC(svc: NIMService, facts: NIMServiceFacts): Wire<V1PersistentVolumeClaim> {
  const pvc = svc.spec.storage?.pvc ?? {};
  const spec: Wire<V1PersistentVolumeClaimSpec> = {};
  if (pvc.volumeAccessMode) spec.accessModes = [pvc.volumeAccessMode];
  if (pvc.size) spec.resources = { requests: { storage: pvc.size } };
  if (pvc.storageClass) spec.storageClassName = pvc.storageClass;
  const meta = childMeta(svc, facts, { name: modelPVCName(svc), labels: modelPVCLabels(svc.metadata.name ?? '') });
  if (pvc.annotations && Object.keys(pvc.annotations).length) meta.annotations = { ...pvc.annotations };
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec };
}
