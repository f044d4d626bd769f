/**
 * Admission webhooks, as kube-apiserver calls them: the validating and mutating webhook
 * configurations stored in the control plane are matched against each write (rules, namespace and
 * object selectors), an AdmissionReview v1 is POSTed over HTTPS to the webhook's URL or Service,
 * JSON patches from mutating webhooks are applied, denials become API errors, `failurePolicy` and
 * `timeoutSeconds` are honoured, and warnings are passed back to the client.
 */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { ApiError, internal } from './errors.js';
import { applyPatch } from './patch/index.js';
import type { ResourceType } from './registry.js';
import { labelSelectorObject } from './selectors.js';
import type { Obj, Store } from './store.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

interface Webhook {
  name: string;
  clientConfig: { url?: string; caBundle?: string; service?: { namespace: string; name: string; path?: string; port?: number } };
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  namespaceSelector?: Obj;
  objectSelector?: Obj;
  reinvocationPolicy?: string;
}

export interface AdmissionRequest {
  t: ResourceType;
  operation: Operation;
  subresource?: string;
  namespace?: string;
  name: string;
  object?: Obj;
  oldObject?: Obj;
  dryRun: boolean;
  fieldManager?: string;
}

const CONFIG_RESOURCES = {
  validating: 'admissionregistration.k8s.io/validatingwebhookconfigurations',
  mutating: 'admissionregistration.k8s.io/mutatingwebhookconfigurations',
} as const;

function listMatches(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === '*' || v === value);
}

function resourceMatches(patterns: string[] | undefined, plural: string, sub: string | undefined): boolean {
  const full = sub ? `${plural}/${sub}` : plural;
  return (patterns ?? []).some((p) => {
    if (p === '*') return !sub;
    if (p === '*/*') return true;
    const [pr, ps] = p.split('/');
    if (ps === undefined) return !sub && pr === plural;
    return (pr === '*' || pr === plural) && (ps === '*' || ps === sub) && full !== plural;
  });
}

function ruleMatches(rule: Rule, r: AdmissionRequest): boolean {
  const scope = rule.scope ?? '*';
  if (scope === 'Namespaced' && !r.t.namespaced) return false;
  if (scope === 'Cluster' && r.t.namespaced) return false;
  return (
    listMatches(rule.operations, r.operation) &&
    listMatches(rule.apiGroups, r.t.group) &&
    listMatches(rule.apiVersions, r.t.version) &&
    resourceMatches(rule.resources, r.t.plural, r.subresource)
  );
}

export class Webhooks {
  constructor(private readonly store: Store) {}

  private hooks(kind: keyof typeof CONFIG_RESOURCES): Webhook[] {
    return this.store.list(CONFIG_RESOURCES[kind]).flatMap((c) => (c.webhooks ?? []) as Webhook[]);
  }

  /** Webhooks of one kind that apply to the request (the object selector only once the object is known). */
  matching(kind: keyof typeof CONFIG_RESOURCES, r: AdmissionRequest, objectKnown = true): Webhook[] {
    if (r.t.group === 'admissionregistration.k8s.io') return [];
    return this.hooks(kind).filter((w) => {
      if (!(w.rules ?? []).some((rule) => ruleMatches(rule, r))) return false;
      if (objectKnown && w.objectSelector && Object.keys(w.objectSelector).length) {
        const sel = labelSelectorObject(w.objectSelector);
        if (!sel(r.object?.metadata?.labels ?? {}) && !sel(r.oldObject?.metadata?.labels ?? {})) return false;
      }
      if (w.namespaceSelector && Object.keys(w.namespaceSelector).length && r.t.namespaced && r.namespace) {
        const ns = this.store.get('/namespaces', undefined, r.namespace);
        if (!labelSelectorObject(w.namespaceSelector)(ns?.metadata?.labels ?? {})) return false;
      }
      return true;
    });
  }

  /** Whether any webhook may apply, before the object to admit is computed. */
  any(r: AdmissionRequest): boolean {
    return this.matching('mutating', r, false).length > 0 || this.matching('validating', r, false).length > 0;
  }

  /** Runs the mutating webhooks in order; returns the mutated object and the warnings. */
  async mutate(r: AdmissionRequest): Promise<{ object: Obj | undefined; warnings: string[] }> {
    let object = r.object;
    const warnings: string[] = [];
    for (const w of this.matching('mutating', r)) {
      const res = await this.call(w, { ...r, ...(object ? { object } : {}) });
      if (!res) continue;
      warnings.push(...res.warnings);
      if (res.patch && object) {
        try {
          object = applyPatch('json', object, JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')), {}) as Obj;
        } catch (e) {
          throw internal(`failed to apply the patch of webhook "${w.name}": ${(e as Error).message}`);
        }
      }
    }
    return { object, warnings };
  }

  /** Runs the validating webhooks (all of them, as the API server runs them in parallel). */
  async validate(r: AdmissionRequest): Promise<string[]> {
    const results = await Promise.all(this.matching('validating', r).map((w) => this.call(w, r)));
    return results.flatMap((x) => x?.warnings ?? []);
  }

  private endpoint(w: Webhook): URL {
    const cc = w.clientConfig;
    if (cc.url) return new URL(cc.url);
    const svc = cc.service;
    if (!svc) throw new Error('clientConfig has neither url nor service');
    // In the embedded control plane a Service reaches its endpoints' addresses (on loopback).
    const ep = this.store.get('/endpoints', svc.namespace, svc.name);
    const subset = ep?.subsets?.[0];
    const ip = subset?.addresses?.[0]?.ip;
    const port = subset?.ports?.find((p: Obj) => p.port !== undefined)?.port ?? svc.port ?? 443;
    if (!ip) throw new Error(`service "${svc.namespace}/${svc.name}" has no ready endpoints`);
    return new URL(`https://${ip}:${port}${svc.path ?? '/'}`);
  }

  /** One webhook call; undefined when it failed and its failurePolicy is Ignore. */
  private async call(w: Webhook, r: AdmissionRequest): Promise<{ patch?: string; warnings: string[] } | undefined> {
    const uid = randomUUID();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: r.t.group, version: r.t.version, kind: r.t.kind },
        resource: { group: r.t.group, version: r.t.version, resource: r.t.plural },
        ...(r.subresource ? { subResource: r.subresource } : {}),
        requestKind: { group: r.t.group, version: r.t.version, kind: r.t.kind },
        requestResource: { group: r.t.group, version: r.t.version, resource: r.t.plural },
        name: r.name,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        operation: r.operation,
        userInfo: { username: 'nimop-dev-admin', groups: ['system:masters', 'system:authenticated'] },
        object: r.object ?? null,
        oldObject: r.oldObject ?? null,
        dryRun: r.dryRun,
        options: {
          kind: { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' }[r.operation],
          apiVersion: 'meta.k8s.io/v1',
          ...(r.fieldManager && r.operation !== 'DELETE' ? { fieldManager: r.fieldManager } : {}),
        },
      },
    };
    let reply: Obj;
    try {
      reply = await post(this.endpoint(w), w, JSON.stringify(review));
    } catch (e) {
      if (w.failurePolicy === 'Ignore') return undefined;
      const base = w.clientConfig.url ?? `https://${w.clientConfig.service?.name}.${w.clientConfig.service?.namespace}.svc:${w.clientConfig.service?.port ?? 443}${w.clientConfig.service?.path ?? ''}`;
      // kube-apiserver adds the timeout to the URL and reports Go's network errors.
      const url = `${base}${base.includes('?') ? '&' : '?'}timeout=${w.timeoutSeconds ?? 10}s`;
      throw internal(`failed calling webhook "${w.name}": failed to call webhook: Post "${url}": ${goNetError(e as NodeJS.ErrnoException, this.endpoint(w))}`);
    }
    const response = reply.response ?? {};
    if (response.uid !== uid) {
      if (w.failurePolicy === 'Ignore') return undefined;
      throw internal(`failed calling webhook "${w.name}": expected response.uid="${uid}", got "${String(response.uid)}"`);
    }
    const warnings: string[] = (response.warnings ?? []).map(String);
    if (!response.allowed) {
      const st = response.status ?? {};
      const denied = `admission webhook "${w.name}" denied the request`;
      const message = st.message ? `${denied}: ${st.message}` : st.reason ? `${denied}: ${st.reason}` : `${denied} without explanation`;
      const code = typeof st.code === 'number' && st.code >= 400 ? st.code : 400;
      throw new ApiError(code, st.reason || (code === 403 ? 'Forbidden' : 'BadRequest'), message, st.details, warnings.length ? { Warning: warnings.map((x) => `299 - ${JSON.stringify(x)}`).join(', ') } : {});
    }
    return { ...(response.patch ? { patch: String(response.patch) } : {}), warnings };
  }
}

/** A Node network error in the words Go's net/http and crypto/tls use, as kube-apiserver reports them. */
export function goNetError(e: NodeJS.ErrnoException, url: URL): string {
  const port = url.port || '443';
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${url.hostname}:${port}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${url.hostname}:${port}: read: connection reset by peer`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is valid for other names, not ${url.hostname}`;
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    default:
      return e.message;
  }
}

function post(url: URL, w: Webhook, body: string): Promise<Obj> {
  if (url.protocol !== 'https:') return Promise.reject(new Error(`webhook URL must use https, got ${url.protocol}`));
  const ca = w.clientConfig.caBundle ? Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8') : undefined;
  const timeoutMs = (w.timeoutSeconds ?? 10) * 1000;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) }, ...(ca ? { ca } : {}), timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`the server responded with ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            resolve(JSON.parse(text) as Obj);
          } catch {
            reject(new Error('the response is not JSON'));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (timeout ${w.timeoutSeconds ?? 10}s)`)));
    req.on('error', reject);
    req.end(body);
  });
}
