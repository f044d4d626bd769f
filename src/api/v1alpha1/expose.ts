/** How a NIMService is reached: its Service, an Ingress, Gateway API routes, an endpoint picker. */
import type * as k from '@kubernetes/client-node';
import {
  bool,
  int,
  int32,
  k8s,
  k8sList,
  list,
  num,
  obj,
  opt,
  rule,
  str,
  strList,
  strMap,
} from '../schema.js';
import { ContainerSpec } from './common.js';



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
