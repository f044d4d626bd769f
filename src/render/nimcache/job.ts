/**
 * The caching Job `<cache>-job` (inventory §2.1.2): one pod that downloads the model onto the PVC,
 * for every kind of source — a native NIM's own entrypoint, Hugging Face or NeMo Data Store
 * (`huggingface-cli`, or `download-to-cache --model-uri` for a model-free NIM), NGC engine profiles
 * (`download-to-cache --profiles … | --all`) and NGC universal NIMs (`create-model-store`) — with
 * the user's env and init containers, an outbound proxy and extra CA certificates.
 */
import type { V1Job, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { activeSource } from '../../nim/source.js';
import {
  CONTAINER_NAME, MODEL_STORE, NATIVE_KERNEL_CACHE, NATIVE_MODEL_BASE, SERVICE_ACCOUNT, childMeta, containerSecurityContext, jobName,
  nativeModelPath, nodeSelector, podLabels, podSecurityContext, pullSecrets, pvcName, resources, tolerations, type Container,
  type NIMCacheFacts,
} from './common.js';
import { mainEnv, mergeEnv, type EnvVar } from './env.js';
import { RenderError } from './storage.js';

type Mount = Wire<V1VolumeMount>;
type Volume = Wire<V1Volume>;

export const BACKOFF_LIMIT = 5;
export const TTL_SECONDS_AFTER_FINISHED = 600;
export const NO_PROFILES = 'no profiles are selected for caching';
export const CERT_CONFIG_DEPRECATED = "Deprecated field 'CertConfig' is used. Please migrate to 'Proxy' field on NIMCache (spec.proxy.certConfigMap).";

/** Copies the custom CAs into the system store and hands the result to the other containers. */
const CA_SCRIPT = [
  'set -e',
  'for f in /custom/*.crt; do if [ -e "$f" ]; then cp "$f" /usr/local/share/ca-certificates/; fi; done',
  'for f in /custom/*.pem; do if [ -e "$f" ]; then cp "$f" "/usr/local/share/ca-certificates/$(basename "$f" .pem)-pem.crt"; fi; done',
  'update-ca-certificates',
  'cp -r /etc/ssl/certs/ /ca-certs',
].join('\n');

interface Main {
  image: string;
  command?: string[];
  args?: string[];
  env: EnvVar[];
  /** Operator variables no user env may change. */
  pinned?: EnvVar[];
  mounts: Mount[];
}

function storeMount(c: NIMCache, mountPath: string): Mount {
  const m: Mount = { name: 'nim-cache-volume', mountPath };
  const sub = c.spec.storage?.pvc?.subPath;
  if (sub) m.subPath = sub;
  return m;
}

const SCRATCH: Mount = { name: 'scratch', mountPath: '/scratch' };

function hfMain(c: NIMCache, facts: NIMCacheFacts): Main {
  const hf = (c.spec.source.dataStore ?? c.spec.source.hf)!;
  const env: EnvVar[] = [
    { name: 'HF_ENDPOINT', value: hf.endpoint },
    { name: 'HF_HUB_OFFLINE', value: '0' },
    { name: 'NIM_CACHE_PATH', value: MODEL_STORE },
    { name: 'HF_HOME', value: `${MODEL_STORE}/huggingface/hub` },
  ];
  const mounts = [storeMount(c, MODEL_STORE), SCRATCH];
  // Appendix A16 fix: a dataset is fetched with huggingface-cli even from a model-free NIM image;
  // upstream builds an hf:// model URI from the (absent) model name and fails.
  if (facts.type === 'model-free' && hf.modelName) {
    const command = ['download-to-cache', '--model-uri', `hf://${hf.namespace}/${hf.modelName}`, '--manifest-file', `${MODEL_STORE}/model_manifest.json`];
    return { image: hf.modelPuller, command, env, mounts };
  }
  const repo = `${hf.namespace}/${hf.modelName ?? hf.datasetName ?? ''}`;
  const command = ['huggingface-cli', 'download', repo, '--local-dir', MODEL_STORE, '--repo-type', hf.modelName ? 'model' : 'dataset'];
  if (hf.revision) command.push('--revision', hf.revision);
  return { image: hf.modelPuller, command, env, mounts };
}

function ngcMain(c: NIMCache, facts: NIMCacheFacts): Main {
  const ngc = c.spec.source.ngc!;
  const mounts = [storeMount(c, MODEL_STORE), SCRATCH];
  const env: EnvVar[] = [{ name: 'NIM_CACHE_PATH', value: MODEL_STORE }];
  if (ngc.modelEndpoint) {
    return { image: ngc.modelPuller, command: ['create-model-store'], args: ['--model-repo', ngc.modelEndpoint, '--model-store', MODEL_STORE], env, mounts };
  }
  const profiles = facts.profiles ?? [];
  if (profiles.length === 0) throw new RenderError(NO_PROFILES);
  const args = profiles.includes('all') ? ['--all'] : ['--profiles', ...profiles];
  return { image: ngc.modelPuller, command: ['download-to-cache'], args, env, mounts };
}

function nativeMain(c: NIMCache): Main {
  const pinned: EnvVar[] = [
    { name: 'NIM_ENGINE_MODEL_DOWNLOAD_ONLY', value: '1' },
    { name: 'NIM_ENGINE_MODEL_PATH', value: nativeModelPath(c) },
  ];
  return {
    image: c.spec.source.ngc!.modelPuller,
    env: pinned,
    pinned,
    mounts: [storeMount(c, NATIVE_MODEL_BASE), storeMount(c, NATIVE_KERNEL_CACHE), SCRATCH],
  };
}

/** The main container's recipe, first matching case of §2.1.2's table. */
function mainFor(c: NIMCache, facts: NIMCacheFacts): Main {
  const src = c.spec.source;
  if (facts.type === 'native' && src?.ngc) return nativeMain(c);
  if (src?.dataStore || src?.hf) return hfMain(c, facts);
  if (src?.ngc) return ngcMain(c, facts);
  throw new RenderError('spec.source: exactly one of ngc, dataStore or hf must be set');
}

/**
 * The Job. Throws a RenderError for what the user must fix: the deprecated `certConfig`, no
 * profile to download, no source.
 */
export function renderJob(c: NIMCache, facts: NIMCacheFacts = {}): Wire<V1Job> {
  if (c.spec.certConfig) throw new RenderError(CERT_CONFIG_DEPRECATED);
  const m = mainFor(c, facts);
  const src = activeSource(c.spec)!;
  const proxy = c.spec.proxy;
  const ca = proxy?.certConfigMap;
  const mounts = [...m.mounts];
  const volumes: Volume[] = [
    { name: 'nim-cache-volume', persistentVolumeClaim: { claimName: pvcName(c) } },
    { name: 'scratch', emptyDir: {} },
  ];
  if (ca) {
    mounts.push({ name: 'ca-cert-volume', mountPath: '/etc/ssl' });
    volumes.push({ name: 'ca-cert-volume', emptyDir: {} }, { name: 'custom-ca', configMap: { name: ca } });
  }
  const env = mainEnv(c, m.env, m.pinned);
  const main: Container = { name: CONTAINER_NAME, image: m.image };
  if (m.command) main.command = m.command;
  if (m.args) main.args = m.args;
  main.env = env;
  main.envFrom = [{ secretRef: { name: src.authSecret } }];
  const res = resources(c);
  if (res) main.resources = res;
  main.volumeMounts = mounts;
  // The tail of the log becomes the termination message, which the NIMCache's status then quotes.
  main.terminationMessagePolicy = 'FallbackToLogsOnError';
  main.securityContext = containerSecurityContext(c);

  const inits: Container[] = [];
  if (ca) {
    inits.push({
      name: 'update-ca-certificates',
      image: src.modelPuller,
      command: ['/bin/sh', '-c', CA_SCRIPT],
      securityContext: { runAsUser: 0, runAsNonRoot: false },
      volumeMounts: [
        { name: 'ca-cert-volume', mountPath: '/ca-certs' },
        { name: 'custom-ca', mountPath: '/custom' },
      ],
    });
  }
  for (const ic of c.spec.initContainers ?? []) {
    // Each user init container sees what the download sees: its mounts (CA store included) and its
    // env, proxy included; its own variables lose to the main container's, as upstream.
    const init: Container = { name: ic.name, image: `${ic.image.repository}:${ic.image.tag}` };
    if (ic.image.pullPolicy) init.imagePullPolicy = ic.image.pullPolicy;
    if (ic.command?.length) init.command = [...ic.command];
    if (ic.args?.length) init.args = [...ic.args];
    init.env = mergeEnv(ic.env, env);
    if (ic.workingDir) init.workingDir = ic.workingDir;
    init.volumeMounts = mounts.map((x) => ({ ...x }));
    inits.push(init);
  }

  const annotations: Record<string, string> = { 'sidecar.istio.io/inject': 'false' };
  if (facts.orchestrator === 'OpenShift') annotations['openshift.io/scc'] = proxy ? 'anyuid' : 'nonroot';
  const podSpec: NonNullable<NonNullable<Wire<V1Job>['spec']>['template']['spec']> = {
    restartPolicy: 'Never',
    serviceAccountName: SERVICE_ACCOUNT,
    securityContext: podSecurityContext(c, facts, true),
    nodeSelector: nodeSelector(c),
    containers: [main],
    volumes,
  };
  if (inits.length) podSpec.initContainers = inits;
  const tol = tolerations(c);
  if (tol) podSpec.tolerations = tol;
  if (c.spec.runtimeClassName) podSpec.runtimeClassName = c.spec.runtimeClassName;
  const secrets = pullSecrets(src.pullSecret);
  if (secrets) podSpec.imagePullSecrets = secrets;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    // Labelled like its pods, so a cache filtered on managed-by sees it (upstream relies on the API
    // server copying the template's labels).
    metadata: childMeta(c, jobName(c), podLabels(c)),
    spec: {
      backoffLimit: BACKOFF_LIMIT,
      ttlSecondsAfterFinished: TTL_SECONDS_AFTER_FINISHED,
      template: { metadata: { labels: podLabels(c), annotations }, spec: podSpec },
    },
  };
}

/** The profiles a live Job downloads, read back from its arguments (`['all']` for `--all`). */
export function jobProfiles(job: Wire<V1Job> | undefined): string[] | undefined {
  const args = job?.spec?.template?.spec?.containers?.find((x) => x.name === CONTAINER_NAME)?.args;
  if (!args) return undefined;
  if (args.includes('--all')) return ['all'];
  const i = args.indexOf('--profiles');
  if (i < 0) return undefined;
  const out: string[] = [];
  for (const a of args.slice(i + 1)) {
    if (a.startsWith('--')) break;
    out.push(a);
  }
  return out;
}
