/** Deployment `<name>` of a standalone, single-node NIMService (inventory §2.2.5; §6 behaviours 2–8, 11, 13, 21, 25, 35, 36, 38, 39). */
import type { V1Container, V1ContainerPort, V1Deployment, V1PodSecurityContext, V1Probe, V1Toleration } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { ContainerSpec } from '../../api/v1alpha1/common.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { podAnnotations, selectorLabels, serviceAnnotations, serviceLabels } from '../labels.js';
import { apiPort, childMeta, grpcPort, metricsPort, type NIMServiceFacts } from './common.js';
import { baseEnv, mainEnv, mergeEnv } from './env.js';
import { minReplicas } from './hpa.js';
import { containerResources, initMounts, mainMounts, podVolumes, type ModelStore } from './storage.js';

type Container = Wire<V1Container>;
type Probe = Wire<V1Probe>;

export const DEFAULT_USER_ID = 1000;
export const DEFAULT_GROUP_ID = 2000;

/** Upstream's default probes: HTTP on the `api` port. */
export function defaultProbe(which: 'liveness' | 'readiness' | 'startup'): Probe {
  const path = which === 'liveness' ? '/v1/health/live' : '/v1/health/ready';
  return {
    httpGet: { path, port: 'api' },
    initialDelaySeconds: which === 'startup' ? 30 : 15,
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: which === 'startup' ? 120 : 3,
  };
}

/** A probe: none when `enabled: false`; `probe` verbatim when given; else the default. */
export function probeFor(svc: NIMService, which: 'liveness' | 'readiness' | 'startup'): Probe | undefined {
  const spec = svc.spec[`${which}Probe`];
  if (spec?.enabled === false) return undefined;
  return spec?.probe ? structuredClone(spec.probe) : defaultProbe(which);
}

export function containerPorts(svc: NIMService): Wire<V1ContainerPort>[] {
  const ports: Wire<V1ContainerPort>[] = [{ name: 'api', containerPort: apiPort(svc), protocol: 'TCP' }];
  const grpc = grpcPort(svc);
  if (grpc !== undefined) ports.push({ name: 'grpc', containerPort: grpc, protocol: 'TCP' });
  const metrics = metricsPort(svc);
  if (metrics !== undefined) ports.push({ name: 'metrics', containerPort: metrics, protocol: 'TCP' });
  return ports;
}

/** Pod security context: runAsUser userID|1000, runAsGroup and fsGroup groupID|2000, seccomp on TKGS. */
export function podSecurityContext(svc: NIMService, facts: NIMServiceFacts): Wire<V1PodSecurityContext> {
  const group = svc.spec.groupID ?? DEFAULT_GROUP_ID;
  const ctx: Wire<V1PodSecurityContext> = { runAsUser: svc.spec.userID ?? DEFAULT_USER_ID, runAsGroup: group, fsGroup: group };
  if (facts.orchestrator === 'TKGS') ctx.seccompProfile = { type: 'RuntimeDefault' };
  return ctx;
}

/**
 * Tolerations: key, operator, value, effect and tolerationSeconds. Appendix A10 fix: upstream's
 * template drops tolerationSeconds, so a NoExecute toleration meant to expire never does.
 */
export function tolerations(svc: NIMService): Wire<V1Toleration>[] | undefined {
  const t = svc.spec.tolerations;
  if (!t?.length) return undefined;
  return t.map((x) => {
    const out: Wire<V1Toleration> = {};
    if (x.key !== undefined) out.key = x.key;
    if (x.operator !== undefined) out.operator = x.operator;
    if (x.value !== undefined) out.value = x.value;
    if (x.effect !== undefined) out.effect = x.effect;
    if (x.tolerationSeconds !== undefined) out.tolerationSeconds = x.tolerationSeconds;
    return out;
  });
}

const CA_SCRIPT = [
  'set -e',
  'for f in /custom/*.crt; do [ -e "$f" ] && cp "$f" /usr/local/share/ca-certificates/; done',
  'for f in /custom/*.pem; do [ -e "$f" ] && cp "$f" "/usr/local/share/ca-certificates/$(basename "$f" .pem)-pem.crt"; done',
  'update-ca-certificates',
  'cp -r /etc/ssl/* /ca-certs/',
].join('\n');

function image(i: { repository: string; tag: string }): string {
  return `${i.repository}:${i.tag}`;
}

/** An init container or sidecar from a NIMContainerSpec; env = the base NIM env overlaid by its own. */
function extraContainer(svc: NIMService, c: ContainerSpec, mounts: Container['volumeMounts']): Container {
  const out: Container = { name: c.name, image: image(c.image) };
  const pull = c.image.pullPolicy || svc.spec.image.pullPolicy;
  if (pull) out.imagePullPolicy = pull;
  if (c.command?.length) out.command = [...c.command];
  if (c.args?.length) out.args = [...c.args];
  if (c.workingDir) out.workingDir = c.workingDir;
  out.env = mergeEnv(baseEnv(svc), c.env);
  out.volumeMounts = structuredClone(mounts);
  return out;
}

function initContainers(svc: NIMService, store: ModelStore, native: boolean): Container[] {
  const mounts = initMounts(svc, store, native);
  const out: Container[] = [];
  if (svc.spec.proxy?.certConfigMap) {
    const ca: Container = {
      name: 'update-ca-certificates',
      image: image(svc.spec.image),
      command: ['/bin/sh', '-c', CA_SCRIPT],
      securityContext: { runAsUser: 0, runAsNonRoot: false },
      volumeMounts: structuredClone(mounts),
    };
    if (svc.spec.image.pullPolicy) ca.imagePullPolicy = svc.spec.image.pullPolicy;
    out.push(ca);
  }
  for (const c of svc.spec.initContainers ?? []) out.push(extraContainer(svc, c, mounts));
  return out;
}

/** Whether the pod uses the native model layout: the NIMCache's `status.type`, else the image fact. */
export function isNative(store: ModelStore, facts: NIMServiceFacts): boolean {
  if (store.kind === 'pvc' && store.cache) return store.cache.status?.type === 'native';
  return facts.nativeImage === true;
}

/** Deployment `<name>`; `store` is the resolved model store (see storage.ts). */
export function renderDeployment(svc: NIMService, facts: NIMServiceFacts, store: ModelStore): Wire<V1Deployment> {
  const name = svc.metadata.name ?? '';
  const native = isNative(store, facts);
  const profile = store.kind === 'pvc' ? store.profile : undefined;
  const mounts = mainMounts(svc, store, native);

  const main: Container = { name: `${name}-ctr`, image: image(svc.spec.image) };
  if (svc.spec.image.pullPolicy) main.imagePullPolicy = svc.spec.image.pullPolicy;
  if (svc.spec.command?.length) main.command = [...svc.spec.command];
  if (svc.spec.args?.length) main.args = [...svc.spec.args];
  main.ports = containerPorts(svc);
  main.env = mainEnv(svc, { cache: store.kind === 'pvc' ? store.cache : undefined, native, profile });
  const resources = containerResources(svc, store);
  if (resources) main.resources = resources;
  main.volumeMounts = mounts;
  const liveness = probeFor(svc, 'liveness');
  if (liveness) main.livenessProbe = liveness;
  const readiness = probeFor(svc, 'readiness');
  if (readiness) main.readinessProbe = readiness;
  const startup = probeFor(svc, 'startup');
  if (startup) main.startupProbe = startup;

  const sidecars = (svc.spec.sidecarContainers ?? []).map((c) => extraContainer(svc, c, mounts));
  const s = svc.spec;
  const podSpec: NonNullable<NonNullable<Wire<V1Deployment>['spec']>['template']['spec']> = { containers: [main, ...sidecars] };
  const inits = initContainers(svc, store, native);
  if (inits.length) podSpec.initContainers = inits;
  if (s.schedulerName) podSpec.schedulerName = s.schedulerName;
  if (s.priorityClassName) podSpec.priorityClassName = s.priorityClassName;
  if (s.affinity) podSpec.affinity = structuredClone(s.affinity);
  podSpec.serviceAccountName = name;
  if (s.runtimeClassName) podSpec.runtimeClassName = s.runtimeClassName;
  if (s.nodeSelector && Object.keys(s.nodeSelector).length) podSpec.nodeSelector = { ...s.nodeSelector };
  const tols = tolerations(svc);
  if (tols) podSpec.tolerations = tols;
  // Appendix A19 fix (the same bug as upstream's Job): no `imagePullSecrets` entry with an empty
  // name when no pull secret is given; empty names in the list are dropped too.
  const pullSecrets = (s.image.pullSecrets ?? []).filter((n) => n !== '');
  if (pullSecrets.length) podSpec.imagePullSecrets = pullSecrets.map((n) => ({ name: n }));
  podSpec.securityContext = podSecurityContext(svc, facts);
  podSpec.volumes = podVolumes(svc, store);

  const labels = serviceLabels(svc, facts.operatorVersion);
  const deploymentSpec: NonNullable<Wire<V1Deployment>['spec']> = {
    selector: { matchLabels: selectorLabels(svc) },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
    template: {
      // `app: <name>` wins over a user label `app`, which upstream lets break the selector.
      metadata: { labels: { ...labels, ...selectorLabels(svc) }, annotations: podAnnotations(svc) },
      spec: podSpec,
    },
  };
  // Under autoscaling the HPA chooses the replica count: we write back the live Deployment's count,
  // so re-applying after a spec edit never resets the HPA's choice, and a new Deployment starts at
  // minReplicas (§2.2.5, §6 behaviour 35). Without autoscaling, `spec.replicas` when set, which also
  // undoes manual scaling and restores the count once autoscaling is turned off (behaviours 21, 36).
  if (s.scale?.enabled) deploymentSpec.replicas = facts.liveReplicas ?? minReplicas(svc);
  else if (s.replicas !== undefined) deploymentSpec.replicas = s.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(svc, facts, { labels, annotations: serviceAnnotations(svc) }),
    spec: deploymentSpec,
  };
}
