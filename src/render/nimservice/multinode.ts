/**
 * LeaderWorkerSet `<name>-lws` of a multi-node NIMService (inventory §2.2.8, §2.2.12; §6 behaviours
 * 40–43; Appendix A7, A9). Each replica is a group of `parallelism.pipeline` pods: a leader, which
 * the Service selects, and workers. Both pod templates start from the single-node Deployment's pod
 * (same image, model env, volumes, init containers, sidecars, probes, scheduling), then add the
 * multi-node env, the MPI or Ray wiring and the DRA claims.
 */
import type { V1Container, V1Deployment, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { podAnnotations, selectorLabels, serviceAnnotations, serviceLabels } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';
import { addClaims, type NamedDRAResource } from './dra.js';
import { mergeEnv, type EnvVar } from './env.js';
import { leaderMPIMounts, leaderMPIVolumes, mpiMode, workerMPIMounts, workerMPIVolumes } from './mpi.js';
import { LWS_API_VERSION, type LeaderWorkerSet, type LeaderWorkerSetLike } from './multinode-types.js';
import { groupCount, isMultiNode, leaderSelector, lwsName, pipelineSize, tensorSize } from './parallelism.js';
import { GPU_RESOURCE } from './storage.js';

type Container = Wire<V1Container>;
type PodSpec = Wire<V1PodSpec>;

export const DEFAULT_MPI_START_TIMEOUT = 300;
export const DEFAULT_RAY_PORT = 6379;

const fieldEnv = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** The env every pod of a group gets, under the NIM's own env (which wins on conflict). */
export function multiNodeEnv(svc: NIMService): EnvVar[] {
  const pp = String(pipelineSize(svc));
  return [
    { name: 'NIM_MPI_ALLOW_RUN_AS_ROOT', value: '0' },
    { name: 'NIM_NUM_COMPUTE_NODES', value: pp },
    { name: 'NIM_MULTI_NODE', value: '1' },
    { name: 'NIM_TENSOR_PARALLEL_SIZE', value: String(tensorSize(svc)) },
    { name: 'NIM_PIPELINE_PARALLEL_SIZE', value: pp },
    fieldEnv('NIM_NODE_RANK', "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']"),
  ];
}

/** The leader's own variables (under the common env). */
export function leaderEnv(svc: NIMService): EnvVar[] {
  const timeout = svc.spec.multiNode?.mpi?.mpiStartTimeout || DEFAULT_MPI_START_TIMEOUT;
  return [
    { name: 'NIM_LEADER_ROLE', value: '1' },
    { name: 'OMPI_MCA_orte_keep_fqdn_hostnames', value: 'true' },
    { name: 'OMPI_MCA_plm_rsh_args', value: '-o ConnectionAttempts=20' },
    { name: 'GPUS_PER_NODE', value: String(tensorSize(svc)) },
    { name: 'CLUSTER_START_TIMEOUT', value: String(timeout) },
    fieldEnv('CLUSTER_SIZE', "metadata.annotations['leaderworkerset.sigs.k8s.io/size']"),
    fieldEnv('GROUP_INDEX', "metadata.labels['leaderworkerset.sigs.k8s.io/group-index']"),
  ];
}

/** A worker's own variables (under the common env). */
export function workerEnv(): EnvVar[] {
  return [
    { name: 'NIM_LEADER_ROLE', value: '0' },
    fieldEnv('LEADER_NAME', "metadata.annotations['leaderworkerset.sigs.k8s.io/leader-name']"),
    fieldEnv('NAMESPACE', 'metadata.namespace'),
    fieldEnv('LWS_NAME', "metadata.labels['leaderworkerset.sigs.k8s.io/name']"),
  ];
}

/** The Service's (and the InferencePool's) pod selector: the leaders when multi-node, else `{app: <name>}`. */
export function serviceSelector(svc: NIMService): Record<string, string> {
  return isMultiNode(svc) ? leaderSelector(svc) : selectorLabels(svc);
}

const rayPort = (svc: NIMService): number => svc.spec.multiNode?.ray?.rayPort ?? DEFAULT_RAY_PORT;

const hasGPU = (r: Record<string, unknown> | undefined): boolean => !!r && GPU_RESOURCE in r;

/**
 * GPUs of a pod sized from a cached profile are the tensor-parallel size when multi-node (§2.2.9
 * step 3), not the profile's tag. Resources the user gave are left as they are.
 */
function multiNodeResources(svc: NIMService, resources: Container['resources']): Container['resources'] {
  const own = svc.spec.resources;
  const tp = tensorSize(svc);
  if (!resources || hasGPU(own?.limits) || hasGPU(own?.requests) || tp <= 0) return resources;
  const out = structuredClone(resources);
  if (out.limits && GPU_RESOURCE in out.limits) out.limits[GPU_RESOURCE] = String(tp);
  if (out.requests && GPU_RESOURCE in out.requests) out.requests[GPU_RESOURCE] = String(tp);
  return out;
}

function rayWorkerStartupProbe(): Wire<V1Probe> {
  return { exec: { command: ['/bin/sh', '-c', 'ray status'] }, initialDelaySeconds: 30, timeoutSeconds: 5, periodSeconds: 10, failureThreshold: 3 };
}

/** The leader's or a worker's model container, from the Deployment's main container. */
function roleContainer(svc: NIMService, main: Container, role: 'leader' | 'worker'): Container {
  const ray = svc.spec.multiNode?.ray;
  const mpi = mpiMode(svc);
  const common = mergeEnv(multiNodeEnv(svc), main.env);
  const out: Container = { name: role === 'leader' ? 'nim-leader' : 'nim-worker', image: main.image };
  if (main.imagePullPolicy) out.imagePullPolicy = main.imagePullPolicy;
  if (main.command?.length) out.command = [...main.command];
  if (ray) {
    const port = String(rayPort(svc));
    const roleArgs = role === 'leader' ? ['nim-serve-ray', '--head', '--port', port] : ['nim-serve-ray', '--head-address', `$(LWS_LEADER_ADDRESS):${port}`];
    out.args = [...roleArgs, ...(svc.spec.args ?? [])];
  } else if (main.args?.length) {
    out.args = [...main.args];
  }
  out.env = mergeEnv(role === 'leader' ? leaderEnv(svc) : workerEnv(), common);
  out.ports = structuredClone(main.ports ?? []);
  if (ray) out.ports.push({ name: 'ray', containerPort: rayPort(svc), protocol: 'TCP' });
  const resources = multiNodeResources(svc, main.resources);
  if (resources) out.resources = resources;
  out.volumeMounts = [...structuredClone(main.volumeMounts ?? []), ...(mpi ? (role === 'leader' ? leaderMPIMounts() : workerMPIMounts()) : [])];
  if (role === 'leader') {
    if (main.livenessProbe) out.livenessProbe = structuredClone(main.livenessProbe);
    if (main.readinessProbe) out.readinessProbe = structuredClone(main.readinessProbe);
    if (main.startupProbe) out.startupProbe = structuredClone(main.startupProbe);
  } else if (ray) {
    out.startupProbe = rayWorkerStartupProbe();
  }
  return out;
}

/**
 * One role's pod spec. Appendix A9 fix: upstream's template drops `serviceAccountName`,
 * `runtimeClassName`, `affinity`, the image pull policy, `spec.command`/`spec.args` and (for
 * workers) `schedulerName`; every pod here keeps them, as the Deployment's do.
 */
function rolePod(svc: NIMService, base: PodSpec, role: 'leader' | 'worker', named: NamedDRAResource[]): PodSpec {
  const pod = structuredClone(base);
  const [main, ...sidecars] = pod.containers;
  const model = roleContainer(svc, main!, role);
  const mn = multiNodeEnv(svc);
  for (const c of sidecars) {
    c.env = mergeEnv(mn, c.env);
    c.volumeMounts = structuredClone(model.volumeMounts);
  }
  for (const c of pod.initContainers ?? []) c.env = mergeEnv(mn, c.env);
  pod.containers = [model, ...sidecars];
  if (mpiMode(svc)) pod.volumes = [...(pod.volumes ?? []), ...(role === 'leader' ? leaderMPIVolumes(svc) : workerMPIVolumes(svc))];
  addClaims(pod, named);
  return pod;
}

/**
 * LeaderWorkerSet `<name>-lws` from the single-node Deployment rendered for the same spec (before
 * any DRA claim is added to it) and the pods' DRA claims (the ComputeDomain's included).
 */
export function renderLeaderWorkerSet(svc: NIMService, facts: NIMServiceFacts, deployment: Wire<V1Deployment>, named: NamedDRAResource[]): LeaderWorkerSet {
  const base = deployment.spec!.template.spec!;
  const labels = serviceLabels(svc, facts.operatorVersion);
  return {
    apiVersion: LWS_API_VERSION,
    kind: 'LeaderWorkerSet',
    metadata: childMeta(svc, facts, { name: lwsName(svc), labels, annotations: serviceAnnotations(svc) }),
    spec: {
      replicas: groupCount(svc),
      leaderWorkerTemplate: {
        leaderTemplate: {
          metadata: { labels: { ...labels, ...leaderSelector(svc) }, annotations: podAnnotations(svc) },
          spec: rolePod(svc, base, 'leader', named),
        },
        // Workers get the service labels too (upstream gives them none), so `-l app.kubernetes.io/instance=<name>` finds them.
        workerTemplate: { metadata: { labels: { ...labels }, annotations: podAnnotations(svc) }, spec: rolePod(svc, base, 'worker', named) },
        size: pipelineSize(svc),
        restartPolicy: 'RecreateGroupOnPodRestart',
      },
      networkConfig: { subdomainPolicy: 'Shared' },
      rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 1 } },
      startupPolicy: 'LeaderCreated',
    },
  };
}

/**
 * Readiness of the LeaderWorkerSet `name` (§2.2.12): ready when its `Available` condition is True.
 * Messages are upstream's, with the group count added when not ready.
 */
export function lwsReadiness(lws: LeaderWorkerSetLike | undefined, name: string): { ready: boolean; message: string; started: boolean } {
  if (!lws) return { ready: false, message: `leaderworkerset "${name}" does not exist yet`, started: false };
  const replicas = lws.spec?.replicas;
  if (!replicas) return { ready: false, message: `leaderworkerset "${name}" is scaled down`, started: true };
  const available = (lws.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
  if (available) return { ready: true, message: `leaderworkerset "${name}" is ready`, started: true };
  const ready = lws.status?.readyReplicas ?? 0;
  return { ready: false, message: `leaderworkerset "${name}" is not ready: ${ready} of ${replicas} groups ready`, started: (lws.status?.replicas ?? 0) > 0 };
}
