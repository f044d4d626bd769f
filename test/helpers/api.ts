/**
 * A small raw HTTP client for the embedded control plane, for tests that pin down API semantics as
 * a client observes them: status codes, Status bodies, headers, and watch events.
 */
import { request, type ClientRequest } from 'node:http';
import { eventually } from './devcluster.js';

export type Json = Record<string, any>;

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

export const CT = {
  json: 'application/json',
  jsonPatch: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** Collection paths of the resources the tests use. */
const BASES: Record<string, string> = {
  configmaps: '/api/v1',
  namespaces: '/api/v1',
  deployments: '/apis/apps/v1',
  nimservices: '/apis/apps.nvidia.com/v1alpha1',
  customresourcedefinitions: '/apis/apiextensions.k8s.io/v1',
};

/** `/api/v1/namespaces/ns/configmaps/name/status?x=y`. */
export function path(plural: string, ns?: string, name?: string, sub?: string, query?: Record<string, string>): string {
  const base = BASES[plural];
  if (!base) throw new Error(`no base path for ${plural}`);
  let p = `${base}${ns ? `/namespaces/${ns}` : ''}/${plural}`;
  if (name) p += `/${name}`;
  if (sub) p += `/${sub}`;
  if (query) p += `?${new URLSearchParams(query).toString()}`;
  return p;
}

export class Api {
  constructor(readonly base: string) {}

  async req(method: string, p: string, body?: unknown, opts: { contentType?: string; accept?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['Content-Type'] = opts.contentType ?? CT.json;
    }
    const res = await fetch(this.base + p, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = text ? (JSON.parse(text) as Json) : {};
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get(p: string, accept?: string) {
    return this.req('GET', p, undefined, accept ? { accept } : {});
  }
  post(p: string, body: unknown) {
    return this.req('POST', p, body);
  }
  put(p: string, body: unknown) {
    return this.req('PUT', p, body);
  }
  patch(p: string, body: unknown, contentType: string) {
    return this.req('PATCH', p, body, { contentType });
  }
  del(p: string, body?: unknown) {
    return this.req('DELETE', p, body);
  }

  /** Creates a namespace for one test (names keep tests apart). */
  async namespace(name: string): Promise<string> {
    const r = await this.post(path('namespaces'), { metadata: { name } });
    if (r.status !== 201) throw new Error(`namespace ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return name;
  }

  /** POSTs and insists on 201; returns the stored object. */
  async create(plural: string, ns: string | undefined, obj: Json): Promise<Json> {
    const r = await this.post(path(plural, ns), obj);
    if (r.status !== 201) throw new Error(`create ${plural}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

export const configMap = (name: string, data: Record<string, string> = { a: '1' }, labels?: Record<string, string>): Json => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

export const deployment = (name: string, replicas = 1): Json => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          { name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
          { name: 'sidecar', image: 'busybox:1.36' },
        ],
      },
    },
  },
});

export const nimService = (name: string, spec: Json = {}): Json => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name },
  spec: {
    image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' },
    replicas: 1,
    expose: { service: {} },
    ...spec,
  },
});

/** A Status body as kube-apiserver writes it, for the fields a test names. */
export function statusOf(r: Reply): { code: number; reason: string; message: string; details?: Json } {
  const b = r.body;
  if (b.kind !== 'Status' || b.apiVersion !== 'v1' || b.status !== 'Failure') {
    throw new Error(`expected a failure Status, got ${r.status} ${JSON.stringify(b)}`);
  }
  return { code: b.code, reason: b.reason, message: b.message, ...(b.details ? { details: b.details } : {}) };
}

export interface WatchEvent {
  type: string;
  object: Json;
}

export interface Watch {
  status: number;
  events: WatchEvent[];
  ended(): boolean;
  /** Waits until an event satisfying `pred` has arrived; returns it. */
  until(pred: (e: WatchEvent) => boolean, what: string): Promise<WatchEvent>;
  close(): void;
}

/** Opens a watch stream (newline-delimited JSON) and collects its events as they arrive. */
export function watch(base: string, p: string): Promise<Watch> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    const events: WatchEvent[] = [];
    let ended = false;
    req = request(base + p, { headers: { Accept: 'application/json' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
        }
      });
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      res.on('error', () => (ended = true));
      resolve({
        status: res.statusCode ?? 0,
        events,
        ended: () => ended,
        until: (pred, what) => found(() => events.find(pred), what),
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => {
      ended = true;
      reject(e);
    });
    req.end();
  });
}

/** Like `eventually`, for a check that answers undefined until what it looks for is there. */
export async function found<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs?: number): Promise<T> {
  const v = await eventually(check, what, timeoutMs);
  if (v === undefined) throw new Error(`timed out waiting for ${what}`);
  return v;
}

/** True when `a` < `b` as resourceVersions (decimal strings of one cluster-wide counter). */
export const rvLess = (a: unknown, b: unknown) => Number(a) < Number(b);
