/**
 * Model storage of a NIMService: which volume holds the model (NIMCache, PVC, emptyDir, hostPath),
 * the pod's volumes and mounts, and GPU sizing from a cached profile (inventory §2.2.3 steps 12–13,
 * §2.2.5 "Volumes", §2.2.9; §6 behaviours 8, 22–28, 30, 38, 39).
 */
import type { V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache, NIMService } from '../../api/v1alpha1/kinds.js';
import { SpecError, type NIMServiceFacts } from './common.js';
import { isOptimizedCache } from './env.js';

export type Volume = Wire<V1Volume>;
export type VolumeMount = Wire<V1VolumeMount>;
type Resources = Wire<V1ResourceRequirements>;

export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Why the Deployment cannot be rendered yet; reasons are upstream's condition reasons (§2.0.5). */
export interface StorageProblem {
  state: 'Failed' | 'NotReady';
  reason: 'NIMCacheNotFound' | 'NIMCacheNotReady' | 'NIMCacheFailed' | 'Failed';
  message: string;
}

/** The resolved model store. */
export type ModelStore =
  | { kind: 'pvc'; claimName: string; subPath?: string; cache?: NIMCache; profile?: string }
  | { kind: 'emptyDir'; sizeLimit?: string }
  | { kind: 'hostPath'; path: string };

/** A NIMCache condition's message, by type. */
function conditionMessage(cache: NIMCache, type: string): string {
  return cache.status?.conditions?.find((c) => c.type === type)?.message ?? '';
}

/** Storage selection, first match (§2.2.3 step 12). */
export function resolveModelStore(svc: NIMService, facts: NIMServiceFacts): ModelStore | StorageProblem {
  const name = svc.metadata.name ?? '';
  const storage = svc.spec.storage;
  const cacheName = storage?.nimCache?.name;
  if (cacheName) {
    const cache = facts.nimCache;
    if (!cache || cache.metadata.name !== cacheName) {
      return { state: 'Failed', reason: 'NIMCacheNotFound', message: `NIMCache ${cacheName} not found` };
    }
    const state = cache.status?.state;
    if (state === 'Failed') {
      // Appendix A26 fix: upstream reads the cache's `Failed` condition, which a NIMCache never sets,
      // so its message is always empty; we take the Job condition's message, which says what failed.
      const detail = conditionMessage(cache, 'NIM_CACHE_JOB_COMPLETED') || conditionMessage(cache, 'Failed');
      return { state: 'Failed', reason: 'NIMCacheFailed', message: detail ? `NIMCache ${cacheName} failed: ${detail}` : `NIMCache ${cacheName} failed` };
    }
    if (state !== 'Ready') {
      return { state: 'NotReady', reason: 'NIMCacheNotReady', message: `NIMCache ${cacheName} not ready` };
    }
    const statusPVC = cache.status?.pvc;
    if (!statusPVC) {
      return { state: 'Failed', reason: 'Failed', message: `missing PVC for the nimcache instance ${cacheName}` };
    }
    const store: ModelStore = { kind: 'pvc', claimName: cache.spec.storage.pvc?.name || statusPVC, cache };
    const subPath = cache.spec.storage.pvc?.subPath;
    if (subPath) store.subPath = subPath;
    if (storage?.nimCache?.profile) store.profile = storage.nimCache.profile;
    return store;
  }
  const pvc = storage?.pvc;
  if (pvc?.create) {
    const store: ModelStore = { kind: 'pvc', claimName: pvc.name || `${name}-pvc` };
    if (pvc.subPath) store.subPath = pvc.subPath;
    return store;
  }
  if (pvc?.name) {
    const store: ModelStore = { kind: 'pvc', claimName: pvc.name };
    if (pvc.subPath) store.subPath = pvc.subPath;
    return store;
  }
  if (storage?.emptyDir) {
    const store: ModelStore = { kind: 'emptyDir' };
    if (storage.emptyDir.sizeLimit !== undefined) store.sizeLimit = String(storage.emptyDir.sizeLimit);
    return store;
  }
  if (storage?.hostPath) return { kind: 'hostPath', path: storage.hostPath };
  return {
    state: 'Failed',
    reason: 'Failed',
    message: 'neither external PVC name, NIMCache volume, empty dir or local host path should be provided',
  };
}

export function isStorageProblem(s: ModelStore | StorageProblem): s is StorageProblem {
  return 'reason' in s;
}

/** Upstream's `scratch` rule (Appendix A12, kept): user init containers beyond the CA one, or any sidecar. */
export function needsScratch(svc: NIMService): boolean {
  const inits = svc.spec.initContainers?.length ?? 0;
  return inits > (svc.spec.proxy?.certConfigMap ? 1 : 0) || (svc.spec.sidecarContainers?.length ?? 0) > 0;
}

/** The pod's volumes, in upstream's order: dshm, scratch, model-store, then the CA volumes. */
export function podVolumes(svc: NIMService, store: ModelStore): Volume[] {
  const dshm: Volume = { name: 'dshm', emptyDir: { medium: 'Memory' } };
  const shm = svc.spec.storage?.sharedMemorySizeLimit;
  if (shm !== undefined) dshm.emptyDir!.sizeLimit = String(shm);
  const volumes: Volume[] = [dshm];
  if (needsScratch(svc)) volumes.push({ name: 'scratch', emptyDir: {} });
  if (store.kind === 'pvc') {
    volumes.push({ name: 'model-store', persistentVolumeClaim: { claimName: store.claimName, readOnly: svc.spec.storage?.readOnly ?? false } });
  } else if (store.kind === 'emptyDir') {
    volumes.push({ name: 'model-store', emptyDir: store.sizeLimit !== undefined ? { sizeLimit: store.sizeLimit } : {} });
  } else {
    volumes.push({ name: 'model-store', hostPath: { path: store.path, type: 'DirectoryOrCreate' } });
  }
  const ca = svc.spec.proxy?.certConfigMap;
  if (ca) volumes.push({ name: 'ca-cert-volume', emptyDir: {} }, { name: 'custom-ca', configMap: { name: ca } });
  return volumes;
}

function modelMounts(store: ModelStore, native: boolean): VolumeMount[] {
  const sub = store.kind === 'pvc' && store.subPath ? { subPath: store.subPath } : {};
  if (native) {
    return [
      { name: 'model-store', mountPath: '/model', ...sub },
      { name: 'model-store', mountPath: '/opt/cache', ...sub },
    ];
  }
  return [{ name: 'model-store', mountPath: '/model-store', ...sub }];
}

/** Mounts of the main container (and, verbatim, of the sidecars). */
export function mainMounts(svc: NIMService, store: ModelStore, native: boolean): VolumeMount[] {
  const mounts = [...modelMounts(store, native), { name: 'dshm', mountPath: '/dev/shm' }];
  if (needsScratch(svc)) mounts.push({ name: 'scratch', mountPath: '/scratch' });
  if (svc.spec.proxy?.certConfigMap) mounts.push({ name: 'ca-cert-volume', mountPath: '/etc/ssl' });
  return mounts;
}

/**
 * Mounts of every init container: the model store (with the same subPath as the main container, so
 * an init container sees the same files), scratch, and the CA volumes.
 */
export function initMounts(svc: NIMService, store: ModelStore, native: boolean): VolumeMount[] {
  const mounts = modelMounts(store, native);
  if (needsScratch(svc)) mounts.push({ name: 'scratch', mountPath: '/scratch' });
  if (svc.spec.proxy?.certConfigMap) {
    mounts.push({ name: 'ca-cert-volume', mountPath: '/ca-certs' }, { name: 'custom-ca', mountPath: '/custom' });
  }
  return mounts;
}

function hasGPU(r: Resources | undefined): boolean {
  return !!(r?.requests && GPU_RESOURCE in r.requests) || !!(r?.limits && GPU_RESOURCE in r.limits);
}

/**
 * The main container's resources (§2.2.9): `spec.resources` (requests/limits only), with
 * `nvidia.com/gpu` = the profile's tensor parallelism (tag `tensorParallelism`, else `tp`, else 1)
 * when a profile of an optimized NIMCache is served, no DRA claims are used and the user asked
 * for no GPU. Throws on a tag that is not a positive integer, as upstream fails the reconcile.
 */
export function containerResources(svc: NIMService, store: ModelStore): Resources | undefined {
  const own = svc.spec.resources;
  const base: Resources | undefined = own
    ? {
        ...(own.limits ? { limits: { ...own.limits } } : {}),
        ...(own.requests ? { requests: { ...own.requests } } : {}),
      }
    : undefined;
  if (store.kind !== 'pvc' || !store.profile || !isOptimizedCache(store.cache)) return base;
  const profile = store.cache?.status?.profiles?.find((p) => p.name === store.profile);
  if (!profile) return base;
  if ((svc.spec.draResources?.length ?? 0) > 0 || hasGPU(own)) return base;
  const tag = profile.config?.['tensorParallelism'] ?? profile.config?.['tp'] ?? '1';
  if (!/^[1-9][0-9]*$/.test(tag)) {
    throw new SpecError('spec.storage.nimCache.profile', `profile ${store.profile} has tensor parallelism "${tag}", not a positive integer`);
  }
  return {
    limits: { ...(base?.limits ?? {}), [GPU_RESOURCE]: tag },
    requests: { ...(base?.requests ?? {}), [GPU_RESOURCE]: tag },
  };
}
