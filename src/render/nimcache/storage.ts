/** The cache's PersistentVolumeClaim and the ConfigMap that keeps its model manifest (inventory §2.1.1 steps 5, 7). */
import type { V1ConfigMap, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { minimalManifestYAML, type NimManifest } from '../../nim/manifest.js';
import { MANIFEST_KEY, cacheLabels, childMeta, manifestConfigMapName, pvcName } from './common.js';

/** A Kubernetes quantity as text (what the API server accepts for `resources.requests.storage`). */
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;

export class RenderError extends Error {
  override name = 'RenderError';
}

/**
 * PVC `<storage.pvc.name | <cache>-pvc>`, only rendered when `storage.pvc.create` is true: annotations
 * from `pvc.annotations`, one access mode, the size as its storage request, the class when named;
 * owned by the cache. Throws a RenderError for a missing or malformed size.
 */
export function renderPVC(c: NIMCache): Wire<V1PersistentVolumeClaim> {
  const pvc = c.spec.storage?.pvc ?? {};
  const size = pvc.size?.trim() ?? '';
  if (!QUANTITY.test(size)) {
    throw new RenderError(`spec.storage.pvc.size: ${size ? `"${size}" is not a quantity (e.g. 50Gi)` : 'is required to create the PVC'}`);
  }
  const meta: Wire<V1PersistentVolumeClaim>['metadata'] = childMeta(c, pvcName(c), cacheLabels(c));
  if (pvc.annotations && Object.keys(pvc.annotations).length) meta!.annotations = { ...pvc.annotations };
  const spec: NonNullable<Wire<V1PersistentVolumeClaim>['spec']> = {
    accessModes: [pvc.volumeAccessMode || 'ReadWriteOnce'],
    resources: { requests: { storage: size } },
  };
  if (pvc.storageClass) spec.storageClassName = pvc.storageClass;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec };
}

/** ConfigMap `<cache>-manifest` with the minimal manifest under `model_manifest.yaml`. */
export function renderManifestConfigMap(c: NIMCache, manifest: NimManifest): Wire<V1ConfigMap> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(c, manifestConfigMapName(c), cacheLabels(c)),
    data: { [MANIFEST_KEY]: minimalManifestYAML(manifest) },
  };
}
