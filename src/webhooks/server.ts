/**
 * The validating admission webhook for NIMCache and NIMService (AdmissionReview v1, over HTTPS):
 * runs the shared admission rules on CREATE and UPDATE, refuses with the field errors as
 * kube-apiserver prints them and passes the warnings through. Also builds the
 * ValidatingWebhookConfiguration that registers it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { causeReason, errorBody, formatFieldError, type FieldError } from '../api/validation/index.js';
import { admissionCheck, type AdmissionFacts } from './rules/index.js';

export { selfSignedCertificate, type ServingCertificate } from './certs.js';
export { ADMISSION_POLICY_LABEL } from './facts.js';

export const NIMSERVICE_PATH = '/validate-apps-nvidia-com-v1alpha1-nimservice';
export const NIMCACHE_PATH = '/validate-apps-nvidia-com-v1alpha1-nimcache';
const PATHS = new Set([NIMSERVICE_PATH, NIMCACHE_PATH]);
/** kube-apiserver refuses request bodies over 3 MiB; an AdmissionReview carries up to two objects. */
const MAX_BODY = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  /** Port to listen on (controller-runtime's default 9443); 0 picks a free one. */
  port?: number;
  /** Address to listen on; all interfaces by default. */
  host?: string;
  /** The serving certificate and its private key, PEM. */
  cert: string;
  key: string;
  /**
   * Whether sharp edges are refused rather than warned about, for objects in this namespace (with,
   * optionally, a warning to pass on about how that was decided).
   */
  strict?: (namespace?: string) => boolean | { strict: boolean; warning?: string };
  /** What the rules may know about the cluster (nodes, NIMCaches, server version) for this namespace. */
  facts?: (namespace?: string) => Promise<AdmissionFacts> | AdmissionFacts;
}

type Obj = Record<string, unknown>;

export interface AdmissionStatus {
  code: number;
  reason: string;
  message: string;
  details?: { causes: { reason: string; message: string; field: string }[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** A request that is not an AdmissionReview v1 we can answer: HTTP 400. */
class BadReview extends Error {}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The message of a list of field errors as Go's `ErrorList.ToAggregate().Error()` prints it (and
 * kube-apiserver after `… is invalid: `): one error alone, several as `[a, b]`, duplicates once.
 */
export function aggregateMessage(errors: FieldError[]): string {
  const msgs = [...new Set(errors.map(formatFieldError))];
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

/** The denial for a list of field errors: 403 Forbidden as upstream's webhook sends it, with the causes. */
export function denial(errors: FieldError[]): AdmissionStatus {
  return {
    code: 403,
    reason: 'Forbidden',
    message: aggregateMessage(errors),
    details: { causes: errors.map((e) => ({ reason: causeReason(e), message: errorBody(e), field: e.field })) },
  };
}

/** Parses and checks an AdmissionReview v1 request; throws BadReview when it is not one. */
export function parseReview(body: string): { uid: string; request: Obj } {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (e) {
    throw new BadReview(`the body is not JSON: ${(e as Error).message}`);
  }
  if (!isObj(review)) throw new BadReview('the body is not an AdmissionReview');
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    throw new BadReview(`expected an admission.k8s.io/v1 AdmissionReview, got ${String(review.apiVersion)} ${String(review.kind)}`);
  }
  const request = review.request;
  if (!isObj(request)) throw new BadReview('the AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') throw new BadReview('request.uid is missing');
  if (typeof request.operation !== 'string') throw new BadReview('request.operation is missing');
  return { uid: request.uid, request };
}

/** Decides one admission request (already parsed). Pure apart from the strict/facts callbacks. */
export async function review(request: Obj, opts: Pick<WebhookServerOptions, 'strict' | 'facts'>): Promise<AdmissionResponse> {
  const uid = String(request.uid);
  const operation = request.operation;
  // DELETE (and CONNECT) are allowed without checks, as upstream does.
  if (operation !== 'CREATE' && operation !== 'UPDATE') return { uid, allowed: true };
  const object = request.object;
  if (!isObj(object)) throw new BadReview(`request.object is missing for ${String(operation)}`);
  const kind = isObj(request.kind) && typeof request.kind.kind === 'string' ? request.kind.kind : object.kind;
  if (kind !== 'NIMService' && kind !== 'NIMCache') return { uid, allowed: true };
  const meta = isObj(object.metadata) ? object.metadata : {};
  const namespace = typeof request.namespace === 'string' ? request.namespace : typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const warnings: string[] = [];
  let facts: AdmissionFacts | undefined;
  try {
    facts = await opts.facts?.(namespace);
  } catch (e) {
    // An unreadable cluster should not block every write: the rules that need facts are skipped, and said so.
    warnings.push(`the webhook could not read cluster facts (${(e as Error).message}); rules that need them were not checked`);
  }
  const policy = opts.strict?.(namespace) ?? false;
  const strict = typeof policy === 'boolean' ? policy : policy.strict;
  if (typeof policy !== 'boolean' && policy.warning) warnings.push(policy.warning);
  const old = operation === 'UPDATE' && isObj(request.oldObject) ? request.oldObject : undefined;
  let result;
  try {
    result = admissionCheck({ ...object, kind }, { ...(old ? { old } : {}), ...(facts ? { facts } : {}), strict });
  } catch (e) {
    return { uid, allowed: false, status: { code: 500, reason: 'InternalError', message: `validation failed: ${(e as Error).message}` } };
  }
  warnings.push(...result.warnings);
  const response: AdmissionResponse = { uid, allowed: result.errors.length === 0 };
  if (result.errors.length > 0) response.status = denial(result.errors);
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BadReview(`the request body is larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The HTTPS server answering AdmissionReviews on upstream's two paths. */
export class WebhookServer {
  private server?: Server;
  private cert: string;
  private key: string;

  constructor(private readonly opts: WebhookServerOptions) {
    this.cert = opts.cert;
    this.key = opts.key;
  }

  /** Starts listening; resolves with the port. */
  async start(): Promise<number> {
    if (this.server) return (this.server.address() as AddressInfo).port;
    // node:https speaks HTTP/1.1 only, as upstream's webhook does unless --enable-http2 (a CVE mitigation).
    const server = createServer({ cert: this.cert, key: this.key, minVersion: 'TLSv1.2' }, (req, res) => {
      void this.handle(req, res);
    });
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 9443, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /**
   * Serves a new certificate from the next TLS handshake on (open connections keep the old one
   * until they close). Throws, keeping the old one, when the pair is unusable.
   */
  setCertificate(cert: string, key: string): void {
    this.server?.setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    this.cert = cert;
    this.key = key;
    // Connections kept alive by the API server would go on with the old certificate; drop idle ones.
    this.server?.closeIdleConnections();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    if (!PATHS.has(path)) return send(res, 404, { message: `no admission webhook at ${path}` });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return send(res, 405, { message: `${String(req.method)} is not allowed; POST an AdmissionReview` });
    }
    try {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) throw new BadReview(`contentType=${type}, expected application/json`);
      const { request } = parseReview(await readBody(req));
      const response = await review(request, this.opts);
      send(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response } satisfies AdmissionReviewResponse);
    } catch (e) {
      if (res.headersSent || res.destroyed) return;
      if (e instanceof BadReview) send(res, 400, { message: e.message });
      else send(res, 500, { message: `internal error: ${(e as Error).message}` });
    }
  }
}

export interface WebhookConfigurationOptions {
  /** The ValidatingWebhookConfiguration's name. */
  name?: string;
  /**
   * Where the API server reaches the webhook, as a URL: its path, if one of upstream's two, is
   * replaced by each webhook's own; any other path is a prefix for them.
   */
  url?: string;
  /** Or as a Service (the usual in-cluster registration). */
  service?: { namespace: string; name: string; port?: number };
  /** The CA that signed the serving certificate, base64 PEM. */
  caBundle: string;
  failurePolicy?: 'Fail' | 'Ignore';
}

export const WEBHOOK_CONFIGURATION_NAME = 'nim-operator-validating-webhook-configuration';

/** The ValidatingWebhookConfiguration registering both webhooks, with upstream's names, paths and rules. */
export function webhookConfiguration(opts: WebhookConfigurationOptions): Record<string, unknown> {
  if (!opts.url === !opts.service) throw new Error('webhookConfiguration needs exactly one of url and service');
  let prefix = '';
  if (opts.url) {
    const u = new URL(opts.url);
    if (u.protocol !== 'https:') throw new Error(`a webhook URL must use https, got ${opts.url}`);
    prefix = u.pathname.replace(/\/validate-apps-nvidia-com-v1alpha1-nim(service|cache)$/, '').replace(/\/+$/, '');
    u.pathname = '';
    u.search = '';
    u.hash = '';
    opts = { ...opts, url: u.toString().replace(/\/+$/, '') };
  }
  const hook = (name: string, resource: string, path: string) => ({
    name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: opts.failurePolicy ?? 'Fail',
    matchPolicy: 'Equivalent',
    timeoutSeconds: 10,
    clientConfig: {
      ...(opts.url
        ? { url: `${opts.url}${prefix}${path}` }
        : { service: { namespace: opts.service!.namespace, name: opts.service!.name, port: opts.service!.port ?? 443, path } }),
      caBundle: opts.caBundle,
    },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps.nvidia.com'], apiVersions: ['v1alpha1'], resources: [resource], scope: '*' }],
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: opts.name ?? WEBHOOK_CONFIGURATION_NAME, labels: { 'app.kubernetes.io/managed-by': 'nim-operator' } },
    webhooks: [hook('vnimcache-v1alpha1.kb.io', 'nimcaches', NIMCACHE_PATH), hook('vnimservice-v1alpha1.kb.io', 'nimservices', NIMSERVICE_PATH)],
  };
}
