/**
 * The control plane's /metrics (Prometheus text): requests by verb, resource, code and user agent,
 * open watches and stored objects — how an operator's writes are counted from outside.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Route } from './routes.js';

interface Observed {
  hub: { open: Set<unknown> };
  store: { resources(): string[]; list(resource: string): unknown[] };
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Requests served, by verb, resource, response code and client (the user agent\'s program name).',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code', 'client'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Time to serve a request (watches: until the stream closes).',
    labelNames: ['verb', 'resource'],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
    registers: [this.registry],
  });
  private observed?: Observed;

  constructor() {
    const self = this;
    new Gauge({
      name: 'apiserver_registered_watchers',
      help: 'Watch streams open now.',
      registers: [this.registry],
      collect() {
        this.set(self.observed?.hub.open.size ?? 0);
      },
    });
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Objects stored, by resource.',
      labelNames: ['resource'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of self.observed?.store.resources() ?? []) this.set({ resource: r }, self.observed!.store.list(r).length);
      },
    });
  }

  /** Counts one finished request. */
  request(verb: string, r: Route, code: number, userAgent: string, startedNs: bigint): void {
    const labels =
      r.kind === 'resource'
        ? { group: r.type.group, resource: r.type.plural, subresource: r.subresource ?? '' }
        : { group: '', resource: '', subresource: r.kind };
    const client = userAgent.split('/')[0] || 'unknown';
    this.requests.inc({ verb, ...labels, code: String(code), client });
    this.latency.observe({ verb, resource: labels.resource }, Number(process.hrtime.bigint() - startedNs) / 1e9);
  }

  /** Counts of requests matching a filter (for tests and the dev status table). */
  async count(filter: (labels: Record<string, string>) => boolean): Promise<number> {
    const m = await this.requests.get();
    return m.values.filter((v) => filter(v.labels as Record<string, string>)).reduce((n, v) => n + v.value, 0);
  }

  render(observed: Observed): Promise<string> | string {
    this.observed = observed;
    return this.registry.metrics();
  }
}
