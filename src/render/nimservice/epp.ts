/**
 * The endpoint picker of a NIMService (Gateway API Inference Extension; inventory §2.2.10; §6
 * behaviour 48; Appendix A21): ServiceAccount, Role, RoleBinding, Service and Deployment `<name>-epp`,
 * ConfigMap `<name>-epp-config` for an inline configuration, and InferencePool `<name>` that groups
 * the model pods behind the picker.
 */
import type { V1ConfigMap, V1Container, V1Deployment, V1Role, V1RoleBinding, V1Service, V1ServiceAccount, V1ServicePort } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { serviceLabels } from '../labels.js';
import { apiPort, childMeta, SpecError, type NIMServiceFacts } from './common.js';
import type { HTTPRoute } from './crd-types.js';
import { serviceSelector } from './multinode.js';
import { INFERENCE_POOL_API_VERSION, INFERENCE_POOL_GROUP, type InferencePool } from './multinode-types.js';

export const EPP_EXT_PROC_PORT = 9002;
export const EPP_HEALTH_PORT = 9003;
export const EPP_METRICS_PORT = 9090;
export const EPP_CONFIG_FILE = 'default-plugins.yaml';
const RBAC = 'rbac.authorization.k8s.io/v1';

type EPPConfig = NonNullable<NonNullable<NonNullable<NIMService['spec']['expose']>['router']>['eppConfig']>;
export type EPPChild =
  | Wire<V1ServiceAccount>
  | Wire<V1Role>
  | Wire<V1RoleBinding>
  | Wire<V1ConfigMap>
  | Wire<V1Service>
  | Wire<V1Deployment>
  | InferencePool;

export const eppName = (svc: NIMService) => `${svc.metadata.name ?? ''}-epp`;
export const eppConfigMapName = (svc: NIMService) => `${svc.metadata.name ?? ''}-epp-config`;

/** An endpoint picker is wanted: `expose.router.eppConfig` is set. */
export function eppEnabled(svc: NIMService): boolean {
  return !!svc.spec.expose?.router?.eppConfig;
}

/**
 * Where the picker reads its configuration: the inline `config` (written to `<name>-epp-config`) or
 * `configMapRef`. Appendix A21 fix: upstream accepts neither and writes a Deployment with an unnamed
 * volume, which the API server refuses; we name the field instead.
 */
function configSource(cfg: EPPConfig): { configMap: string; file: string } | { inline: true } {
  if (cfg.config) return { inline: true };
  if (cfg.configMapRef) {
    const name = cfg.configMapRef.name;
    if (!name) throw new SpecError('spec.expose.router.eppConfig.configMapRef.name', 'Required value: the ConfigMap that holds the picker configuration');
    return { configMap: name, file: cfg.configMapRef.key };
  }
  throw new SpecError('spec.expose.router.eppConfig', 'Required value: one of config (inline) or configMapRef must be set');
}

function defaultArgs(svc: NIMService, file: string): string[] {
  return [
    '--pool-name', svc.metadata.name ?? '',
    '--pool-namespace', svc.metadata.namespace ?? 'default',
    '--pool-group', INFERENCE_POOL_GROUP,
    '--zap-encoder', 'json',
    '--config-file', file,
    '--v', '6',
    '--model-server-metrics-path', '/v1/metrics',
  ];
}

const grpcProbe = () => ({ grpc: { port: EPP_HEALTH_PORT }, initialDelaySeconds: 5, periodSeconds: 10 });

function eppContainer(svc: NIMService, cfg: EPPConfig, file: string): Wire<V1Container> {
  const spec = cfg.containerSpec;
  const c: Wire<V1Container> = { name: 'epp', image: `${spec.image.repository}:${spec.image.tag || 'latest'}` };
  // The picker's own pull policy when given (upstream always takes the NIMService's).
  const pull = spec.image.pullPolicy || svc.spec.image.pullPolicy;
  if (pull) c.imagePullPolicy = pull;
  if (spec.command?.length) c.command = [...spec.command];
  c.args = spec.args !== undefined ? [...spec.args] : defaultArgs(svc, file);
  if (spec.env?.length) c.env = structuredClone(spec.env);
  if (spec.workingDir) c.workingDir = spec.workingDir;
  c.ports = cfg.ports?.length
    ? structuredClone(cfg.ports)
    : [
        { name: 'grpc-ext-proc', containerPort: EPP_EXT_PROC_PORT, protocol: 'TCP' },
        { name: 'grpc-health', containerPort: EPP_HEALTH_PORT, protocol: 'TCP' },
        { name: 'http-metrics', containerPort: EPP_METRICS_PORT, protocol: 'TCP' },
      ];
  c.readinessProbe = cfg.readinessProbe ? structuredClone(cfg.readinessProbe) : grpcProbe();
  c.livenessProbe = cfg.livenessProbe ? structuredClone(cfg.livenessProbe) : grpcProbe();
  if (cfg.startupProbe) c.startupProbe = structuredClone(cfg.startupProbe);
  c.volumeMounts = [{ name: 'epp-config', mountPath: '/config', readOnly: true }];
  return c;
}

function servicePorts(cfg: EPPConfig): Wire<V1ServicePort>[] {
  if (!cfg.ports?.length) {
    return [
      { name: 'grpc-ext-proc', port: EPP_EXT_PROC_PORT, targetPort: EPP_EXT_PROC_PORT, protocol: 'TCP' },
      { name: 'http-metrics', port: EPP_METRICS_PORT, targetPort: EPP_METRICS_PORT, protocol: 'TCP' },
    ];
  }
  return cfg.ports.map((p) => {
    const out: Wire<V1ServicePort> = { port: p.containerPort, targetPort: p.containerPort };
    if (p.name) out.name = p.name;
    if (p.protocol) out.protocol = p.protocol;
    return out;
  });
}

/**
 * The picker's children, in upstream's creation order: ServiceAccount, Role, RoleBinding, ConfigMap
 * (inline config only), Service, Deployment, InferencePool. Labels are the service labels; no
 * annotations but the hashes. Throws a SpecError without a configuration source.
 */
export function renderEPP(svc: NIMService, facts: NIMServiceFacts): EPPChild[] {
  const cfg = svc.spec.expose!.router!.eppConfig!;
  const source = configSource(cfg);
  const name = eppName(svc);
  const meta = (n = name) => childMeta(svc, facts, { name: n });
  const labels = serviceLabels(svc, facts.operatorVersion);
  const file = 'inline' in source ? `/config/${EPP_CONFIG_FILE}` : `/config/${source.file}`;
  const sa = meta();
  const children: EPPChild[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: sa },
    {
      apiVersion: RBAC,
      kind: 'Role',
      metadata: meta(),
      rules: [
        { apiGroups: [INFERENCE_POOL_GROUP], resources: ['inferencepools', 'inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferencepools', 'inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] },
      ],
    },
    {
      apiVersion: RBAC,
      kind: 'RoleBinding',
      metadata: meta(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: sa.namespace! }],
    },
  ];
  if ('inline' in source) {
    const text = stringify(cfg.config, { sortMapEntries: true, lineWidth: 0 });
    children.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(eppConfigMapName(svc)), data: { [EPP_CONFIG_FILE]: text } });
  }
  children.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(), spec: { type: 'ClusterIP', selector: { app: name }, ports: servicePorts(cfg) } });
  const pullSecrets = [...new Set([...(svc.spec.image.pullSecrets ?? []), ...(cfg.containerSpec.image.pullSecrets ?? [])])].filter((n) => n !== '');
  children.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: {
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
      template: {
        metadata: { labels: { ...labels, app: name } },
        spec: {
          serviceAccountName: name,
          ...(pullSecrets.length ? { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) } : {}),
          containers: [eppContainer(svc, cfg, file)],
          volumes: [{ name: 'epp-config', configMap: { name: 'inline' in source ? eppConfigMapName(svc) : source.configMap } }],
        },
      },
    },
  });
  children.push({
    apiVersion: INFERENCE_POOL_API_VERSION,
    kind: 'InferencePool',
    metadata: childMeta(svc, facts),
    spec: {
      // The model pods as the Service selects them (the leaders of a multi-node service).
      selector: { matchLabels: serviceSelector(svc) },
      targetPorts: [{ number: apiPort(svc) }],
      endpointPickerRef: { name, port: { number: EPP_EXT_PROC_PORT } },
    },
  });
  return children;
}

/** An EPP child by identity. */
export interface EPPRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/**
 * EPP children that must not exist: all seven when `eppConfig` is unset and `facts.eppExists` says
 * some may be left from an earlier spec; the ConfigMap alone when the configuration comes from
 * `configMapRef` (an inline configuration may have written it before).
 */
export function eppAbsent(svc: NIMService, facts: NIMServiceFacts): EPPRef[] {
  const name = eppName(svc);
  const cm: EPPRef = { apiVersion: 'v1', kind: 'ConfigMap', name: eppConfigMapName(svc) };
  const cfg = svc.spec.expose?.router?.eppConfig;
  if (cfg) return cfg.config ? [] : [cm];
  if (!facts.eppExists) return [];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', name },
    { apiVersion: RBAC, kind: 'Role', name },
    { apiVersion: RBAC, kind: 'RoleBinding', name },
    cm,
    { apiVersion: 'v1', kind: 'Service', name },
    { apiVersion: 'apps/v1', kind: 'Deployment', name },
    { apiVersion: INFERENCE_POOL_API_VERSION, kind: 'InferencePool', name: svc.metadata.name ?? '' },
  ];
}

/**
 * With a picker and no `gateway.backendRef` of the user's, the HTTPRoute sends traffic to the
 * InferencePool `<name>` (upstream keeps the Service, so requests bypass the picker it deployed).
 */
export function routeThroughPool(svc: NIMService, route: HTTPRoute): HTTPRoute {
  if (!eppEnabled(svc) || svc.spec.expose?.router?.gateway?.backendRef) return route;
  for (const rule of route.spec.rules ?? []) rule.backendRefs = [{ group: INFERENCE_POOL_GROUP, kind: 'InferencePool', name: svc.metadata.name ?? '' }];
  return route;
}
