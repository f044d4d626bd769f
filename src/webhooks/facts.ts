/**
 * What the webhook of `nimop run` knows about the cluster, read from the manager's shared informers
 * (no request to the API server per admission request): nodes, the namespace's NIMCaches, the
 * namespace's admission policy label, the server version read once at start, and KServe's default
 * deployment mode as last read (when given).
 */
import type { NIMCache } from '../api/v1alpha1/kinds.js';
import type { Json } from '../runtime/client/rest.js';
import type { AdmissionFacts, NodeLike } from './rules/index.js';

/**
 * The namespace label that sets the admission policy for objects in the namespace, whatever the
 * operator's `--strict`: `strict` refuses the sharp edges, `warn` only warns about them.
 */
export const ADMISSION_POLICY_LABEL = 'nimop.dev/admission-policy';
export const POLICY_VALUES = ['strict', 'warn'] as const;

/** A cache the facts are read from (an Informer fits). */
export interface Cache {
  list(namespace?: string): Json[];
  get(namespace: string | undefined, name: string): Json | undefined;
  hasSynced(): boolean;
}

/** The policy for objects of a namespace: its label's, else the operator's default (and a word when the label makes no sense). */
export function namespacePolicy(labels: Record<string, string> | undefined, defaultStrict: boolean): { strict: boolean; warning?: string } {
  const value = labels?.[ADMISSION_POLICY_LABEL];
  if (value === undefined) return { strict: defaultStrict };
  if (value === 'strict') return { strict: true };
  if (value === 'warn') return { strict: false };
  return {
    strict: defaultStrict,
    warning: `the namespace label ${ADMISSION_POLICY_LABEL}="${value}" is not one of ${POLICY_VALUES.map((v) => `"${v}"`).join(', ')}; the operator's default policy (${defaultStrict ? 'strict' : 'warn'}) applies`,
  };
}

export interface InformerFactsOptions {
  nodes: Cache;
  nimCaches: Cache;
  namespaces: Cache;
  /** The API server's gitVersion, when it could be read. */
  serverVersion?: string;
  /** The namespaces the operator watches (its NIMCache cache holds only those); all when empty. */
  watchedNamespaces?: string[];
  /** `--strict`: the policy of namespaces without the label. */
  strict: boolean;
  /**
   * KServe's default deployment mode as last read from its `inferenceservice-config` (the
   * controller's reader, `kserveConfigFor(client).peek()`); undefined while unknown.
   */
  kserveDefaultMode?: () => string | undefined;
}

/** The webhook's `facts` and `strict` callbacks, answered from caches. */
export function informerFacts(o: InformerFactsOptions) {
  const watched = (ns: string) => !o.watchedNamespaces?.length || o.watchedNamespaces.includes(ns);
  return {
    /** What the rules may know for an object of `namespace`; a cache not yet filled is left out (its rules are skipped). */
    facts(namespace?: string): AdmissionFacts {
      const facts: AdmissionFacts = {};
      if (o.nodes.hasSynced()) facts.nodes = o.nodes.list() as NodeLike[];
      if (namespace && watched(namespace) && o.nimCaches.hasSynced()) facts.nimCaches = o.nimCaches.list(namespace) as unknown as NIMCache[];
      if (o.serverVersion) facts.serverVersion = o.serverVersion;
      const kserveDefault = o.kserveDefaultMode?.();
      if (kserveDefault) facts.kserveDefaultDeploymentMode = kserveDefault;
      return facts;
    },
    strict(namespace?: string): { strict: boolean; warning?: string } {
      const ns = namespace ? o.namespaces.get(undefined, namespace) : undefined;
      return namespacePolicy(ns?.metadata?.labels as Record<string, string> | undefined, o.strict);
    },
  };
}
