/**
 * The simulated nodes: registered from the topology at start (as their kubelets would), with their
 * status; and the pod garbage collector's rule that pods bound to a node that is gone are deleted.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { NODE, POD, nowRFC3339, type Controller, type Engine } from './engine.js';
import { nodeObject, nodeStatus, type SimNode } from './topology.js';

const MANAGER = 'kubelet';

export class Nodes implements Controller {
  readonly name = 'nodes';
  private readonly registered = new Set<string>();
  private readonly since = nowRFC3339();

  constructor(
    private readonly e: Engine,
    private readonly topology: SimNode[],
  ) {}

  /** Registers the topology's nodes that do not exist yet (synchronously, before anything runs). */
  register(): void {
    this.topology.forEach((n, i) => {
      let node = this.e.get(NODE, undefined, n.name);
      if (!node) node = this.e.create(NODE, nodeObject(n), MANAGER);
      this.registered.add(n.name);
      if (!node.status?.conditions?.length) this.e.writeStatus(NODE, node, nodeStatus(n, i, this.since), MANAGER);
    });
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === NODE && ev.type === 'DELETED') yield `gone:${String(ev.object.metadata.name)}`;
  }

  reconcile(key: string): void {
    if (!key.startsWith('gone:')) return;
    const node = key.slice(5);
    if (this.e.get(NODE, undefined, node)) return;
    for (const p of this.e.list(POD)) {
      if ((p as Obj).spec?.nodeName === node) this.e.delete(POD, p.metadata.namespace, p.metadata.name);
    }
  }
}
