/**
 * Minimal typed shapes of the third-party kinds a multi-node, DRA or endpoint-picker NIMService
 * owns or reads, which `@kubernetes/client-node` has no models for: the LeaderWorkerSet
 * (leaderworkerset.x-k8s.io/v1), the NVIDIA DRA driver's ComputeDomain (resource.nvidia.com/v1beta1)
 * and the Gateway API Inference Extension's InferencePool (inference.networking.k8s.io/v1). Only the
 * fields we write or read are typed; each CRD's schema is the authority on the rest.
 */
import type { V1LabelSelector, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';

export const LWS_API_VERSION = 'leaderworkerset.x-k8s.io/v1';
export const COMPUTE_DOMAIN_API_VERSION = 'resource.nvidia.com/v1beta1';
export const INFERENCE_POOL_API_VERSION = 'inference.networking.k8s.io/v1';
export const INFERENCE_POOL_GROUP = 'inference.networking.k8s.io';

export type PodTemplate = Wire<V1PodTemplateSpec>;

export interface LeaderWorkerSet {
  apiVersion: typeof LWS_API_VERSION;
  kind: 'LeaderWorkerSet';
  metadata: Wire<V1ObjectMeta>;
  spec: {
    replicas?: number;
    leaderWorkerTemplate: {
      leaderTemplate?: PodTemplate;
      workerTemplate: PodTemplate;
      size?: number;
      restartPolicy?: 'RecreateGroupOnPodRestart' | 'None';
    };
    networkConfig?: { subdomainPolicy?: 'Shared' | 'UniquePerReplica' };
    rolloutStrategy?: {
      type: 'RollingUpdate';
      rollingUpdateConfiguration?: { maxSurge?: number | string; maxUnavailable?: number | string };
    };
    startupPolicy?: 'LeaderCreated' | 'LeaderReady';
  };
}

/** A LeaderWorkerSet as read from the cluster (every field may be missing). */
export interface LeaderWorkerSetLike {
  metadata?: { name?: string };
  spec?: { replicas?: number };
  status?: {
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    readyReplicas?: number;
    updatedReplicas?: number;
    replicas?: number;
  };
}

export interface ComputeDomainNode {
  name?: string;
  cliqueID?: string;
  status?: string;
}

export interface ComputeDomain {
  apiVersion: typeof COMPUTE_DOMAIN_API_VERSION;
  kind: 'ComputeDomain';
  metadata: Wire<V1ObjectMeta>;
  spec: {
    numNodes: number;
    channel: { resourceClaimTemplate: { name: string }; allocationMode?: 'Single' | 'All' };
  };
  status?: { status?: string; nodes?: ComputeDomainNode[] };
}

/** A ComputeDomain as read from the cluster (every field may be missing). */
export interface ComputeDomainLike {
  metadata?: { name?: string };
  spec?: { channel?: { resourceClaimTemplate?: { name?: string } } };
  status?: { status?: string; nodes?: ComputeDomainNode[] };
}

export interface InferencePool {
  apiVersion: typeof INFERENCE_POOL_API_VERSION;
  kind: 'InferencePool';
  metadata: Wire<V1ObjectMeta>;
  spec: {
    selector: Wire<V1LabelSelector>;
    targetPorts: { number: number }[];
    endpointPickerRef: { group?: string; kind?: string; name: string; port?: { number: number } };
  };
}
