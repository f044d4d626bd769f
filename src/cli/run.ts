/** `nimop run`: the operator against a real cluster (in-cluster config or a kubeconfig). */
import { hostname } from 'node:os';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { WebhookServer } from '../webhooks/server.js';
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
  let webhook: WebhookServer | undefined;
  let certWatcher: FSWatcher | undefined;
  if (opts.enableWebhooks) {
    const certFile = join(opts.webhookCertDir, 'tls.crt');
    const keyFile = join(opts.webhookCertDir, 'tls.key');
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(certFile, 'utf8');
      key = readFileSync(keyFile, 'utf8');
    } catch (e) {
      process.stderr.write(`error: --enable-webhooks needs tls.crt and tls.key in ${opts.webhookCertDir} (cert-manager or a Secret mount): ${(e as Error).message}\n`);
      return 1;
    }
    const server = new WebhookServer({ port: Number(opts.webhookPort), cert, key, strict: () => opts.strict });
    webhook = server;
    const port = await server.start();
    log.info({ port, certDir: opts.webhookCertDir }, 'admission webhook serving');
    // Certificates are rotated by whoever mounts them: reload when the files change.
    certWatcher = watch(opts.webhookCertDir, () => {
      try {
        server.setCertificate(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
        log.info('webhook certificate reloaded');
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'webhook certificate not reloaded; keeping the previous one');
      }
    });
  }
  try {
    await controllers.apis.start();
  } catch (e) {
    process.stderr.write(`error: cannot reach the API server's discovery: ${(e as Error).message}\n`);
    await webhook?.stop();
    return 1;
  }
  await manager.start();
  log.info({ metrics: manager.addresses.metrics, health: manager.addresses.health }, 'running');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('shutting down');
  certWatcher?.close();
  controllers.apis.stop();
  await manager.stop();
  await webhook?.stop();
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
