/**
 * The NIMServices of a NIMPipeline (inventory §1.3, §2.3): one per enabled entry of
 * `spec.services`, named after the entry, in the pipeline's namespace, controlled by the pipeline,
 * with each dependency's `envName=envValue` merged into the entry's env (the dependency wins).
 * Pure: the controller applies what this returns and deletes the owned services it does not name.
 */
import { ownerReference } from '../labels.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import { API_VERSION, type NIMPipeline, type NIMService } from '../../api/v1alpha1/kinds.js';
import { deepHash } from '../hash.js';
import { LAST_APPLIED_HASH } from '../labels.js';
import { mergeEnv, type EnvVar } from '../nimservice/env.js';

type Entry = NonNullable<NIMPipeline['spec']['services']>[number];
type Dependency = NonNullable<Entry['dependencies']>[number];

/** An entry the pipeline cannot turn into a NIMService as written. */
export interface EntryProblem {
  /** The entry's position in `spec.services`. */
  index: number;
  /** The entry's name ('' when it has none). */
  name: string;
  message: string;
}

export interface PipelineRender {
  /** The NIMServices wanted, in the order of their entries. */
  services: NIMService[];
  /** Names of the enabled entries (each once, in order): the ones the status reports on. */
  enabled: string[];
  problems: EntryProblem[];
}

/** Upstream's rule: an entry runs only with `enabled: true` (unset means off). */
export const isEnabled = (e: Entry): boolean => e.enabled === true;

/** The env a dependency injects: only one with both `envName` and `envValue` set has an effect. */
export function dependencyEnv(deps: readonly Dependency[] | undefined): EnvVar[] {
  return (deps ?? []).filter((d) => d.envName && d.envValue).map((d) => ({ name: d.envName!, value: d.envValue! }));
}

/** The controller owner reference a pipeline's NIMService carries. */
export function pipelineOwnerReference(p: NIMPipeline): Wire<V1OwnerReference> {
  return ownerReference(p, 'NIMPipeline');
}

/** The NIMService for one enabled entry, with `nvidia.com/last-applied-hash` over the rest of it. */
export function renderPipelineService(p: NIMPipeline, entry: Entry): NIMService {
  const spec = structuredClone(entry.spec ?? {}) as NIMService['spec'];
  const inject = dependencyEnv(entry.dependencies);
  if (inject.length) spec.env = mergeEnv((spec.env ?? []) as EnvVar[], inject) as NIMService['spec']['env'];
  const svc: NIMService = {
    apiVersion: API_VERSION,
    kind: 'NIMService',
    metadata: {
      name: entry.name ?? '',
      namespace: p.metadata.namespace ?? '',
      ownerReferences: [pipelineOwnerReference(p)],
    },
    spec,
  };
  svc.metadata.annotations = { [LAST_APPLIED_HASH]: deepHash(svc) };
  return svc;
}

/**
 * Every NIMService the pipeline wants. An enabled entry without a name, or whose name an earlier
 * enabled entry already uses, is reported in `problems` and renders nothing.
 */
export function renderPipeline(p: NIMPipeline): PipelineRender {
  const services: NIMService[] = [];
  const enabled: string[] = [];
  const problems: EntryProblem[] = [];
  const first = new Map<string, number>();
  (p.spec?.services ?? []).forEach((entry, index) => {
    if (!isEnabled(entry)) return;
    const name = entry.name ?? '';
    if (!name) {
      problems.push({ index, name, message: `spec.services[${index}].name is empty: an enabled entry needs the name of the NIMService to create` });
      return;
    }
    const earlier = first.get(name);
    if (earlier !== undefined) {
      problems.push({ index, name, message: `spec.services[${index}].name ${name} repeats spec.services[${earlier}]; only the first is run, rename or disable the other` });
      return;
    }
    first.set(name, index);
    enabled.push(name);
    services.push(renderPipelineService(p, entry));
  });
  return { services, enabled, problems };
}

/** The NIMServices of a pipeline's enabled entries (see renderPipeline for the entries it skips). */
export function renderPipelineServices(p: NIMPipeline): NIMService[] {
  return renderPipeline(p).services;
}

/** Whether `o` (any object) is controlled by the pipeline `p` (owner reference by uid). */
export function ownedByPipeline(o: { metadata?: { ownerReferences?: Wire<V1OwnerReference>[] } } | undefined, p: NIMPipeline): boolean {
  const uid = p.metadata.uid;
  return !!uid && (o?.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid && r.kind === 'NIMPipeline');
}
