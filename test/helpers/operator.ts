/**
 * The operator's controllers, running in this process against a test control plane (with the
 * simulation, so pods run and NIMs answer): what `nimop dev` runs, without the CLI.
 */
import { setupControllers, type OperatorOptions } from '../../src/controllers/index.js';
import type { ControllerContext } from '../../src/controllers/context.js';
import { resolveServiceAddress } from '../../src/devcluster/sim/index.js';
import { Manager } from '../../src/runtime/manager.js';
import { createLogger } from '../../src/runtime/observability.js';
import type { TestCluster } from './devcluster.js';

export interface RunningOperator {
  manager: Manager;
  ctx: ControllerContext;
  stop(): Promise<void>;
}

export async function startOperator(cluster: TestCluster, opts: OperatorOptions = {}): Promise<RunningOperator> {
  const manager = new Manager({
    kubeconfig: cluster.kubeconfig,
    userAgent: 'nim-operator/test',
    logger: createLogger(process.env.NIMOP_TEST_LOG ?? 'silent'),
    gracefulShutdownMs: 5_000,
  });
  const ctx = setupControllers(manager, {
    resolveService: (ns, svc, port) => resolveServiceAddress(cluster.cp, ns, svc, port),
    pollMs: 200,
    ...opts,
  });
  await ctx.apis.start(1_000);
  await manager.start();
  return {
    manager,
    ctx,
    async stop() {
      ctx.apis.stop();
      await manager.stop();
    },
  };
}
