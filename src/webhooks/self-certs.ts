/**
 * `--webhook-cert-mode=self`: the operator's own CA and serving certificate, kept in a Secret of
 * its namespace that every replica shares.
 *
 * - Every replica reads the Secret at start, creating it when absent (create-if-absent: of two
 *   replicas racing, both end up serving what was stored), and serves what it holds, reloading
 *   whenever it changes (a watch on the Secret).
 * - The leader (one replica; the only one without leader election) renews the certificates on
 *   the schedule of cert-plan.ts and keeps the `caBundle` of the ValidatingWebhookConfiguration
 *   equal to the Secret's CA bundle, writing only when something differs: nothing at rest.
 */
import type { Client, ResourceRef } from '../runtime/client/client.js';
import { isAlreadyExists, isNotFound, type Json } from '../runtime/client/rest.js';
import { Controller, type Queue, type Result } from '../runtime/controller.js';
import { Informer } from '../runtime/informer.js';
import type { Logger } from '../runtime/observability.js';
import { planCertificates, planChanges, renewCertificates, type CertMaterial, type CertPolicy } from './cert-plan.js';
import { certInfo, keyMatches, splitPems, type KeyPair } from './certs.js';

export const SECRET_REF: ResourceRef = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const VWC_REF: ResourceRef = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'validatingwebhookconfigurations',
  kind: 'ValidatingWebhookConfiguration',
  namespaced: false,
};
export const DEFAULT_SECRET_NAME = 'nim-operator-webhook-certs';
const FIELD_MANAGER = 'nim-operator';
/** Rest at most this long between two looks at the certificates (a look without news writes nothing). */
const MAX_REQUEUE_MS = 3_600_000;
/** How long the start waits to see the Secret through its watch. */
const SYNC_TIMEOUT_MS = 60_000;

export interface SelfCertOptions {
  client: Client;
  /** The operator's namespace, where the Secret lives. */
  namespace: string;
  secretName?: string;
  /** The ValidatingWebhookConfiguration whose caBundle is kept current; '' leaves it alone. */
  configurationName: string;
  policy: CertPolicy;
  log: Logger;
  /** Serve this certificate from now on; false when it could not be loaded. */
  serve(pair: KeyPair): boolean;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The certificates a Secret holds. */
export function materialOf(secret: Json): CertMaterial {
  const d = (secret.data ?? {}) as Record<string, unknown>;
  return { bundle: unb64(d['ca.crt']), caKey: unb64(d['ca.key']), cert: unb64(d['tls.crt']), key: unb64(d['tls.key']) };
}

function secretData(m: CertMaterial): Record<string, string> {
  return { 'ca.crt': b64(m.bundle), 'ca.key': b64(m.caKey), 'tls.crt': b64(m.cert), 'tls.key': b64(m.key) };
}

/** The fingerprints of the CAs a webhook configuration trusts: those every one of its webhooks trusts. */
export function trustedBy(config: Json): ((fingerprint: string) => boolean) | undefined {
  const hooks = (config.webhooks ?? []) as Json[];
  if (hooks.length === 0) return undefined;
  const sets = hooks.map((h) => new Set(splitPems(unb64(h.clientConfig?.caBundle)).map((p) => certInfo(p)?.fingerprint)));
  return (fp) => sets.every((s) => s.has(fp));
}

/** The JSON patch that sets every webhook's caBundle to `caBundle` (base64), guarded by the webhooks' names; [] when all match. */
export function caBundlePatch(config: Json, caBundle: string): Json[] {
  const ops: Json[] = [];
  ((config.webhooks ?? []) as Json[]).forEach((h, i) => {
    if (h.clientConfig?.caBundle === caBundle) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: h.name }, { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle });
  });
  return ops;
}

/** The informer's copy, unless it has not yet caught up with what we wrote (then what we wrote). */
class Latest {
  private written?: { before: string; obj: Json };
  note(before: Json, after: Json): void {
    this.written = { before: String(before.metadata?.resourceVersion), obj: after };
  }
  pick(cached: Json | undefined): Json | undefined {
    if (cached && this.written && String(cached.metadata?.resourceVersion) === this.written.before) return this.written.obj;
    return cached;
  }
}

export class SelfCertificates {
  readonly secrets: Informer;
  readonly configs?: Informer;
  private readonly secretName: string;
  private served = '';
  private readonly secret = new Latest();
  private readonly config = new Latest();
  /** Upkeep passes and the writes they made (Secret updates, caBundle patches), for tests and logs. */
  readonly stats = { passes: 0, writes: 0 };

  constructor(private readonly opts: SelfCertOptions) {
    this.secretName = opts.secretName || DEFAULT_SECRET_NAME;
    const onError = (err: unknown, phase: string) => opts.log.warn({ err: String(err), phase }, 'webhook certificate watch error; retrying');
    this.secrets = new Informer(opts.client, SECRET_REF, { namespace: opts.namespace, fieldSelector: `metadata.name=${this.secretName}`, onError });
    if (opts.configurationName) {
      this.configs = new Informer(opts.client, VWC_REF, { fieldSelector: `metadata.name=${opts.configurationName}`, onError });
    }
    const load = (o: Json) => this.load(materialOf(o));
    this.secrets.on({ add: load, update: (_old, o) => load(o) });
  }

  /** The Secret's certificates, creating the Secret when it is absent. */
  async ensure(): Promise<CertMaterial> {
    const { client, namespace } = this.opts;
    try {
      return materialOf(await client.get(SECRET_REF, namespace, this.secretName));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const now = Date.now();
    const m = await renewCertificates(undefined, planCertificates(undefined, this.opts.policy, now), this.opts.policy, now);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: this.secretName, namespace, labels: { 'app.kubernetes.io/managed-by': 'nim-operator', 'app.kubernetes.io/component': 'webhook' } },
      type: 'kubernetes.io/tls',
      data: secretData(m),
    };
    try {
      await client.create(SECRET_REF, secret, FIELD_MANAGER);
      this.opts.log.info({ secret: `${namespace}/${this.secretName}` }, 'webhook certificates created');
      return m;
    } catch (e) {
      // Another replica stored its certificates first: serve those.
      if (!isAlreadyExists(e)) throw e;
      return materialOf(await client.get(SECRET_REF, namespace, this.secretName));
    }
  }

  /** Reads (or creates) the Secret, serves it, and starts watching it; resolves once the watches have synced. */
  async start(): Promise<void> {
    this.load(await this.ensure());
    this.secrets.start();
    this.configs?.start();
    // The webhook configuration may be unreadable (RBAC) or come later: the upkeep waits for it, not the start.
    let timer: NodeJS.Timeout | undefined;
    const synced = await Promise.race([
      this.secrets.waitForSync().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!synced) throw new Error(`cannot list and watch it within ${SYNC_TIMEOUT_MS / 1000} s (the operator needs list and watch on secrets in its namespace)`);
  }

  async stop(): Promise<void> {
    await Promise.all([this.secrets.stop(), this.configs?.stop()]);
  }

  /** The renewal and caBundle upkeep as a controller (the manager runs it while this replica leads). */
  controller(queue: Queue): Controller {
    const key = { namespace: this.opts.namespace, name: this.secretName };
    const c = new Controller('webhook-certificates', { reconcile: () => this.reconcile() }, queue);
    c.for(this.secrets);
    if (this.configs) c.watches(this.configs, () => [key]);
    queue.add(`${key.namespace}/${key.name}`);
    return c;
  }

  /** Serves the certificate if it is new and usable. */
  private load(m: CertMaterial): void {
    if (m.cert === this.served) return;
    const leaf = certInfo(m.cert);
    if (!leaf || !keyMatches(leaf, m.key)) {
      this.opts.log.warn({ secret: `${this.opts.namespace}/${this.secretName}` }, 'the webhook certificate Secret holds no usable serving certificate; keeping the current one');
      return;
    }
    if (!this.opts.serve({ cert: m.cert, key: m.key })) return;
    this.served = m.cert;
    this.opts.log.info({ notAfter: new Date(leaf.notAfter).toISOString(), fingerprint: leaf.fingerprint }, 'webhook certificate loaded');
  }

  /** One pass: renew what is due, then bring the caBundle in line. */
  async reconcile(): Promise<Result> {
    const { client, namespace, policy, log } = this.opts;
    const now = Date.now();
    this.stats.passes++;
    const secret = this.secret.pick(this.secrets.get(namespace, this.secretName));
    if (!secret) {
      // Deleted (or not seen yet): make it again; its watch event brings the next pass.
      await this.ensure();
      return {};
    }
    // Which CAs the API server trusts is known only once the configuration's watch has synced.
    if (this.configs && !this.configs.hasSynced()) return { requeueAfterMs: 1_000 };
    const config = this.opts.configurationName ? this.config.pick(this.configs?.get(undefined, this.opts.configurationName)) : undefined;
    const current = materialOf(secret);
    const plan = planCertificates(current, policy, now, config ? trustedBy(config) : undefined);
    let material = current;
    if (planChanges(plan)) {
      material = await renewCertificates(current, plan, policy, now);
      const updated = await client.update(SECRET_REF, { ...secret, data: { ...(secret.data ?? {}), ...secretData(material) } }, FIELD_MANAGER);
      this.stats.writes++;
      this.secret.note(secret, updated);
      log.info({ secret: `${namespace}/${this.secretName}`, newCA: plan.newCA, newCertificate: plan.newLeaf, droppedCAs: plan.dropped.length }, 'webhook certificates renewed');
    }
    if (config) {
      const ops = caBundlePatch(config, b64(material.bundle));
      if (ops.length > 0) {
        const patched = await client.patch(VWC_REF, undefined, this.opts.configurationName, ops, 'json', { fieldManager: FIELD_MANAGER });
        this.stats.writes++;
        this.config.note(config, patched);
        log.info({ configuration: this.opts.configurationName, cas: splitPems(material.bundle).length }, 'webhook caBundle updated');
      }
    }
    // After a write, its watch event brings the next pass; otherwise look again when something falls due.
    const wait = Math.min(MAX_REQUEUE_MS, Math.max(250, plan.nextCheckAt - now));
    return planChanges(plan) ? {} : { requeueAfterMs: wait };
  }
}
