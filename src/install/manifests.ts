/**
 * The objects that install the operator, built once and parametrised by `Settings`: plain values for
 * the kustomize base and `nimop install --render`, Helm template markers for the chart (helm.ts).
 * Every file under deploy/ (but the CRDs) comes from here, so none of them can drift from another.
 */
import { webhookConfiguration } from '../webhooks/server.js';
import { clusterRole, clusterRoleBinding, leaderElectionRole, leaderElectionRoleBinding, serviceAccount, type RBACObject } from './rbac.js';
import { DEFAULT_IMAGE, DEFAULT_NAMESPACE, NAMES, PORTS, SELECTOR_LABELS, WEBHOOK_CERT_DIR, labels } from './names.js';

type Obj = Record<string, unknown>;

/** Parts that exist only in some configurations. */
export type Flag = 'webhook' | 'caInjection' | 'certManager' | 'selfSignedIssuer' | 'secretCA' | 'serviceMonitor' | 'networkPolicy';

/** The defaults of everything a user may tune (the Helm chart's values.yaml is made of these). */
export const DEFAULTS = {
  replicas: 2,
  pullPolicy: 'IfNotPresent',
  logLevel: 'info',
  resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  nodeSelector: {},
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...SELECTOR_LABELS } } } },
      ],
    },
  },
  podAnnotations: {},
  imagePullSecrets: [] as { name: string }[],
  podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  metricsServiceType: 'ClusterIP',
  serviceMonitorInterval: '30s',
  /** Namespaces whose pods may scrape the metrics when the NetworkPolicy is on. */
  metricsNamespaceLabels: { metrics: 'enabled' },
};

/** How the objects are parametrised. Values typed `unknown` may be Helm markers instead of data. */
export interface Settings {
  namespace: string;
  image: string;
  imagePullPolicy: string;
  replicas: unknown;
  logLevel: string;
  imagePullSecrets: unknown;
  resources: unknown;
  nodeSelector: unknown;
  tolerations: unknown;
  affinity: unknown;
  podAnnotations: unknown;
  podSecurityContext: unknown;
  containerSecurityContext: unknown;
  /** The ENABLE_WEBHOOKS environment variable: "true" or "false". */
  webhookEnabled: string;
  webhookSecretName: unknown;
  caBundle: unknown;
  issuerKind: unknown;
  issuerName: unknown;
  metricsServiceType: unknown;
  serviceMonitorInterval: unknown;
  /** `entries` when `flag` holds, else nothing (spread into an object). */
  entriesWhen(flag: Flag, entries: Obj): Obj;
  /** `[item]` when `flag` holds, else `[]` (spread into a list). */
  itemWhen(flag: Flag, item: unknown): unknown[];
  /** `{ key: value }`, or nothing when the value is empty (Helm: a `with` block). */
  optional(key: string, value: unknown): Obj;
  /** Whether a file whose objects exist only under `flag` is rendered (Helm: always, wrapped in an `if`). */
  rendered(flag: Flag | undefined): boolean;
}

export type Component = 'cert-manager' | 'servicemonitor' | 'network-policy' | 'without-webhook';
export const COMPONENTS: readonly Component[] = ['cert-manager', 'servicemonitor', 'network-policy', 'without-webhook'];

export interface InstallOptions {
  namespace?: string;
  image?: string;
  /** Kustomize components to apply (deploy/components/<name>). */
  components?: readonly Component[];
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

/** Plain settings: the kustomize base plus the chosen components. */
export function plainSettings(opts: InstallOptions = {}): Settings {
  const on = new Set(opts.components ?? []);
  const webhook = !on.has('without-webhook');
  const flags: Record<Flag, boolean> = {
    webhook,
    caInjection: webhook,
    certManager: webhook && on.has('cert-manager'),
    selfSignedIssuer: webhook && on.has('cert-manager'),
    secretCA: false,
    serviceMonitor: on.has('servicemonitor'),
    networkPolicy: on.has('network-policy'),
  };
  return {
    namespace: opts.namespace ?? DEFAULT_NAMESPACE,
    image: opts.image ?? DEFAULT_IMAGE,
    imagePullPolicy: DEFAULTS.pullPolicy,
    replicas: DEFAULTS.replicas,
    logLevel: DEFAULTS.logLevel,
    imagePullSecrets: DEFAULTS.imagePullSecrets,
    resources: DEFAULTS.resources,
    nodeSelector: DEFAULTS.nodeSelector,
    tolerations: DEFAULTS.tolerations,
    affinity: DEFAULTS.affinity,
    podAnnotations: DEFAULTS.podAnnotations,
    podSecurityContext: DEFAULTS.podSecurityContext,
    containerSecurityContext: DEFAULTS.containerSecurityContext,
    webhookEnabled: String(webhook),
    webhookSecretName: NAMES.webhookSecret,
    caBundle: '',
    issuerKind: 'Issuer',
    issuerName: NAMES.issuer,
    metricsServiceType: DEFAULTS.metricsServiceType,
    serviceMonitorInterval: DEFAULTS.serviceMonitorInterval,
    entriesWhen: (flag, entries) => (flags[flag] ? entries : {}),
    itemWhen: (flag, item) => (flags[flag] ? [item] : []),
    optional: (key, value) => (isEmpty(value) ? {} : { [key]: structuredClone(value) }),
    rendered: (flag) => flag === undefined || flags[flag],
  };
}

export function namespaceObject(name: string): Obj {
  // The operator's pod meets the "restricted" Pod Security Standard.
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: labels({ 'pod-security.kubernetes.io/enforce': 'restricted' }) } };
}

export function deployment(s: Settings): Obj {
  const podLabels = { ...labels(), ...SELECTOR_LABELS };
  const container = {
    name: NAMES.container,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    args: [
      '--leader-elect',
      `--metrics-bind-address=:${PORTS.metrics}`,
      `--health-probe-bind-address=:${PORTS.health}`,
      `--webhook-port=${PORTS.webhook}`,
      `--webhook-cert-dir=${WEBHOOK_CERT_DIR}`,
      `--log-level=${s.logLevel}`,
    ],
    env: [
      // First: kustomize's without-webhook patch puts the item it changes first.
      { name: 'ENABLE_WEBHOOKS', value: s.webhookEnabled },
      // The leader-election Lease lives in the pod's namespace.
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ],
    ports: [
      { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
      { name: 'health', containerPort: PORTS.health, protocol: 'TCP' },
      { name: 'webhook-server', containerPort: PORTS.webhook, protocol: 'TCP' },
    ],
    livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, initialDelaySeconds: 15, periodSeconds: 20 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, initialDelaySeconds: 5, periodSeconds: 10 },
    ...s.optional('resources', s.resources),
    ...s.optional('securityContext', s.containerSecurityContext),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...s.itemWhen('webhook', { name: 'webhook-certs', mountPath: WEBHOOK_CERT_DIR, readOnly: true }),
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAMES.deployment, namespace: s.namespace, labels: { ...labels(), 'control-plane': 'controller-manager' } },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: { ...SELECTOR_LABELS } },
      template: {
        metadata: { ...s.optional('annotations', s.podAnnotations), labels: podLabels },
        spec: {
          serviceAccountName: NAMES.serviceAccount,
          terminationGracePeriodSeconds: 10,
          ...s.optional('securityContext', s.podSecurityContext),
          ...s.optional('imagePullSecrets', s.imagePullSecrets),
          containers: [container],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            ...s.itemWhen('webhook', { name: 'webhook-certs', secret: { secretName: s.webhookSecretName } }),
          ],
          ...s.optional('nodeSelector', s.nodeSelector),
          ...s.optional('tolerations', s.tolerations),
          ...s.optional('affinity', s.affinity),
        },
      },
    },
  };
}

const METRICS_LABELS = { 'app.kubernetes.io/component': 'metrics' };

export function metricsService(s: Settings): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAMES.metricsService, namespace: s.namespace, labels: labels(METRICS_LABELS) },
    spec: { type: s.metricsServiceType, selector: { ...SELECTOR_LABELS }, ports: [{ name: 'metrics', port: PORTS.metrics, targetPort: 'metrics', protocol: 'TCP' }] },
  };
}

export function webhookService(s: Settings): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAMES.webhookService, namespace: s.namespace, labels: labels({ 'app.kubernetes.io/component': 'webhook' }) },
    spec: { selector: { ...SELECTOR_LABELS }, ports: [{ name: 'https', port: 443, targetPort: 'webhook-server', protocol: 'TCP' }] },
  };
}

/** The webhook's registration, as the code builds it; the CA comes from cert-manager or the values. */
export function validatingWebhookConfiguration(s: Settings): Obj {
  const config = webhookConfiguration({ service: { namespace: s.namespace, name: NAMES.webhookService, port: 443 }, caBundle: '' });
  for (const hook of config.webhooks as { clientConfig: Obj }[]) {
    delete hook.clientConfig.caBundle;
    Object.assign(hook.clientConfig, s.entriesWhen('secretCA', { caBundle: s.caBundle }));
  }
  const meta = config.metadata as Obj;
  config.metadata = {
    name: meta.name,
    labels: { ...(meta.labels as Obj), ...labels({ 'app.kubernetes.io/component': 'webhook' }) },
    ...s.entriesWhen('caInjection', { annotations: { 'cert-manager.io/inject-ca-from': `${s.namespace}/${NAMES.certificate}` } }),
  };
  return config;
}

export function selfSignedIssuer(s: Settings): Obj {
  return { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: NAMES.issuer, namespace: s.namespace, labels: labels() }, spec: { selfSigned: {} } };
}

export function servingCertificate(s: Settings): Obj {
  const host = `${NAMES.webhookService}.${s.namespace}.svc`;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: NAMES.certificate, namespace: s.namespace, labels: labels() },
    spec: { dnsNames: [host, `${host}.cluster.local`], issuerRef: { kind: s.issuerKind, name: s.issuerName }, secretName: s.webhookSecretName },
  };
}

export function serviceMonitor(s: Settings): Obj {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: NAMES.serviceMonitor, namespace: s.namespace, labels: labels() },
    spec: {
      endpoints: [{ port: 'metrics', path: '/metrics', scheme: 'http', interval: s.serviceMonitorInterval }],
      selector: { matchLabels: { 'app.kubernetes.io/name': 'nim-operator', ...METRICS_LABELS } },
    },
  };
}

/** Lets in only the API server's webhook calls (from anywhere) and metrics scrapes from labelled namespaces. */
export function networkPolicy(s: Settings): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: NAMES.networkPolicy, namespace: s.namespace, labels: labels() },
    spec: {
      podSelector: { matchLabels: { ...SELECTOR_LABELS } },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ port: PORTS.webhook, protocol: 'TCP' }] },
        { from: [{ namespaceSelector: { matchLabels: { ...DEFAULTS.metricsNamespaceLabels } } }], ports: [{ port: PORTS.metrics, protocol: 'TCP' }] },
      ],
    },
  };
}

/** One generated file: its objects (with rule comments for RBAC) and the flag it depends on. */
export interface FileSpec {
  path: string;
  docs: RBACObject[];
  when?: Flag;
}

const doc = (object: Obj): RBACObject => ({ object });

/** The kustomize base's files (paths relative to deploy/base/). */
export function baseFiles(s: Settings): FileSpec[] {
  return [
    { path: 'namespace.yaml', docs: [doc(namespaceObject(s.namespace))] },
    { path: 'rbac/service_account.yaml', docs: [doc(serviceAccount(s.namespace))] },
    { path: 'rbac/role.yaml', docs: [clusterRole()] },
    { path: 'rbac/role_binding.yaml', docs: [doc(clusterRoleBinding(s.namespace))] },
    { path: 'rbac/leader_election_role.yaml', docs: [leaderElectionRole(s.namespace)] },
    { path: 'rbac/leader_election_role_binding.yaml', docs: [doc(leaderElectionRoleBinding(s.namespace))] },
    { path: 'manager/deployment.yaml', docs: [doc(deployment(s))] },
    { path: 'manager/metrics_service.yaml', docs: [doc(metricsService(s))] },
    { path: 'webhook/service.yaml', docs: [doc(webhookService(s))], when: 'webhook' },
    { path: 'webhook/validating_webhook_configuration.yaml', docs: [doc(validatingWebhookConfiguration(s))], when: 'webhook' },
  ];
}

/** The optional components' files (paths relative to deploy/components/<name>/). */
export function componentFiles(s: Settings): Record<Exclude<Component, 'without-webhook'>, FileSpec[]> {
  return {
    'cert-manager': [
      { path: 'issuer.yaml', docs: [doc(selfSignedIssuer(s))], when: 'selfSignedIssuer' },
      { path: 'certificate.yaml', docs: [doc(servingCertificate(s))], when: 'certManager' },
    ],
    servicemonitor: [{ path: 'servicemonitor.yaml', docs: [doc(serviceMonitor(s))], when: 'serviceMonitor' }],
    'network-policy': [{ path: 'network_policy.yaml', docs: [doc(networkPolicy(s))], when: 'networkPolicy' }],
  };
}

/** Every object of an installation (without the CRDs), as `nimop install --render` prints them. */
export function installDocs(opts: InstallOptions = {}): RBACObject[] {
  const s = plainSettings(opts);
  const files = [...baseFiles(s), ...Object.values(componentFiles(s)).flat()];
  return files.filter((f) => s.rendered(f.when)).flatMap((f) => f.docs);
}

export const installObjects = (opts: InstallOptions = {}): Obj[] => installDocs(opts).map((d) => d.object);
