/**
 * Optional APIs (Gateway API, Prometheus Operator, LeaderWorkerSet, KServe, DRA …) found through
 * discovery, re-checked periodically, so that an API installed after the operator started is
 * noticed without a restart.
 */
import type { Client, ResourceRef } from './client/client.js';
import { KubeError } from './client/rest.js';

export class OptionalApis {
  private readonly present = new Map<string, boolean>();
  private timer?: NodeJS.Timeout;
  private readonly listeners: ((ref: ResourceRef) => void)[] = [];

  constructor(
    private readonly client: Client,
    private readonly refs: ResourceRef[],
  ) {}

  private key(ref: ResourceRef): string {
    return `${ref.group}/${ref.version}/${ref.plural}`;
  }

  /** Whether the API served the resource at the last check. */
  has(ref: ResourceRef): boolean {
    return this.present.get(this.key(ref)) === true;
  }

  /** Called once for each API that appears after a check. */
  onInstalled(listener: (ref: ResourceRef) => void): void {
    this.listeners.push(listener);
  }

  /** Asks discovery about every optional resource; returns those newly found. */
  async check(): Promise<ResourceRef[]> {
    const found: ResourceRef[] = [];
    const byGv = new Map<string, ResourceRef[]>();
    for (const r of this.refs) {
      const gv = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
      byGv.set(gv, [...(byGv.get(gv) ?? []), r]);
    }
    for (const [path, refs] of byGv) {
      let served = new Set<string>();
      try {
        const list = await this.client.rest.request<{ resources?: { name: string }[] }>({ method: 'GET', path });
        served = new Set((list.resources ?? []).map((x) => x.name));
      } catch (e) {
        if (!(e instanceof KubeError && e.code === 404)) throw e;
      }
      for (const r of refs) {
        const now = served.has(r.plural);
        const before = this.present.get(this.key(r));
        this.present.set(this.key(r), now);
        if (now && before === false) found.push(r);
      }
    }
    for (const r of found) for (const l of this.listeners) l(r);
    return found;
  }

  /** Checks now and then every `intervalMs` until stopped. */
  async start(intervalMs = 30_000): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
