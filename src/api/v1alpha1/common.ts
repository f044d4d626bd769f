/**
 * Sub-types shared by several kinds of apps.nvidia.com/v1alpha1.
 * Field names, types and constraints follow the NIM Operator API; the wording is ours.
 */
import type * as k from '@kubernetes/client-node';
import {
  bool,
  enumOf,
  int,
  int32,
  int64,
  k8s,
  k8sList,
  list,
  num,
  obj,
  opt,
  quantity,
  rule,
  str,
  strList,
  strMap,
  type Static,
} from '../schema.js';

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DURATION_PATTERN = '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';

export const Image = () =>
  obj(
    {
      repository: str('Image repository, for example nvcr.io/nim/meta/llama-3.1-8b-instruct.'),
      tag: str('Image tag. Pin an exact version: a floating tag such as "latest" changes what runs on every pull.'),
      pullPolicy: opt(str('When the kubelet pulls the image: Always, IfNotPresent or Never.')),
      pullSecrets: opt(strList('Names of Secrets in the same namespace used to pull the image.')),
    },
    'The container image, written as <repository>:<tag>.',
    { required: ['repository', 'tag'] },
  );
export type Image = Static<ReturnType<typeof Image>>;

export const EnvList = (description: string) => k8sList<k.V1EnvVar>('V1EnvVar', description);
export const Tolerations = (description: string) => k8sList<k.V1Toleration>('V1Toleration', description);
export const Resources = (description: string) => k8s<k.V1ResourceRequirements>('V1ResourceRequirements', description);

export const ContainerSpec = (description: string) =>
  obj(
    {
      name: str('Name of the container, unique within the pod.'),
      image: Image(),
      command: opt(strList('Entrypoint of the container; the image\'s ENTRYPOINT when empty.')),
      args: opt(strList('Arguments to the entrypoint; the image\'s CMD when empty.')),
      env: opt(EnvList('Environment variables of the container.')),
      workingDir: opt(str('Working directory of the container; the image\'s default when empty.')),
    },
    description,
  );
export type ContainerSpec = Static<ReturnType<typeof ContainerSpec>>;

export const ProxySpec = () =>
  obj(
    {
      httpProxy: opt(str('URL of the HTTP proxy, passed to containers as HTTP_PROXY.')),
      httpsProxy: opt(str('URL of the HTTPS proxy, passed to containers as HTTPS_PROXY.')),
      noProxy: opt(str('Comma-separated hosts and domains reached without the proxy (NO_PROXY).')),
      certConfigMap: opt(
        str('Name of a ConfigMap whose *.crt and *.pem entries are extra CA certificates to trust (for a TLS-inspecting proxy).'),
      ),
    },
    'Outbound proxy and extra trusted certificate authorities.',
  );

export const PVCSpec = () =>
  obj(
    {
      create: opt(bool('Create the PersistentVolumeClaim. When false, an existing claim named by name is used.')),
      name: opt(str('Name of the claim. Required when create is false; defaults to a derived name when creating.')),
      storageClass: opt(str('StorageClass of a claim to create; the cluster default when empty.')),
      size: opt(str('Requested size of a claim to create, as a quantity such as "50Gi".')),
      volumeAccessMode: opt(str('Access mode of a claim to create: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.')),
      subPath: opt(str('Directory inside the volume that holds the model store.')),
      annotations: opt(strMap('Annotations put on a claim the operator creates.')),
    },
    'A PersistentVolumeClaim that holds model files: created by the operator or an existing one.',
  );

export const Condition = () =>
  obj(
    {
      type: str('Kind of condition, in CamelCase or as domain/Name.', {
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      }),
      status: enumOf(['True', 'False', 'Unknown'] as const, 'Whether the condition holds: True, False or Unknown.'),
      observedGeneration: opt(
        int64('The metadata.generation of the object that this condition was computed from.', { minimum: 0 }),
      ),
      lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
      reason: str('A one-word, CamelCase cause of the last transition, for programs.', {
        minLength: 1,
        maxLength: 1024,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      }),
      message: str('What happened, and what to do about it, for people.', { maxLength: 32768 }),
    },
    'One observation about the object.',
  );
export type Condition = Static<ReturnType<typeof Condition>>;

export const Conditions = (description = 'Observations of the object\'s state, one per type.') =>
  list(Condition(), description);

export const NIMProfile = (description: string) =>
  obj(
    {
      name: opt(str('Profile id.')),
      model: opt(str('Model the profile belongs to.')),
      release: opt(str('NIM release the profile was published with.')),
      config: opt(strMap('Tags of the profile (engine, precision, tp, gpu …).')),
    },
    description,
  );
export type NIMProfile = Static<ReturnType<typeof NIMProfile>>;

// ---------------------------------------------------------------- exposure

export const ServiceExpose = () =>
  obj(
    {
      type: opt(str('Type of the Service: ClusterIP (when empty), NodePort or LoadBalancer.')),
      name: opt(str('Name of the Service; the NIMService name when empty.')),
      port: opt(int32('Port of the HTTP inference API.', { default: 8000, minimum: 1, maximum: 65535 })),
      grpcPort: opt(int32('Port of the gRPC API, for NIMs that serve gRPC (Triton).', { minimum: 1, maximum: 65535 })),
      metricsPort: opt(
        int32('Port of a separate metrics endpoint, for NIMs that serve metrics apart from the API (Triton).', {
          minimum: 1,
          maximum: 65535,
        }),
      ),
      annotations: opt(strMap('Annotations put on the Service.')),
      labels: opt(strMap('Labels put on the Service.')),
    },
    'The Service in front of the pods.',
  );

export const LegacyIngress = () =>
  obj(
    {
      enabled: opt(bool('Create the Ingress.')),
      annotations: opt(strMap('Annotations put on the Ingress.')),
      spec: opt(k8s<k.V1IngressSpec>('V1IngressSpec', 'The Ingress spec, used as given.')),
    },
    'Deprecated: use spec.expose.router.ingress. An Ingress written out in full.',
  );

export const BackendRef = () =>
  obj(
    {
      group: opt(
        str('API group of the backend; empty for the core group.', {
          default: '',
          maxLength: 253,
          pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        }),
      ),
      kind: opt(
        str('Kind of the backend.', {
          default: 'Service',
          minLength: 1,
          maxLength: 63,
          pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
        }),
      ),
      name: str('Name of the backend.', { minLength: 1, maxLength: 253 }),
      namespace: opt(
        str('Namespace of the backend; the route\'s namespace when empty.', {
          minLength: 1,
          maxLength: 63,
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
        }),
      ),
      port: opt(int32('Port of the backend; required when the backend is a Service.', { minimum: 1, maximum: 65535 })),
      weight: opt(
        int32('Share of the requests sent to this backend, relative to the other backends.', {
          default: 1,
          minimum: 0,
          maximum: 1000000,
        }),
      ),
    },
    'A Gateway API backend reference that replaces the generated Service as the routes\' backend.',
    { rules: [rule("(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true", 'Must have port for Service reference')] },
  );

export const Gateway = () =>
  obj(
    {
      namespace: str('Namespace of the Gateway.', { minLength: 1 }),
      name: str('Name of the Gateway.', { minLength: 1 }),
      httpRoutesEnabled: opt(bool('Create an HTTPRoute to the Gateway.', { default: true })),
      grpcRoutesEnabled: opt(bool('Create a GRPCRoute to the Gateway.', { default: false })),
      backendRef: opt(BackendRef()),
    },
    'A Gateway API Gateway to attach routes to.',
  );

const EppConfigDocument = () =>
  obj(
    {
      apiVersion: opt(str('API version of the document.')),
      kind: opt(str('Kind of the document.')),
      featureGates: opt(strList('Feature gates of the endpoint picker to turn on.')),
      plugins: list(
        obj(
          {
            name: opt(str('Name by which profiles refer to this plugin; its type when empty.')),
            type: str('Type of the plugin.'),
            parameters: opt(str('Parameters of the plugin, as raw JSON.', { format: 'byte' })),
          },
          'A plugin instance.',
        ),
        'Plugins to instantiate.',
      ),
      schedulingProfiles: list(
        obj(
          {
            name: str('Name of the profile.'),
            plugins: list(
              obj(
                {
                  pluginRef: str('Name of a plugin instance.'),
                  weight: opt(int('Weight of a scoring plugin.')),
                },
                'A plugin used by the profile.',
              ),
              'Plugins of the profile.',
            ),
          },
          'A named scheduling profile.',
        ),
        'Scheduling profiles of the picker.',
      ),
      saturationDetector: opt(
        obj(
          {
            queueDepthThreshold: opt(int('Waiting-queue length above which a backend counts as saturated.')),
            kvCacheUtilThreshold: opt(num('KV-cache utilization (0..1) above which a backend counts as saturated.')),
            metricsStalenessThreshold: opt(str('Age after which a pod\'s metrics are too old to use, as a duration.')),
          },
          'Thresholds of the saturation detector.',
        ),
      ),
      data: opt(
        obj(
          {
            sources: list(
              obj(
                {
                  pluginRef: str('Name of the plugin instance that is the source.'),
                  extractors: list(
                    obj({ pluginRef: str('Name of the extractor plugin instance.') }, 'An extractor.'),
                    'Extractors that read the source.',
                  ),
                },
                'A data-layer source.',
              ),
              'Data-layer sources.',
            ),
          },
          'Data layer of the picker.',
        ),
      ),
    },
    'The endpoint picker\'s configuration document, inline. Fields beyond those listed are kept as given.',
    { 'x-kubernetes-preserve-unknown-fields': true },
  );

export const EPPConfig = () =>
  obj(
    {
      containerSpec: ContainerSpec('The endpoint picker container.'),
      readinessProbe: opt(k8s<k.V1Probe>('V1Probe', 'Readiness probe of the endpoint picker.')),
      livenessProbe: opt(k8s<k.V1Probe>('V1Probe', 'Liveness probe of the endpoint picker.')),
      startupProbe: opt(k8s<k.V1Probe>('V1Probe', 'Startup probe of the endpoint picker.')),
      ports: opt(k8sList<k.V1ContainerPort>('V1ContainerPort', 'Ports of the endpoint picker container.')),
      configMapRef: opt(
        k8s<k.V1ConfigMapKeySelector>('V1ConfigMapKeySelector', 'A ConfigMap key that holds the picker configuration.'),
      ),
      config: opt(EppConfigDocument()),
    },
    'An endpoint picker (Gateway API inference extension) in front of the model pods.',
    { rules: [rule('!(has(self.configMapRef) && has(self.config))', 'specify either configMapRef or config, not both')] },
  );

export const Router = () =>
  obj(
    {
      hostDomainName: opt(
        str('Domain of the generated host name <name>.<namespace>.<hostDomainName>.', {
          minLength: 1,
          maxLength: 63,
          pattern: '^(([a-z0-9][a-z0-9\\-]*[a-z0-9])|[a-z0-9]+\\.)*([a-z]+|xn\\-\\-[a-z0-9]+)\\.?$',
        }),
      ),
      annotations: opt(strMap('Annotations put on the generated Ingress or routes.')),
      ingress: opt(
        obj(
          {
            ingressClass: str('IngressClass of the Ingress.', { minLength: 1 }),
            tlsSecretName: opt(str('Secret with the TLS certificate for the host; plain HTTP when empty.')),
          },
          'Route through an Ingress.',
        ),
      ),
      gateway: opt(Gateway()),
      eppConfig: opt(EPPConfig()),
    },
    'How traffic from outside reaches the model: an Ingress or Gateway API routes.',
    { rules: [rule('!(has(self.gateway) && has(self.ingress))', 'ingress and gateway cannot be specified together')] },
  );

export const Expose = () =>
  obj(
    {
      service: opt(ServiceExpose()),
      ingress: opt(LegacyIngress()),
      router: opt(Router()),
    },
    'How the model is reached: the Service, and optionally an Ingress or Gateway routes.',
  );

// ---------------------------------------------------------------- scaling, metrics, probes

export const Autoscaling = () =>
  obj(
    {
      enabled: opt(bool('Scale with a HorizontalPodAutoscaler. spec.replicas must then be left unset.')),
      annotations: opt(strMap('Annotations put on the HorizontalPodAutoscaler.')),
      hpa: opt(
        obj(
          {
            minReplicas: opt(int32('Fewest replicas.', { default: 1, minimum: 1 })),
            maxReplicas: int32('Most replicas.'),
            metrics: opt(
              k8sList<k.V2MetricSpec>(
                'V2MetricSpec',
                'Metrics to scale on (autoscaling/v2). GPU workloads scale better on a model metric (queue depth, KV-cache use) than on CPU.',
              ),
            ),
            behavior: opt(
              k8s<k.V2HorizontalPodAutoscalerBehavior>(
                'V2HorizontalPodAutoscalerBehavior',
                'Scale-up and scale-down policies (autoscaling/v2).',
              ),
            ),
          },
          'The HorizontalPodAutoscaler\'s bounds, metrics and behaviour.',
        ),
      ),
    },
    'Horizontal autoscaling.',
  );

export const Metrics = () =>
  obj(
    {
      enabled: opt(bool('Create a Prometheus Operator ServiceMonitor for the metrics endpoint.')),
      serviceMonitor: opt(
        obj(
          {
            additionalLabels: opt(strMap('Labels put on the ServiceMonitor, e.g. to match a Prometheus selector.')),
            annotations: opt(strMap('Annotations put on the ServiceMonitor.')),
            interval: opt(str('Scrape interval, as a Prometheus duration (30s, 1m).', { pattern: DURATION_PATTERN })),
            scrapeTimeout: opt(str('Scrape timeout, as a Prometheus duration.', { pattern: DURATION_PATTERN })),
          },
          'The ServiceMonitor\'s labels and scrape settings.',
        ),
      ),
    },
    'Metrics collection.',
  );

export const ProbeSpec = (which: string) =>
  obj(
    {
      enabled: opt(bool(`Run the ${which} probe (default true).`)),
      probe: opt(k8s<k.V1Probe>('V1Probe', `The ${which} probe; a default suited to NIM when empty.`)),
    },
    `The ${which} probe of the model container.`,
  );

// ---------------------------------------------------------------- DRA

const SELECTOR_OPS = ['Equal', 'NotEqual', 'GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual'] as const;

export const DRAResource = () =>
  obj(
    {
      resourceClaimName: opt(
        str('Name of an existing ResourceClaim, shared by all pods.', { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN }),
      ),
      resourceClaimTemplateName: opt(
        str('Name of an existing ResourceClaimTemplate; each pod gets its own claim.', {
          minLength: 1,
          maxLength: 253,
          pattern: DNS_SUBDOMAIN_PATTERN,
        }),
      ),
      claimCreationSpec: opt(
        obj(
          {
            generateName: opt(str('Prefix of the generated ResourceClaimTemplate name.', { minLength: 1, maxLength: 16 })),
            devices: list(
              obj(
                {
                  name: str('Name of the device request in the claim.', {
                    minLength: 1,
                    maxLength: 253,
                    pattern: DNS_SUBDOMAIN_PATTERN,
                  }),
                  count: int32('How many devices to request.', { default: 1 }),
                  deviceClassName: str('DeviceClass the devices come from.', { default: 'gpu.nvidia.com' }),
                  driverName: opt(
                    str('DRA driver that publishes the devices; selector keys without a domain belong to it.', {
                      default: 'gpu.nvidia.com',
                      maxLength: 253,
                      pattern: DNS_SUBDOMAIN_PATTERN,
                    }),
                  ),
                  attributeSelectors: opt(
                    list(
                      obj(
                        {
                          key: str('Device attribute, with or without a domain prefix.', { maxLength: 64 }),
                          op: enumOf(SELECTOR_OPS, 'How the attribute is compared with the value.', { default: 'Equal' }),
                          value: opt(
                            obj(
                              {
                                boolValue: opt(bool('A boolean.')),
                                intValue: opt(int32('An integer.')),
                                stringValue: opt(str('A string.', { maxLength: 64 })),
                                versionValue: opt(str('A semantic version (semver 2.0.0).', { maxLength: 64 })),
                              },
                              'The value to compare with; set one of its fields.',
                            ),
                          ),
                        },
                        'A condition on a device attribute.',
                      ),
                      'Conditions on device attributes; all must hold.',
                    ),
                  ),
                  capacitySelectors: opt(
                    list(
                      obj(
                        {
                          key: str('Device capacity, with or without a domain prefix.', { maxLength: 64 }),
                          op: enumOf(SELECTOR_OPS, 'How the capacity is compared with the value.', { default: 'Equal' }),
                          value: quantity('The quantity to compare with.'),
                        },
                        'A condition on a device capacity.',
                      ),
                      'Conditions on device capacities; all must hold.',
                    ),
                  ),
                  celExpressions: opt(strList('Raw DRA CEL selectors on the device; all must hold.')),
                },
                'One device request.',
                {
                  rules: [
                    rule(
                      '(has(self.celExpressions) && !(has(self.attributeSelectors) || has(self.capacitySelectors))) || !has(self.celExpressions)',
                      'celExpressions must not be set if attributeSelectors or capacitySelectors are set',
                    ),
                  ],
                },
              ),
              'Device requests of the claim.',
            ),
          },
          'Have the operator create a ResourceClaimTemplate from these device requests.',
        ),
      ),
      requests: opt(strList('Requests of the claim the model container uses; all of them when empty.', { minLength: 1 })),
    },
    'GPUs (or other devices) claimed through Dynamic Resource Allocation.',
    {
      rules: [
        rule(
          '(has(self.resourceClaimName) ? 1 : 0) + (has(self.resourceClaimTemplateName) ? 1 : 0) + (has(self.claimCreationSpec) ? 1 : 0) == 1',
          'exactly one of spec.resourceClaimName, spec.resourceClaimTemplateName, or spec.claimCreationSpec must be set.',
        ),
      ],
    },
  );
export type DRAResource = Static<ReturnType<typeof DRAResource>>;
