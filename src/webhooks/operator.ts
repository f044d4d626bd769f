/**
 * The admission webhook as `nimop run` runs it, on every replica: facts from the manager's shared
 * informers, the namespace admission-policy label, and a serving certificate either provided
 * (files from cert-manager or a Secret mount, reloaded when they change) or made and rotated by
 * the operator itself (self-certs.ts).
 */
import { kserveConfigFor } from '../controllers/nimservice/kserve-config.js';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { NIMCACHE, NODE, type Permission, READ } from '../controllers/refs.js';
import type { ResourceRef } from '../runtime/client/client.js';
import { Informer } from '../runtime/informer.js';
import type { Manager } from '../runtime/manager.js';
import type { Logger } from '../runtime/observability.js';
import type { KeyPair } from './certs.js';
import { informerFacts } from './facts.js';
import { SECRET_REF, SelfCertificates, VWC_REF } from './self-certs.js';
import { WebhookServer } from './server.js';

export const NAMESPACE_REF: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const DEFAULT_SERVICE_NAME = 'nim-operator-webhook-service';
export const CERT_MODES = ['provided', 'self'] as const;
export type CertMode = (typeof CERT_MODES)[number];

export interface OperatorWebhookOptions {
  port: number;
  host?: string;
  /** `--strict`: the policy of namespaces without the admission-policy label. */
  strict: boolean;
  /** The namespaces the operator watches; all when empty. */
  watchedNamespaces?: string[];
  log: Logger;
  certMode: CertMode;
  /** provided: the directory holding tls.crt and tls.key. */
  certDir?: string;
  /** self: where the Secret lives (the operator's namespace) and what the certificate is for. */
  self?: {
    namespace: string;
    serviceName: string;
    secretName: string;
    /** The ValidatingWebhookConfiguration whose caBundle is kept current; '' leaves it alone. */
    configurationName: string;
    servingValidityMs: number;
    caValidityMs: number;
    /** More DNS names or IPs for the serving certificate (a webhook registered by URL). */
    extraNames?: string[];
  };
}

export interface OperatorWebhook {
  port: number;
  server: WebhookServer;
  /** The namespaces cache (their admission-policy labels). */
  namespaces: Informer;
  certificates?: SelfCertificates;
  stop(): Promise<void>;
}

/** A start-up failure to report to the user (exit 1). */
export class WebhookStartError extends Error {}

/** The DNS names a client may use for the webhook Service. */
export function serviceNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** What the webhook reads and writes, for the operator's RBAC. */
export function webhookPermissions(mode: CertMode): Permission[] {
  const perms: Permission[] = [
    { ref: NODE, verbs: READ, why: 'admission webhook: GPU facts of nodes' },
    { ref: NIMCACHE, verbs: READ, why: 'admission webhook: the NIMCache a NIMService uses' },
    { ref: NAMESPACE_REF, verbs: READ, why: 'admission webhook: the namespace admission-policy label' },
  ];
  if (mode === 'self') {
    perms.push(
      { ref: SECRET_REF, verbs: ['get', 'list', 'watch', 'create', 'update'], why: 'admission webhook: its own certificates (operator namespace)' },
      { ref: VWC_REF, verbs: ['get', 'list', 'watch', 'patch'], why: 'admission webhook: keeps its caBundle current' },
    );
  }
  return perms;
}

/**
 * Starts the webhook. Call before `manager.start()`: the informers it asks for start with the
 * manager, and in self mode the certificate upkeep runs as a controller of the leader.
 */
export async function startOperatorWebhook(manager: Manager, o: OperatorWebhookOptions): Promise<OperatorWebhook> {
  const { log } = o;
  let serverVersion: string | undefined;
  try {
    serverVersion = (await manager.client.rest.request<{ gitVersion?: string }>({ method: 'GET', path: '/version', timeoutMs: 10_000 })).gitVersion;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'cannot read the server version; the webhook skips the rules that need it');
  }
  // Namespaces are watched apart from the manager's caches: without the RBAC to read them (upstream's
  // ClusterRole has none), the labels are not seen, but /readyz does not wait for them.
  const namespaces = new Informer(manager.client, NAMESPACE_REF, {
    onError: (err) => log.warn({ err: String(err) }, 'cannot watch namespaces; their admission-policy labels are not seen, retrying'),
  });
  const known = informerFacts({
    nodes: manager.informer(NODE),
    nimCaches: manager.informer(NIMCACHE),
    namespaces,
    strict: o.strict,
    ...(serverVersion ? { serverVersion } : {}),
    ...(o.watchedNamespaces ? { watchedNamespaces: o.watchedNamespaces } : {}),
    // KServe's default deployment mode, read (and refreshed) in the background; the rules that need
    // it are skipped until it is known.
    kserveDefaultMode: () => kserveConfigFor(manager.client).peek(),
  });
  // Until the server exists, the certificate to serve is kept for its start.
  const state: { server?: WebhookServer; initial?: KeyPair } = {};
  const serve = (pair: KeyPair): boolean => {
    if (!state.server) {
      state.initial = pair;
      return true;
    }
    try {
      state.server.setCertificate(pair.cert, pair.key);
      return true;
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'webhook certificate not loaded; keeping the previous one');
      return false;
    }
  };
  let certificates: SelfCertificates | undefined;
  let certWatcher: FSWatcher | undefined;
  if (o.certMode === 'self') {
    const self = o.self;
    if (!self) {
      throw new WebhookStartError('--webhook-cert-mode=self needs the operator namespace and the webhook Service name');
    }
    certificates = new SelfCertificates({
      client: manager.client,
      namespace: self.namespace,
      secretName: self.secretName,
      configurationName: self.configurationName,
      policy: {
        names: [...serviceNames(self.serviceName, self.namespace), ...(self.extraNames ?? [])],
        servingValidityMs: self.servingValidityMs,
        caValidityMs: self.caValidityMs,
      },
      log,
      serve,
    });
    try {
      await certificates.start();
    } catch (e) {
      await certificates.stop();
      throw new WebhookStartError(`cannot read or create the webhook certificate Secret ${self.namespace}/${self.secretName}: ${(e as Error).message}`);
    }
    if (!state.initial) {
      await certificates.stop();
      throw new WebhookStartError(`the Secret ${self.namespace}/${self.secretName} holds no usable serving certificate`);
    }
    manager.add(certificates.controller(manager.queue('webhook-certificates')));
  } else {
    const dir = o.certDir ?? '';
    const read = (): KeyPair => ({ cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') });
    try {
      state.initial = read();
    } catch (e) {
      throw new WebhookStartError(`--enable-webhooks needs tls.crt and tls.key in ${dir} (cert-manager or a Secret mount), or --webhook-cert-mode=self: ${(e as Error).message}`);
    }
    // Certificates are rotated by whoever mounts them: reload when the files change.
    certWatcher = watch(dir, () => {
      try {
        if (serve(read())) log.info('webhook certificate reloaded');
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'webhook certificate not reloaded; keeping the previous one');
      }
    });
  }
  const initial = state.initial!;
  const server = new WebhookServer({ port: o.port, ...(o.host ? { host: o.host } : {}), cert: initial.cert, key: initial.key, strict: known.strict, facts: known.facts });
  state.server = server;
  let port: number;
  try {
    port = await server.start();
  } catch (e) {
    certWatcher?.close();
    await certificates?.stop();
    throw new WebhookStartError(`cannot serve the admission webhook on port ${o.port}: ${(e as Error).message}`);
  }
  // Started last: nothing above needs it, and a failure above leaves no watch behind.
  namespaces.start();
  return {
    port,
    server,
    namespaces,
    ...(certificates ? { certificates } : {}),
    async stop() {
      certWatcher?.close();
      await Promise.all([certificates?.stop(), namespaces.stop()]);
      await server.stop();
    },
  };
}
