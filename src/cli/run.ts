/** `nimop run`: the operator against a real cluster (in-cluster config or a kubeconfig). */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseGoDuration } from '../webhooks/duration.js';
import { CERT_MODES, startOperatorWebhook, WebhookStartError, type CertMode, type OperatorWebhook } from '../webhooks/operator.js';
import { WEBHOOK_CONFIGURATION_NAME } from '../webhooks/server.js';
import { leaderElection } from '../runtime/leader.js';
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/observability.js';
import { VERSION } from './version.js';
import { setupControllers } from '../controllers/index.js';
import { RegistryInspector } from '../nim/registry.js';

export interface RunOptions {
  enableWebhooks: boolean;
  webhookPort: string;
  webhookCertDir: string;
  /** provided (files in webhookCertDir) or self (made, stored in a Secret and rotated by the operator). */
  webhookCertMode?: string;
  webhookServiceName?: string;
  webhookSecretName?: string;
  webhookConfigurationName?: string;
  webhookCertValidity?: string;
  webhookCaValidity?: string;
  webhookCertHosts?: string;
  strict: boolean;
  kubeconfig?: string;
  namespace?: string[];
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  maxConcurrentReconciles: string;
  logLevel: string;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const log = createLogger(opts.logLevel);
  const concurrency = Number(opts.maxConcurrentReconciles);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write(`error: --max-concurrent-reconciles must be a positive integer, got "${opts.maxConcurrentReconciles}"\n`);
    return 2;
  }
  const settings = opts.enableWebhooks ? webhookSettings(opts) : undefined;
  if (typeof settings === 'string') {
    process.stderr.write(`error: ${settings}\n`);
    return 2;
  }
  let manager: Manager;
  try {
    manager = new Manager({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.namespace?.length ? { namespaces: opts.namespace } : {}),
      userAgent: `nim-operator/${VERSION}`,
      metricsBindAddress: opts.metricsBindAddress,
      healthProbeBindAddress: opts.healthProbeBindAddress,
      maxConcurrentReconciles: concurrency,
      logger: log,
    });
  } catch (e) {
    process.stderr.write(`error: cannot load the cluster configuration: ${(e as Error).message}\n`);
    return 1;
  }
  if (opts.leaderElect) {
    manager.useLeaderElection(leaderElection(manager.client, { namespace: opts.leaderElectionNamespace ?? podNamespace(), logger: log }));
  }
  // The controllers reach model endpoints through cluster DNS (the operator runs in the cluster).
  const controllers = setupControllers(manager, { operatorVersion: process.env.OPERATOR_VERSION ?? VERSION, inspector: new RegistryInspector() });
  log.info({ version: VERSION, host: hostname(), namespaces: opts.namespace ?? 'all', leaderElect: opts.leaderElect }, 'starting nim-operator');
  let webhook: OperatorWebhook | undefined;
  if (settings) {
    try {
      webhook = await startOperatorWebhook(manager, { port: Number(opts.webhookPort), strict: opts.strict, log, ...settings, ...(opts.namespace?.length ? { watchedNamespaces: opts.namespace } : {}) });
    } catch (e) {
      if (!(e instanceof WebhookStartError)) throw e;
      process.stderr.write(`error: ${e.message}\n`);
      manager.client.rest.close();
      return 1;
    }
    log.info({ port: webhook.port, certMode: settings.certMode, ...(settings.certMode === 'provided' ? { certDir: opts.webhookCertDir } : { secret: `${settings.self!.namespace}/${settings.self!.secretName}` }) }, 'admission webhook serving');
  }
  try {
    await controllers.apis.start();
  } catch (e) {
    process.stderr.write(`error: cannot reach the API server's discovery: ${(e as Error).message}\n`);
    await webhook?.stop();
    manager.client.rest.close();
    return 1;
  }
  await manager.start();
  log.info({ metrics: manager.addresses.metrics, health: manager.addresses.health }, 'running');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('shutting down');
  controllers.apis.stop();
  // The webhook's own watches use the manager's client: they stop before it closes.
  await webhook?.stop();
  await manager.stop();
  return 0;
}

/** The namespace the operator's pod runs in (for its Lease), else "default". */
function podNamespace(): string {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/** The webhook's certificate settings from the flags, or a usage error. */
function webhookSettings(opts: RunOptions): Pick<Parameters<typeof startOperatorWebhook>[1], 'certMode' | 'certDir' | 'self'> | string {
  const mode = (opts.webhookCertMode ?? 'provided') as CertMode;
  if (!CERT_MODES.includes(mode)) return `--webhook-cert-mode must be one of ${CERT_MODES.join(', ')}, got "${opts.webhookCertMode}"`;
  if (mode === 'provided') return { certMode: mode, certDir: opts.webhookCertDir };
  let servingValidityMs: number;
  let caValidityMs: number;
  try {
    servingValidityMs = parseGoDuration(opts.webhookCertValidity ?? '8760h');
    caValidityMs = parseGoDuration(opts.webhookCaValidity ?? '87600h');
  } catch (e) {
    return `--webhook-cert-validity / --webhook-ca-validity: ${(e as Error).message}`;
  }
  if (servingValidityMs < 3000) return '--webhook-cert-validity must be at least 3s';
  if (caValidityMs < servingValidityMs) return '--webhook-ca-validity must not be shorter than --webhook-cert-validity';
  return {
    certMode: mode,
    self: {
      namespace: process.env.POD_NAMESPACE || podNamespace(),
      serviceName: opts.webhookServiceName || 'nim-operator-webhook-service',
      secretName: opts.webhookSecretName || 'nim-operator-webhook-certs',
      configurationName: opts.webhookConfigurationName ?? WEBHOOK_CONFIGURATION_NAME,
      servingValidityMs,
      caValidityMs,
      extraNames: (opts.webhookCertHosts ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    },
  };
}
