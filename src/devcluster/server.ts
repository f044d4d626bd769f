/**
 * The embedded control plane's HTTP server: a Kubernetes-API-compatible JSON API on loopback that
 * kubectl and @kubernetes/client-node accept.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isTrue, managerOf, parseBody, readBody, scaleOf, type RequestContext } from './http-util.js';
import { listBody } from './list.js';
import { writeScale } from './scale.js';
import type { AddressInfo } from 'node:net';
import { installCRD, uninstallCRD } from './crds.js';
import { Deleter, type DeleteOptions, type Propagation } from './deletion.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { ApiError, STALE, conflict, internal, methodNotAllowed, notFound } from './errors.js';
import { makeMatcher } from './filters.js';
import { ApiMetrics } from './metrics.js';
import { Objects, resourceKey, type WriteOptions, type WriteResult } from './objects.js';
import { OpenAPI } from './openapi.js';
import { handlePatch, trackManagedFields } from './patching.js';
import { Registry, apiVersionOf, type ResourceType } from './registry.js';
import { route, type Route } from './routes.js';
import { Store, type Obj } from './store.js';
import { toTable } from './table.js';
import { dropWatches, serveWatch, type WatchHub } from './watch.js';
import { Webhooks, type AdmissionRequest, type Operation } from './webhooks.js';
import { AdminRouter, faultsAdmin, persistenceAdmin } from './admin.js';
import { Faults, requestFacts, type Interception } from './faults.js';
import type { FaultSpec } from './faults-config.js';
import { restoreFromDisk, type Persistence } from './persistence.js';
import { acceptTls, installAuthz, type Authz } from './authz/index.js';

export interface ControlPlaneOptions {
  port?: number;
  host?: string;
  /** Changes kept for watches to resume from (older resourceVersions get 410 Gone). */
  historySize?: number;
  bookmarkIntervalMs?: number;
  /** Faults to inject from the start (faults.ts; more can be added through `cp.faults` or /nimop/faults). */
  faults?: FaultSpec;
  /** Keep objects in this directory across restarts (snapshot plus append-only log, fsync on commit). */
  dataDir?: string;
  /** With dataDir: write a new snapshot once the log passes this size (default 64 MiB). */
  compactAfterBytes?: number;
}


export class ControlPlane {
  readonly store: Store;
  readonly registry = new Registry();
  readonly objects: Objects;
  readonly deleter: Deleter;
  readonly openapi: OpenAPI;
  readonly metrics = new ApiMetrics();
  readonly webhooks: Webhooks;
  readonly hub: WatchHub;
  readonly faults: Faults;
  readonly persistence?: Persistence;
  readonly admin = new AdminRouter();
  /** Authentication (service account tokens), impersonation, RBAC and its audit (authz/). */
  readonly authz: Authz;
  /** Requests that a fault changes beyond delaying or failing them. */
  private readonly intercepted = new WeakMap<ServerResponse, Interception>();
  private server?: Server;
  port = 0;
  /** Serves pods' `log` subresource (the simulation's kubelets); without it, the `nimop.dev/log` annotation. */
  podLogs?: (pod: Obj, query: URLSearchParams) => string;

  constructor(private readonly opts: ControlPlaneOptions = {}) {
    this.store = new Store(opts.historySize ?? 10_000);
    this.objects = new Objects(this.store, this.registry);
    this.deleter = new Deleter(this.objects);
    this.objects.onDeleted = (o) => this.deleter.collect(o.metadata.uid);
    this.openapi = new OpenAPI(this.registry);
    this.webhooks = new Webhooks(this.store);
    this.hub = { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, open: new Set() };
    trackManagedFields(this);
    this.store.subscribe((e) => this.onChange(e.resource, e.type, e.object));
    this.faults = new Faults((mode) => dropWatches(this.hub, mode), opts.faults);
    this.admin.register('faults', faultsAdmin(this.faults));
    this.admin.register('persistence', persistenceAdmin(() => this.persistence));
    if (opts.dataDir) this.persistence = restoreFromDisk(this, opts.dataDir, opts.compactAfterBytes);
    this.authz = installAuthz(this);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (this.store.get('/namespaces', undefined, ns)) continue;
      this.objects.create(this.registry.get('', 'v1', 'namespaces')!, undefined, { metadata: { name: ns } });
    }
  }

  /** Keeps the registry in step with CRDs as they are stored and deleted. */
  private onChange(resource: string, type: string, obj: Obj): void {
    if (resource !== 'apiextensions.k8s.io/customresourcedefinitions') return;
    if (type === 'DELETED') {
      for (const t of uninstallCRD(this.registry, obj.metadata.name)) {
        for (const o of this.store.list(resourceKey(t))) this.store.remove(resourceKey(t), o.metadata.namespace, o.metadata.name);
      }
    } else if (!obj.metadata.deletionTimestamp) {
      const established = installCRD(this.registry, obj);
      if (JSON.stringify(established.status) !== JSON.stringify(obj.status)) {
        queueMicrotask(() => {
          const current = this.store.get(resource, undefined, obj.metadata.name);
          if (current && current.metadata.resourceVersion === obj.metadata.resourceVersion) {
            this.store.put(resource, { ...structuredClone(current), status: established.status });
          }
        });
      }
    }
    this.openapi.invalidate();
  }

  async start(): Promise<number> {
    this.server = createServer((req, res) => void this.handle(req, res));
    acceptTls(this.server, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hub.open) res.end();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.persistence?.close();
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const injected = this.intercepted.get(res)?.override;
    if (injected) [code, body, headers] = [injected.code, injected.toStatus(), injected.headers];
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const r = route(url.pathname, this.registry);
    const ctx: RequestContext = {
      query: url.searchParams,
      userAgent: String(req.headers['user-agent'] ?? ''),
      contentType: String(req.headers['content-type'] ?? 'application/json'),
    };
    const verb = this.verbOf(req.method ?? 'GET', r, ctx);
    res.on('finish', () => this.metrics.request(verb, r, res.statusCode, ctx.userAgent, started));
    this.persistence?.guard(res);
    try {
      if (r.kind !== 'admin') this.authz.check(req, url);
      if (r.kind !== 'admin' && this.faults.active) {
        const faulted = await this.faults.before(requestFacts(r, verb, ctx.query));
        if (faulted.override || faulted.watch) this.intercepted.set(res, faulted);
      }
      await this.dispatch(req, res, r, ctx);
    } catch (e) {
      const err = e instanceof ApiError ? e : internal((e as Error).message ?? String(e));
      if (!res.headersSent) this.send(res, err.code, err.toStatus(), err.headers);
      else res.end();
    }
  }

  private verbOf(method: string, r: Route, ctx: RequestContext): string {
    const m = method.toUpperCase();
    if (r.kind !== 'resource') return m === 'GET' ? 'get' : m.toLowerCase();
    if (m === 'GET') return r.name ? 'get' : r.watchPrefix || isTrue(ctx.query.get('watch')) ? 'watch' : 'list';
    return { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: r.name ? 'delete' : 'deletecollection' }[m] ?? m.toLowerCase();
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, r: Route, ctx: RequestContext): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    switch (r.kind) {
      case 'version':
        return this.send(res, 200, versionInfo());
      case 'health':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      case 'metrics': {
        const text = await this.metrics.render(this);
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        return void res.end(text);
      }
      case 'api':
        return this.send(res, 200, apiVersions(`127.0.0.1:${this.port}`));
      case 'apis':
        return this.send(res, 200, apiGroupList(this.registry));
      case 'group': {
        const g = apiGroup(this.registry, r.group);
        return g ? this.send(res, 200, g) : this.send(res, 404, notFound('groups', '', r.group).toStatus());
      }
      case 'resources': {
        const list = apiResourceList(this.registry, r.group, r.version);
        return list ? this.send(res, 200, list) : this.send(res, 404, notFound('groupversions', '', `${r.group}/${r.version}`).toStatus());
      }
      case 'openapi-v3':
        return this.send(res, 200, this.openapi.v3Index());
      case 'openapi-v3-gv': {
        const d = this.openapi.v3Doc(r.group, r.version);
        return d ? this.send(res, 200, d.doc, { ETag: `"${d.hash}"` }) : this.send(res, 404, notFound('openapi', '', r.version).toStatus());
      }
      case 'openapi-v2': {
        const accept = String(req.headers.accept ?? '');
        if (accept && !/json|\*\/\*/.test(accept)) throw new ApiError(406, 'NotAcceptable', 'only application/json is served for /openapi/v2');
        return this.send(res, 200, this.openapi.v2());
      }
      case 'admin':
        return this.admin.handle(req, res, r.sub ?? '');
      case 'unknown':
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      case 'resource':
        return this.resource(req, res, r, ctx, method);
    }
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    r: Extract<Route, { kind: 'resource' }>,
    ctx: RequestContext,
    method: string,
  ): Promise<void> {
    const served = await this.authz.serve(req, r, method);
    if (served) return this.send(res, served.code, served.body);
    const t = r.type;
    const ns = t.namespaced ? r.namespace : undefined;
    const sub = r.subresource;
    if (sub && !(sub === 'status' && t.status) && !(sub === 'scale' && t.scale) && !t.subresources.includes(sub)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    }
    const opts: WriteOptions = {
      dryRun: ctx.query.getAll('dryRun').includes('All'),
      fieldManager: managerOf(ctx),
      fieldValidation: (ctx.query.get('fieldValidation') as WriteOptions['fieldValidation']) ?? 'Warn',
      ...(sub === 'status' ? { subresource: 'status' as const } : {}),
    };
    if (method === 'GET') {
      if (!r.name) return this.list(req, res, t, ns, ctx, r.watchPrefix);
      const o = this.objects.get(t, ns, r.name);
      if (sub === 'scale') return this.send(res, 200, scaleOf(t, o));
      if (sub === 'log') {
        const text = this.podLogs ? this.podLogs(o, ctx.query) : String(o.metadata.annotations?.['nimop.dev/log'] ?? '');
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end(text);
      }
      return this.respondObject(req, res, t, o, 200);
    }
    if (method === 'POST') {
      if (r.name) throw methodNotAllowed(`POST is not supported on a named ${t.kind}`);
      const body = parseBody(await readBody(req), ctx.contentType) as Obj;
      const name = String(body?.metadata?.name ?? body?.metadata?.generateName ?? '');
      const result = await this.admitted(t, ns, name, sub, 'CREATE', opts, undefined, (o) => this.objects.create(t, ns, body, o));
      return this.writeResult(req, res, t, result, 201);
    }
    if (method === 'PUT') {
      if (!r.name) throw methodNotAllowed('PUT needs an object name');
      const body = parseBody(await readBody(req), ctx.contentType) as Obj;
      if (sub === 'scale') return this.send(res, 200, scaleOf(t, writeScale(this.objects, t, this.objects.get(t, ns, r.name), body, opts).object));
      const old = this.objects.get(t, ns, r.name);
      const name = r.name;
      const result = await this.admitted(t, ns, name, sub, 'UPDATE', opts, old, (o) => this.objects.update(t, ns, name, body, o));
      return this.writeResult(req, res, t, result, 200);
    }
    if (method === 'PATCH') {
      if (!r.name) throw methodNotAllowed('PATCH needs an object name');
      const text = (await readBody(req)).toString('utf8');
      const name = r.name;
      const old = this.store.get(resourceKey(t), ns, name);
      const result = await this.admitted(t, ns, name, sub, old ? 'UPDATE' : 'CREATE', opts, old, (o) =>
        handlePatch(this, t, ns, name, sub, text, ctx, o),
      );
      if (sub === 'scale') return this.send(res, 200, scaleOf(t, result.object));
      return this.writeResult(req, res, t, result, result.created ? 201 : 200);
    }
    if (method === 'DELETE') {
      const text = await readBody(req);
      const body = (parseBody(text, 'application/json') ?? {}) as Obj;
      const del: DeleteOptions = {
        ...(body.preconditions ? { preconditions: body.preconditions } : {}),
        propagationPolicy: (ctx.query.get('propagationPolicy') ?? body.propagationPolicy) as Propagation | undefined,
        dryRun: opts.dryRun ?? false,
        ...(body.orphanDependents !== undefined ? { orphanDependents: body.orphanDependents } : {}),
      };
      if (!del.propagationPolicy) delete del.propagationPolicy;
      if (!r.name) return this.deleteCollection(res, t, ns, ctx, del);
      const existing = this.objects.get(t, ns, r.name);
      const probe: AdmissionRequest = { t, operation: 'DELETE', namespace: ns, name: r.name, oldObject: existing, dryRun: del.dryRun ?? false };
      const warnings = await this.webhooks.validate(probe);
      const { object, gone } = this.deleter.delete(t, ns, r.name, del);
      if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', '));
      this.deleter.reconcile();
      if (gone && !t.returnsDeletedObject) {
        // Most kinds answer an immediate deletion with a Success Status, not the object.
        return this.send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name: r.name, ...(t.group ? { group: t.group } : {}), kind: t.plural, uid: existing.metadata.uid },
        });
      }
      return this.respondObject(req, res, t, object, 200);
    }
    throw methodNotAllowed(`${method} is not supported`);
  }

  /**
   * Runs a write through the admission webhooks when any applies: the write is computed as a dry
   * run, mutating webhooks may change the result, validating webhooks see the final object, and
   * only then is it stored (with a conflict if the object moved meanwhile).
   */
  private async admitted(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    sub: string | undefined,
    operation: Operation,
    opts: WriteOptions,
    old: Obj | undefined,
    run: (o: WriteOptions) => WriteResult,
  ): Promise<WriteResult> {
    const probe: AdmissionRequest = {
      t,
      operation,
      ...(sub ? { subresource: sub } : {}),
      ...(ns ? { namespace: ns } : {}),
      name,
      ...(old ? { oldObject: old } : {}),
      dryRun: opts.dryRun ?? false,
      ...(opts.fieldManager ? { fieldManager: opts.fieldManager } : {}),
    };
    if (!this.webhooks.any(probe)) return run(opts);
    const candidate = run({ ...opts, dryRun: true });
    const mutated = await this.webhooks.mutate({ ...probe, object: candidate.object });
    const redo = (o: WriteOptions, object: Obj): WriteResult => {
      if (operation === 'CREATE') return this.objects.create(t, ns, object, { ...o, applied: true });
      const current = this.objects.get(t, ns, name);
      if (old && current.metadata.resourceVersion !== old.metadata.resourceVersion) {
        throw conflict(t.plural, t.group, name, STALE);
      }
      return this.objects.replace(t, current, object, { ...o, applied: true });
    };
    const final = mutated.object && mutated.object !== candidate.object ? redo({ ...opts, dryRun: true }, mutated.object) : candidate;
    const warnings = [...mutated.warnings, ...(await this.webhooks.validate({ ...probe, object: final.object }))];
    if (opts.dryRun) return { ...final, warnings: [...final.warnings, ...warnings] };
    const result = redo(opts, final.object);
    return { ...result, warnings: [...result.warnings, ...warnings] };
  }

  private writeResult(req: IncomingMessage, res: ServerResponse, t: ResourceType, result: WriteResult, createdCode: number): void {
    if (result.changed) this.deleter.reconcile();
    const headers: Record<string, string> = {};
    if (result.warnings.length) headers.Warning = result.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    this.respondObject(req, res, t, result.object, result.created ? createdCode : 200, headers);
  }

  private respondObject(req: IncomingMessage, res: ServerResponse, t: ResourceType, o: Obj, code: number, headers: Record<string, string> = {}): void {
    const accept = String(req.headers.accept ?? '');
    if (/as=Table/.test(accept)) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      return this.send(res, code, toTable(t, [o], { resourceVersion: o.metadata.resourceVersion }, url.searchParams.get('includeObject') ?? 'Metadata'), headers);
    }
    this.send(res, code, o, headers);
  }

  private list(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string | undefined, ctx: RequestContext, watchPrefix: boolean): void {
    const q = ctx.query;
    const matches = makeMatcher(t, ns, q.get('labelSelector'), q.get('fieldSelector'));
    const key = resourceKey(t);
    if (watchPrefix || isTrue(q.get('watch'))) {
      const timeout = Number(q.get('timeoutSeconds') ?? '0');
      return serveWatch(res, this.store, this.hub, t, key, matches, {
        ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
        timeoutSeconds: Number.isFinite(timeout) ? timeout : 0,
        allowBookmarks: isTrue(q.get('allowWatchBookmarks')),
        sendInitialEvents: isTrue(q.get('sendInitialEvents')),
        initial: () => this.store.list(key, ns),
        ...(this.intercepted.get(res)?.watch ? { faults: this.intercepted.get(res)!.watch! } : {}),
      });
    }
    this.send(res, 200, listBody(this.store, t, ns, q, matches, /as=Table/.test(String(req.headers.accept ?? ''))));
  }

  private deleteCollection(res: ServerResponse, t: ResourceType, ns: string | undefined, ctx: RequestContext, del: DeleteOptions): void {
    const matches = makeMatcher(t, ns, ctx.query.get('labelSelector'), ctx.query.get('fieldSelector'));
    const items = this.store.list(resourceKey(t), ns).filter(matches).map((o: Obj) => this.deleter.delete(t, o.metadata.namespace, o.metadata.name, del).object);
    this.deleter.reconcile();
    this.send(res, 200, { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(this.store.currentRV()) }, items });
  }
}

export { managerOf, parseBody, scaleOf, type RequestContext };
