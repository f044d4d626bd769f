/**
 * A small REST client for the Kubernetes API on node:http(s). Credentials and TLS material come
 * from @kubernetes/client-node's KubeConfig (in-cluster config, kubeconfig files, exec plugins);
 * the transport is ours: one keep-alive agent, raw JSON in and out (no field dropping, no Date
 * conversion), a User-Agent naming the operator, and typed errors from the API's Status bodies.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export type Json = Record<string, any>;

/** An error answered by the API server, with its Status. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Json,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.code === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof KubeError && e.code === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof KubeError && e.code === 410;
export const isInvalid = (e: unknown): boolean => e instanceof KubeError && e.code === 422;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Abort the request after this long without a response (ms). */
  timeoutMs?: number;
  /** Abort the request when this signal fires. */
  signal?: AbortSignal;
}

export interface RestClientOptions {
  userAgent: string;
  /** Called after every request (method, path, status code): metrics. */
  onResponse?: (method: string, path: string, code: number) => void;
}

function queryString(q: RequestSpec['query']): string {
  if (!q) return '';
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export class RestClient {
  readonly server: URL;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: RestClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.agent = this.server.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  }

  /** Request options with fresh credentials (tokens can rotate; the kubeconfig is asked each time). */
  private async requestOptions(spec: RequestSpec): Promise<RequestOptions> {
    const base = this.server.pathname.replace(/\/$/, '');
    const opts: RequestOptions = {
      method: spec.method,
      hostname: this.server.hostname,
      port: this.server.port || (this.server.protocol === 'https:' ? 443 : 80),
      path: `${base}${spec.path}${queryString(spec.query)}`,
      headers: { Accept: 'application/json', 'User-Agent': this.opts.userAgent },
    };
    await this.kc.applyToHTTPSOptions(opts);
    delete (opts as { agent?: unknown }).agent;
    opts.agent = this.agent;
    return opts;
  }

  /** Opens a request and resolves with the response stream (for watches). */
  async stream(spec: RequestSpec): Promise<{ res: IncomingMessage; abort: () => void }> {
    const opts = await this.requestOptions(spec);
    const send = this.server.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(opts, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          readAll(res).then((text) => reject(toError(res, text)), reject);
          return;
        }
        resolve({ res, abort: () => req.destroy() });
      });
      if (spec.timeoutMs) req.setTimeout(spec.timeoutMs, () => req.destroy(new Error(`no response in ${spec.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeError on an error status. */
  async request<T = Json>(spec: RequestSpec): Promise<T> {
    const opts = await this.requestOptions(spec);
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (body !== undefined) {
      opts.headers = { ...opts.headers, 'Content-Type': spec.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(body) };
    }
    const send = this.server.protocol === 'https:' ? httpsRequest : httpRequest;
    const { res, text } = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
      const req = send(opts, (r) => readAll(r).then((t) => resolve({ res: r, text: t }), reject));
      req.setTimeout(spec.timeoutMs ?? 60_000, () => req.destroy(new Error(`no response in ${spec.timeoutMs ?? 60_000} ms`)));
      if (spec.signal) {
        if (spec.signal.aborted) req.destroy(new Error('aborted'));
        else spec.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      }
      req.on('error', reject);
      req.end(body);
    });
    this.opts.onResponse?.(spec.method, spec.path, res.statusCode ?? 0);
    if ((res.statusCode ?? 0) >= 300) throw toError(res, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function toError(res: IncomingMessage, text: string): KubeError {
  let status: Json | undefined;
  try {
    status = JSON.parse(text) as Json;
  } catch {
    status = undefined;
  }
  const retry = Number(res.headers['retry-after']);
  return new KubeError(
    res.statusCode ?? 0,
    String(status?.reason ?? res.statusMessage ?? 'Unknown'),
    String(status?.message ?? (text.slice(0, 200) || res.statusMessage)),
    status,
    Number.isFinite(retry) ? retry : status?.details?.retryAfterSeconds,
  );
}
