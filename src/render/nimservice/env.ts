/** Environment of the NIM container and its init/sidecar containers (inventory §2.2.4, §6 behaviours 2–4, 25, 29, 30, 38). */
import { proxyVariables } from '../proxy.js';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache, NIMService } from '../../api/v1alpha1/kinds.js';
import { apiPort, grpcPort, metricsPort } from './common.js';

export type EnvVar = Wire<V1EnvVar>;

/**
 * Upstream's merge-env: `base` with every variable that `overlay` also names replaced in place by
 * the overlay's entry (overlay wins), then the overlay's new variables in their order.
 */
export function mergeEnv(base: readonly EnvVar[], overlay: readonly EnvVar[] | undefined): EnvVar[] {
  const out = base.map((e) => structuredClone(e));
  for (const e of overlay ?? []) {
    const i = out.findIndex((b) => b.name === e.name);
    if (i >= 0) out[i] = structuredClone(e);
    else out.push(structuredClone(e));
  }
  return out;
}

function secretEnv(name: string, secret: string, key: string, optional?: boolean): EnvVar {
  const ref: NonNullable<NonNullable<EnvVar['valueFrom']>['secretKeyRef']> = { name: secret, key };
  if (optional !== undefined) ref.optional = optional;
  return { name, valueFrom: { secretKeyRef: ref } };
}

/** `GetStandardEnv`. */
export function standardEnv(svc: NIMService): EnvVar[] {
  const port = String(apiPort(svc));
  const env: EnvVar[] = [
    { name: 'NIM_CACHE_PATH', value: '/model-store' },
    { name: 'OUTLINES_CACHE_DIR', value: '/tmp/outlines' },
    { name: 'NIM_SERVER_PORT', value: port },
    { name: 'NIM_HTTP_API_PORT', value: port },
    { name: 'NIM_JSONL_LOGGING', value: '1' },
    { name: 'NIM_LOG_LEVEL', value: 'INFO' },
  ];
  if (svc.spec.authSecret) env.push(secretEnv('NGC_API_KEY', svc.spec.authSecret, 'NGC_API_KEY'));
  const grpc = grpcPort(svc);
  if (grpc !== undefined) {
    env.push({ name: 'NIM_GRPC_API_PORT', value: String(grpc) }, { name: 'NIM_TRITON_GRPC_PORT', value: String(grpc) });
  }
  const metrics = metricsPort(svc);
  if (metrics !== undefined) env.push({ name: 'NIM_TRITON_METRICS_PORT', value: String(metrics) });
  return env;
}

/** The seven proxy variables (same as the NIMCache Job's, §2.1.2). */
export function proxyEnv(svc: NIMService): EnvVar[] {
  return proxyVariables(svc.spec.proxy);
}

/** `GetEnv`: standard env, overlaid by `spec.env` (user wins), overlaid by the proxy env (proxy wins). */
export function baseEnv(svc: NIMService): EnvVar[] {
  return mergeEnv(mergeEnv(standardEnv(svc), svc.spec.env), proxyEnv(svc));
}

/** A NIMCache that downloads a multi-model ("universal") NIM: NGC with modelEndpoint, or Hugging Face. */
export function isUniversalCache(cache: NIMCache | undefined): boolean {
  const src = cache?.spec.source;
  return !!(src?.ngc?.modelEndpoint || src?.hf);
}

/** An NGC cache of engine profiles (no modelEndpoint): the only kind whose profiles size GPUs (§2.2.9). */
export function isOptimizedCache(cache: NIMCache | undefined): boolean {
  const ngc = cache?.spec.source.ngc;
  return !!ngc && !ngc.modelEndpoint;
}

export interface ModelEnvInput {
  cache?: NIMCache | undefined;
  native: boolean;
  profile?: string | undefined;
}

/** The main container's env: `GetEnv` plus the Deployment-path adjustments 1–4 of §2.2.4, in order. */
export function mainEnv(svc: NIMService, input: ModelEnvInput): EnvVar[] {
  let env = baseEnv(svc);
  const { cache, native, profile } = input;
  const secret = svc.spec.authSecret;
  const src = cache?.spec.source;
  if (isUniversalCache(cache) && !native) {
    const hf = src?.hf;
    // Upstream writes NIM_MODEL_PATH="" for NGC modelEndpoint caches (Appendix A16); kept here, as the
    // fix needs the endpoint's model URI format, which the inventory does not give.
    const path = hf ? `hf://${hf.namespace}/${hf.modelName ?? ''}` : '';
    env = mergeEnv(
      [
        { name: 'NIM_MODEL_NAME', value: '/model-store' },
        { name: 'HF_HOME', value: '/model-store/huggingface/hub' },
        { name: 'NIM_MODEL_PATH', value: path },
      ],
      env,
    );
  }
  const dropKeys = (names: string[]) => (env = env.filter((e) => !names.includes(e.name)));
  if (native) {
    const path = cache ? `/model/${cache.metadata.name ?? ''}` : '/model';
    env = mergeEnv(env, [{ name: 'NIM_ENGINE_MODEL_PATH', value: path }]);
    dropKeys(['NGC_API_KEY']);
    if (secret) env.push(secretEnv('NGC_API_KEY', secret, 'NGC_API_KEY', true), secretEnv('HF_TOKEN', secret, 'HF_TOKEN', true));
  }
  const modelName = env.find((e) => e.name === 'NIM_MODEL_NAME')?.value ?? '';
  if (src?.hf || src?.dataStore || modelName.startsWith('hf://')) {
    dropKeys(secret ? ['NGC_API_KEY', 'HF_TOKEN'] : ['NGC_API_KEY']);
    if (secret) env.push(secretEnv('NGC_API_KEY', secret, 'NGC_API_KEY', true), secretEnv('HF_TOKEN', secret, 'HF_TOKEN'));
  }
  if (profile) env = mergeEnv([{ name: 'NIM_MODEL_PROFILE', value: profile }], env);
  return env;
}
