/** NIMService: one inference endpoint serving a model. */
import type * as k from '@kubernetes/client-node';
import {
  bool,
  enumOf,
  int,
  int32,
  int64,
  k8s,
  list,
  obj,
  opt,
  quantity,
  rule,
  str,
  strList,
  strMap,
  type Static,
  type ValidationRule,
} from '../schema.js';
import {
  Autoscaling,
  Conditions,
  ContainerSpec,
  DRAResource,
  EnvList,
  Expose,
  Image,
  Metrics,
  PVCSpec,
  ProbeSpec,
  ProxySpec,
  Resources,
  Tolerations,
} from './common.js';

/** Rules on a NIMService spec that also hold for each service of a NIMPipeline. */
export const SERVICE_SPEC_RULES: ValidationRule[] = [
  rule(
    '!(has(self.multiNode) && has(self.scale) && has(self.scale.enabled) && self.scale.enabled)',
    'autoScaling must be nil or disabled when multiNode is set',
  ),
  rule(
    '!(has(self.scale) && has(self.scale.enabled) && self.scale.enabled && has(self.replicas))',
    'spec.replicas cannot be set when spec.scale.enabled is true',
  ),
  rule(
    '!(has(self.expose) && has(self.expose.ingress) && has(self.expose.ingress.enabled) && self.expose.ingress.enabled && has(self.expose.router) && has(self.expose.router.ingress))',
    '.spec.expose.ingress is deprecated, and will be removed in a future release. If .spec.expose.ingress is set, please do not set .spec.expose.router.ingress.',
  ),
];

/** A NIMService's DRA claims cannot change once set (a transition rule). */
export const DRA_IMMUTABLE_RULE = rule(
  '(has(self.draResources) && has(oldSelf.draResources) && self.draResources == oldSelf.draResources) || (!has(self.draResources) && !has(oldSelf.draResources))',
  'spec.draResources is immutable',
);

const MultiNode = () =>
  obj(
    {
      backendType: opt(enumOf(['lws'] as const, 'What runs the node group: a LeaderWorkerSet.', { default: 'lws' })),
      parallelism: obj(
        {
          pipeline: opt(int32('Pipeline-parallel size: how many nodes (pods) one model replica spans.', { minimum: 1 })),
          tensor: opt(int32('Tensor-parallel size: how many GPUs each of those pods uses.', { minimum: 1 })),
        },
        'How one model replica is split across nodes and GPUs.',
      ),
      mpi: opt(
        obj(
          { mpiStartTimeout: int('Seconds to wait for all MPI workers to come up.', { default: 300 }) },
          'Run the node group with MPI.',
        ),
      ),
      ray: opt(
        obj(
          { rayPort: int32('Port of the Ray head.', { default: 6379, minimum: 1, maximum: 65535 }) },
          'Run the node group with Ray.',
        ),
      ),
      computeDomain: opt(
        obj(
          {
            create: opt(bool('Create a ComputeDomain (multi-node NVLink) for the group.')),
            name: opt(str('An existing ComputeDomain to use; required unless create is true.')),
          },
          'An NVIDIA ComputeDomain that links the group\'s GPUs over NVLink.',
          {
            rules: [
              rule(
                '(has(self.create) && self.create) ? !has(self.name) : (has(self.name) && size(self.name) > 0)',
                'if create is true, name must not be set; otherwise name is required.',
              ),
            ],
          },
        ),
      ),
    },
    'Serve one model replica from several pods (a LeaderWorkerSet), for models too big for one node.',
    { rules: [rule('!(has(self.mpi) && has(self.ray))', 'mpi and ray are mutually exclusive')] },
  );

const ServiceStorage = () =>
  obj(
    {
      nimCache: opt(
        obj(
          {
            name: opt(str('Name of a NIMCache in the same namespace whose volume holds the model.')),
            profile: opt(str('Profile id from the cache to serve; sets NIM_MODEL_PROFILE and sizes the GPU request.')),
          },
          'Serve from a NIMCache (recommended): the model is downloaded once and shared.',
        ),
      ),
      pvc: opt(PVCSpec()),
      emptyDir: opt(
        obj(
          { sizeLimit: opt(quantity('Size limit of the volume.')) },
          'An emptyDir model store. It is lost with the pod: every restart downloads the model again.',
        ),
      ),
      hostPath: opt(str('A host directory as the model store; pins the model files to one node.')),
      readOnly: opt(bool('Mount the model volume read-only.')),
      sharedMemorySizeLimit: opt(quantity('Size limit of the in-memory /dev/shm volume.')),
    },
    'Where the model files come from.',
  );

export function NIMServiceSpec(rules: ValidationRule[]) {
  return obj(
    {
      image: Image(),
      command: opt(strList('Entrypoint of the model container.')),
      args: opt(strList('Arguments to the entrypoint of the model container.')),
      env: opt(EnvList('Environment variables of the model container; they win over the operator\'s defaults.')),
      authSecret: opt(str('Secret with NGC_API_KEY (and optionally HF_TOKEN). May be empty in air-gapped clusters.')),
      storage: opt(ServiceStorage()),
      labels: opt(strMap('Labels put on every object the operator creates for this service.')),
      annotations: opt(strMap('Annotations put on every object the operator creates for this service and on its pods.')),
      nodeSelector: opt(strMap('Node labels the pods must match.')),
      tolerations: opt(Tolerations('Taints the pods tolerate.')),
      affinity: opt(k8s<k.V1Affinity>('V1Affinity', 'Scheduling affinity of the pods.')),
      podAffinity: opt(k8s<k.V1PodAffinity>('V1PodAffinity', 'Deprecated and ignored: use affinity.')),
      resources: opt(Resources('CPU, memory and GPU requests and limits of the model container. Use draResources, not claims, for DRA.')),
      draResources: opt(list(DRAResource(), 'Devices claimed through Dynamic Resource Allocation. Cannot be changed once set.')),
      expose: opt(Expose()),
      livenessProbe: opt(ProbeSpec('liveness')),
      readinessProbe: opt(ProbeSpec('readiness')),
      startupProbe: opt(ProbeSpec('startup')),
      scale: opt(Autoscaling()),
      schedulerName: opt(str('Scheduler of the pods; the default scheduler when empty.')),
      metrics: opt(Metrics()),
      replicas: opt(int32('Number of pods (or node groups). Leave unset when autoscaling is enabled.', { minimum: 0 })),
      userID: opt(int64('User id the model container runs as (default 1000).')),
      groupID: opt(int64('Group id the model container runs as (default 2000).')),
      runtimeClassName: opt(str('RuntimeClass of the pods, e.g. nvidia.')),
      priorityClassName: opt(str('PriorityClass of the pods.')),
      proxy: opt(ProxySpec()),
      multiNode: opt(MultiNode()),
      inferencePlatform: opt(
        enumOf(['standalone', 'kserve'] as const, 'Where the model runs: a Deployment of our own, or a KServe InferenceService.', {
          default: 'standalone',
        }),
      ),
      initContainers: opt(list(ContainerSpec('An init container.'), 'Containers run before the model container starts.')),
      sidecarContainers: opt(list(ContainerSpec('A sidecar container.'), 'Containers run beside the model container.')),
    },
    'The model server to run and how to reach, scale and schedule it.',
    { required: ['image'], rules },
  );
}

const claimState =
  'Comma-separated states of the claim: pending, allocated, reserved, deleted.';

export const NIMServiceStatus = () =>
  obj(
    {
      state: opt(str('Overall state: Ready, NotReady or Failed.')),
      conditions: opt(Conditions()),
      availableReplicas: opt(int32('Pods that are ready to serve.')),
      model: opt(
        obj(
          {
            name: str('Name of the served model, as the API reports it.'),
            clusterEndpoint: str('Address of the model inside the cluster.'),
            externalEndpoint: str('Address of the model from outside the cluster.'),
          },
          'The model being served and where to reach it.',
        ),
      ),
      draResourceStatuses: opt(
        list(
          obj(
            {
              name: str('Name of the claim in the pod spec.'),
              resourceClaimStatus: opt(
                obj({ name: str('Name of the ResourceClaim.'), state: str(claimState) }, 'State of a shared ResourceClaim.'),
              ),
              resourceClaimTemplateStatus: opt(
                obj(
                  {
                    name: str('Name of the ResourceClaimTemplate.'),
                    resourceClaimStatuses: opt(
                      list(
                        obj({ name: str('Name of the ResourceClaim.'), state: str(claimState) }, 'A generated claim.'),
                        'Claims generated from the template, one per pod.',
                      ),
                    ),
                  },
                  'State of a ResourceClaimTemplate and its claims.',
                ),
              ),
            },
            'State of one DRA claim.',
            {
              rules: [
                rule(
                  'has(self.resourceClaimStatus) != has(self.resourceClaimTemplateStatus)',
                  'exactly one of resourceClaimStatus and resourceClaimTemplateStatus must be set.',
                ),
              ],
            },
          ),
          'State of the DRA claims.',
          { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        ),
      ),
      computeDomainStatus: opt(
        obj(
          {
            name: str('Name of the ComputeDomain.'),
            status: opt(str('Status of the ComputeDomain.')),
            nodes: opt(
              list(
                obj(
                  {
                    name: str('Node name.'),
                    cliqueID: str('NVLink clique of the node.'),
                    status: opt(enumOf(['Ready', 'NotReady'] as const, 'Readiness of the node\'s IMEX daemon.', { default: 'NotReady' })),
                  },
                  'A node of the domain.',
                ),
                'Nodes of the domain.',
              ),
            ),
          },
          'State of the ComputeDomain of a multi-node service.',
        ),
      ),
    },
    'What the operator observed.',
  );

export const nimServiceSpecSchema = NIMServiceSpec([...SERVICE_SPEC_RULES, DRA_IMMUTABLE_RULE]);
export type NIMServiceSpec = Static<typeof nimServiceSpecSchema>;
export type NIMServiceStatus = Static<ReturnType<typeof NIMServiceStatus>>;
