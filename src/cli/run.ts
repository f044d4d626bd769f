/** `nimop run`: the operator against a real cluster (in-cluster config or a kubeconfig). */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { leaderElection } from '../runtime/leader.js';
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/observability.js';
import { VERSION } from './version.js';

export interface RunOptions {
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
  log.info({ version: VERSION, host: hostname(), namespaces: opts.namespace ?? 'all', leaderElect: opts.leaderElect }, 'starting nim-operator');
  await manager.start();
  log.info({ metrics: manager.addresses.metrics, health: manager.addresses.health }, 'running');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('shutting down');
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
