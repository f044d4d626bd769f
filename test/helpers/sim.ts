/** An embedded control plane with the simulated cluster running (no delays), for sim-* tests. */
import { startSimulation, type Simulation, type SimulationInput } from '../../src/devcluster/sim/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { eventually as poll, startCluster, type TestCluster } from './devcluster.js';

export interface SimCluster extends TestCluster {
  sim: Simulation;
  /** `kubectl … -o json` parsed; throws with kubectl's stderr on failure. */
  json(args: string[]): Promise<Obj>;
  /** Runs kubectl and throws unless it exits 0. */
  ok(args: string[], input?: string): Promise<string>;
  /** A stored object (no HTTP), or undefined. */
  get(resource: string, namespace: string | undefined, name: string): Obj | undefined;
  list(resource: string, namespace?: string): Obj[];
}

export async function startSimCluster(input: SimulationInput = {}): Promise<SimCluster> {
  const c = await startCluster();
  const sim = startSimulation(c.cp, input);
  const ok = async (args: string[], stdin?: string) => {
    const r = await c.kubectl(args, stdin);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${String(r.status)}): ${r.stderr}`);
    return r.stdout;
  };
  return {
    ...c,
    sim,
    ok,
    async json(args) {
      return JSON.parse(await ok([...args, '-o', 'json'])) as Obj;
    },
    get: (resource, namespace, name) => c.cp.store.get(resource, namespace, name),
    list: (resource, namespace) => c.cp.store.list(resource, namespace),
    async stop() {
      await sim.stop();
      await c.stop();
    },
  };
}

/** The condition of an object's status, if present. */
export function condition(o: Obj | undefined, type: string): Obj | undefined {
  return ((o?.status?.conditions ?? []) as Obj[]).find((x) => x.type === type);
}

/** Polls until `check` returns a truthy value (returned, without its falsy cases) or the deadline passes. */
export async function eventually<T>(check: () => T | undefined | null | false | '' | 0 | Promise<T | undefined | null | false | '' | 0>, what: string, timeoutMs = 10_000): Promise<T> {
  return (await poll(check, what, timeoutMs)) as T;
}
