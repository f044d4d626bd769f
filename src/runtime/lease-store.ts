/**
 * The Lease object and the store the leader elector reads and writes it through, with a plain
 * fetch-based implementation (used by the elector's own tests; the manager uses ClientLeaseStore).
 */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with exactly six fractional digits. */
  acquireTime?: string;
  /** MicroTime. */
  renewTime?: string;
  leaseTransitions?: number;
  strategy?: string;
  preferredHolder?: string;
}

export interface LeaseMetadata {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: LeaseMetadata;
  spec?: LeaseSpec;
}

/**
 * Storage for Leases. `update` must send the Lease's `metadata.resourceVersion` as a
 * precondition and fail with an error that `isConflict` recognises when it is stale; `create`
 * must fail the same way when the Lease already exists. Calls should end when `signal` aborts:
 * the elector bounds every attempt with it.
 */
export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

/** An API error from `HttpLeaseStore`: the HTTP status and the Status body's reason. */
export class LeaseStoreError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'LeaseStoreError';
  }
}

/**
 * True for a 409 (Conflict on a stale resourceVersion, or AlreadyExists on create). Accepts any
 * error object carrying the status as `status`, `statusCode` or `code`, so another client's
 * errors work too.
 */
export function isConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown };
  return e.status === 409 || e.statusCode === 409 || e.code === 409;
}

export interface HttpLeaseStoreOptions {
  /** Extra request headers (for example Authorization), or a function giving fresh ones. */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** A fetch implementation (default: the global one), e.g. one bound to a TLS dispatcher. */
  fetch?: typeof fetch;
}

/** `LeaseStore` over the Kubernetes REST API with plain `fetch`. */
export class HttpLeaseStore implements LeaseStore {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly opts: HttpLeaseStoreOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const res = await this.send('GET', this.path(namespace, name), undefined, signal);
    if (res === undefined) return undefined;
    return res;
  }

  async create(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    const ns = this.namespaceOf(lease);
    const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease };
    return (await this.send('POST', this.path(ns), body, signal))!;
  }

  async update(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    const ns = this.namespaceOf(lease);
    const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease };
    return (await this.send('PUT', this.path(ns, lease.metadata.name), body, signal))!;
  }

  private namespaceOf(lease: Lease): string {
    const ns = lease.metadata.namespace;
    if (!ns) throw new Error(`Lease ${lease.metadata.name}: metadata.namespace is required`);
    return ns;
  }

  private path(namespace: string, name?: string): string {
    const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
  }

  /** Sends one request; undefined for a GET that found nothing, a LeaseStoreError for other failures. */
  private async send(method: string, path: string, body: Lease | undefined, signal?: AbortSignal): Promise<Lease | undefined> {
    const extra = typeof this.opts.headers === 'function' ? this.opts.headers() : (this.opts.headers ?? {});
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    const res = await this.doFetch(this.base + path, init);
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as Lease;
    if (res.status === 404 && method === 'GET') return undefined;
    let reason = res.statusText;
    let message = `${method} ${path}: HTTP ${res.status}`;
    try {
      const status = JSON.parse(text) as { reason?: unknown; message?: unknown };
      if (typeof status.reason === 'string') reason = status.reason;
      if (typeof status.message === 'string') message = status.message;
    } catch {
      // Not a Status body; keep the generic message.
    }
    throw new LeaseStoreError(res.status, reason, message);
  }
}
