/**
 * The manager: one client, shared informers, the controllers, leader election, the health and
 * metrics endpoints, and graceful shutdown. Controllers run only while this replica leads; health,
 * metrics (and webhooks) run on every replica.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Applier } from './apply.js';
import { Client, type ResourceRef } from './client/client.js';
import { RestClient } from './client/rest.js';
import type { Controller } from './controller.js';
import { Informer, type InformerOptions } from './informer.js';
import { RuntimeMetrics, createLogger, type Logger } from './observability.js';
import { WorkQueue } from './workqueue.js';

export interface ManagerOptions {
  /** Path of a kubeconfig; in-cluster config (then the default kubeconfig) when unset. */
  kubeconfig?: string;
  /** Namespaces to watch; all when empty. */
  namespaces?: string[];
  userAgent: string;
  /** host:port for /metrics ("0" disables; ":8080" means all interfaces). */
  metricsBindAddress?: string;
  /** host:port for /healthz and /readyz ("0" disables). */
  healthProbeBindAddress?: string;
  /** Waits for a lease before starting controllers (see leader.ts). */
  leaderElection?: Election;
  logger?: Logger;
  /** How long shutdown waits for reconciles in flight (ms). */
  gracefulShutdownMs?: number;
  /** Parallel reconciles per controller (--max-concurrent-reconciles). */
  maxConcurrentReconciles?: number;
}

export interface Election {
  start(onLead: () => void, onLost: () => void): Promise<void>;
  /** Stops and releases the lease. */
  stop(): Promise<void>;
  /** Stops without releasing it (a crash, for tests). */
  abandon?(): Promise<void>;
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

function parseBind(addr: string): { host: string; port: number } | undefined {
  if (!addr || addr === '0') return undefined;
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i) : '0.0.0.0';
  return { host: host || '0.0.0.0', port: Number(addr.slice(i + 1)) };
}

export class Manager {
  readonly client: Client;
  readonly applier: Applier;
  readonly metrics = new RuntimeMetrics();
  readonly log: Logger;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  private servers: Server[] = [];
  private leading = false;
  private started = false;
  private stopping?: Promise<void>;
  /** Addresses the endpoints bound to (port 0 picks a free one). */
  readonly addresses: { metrics?: AddressInfo; health?: AddressInfo } = {};

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.logger ?? createLogger();
    const kc = loadKubeConfig(opts.kubeconfig);
    this.client = new Client(
      new RestClient(kc, {
        userAgent: opts.userAgent,
        onResponse: (method, _path, code) => this.metrics.restRequests.inc({ method, code: String(code) }),
      }),
    );
    this.applier = new Applier(this.client);
  }

  /** A shared informer per resource and selector, watching the configured namespaces. */
  informer(ref: ResourceRef, opts: InformerOptions = {}): Informer {
    const ns = this.opts.namespaces ?? [];
    const o: InformerOptions = { ...opts };
    if (ref.namespaced && ns.length === 1 && !o.namespace) o.namespace = ns[0]!;
    // An informer asked for one namespace (its own Secret …) watches just that one.
    else if (ref.namespaced && ns.length > 1 && !o.namespace) o.namespaces = ns;
    const key = `${ref.group}/${ref.version}/${ref.plural}?${o.labelSelector ?? ''}&${o.namespace ?? ''}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, ref, {
        ...o,
        onError: (err, phase) => this.log.warn({ resource: ref.plural, phase, err: String(err) }, 'informer error; retrying'),
      });
      this.informers.set(key, inf);
      // An informer asked for after start (an optional API that appeared) starts at once.
      if (this.started) inf.start();
    }
    return inf;
  }

  /** Sets the election (it needs this manager's client, so it comes after construction). */
  useLeaderElection(e: Election): void {
    this.opts.leaderElection = e;
  }

  /** Simulates a crash for tests: stops everything without releasing the lease. */
  async halt(): Promise<void> {
    await this.opts.leaderElection?.abandon?.();
    this.opts.leaderElection = undefined;
    await Promise.all(this.controllers.map((c) => c.stop()));
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    for (const s of this.servers) s.close();
  }

  /** A work queue whose figures feed the manager's workqueue_* metrics. */
  queue(name: string): WorkQueue {
    const m = this.metrics;
    return new WorkQueue({
      name,
      metrics: {
        depth: (n) => m.workqueueDepth.set({ name }, n),
        add: () => m.workqueueAdds.inc({ name }),
        retry: () => m.workqueueRetries.inc({ name }),
        queueLatency: (s) => m.workqueueLatency.observe({ name }, s),
        workDuration: (s) => m.workDuration.observe({ name }, s),
      },
    });
  }

  /** Adds a controller; its reconciles are counted and timed, and its errors logged. */
  add(controller: Controller): void {
    const m = this.metrics;
    controller.hooks = {
      onReconcile: (name, result, seconds) => {
        m.reconcileTotal.inc({ controller: name, result });
        m.reconcileTime.observe({ controller: name }, seconds);
        if (result === 'error') m.reconcileErrors.inc({ controller: name });
      },
      onError: (name, req, err, reconcileID) =>
        this.log.error({ controller: name, namespace: req.namespace, name: req.name, reconcileID, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed; retrying with backoff'),
    };
    if (this.opts.maxConcurrentReconciles) controller.setConcurrency(this.opts.maxConcurrentReconciles);
    this.controllers.push(controller);
  }

  /** Whether every informer has synced (readiness). */
  ready(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  isLeader(): boolean {
    return this.leading;
  }

  private async serve(addr: string | undefined, handler: (url: string) => Promise<{ code: number; body: string; type: string }>): Promise<AddressInfo | undefined> {
    const bind = parseBind(addr ?? '0');
    if (!bind) return undefined;
    const server = createServer((req, res) => {
      void handler(req.url ?? '/').then(
        (r) => {
          res.writeHead(r.code, { 'Content-Type': r.type });
          res.end(r.body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => resolve());
    });
    this.servers.push(server);
    return server.address() as AddressInfo;
  }

  /** Starts endpoints and informers, waits for the caches, then (once leading) the controllers. */
  async start(): Promise<void> {
    const health = await this.serve(this.opts.healthProbeBindAddress, async (url) => {
      if (url.startsWith('/readyz')) return this.ready() ? { code: 200, body: 'ok', type: 'text/plain' } : { code: 503, body: 'caches not synced', type: 'text/plain' };
      return { code: 200, body: 'ok', type: 'text/plain' };
    });
    const metrics = await this.serve(this.opts.metricsBindAddress, async (url) =>
      url.startsWith('/metrics')
        ? { code: 200, body: await this.metrics.registry.metrics(), type: this.metrics.registry.contentType }
        : { code: 404, body: 'not found', type: 'text/plain' },
    );
    if (health) this.addresses.health = health;
    if (metrics) this.addresses.metrics = metrics;
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    this.log.info({ informers: this.informers.size }, 'caches synced');
    const lead = () => {
      this.leading = true;
      this.metrics.leader.set({ name: 'nim-operator' }, 1);
      this.log.info('leading: starting controllers');
      for (const c of this.controllers) c.start();
    };
    if (this.opts.leaderElection) {
      await this.opts.leaderElection.start(lead, () => {
        this.leading = false;
        this.metrics.leader.set({ name: 'nim-operator' }, 0);
        this.log.error('leadership lost: exiting so that another replica takes over');
        void this.stop().then(() => process.exit(1));
      });
    } else lead();
  }

  /** Stops taking work, waits (bounded) for reconciles in flight, releases the lease, closes endpoints. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = new Promise<void>((r) => setTimeout(r, this.opts.gracefulShutdownMs ?? 30_000).unref());
      await Promise.race([Promise.all(this.controllers.map((c) => c.stop())), deadline]);
      await this.opts.leaderElection?.stop();
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
      for (const s of this.servers) s.close();
      this.client.rest.close();
      this.log.info('stopped');
    })();
    return this.stopping;
  }
}
