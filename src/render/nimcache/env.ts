/** Environment of the cache containers (inventory §2.1.2 "Then, in order"). */
import { proxyVariables } from '../proxy.js';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';

export type EnvVar = Wire<V1EnvVar>;

/**
 * Upstream's merge-env(a, b): all of `b` in its order, then the entries of `a` whose name `b` does
 * not have. `b` wins on conflict.
 */
export function mergeEnv(a: readonly EnvVar[] | undefined, b: readonly EnvVar[] | undefined): EnvVar[] {
  const names = new Set((b ?? []).map((e) => e.name));
  return [...(b ?? []), ...(a ?? []).filter((e) => !names.has(e.name))].map((e) => structuredClone(e));
}

/** The seven proxy variables, set when `spec.proxy` is (empty values for the unset ones). */
export function proxyEnv(c: NIMCache): EnvVar[] {
  return proxyVariables(c.spec.proxy);
}

/** The main container's env: the operator's, overlaid by `spec.env` (user wins), then by the proxy variables (proxy wins). */
export function mainEnv(c: NIMCache, operatorEnv: EnvVar[], pinned: EnvVar[] = []): EnvVar[] {
  let env = mergeEnv(operatorEnv, c.spec.env);
  // A native download's two variables are the operator's to set, whatever spec.env says.
  if (pinned.length) env = mergeEnv(env, pinned);
  return mergeEnv(env, proxyEnv(c));
}
