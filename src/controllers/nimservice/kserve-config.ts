/**
 * KServe's default deployment mode, the third step of the mode detection (inventory §2.2.14): the
 * `deploy` key of ConfigMap `inferenceservice-config` in KServe's namespace. That namespace is
 * `$KSERVE_NAMESPACE`, else the namespace of KServe's controller Deployment (label
 * `control-plane=kserve-controller-manager`), else `kserve` (KServe's install namespace) when no
 * such Deployment is found. Read with a GET (and a labelled LIST of Deployments), not an informer,
 * only when a service needs it, and kept for a short time; one reader per API client, shared by the
 * NIMService controller and the admission webhook.
 */
import type { Client } from '../../runtime/client/client.js';
import { isNotFound, type Json } from '../../runtime/client/rest.js';
import { defaultModeFromConfig, KSERVE_CONFIGMAP, type KServeDefaultMode } from '../../render/nimservice/kserve-mode.js';
import { CONFIGMAP, DEPLOYMENT } from '../refs.js';

export const KSERVE_NAMESPACE_ENV = 'KSERVE_NAMESPACE';
/** The label of KServe's controller Deployment. */
export const KSERVE_CONTROLLER_SELECTOR = 'control-plane=kserve-controller-manager';
/** Where KServe's install puts itself, looked at when no controller Deployment is found. */
export const KSERVE_DEFAULT_NAMESPACE = 'kserve';
/** How long a value read is trusted. */
export const KSERVE_CONFIG_TTL_MS = 30_000;

export interface KServeConfigOptions {
  /** KServe's namespace when known (`$KSERVE_NAMESPACE`); otherwise it is looked for. */
  namespace?: string;
  ttlMs?: number;
  now?: () => number;
}

export class KServeConfig {
  private cached?: { value: KServeDefaultMode; at: number };
  private pending?: Promise<KServeDefaultMode>;

  constructor(
    private readonly client: Client,
    private readonly opts: KServeConfigOptions = {},
  ) {}

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private fresh(): boolean {
    return !!this.cached && this.now - this.cached.at < (this.opts.ttlMs ?? KSERVE_CONFIG_TTL_MS);
  }

  /**
   * KServe's default mode: `{mode}` from its ConfigMap, `{}` when there is no ConfigMap or no
   * `deploy` key (the built-in default applies), `{error}` when the ConfigMap is broken or KServe's
   * namespace is unclear. Rejects when the API cannot be read (nothing is kept, the next call asks again).
   */
  defaultMode(): Promise<KServeDefaultMode> {
    if (this.fresh()) return Promise.resolve(this.cached!.value);
    this.pending ??= this.read().then(
      (value) => {
        this.cached = { value, at: this.now };
        this.pending = undefined;
        return value;
      },
      (e: unknown) => {
        this.pending = undefined;
        throw e;
      },
    );
    return this.pending;
  }

  /** The last mode read, without waiting (an admission request must not); a stale value is read again in the background. */
  peek(): string | undefined {
    if (!this.fresh()) this.defaultMode().catch(() => undefined);
    return this.cached?.value.mode;
  }

  private async namespace(): Promise<{ namespace?: string; error?: string }> {
    if (this.opts.namespace) return { namespace: this.opts.namespace };
    const { items } = await this.client.list<Json>(DEPLOYMENT, { labelSelector: KSERVE_CONTROLLER_SELECTOR });
    const namespaces = [...new Set(items.map((d) => d.metadata?.namespace as string))].sort();
    if (namespaces.length === 0) return { namespace: KSERVE_DEFAULT_NAMESPACE };
    if (namespaces.length === 1) return { namespace: namespaces[0]! };
    return {
      error:
        `KServe controller Deployments (${KSERVE_CONTROLLER_SELECTOR}) run in several namespaces (${namespaces.join(', ')}), ` +
        `so the ${KSERVE_CONFIGMAP} ConfigMap to read is unclear; set ${KSERVE_NAMESPACE_ENV} on the operator to KServe's namespace`,
    };
  }

  private async read(): Promise<KServeDefaultMode> {
    const { namespace, error } = await this.namespace();
    if (error !== undefined) return { error };
    const source = `${namespace}/${KSERVE_CONFIGMAP}`;
    let cm: Json;
    try {
      cm = await this.client.get<Json>(CONFIGMAP, namespace, KSERVE_CONFIGMAP);
    } catch (e) {
      if (isNotFound(e)) return { source };
      throw e;
    }
    return { ...defaultModeFromConfig(cm.data as Record<string, string> | undefined), source };
  }
}

const readers = new WeakMap<Client, KServeConfig>();

/** The reader of this API client (made once, with `$KSERVE_NAMESPACE`), so the controller and the webhook share what was read. */
export function kserveConfigFor(client: Client): KServeConfig {
  let r = readers.get(client);
  if (!r) {
    const namespace = process.env[KSERVE_NAMESPACE_ENV]?.trim();
    readers.set(client, (r = new KServeConfig(client, namespace ? { namespace } : {})));
  }
  return r;
}
