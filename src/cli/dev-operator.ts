/**
 * The operator inside `nimop dev`: the same controllers as `nimop run`, talking to the embedded
 * control plane through its kubeconfig, with the simulation's resolver to reach model endpoints.
 * It reports each NIMService that becomes Ready with a kubectl and a curl line that work when pasted.
 */
import { setupControllers } from '../controllers/index.js';
import { NIMSERVICE } from '../controllers/refs.js';
import { resolveServiceAddress, type Simulation } from '../devcluster/sim/index.js';
import { inspectorFromLabels } from '../nim/inspect.js';
import type { ControlPlane } from '../devcluster/server.js';
import type { Json } from '../runtime/client/rest.js';
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/observability.js';
import { VERSION } from './version.js';

export interface DevOperator {
  stop(): Promise<void>;
}

/** What `nimop dev` prints when a NIMService becomes Ready. */
export function readyLines(cp: ControlPlane, kubeconfig: string, svc: Json): string[] {
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const port = svc.spec?.expose?.service?.port ?? 8000;
  const lines = [`NIMService ${ns}/${name} is Ready: model "${String(svc.status?.model?.name ?? '')}".`, `  KUBECONFIG=${kubeconfig} kubectl get nimservice ${name} -n ${ns}`];
  const addr = resolveServiceAddress(cp, ns, name, port);
  if (addr) {
    const body = JSON.stringify({ model: svc.status?.model?.name ?? '', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 32 });
    lines.push(`  curl -s http://${addr.host}:${addr.port}/v1/chat/completions -H 'Content-Type: application/json' -d '${body}'`);
  }
  return lines;
}

export async function startDevOperator(cp: ControlPlane, kubeconfig: string, sim: Simulation | undefined, opts: { logLevel: string; print: (lines: string[]) => void }): Promise<DevOperator> {
  const manager = new Manager({
    kubeconfig,
    userAgent: `nim-operator/${VERSION}`,
    logger: createLogger(opts.logLevel, process.stderr),
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    gracefulShutdownMs: 5_000,
  });
  const ctx = setupControllers(manager, {
    operatorVersion: VERSION,
    resolveService: (ns, svc, port) => resolveServiceAddress(cp, ns, svc, port),
    // The image catalogue answers what a registry would: an image's config labels.
    ...(sim ? { inspector: inspectorFromLabels((image) => sim.imageLabels(image)) } : {}),
  });
  await ctx.apis.start(5_000);
  // Announce each service once per Ready transition.
  const announced = new Set<string>();
  manager.informer(NIMSERVICE).on({
    add: (o) => announce(o),
    update: (_old, o) => announce(o),
    delete: (o) => announced.delete(`${o.metadata.namespace}/${o.metadata.name}`),
  });
  const announce = (o: Json) => {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (o.status?.state !== 'Ready') return void announced.delete(key);
    if (announced.has(key)) return;
    announced.add(key);
    opts.print(readyLines(cp, kubeconfig, o));
  };
  await manager.start();
  return {
    async stop() {
      ctx.apis.stop();
      await manager.stop();
    },
  };
}
