/**
 * The two pods of a NIMBuild (inventory §2.4 steps 4 and 5):
 * - `<build>-engine-build-pod` runs the NIM image on the cache's volume with the buildable profile
 *   and a name for the engine; the NIM builds the TensorRT-LLM engine, writes it and a local
 *   manifest into the cache, and serves it — ready means built.
 * - `<build>-local-manifest-pod` prints that local manifest, which the operator reads through the
 *   `pods/log` subresource. Unlike upstream's (which prints and sleeps forever, and is read as soon
 *   as it runs) it prints and exits, and is read once it has Succeeded, when the log is complete.
 */
import type { V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMProfile } from '../../api/v1alpha1/common.js';
import type { NIMBuild, NIMCache } from '../../api/v1alpha1/kinds.js';
import { containerSecurityContext, podSecurityContext, type Container } from '../nimcache/common.js';
import { mergeEnv, type EnvVar } from '../nimcache/env.js';
import {
  API_PORT, BUILD_CONTAINER, LOCAL_MANIFEST_PATH, MANIFEST_CONTAINER, MODEL_STORE, NIMBuildRenderError, buildPodAnnotations, buildPodLabels,
  buildResources, cacheMount, cacheVolume, engineBuildPodName, localManifestPodName, modelName, ownerReference, standardLabels,
  type NIMBuildFacts,
} from './common.js';

type Pod = Wire<V1Pod>;
type PodSpec = NonNullable<Pod['spec']>;
type Probe = Wire<V1Probe>;

const httpProbe = (path: string, o: Partial<Probe>): Probe => ({ httpGet: { path, port: 'api' }, ...o });

/** Readiness and liveness: 15 s delay, 1 s timeout, every 10 s, 1 success, 3 failures. */
const READINESS = httpProbe('/v1/health/ready', { initialDelaySeconds: 15, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
const LIVENESS = httpProbe('/v1/health/live', { initialDelaySeconds: 15, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
const STARTUP = httpProbe('/v1/health/ready', { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 30 });

/** The NGC source the build reads its credentials from; a build needs an NGC cache. */
function ngcAuthSecret(c: NIMCache): string {
  const ngc = c.spec.source?.ngc;
  if (!ngc) throw new NIMBuildRenderError(`NIMCache ${c.metadata.name} has no spec.source.ngc: engines are built from NGC caches only`);
  return ngc.authSecret;
}

/**
 * The build container's environment: the operator's variables overlaid by `spec.env` (the user
 * wins, as upstream), except the engine's name and the input profile, which the operator reads
 * back and so keeps (upstream lets `spec.env` change them and then cannot find the built profile);
 * `NIM_PEFT_SOURCE=/tmp` for a LoRA profile (operator wins).
 */
export function buildEnv(b: NIMBuild, c: NIMCache, input: NIMProfile): EnvVar[] {
  const pinned: EnvVar[] = [
    { name: 'NIM_CUSTOM_MODEL_NAME', value: modelName(b) },
    { name: 'NIM_MODEL_PROFILE', value: input.name ?? '' },
  ];
  const operator: EnvVar[] = [
    { name: 'NIM_CACHE_PATH', value: MODEL_STORE },
    { name: 'NIM_SERVER_PORT', value: String(API_PORT) },
    { name: 'NIM_HTTP_API_PORT', value: String(API_PORT) },
    ...pinned,
    { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: ngcAuthSecret(c), key: 'NGC_API_KEY' } } },
  ];
  // merge-env(operator, user), then the pinned pair over it: [pinned…, user…, the operator's others…].
  let env = mergeEnv(mergeEnv(operator, b.spec.env), pinned);
  if ((input.config?.feat_lora ?? '').toLowerCase() === 'true') env = mergeEnv(env, [{ name: 'NIM_PEFT_SOURCE', value: '/tmp' }]);
  return env;
}

/** What both pods share: restart policy, security from the cache, the cache volume, pull secrets, placement. */
function podSpec(b: NIMBuild, c: NIMCache, facts: NIMBuildFacts, container: Container): PodSpec {
  const spec: PodSpec = {
    restartPolicy: 'Never',
    securityContext: podSecurityContext(c, facts, true),
    volumes: [cacheVolume(c)],
    containers: [container],
  };
  if (c.spec.runtimeClassName) spec.runtimeClassName = c.spec.runtimeClassName;
  const secrets = (b.spec.image.pullSecrets ?? []).filter(Boolean);
  if (secrets.length) spec.imagePullSecrets = secrets.map((name) => ({ name }));
  if (b.spec.tolerations?.length) spec.tolerations = b.spec.tolerations.map((t) => ({ ...t }));
  if (b.spec.nodeSelector && Object.keys(b.spec.nodeSelector).length) spec.nodeSelector = { ...b.spec.nodeSelector };
  return spec;
}

function container(b: NIMBuild, c: NIMCache, facts: NIMBuildFacts, name: string): Container {
  const security = containerSecurityContext(c);
  if (facts.orchestrator === 'TKGS') security.seccompProfile = { type: 'RuntimeDefault' };
  const out: Container = { name, image: `${b.spec.image.repository}:${b.spec.image.tag}`, securityContext: security, volumeMounts: [cacheMount(c)] };
  if (b.spec.image.pullPolicy) out.imagePullPolicy = b.spec.image.pullPolicy;
  return out;
}

/** Pod `<build>-engine-build-pod`: the NIM image building `input` into the cache. Throws NIMBuildRenderError for what the user must fix. */
export function renderEngineBuildPod(b: NIMBuild, c: NIMCache, input: NIMProfile, facts: NIMBuildFacts = {}): Pod {
  const main = container(b, c, facts, BUILD_CONTAINER);
  main.env = buildEnv(b, c, input);
  main.ports = [{ name: 'api', containerPort: API_PORT, protocol: 'TCP' }];
  main.readinessProbe = structuredClone(READINESS);
  main.livenessProbe = structuredClone(LIVENESS);
  main.startupProbe = structuredClone(STARTUP);
  main.resources = buildResources(b, input);
  // The end of the log becomes the termination message, to quote when a build fails.
  main.terminationMessagePolicy = 'FallbackToLogsOnError';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: engineBuildPodName(b),
      namespace: b.metadata.namespace ?? 'default',
      labels: buildPodLabels(b),
      annotations: buildPodAnnotations(b, facts),
      ownerReferences: [ownerReference(b)],
    },
    spec: podSpec(b, c, facts, main),
  };
}

/** The local manifest pod's script: print the manifest the build wrote (a missing one fails the pod). */
export const LOCAL_MANIFEST_SCRIPT = `cat ${LOCAL_MANIFEST_PATH}`;

/** Pod `<build>-local-manifest-pod`: prints the cache's local manifest and exits. */
export function renderLocalManifestPod(b: NIMBuild, c: NIMCache, facts: NIMBuildFacts = {}): Pod {
  const main = container(b, c, facts, MANIFEST_CONTAINER);
  main.command = ['sh', '-c', LOCAL_MANIFEST_SCRIPT];
  main.terminationMessagePolicy = 'FallbackToLogsOnError';
  const annotations: Record<string, string> = facts.orchestrator === 'OpenShift' ? { 'openshift.io/required-scc': 'nonroot' } : { 'sidecar.istio.io/inject': 'false' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: localManifestPodName(b),
      namespace: b.metadata.namespace ?? 'default',
      labels: standardLabels(b),
      annotations,
      ownerReferences: [ownerReference(b)],
    },
    spec: podSpec(b, c, facts, main),
  };
}
