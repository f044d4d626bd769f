/** Small pieces of the HTTP layer: request bodies, field managers, the scale view, pagination. */
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from './errors.js';
import { ProtobufError, decodeKubernetesProtobuf } from './protobuf/index.js';
import type { ResourceType } from './registry.js';
import type { Obj } from './store.js';

export interface RequestContext {
  query: URLSearchParams;
  userAgent: string;
  contentType: string;
}

const MAX_BODY = 16 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Decodes a request body: JSON, YAML, or (for built-in kinds, as kubectl's generator commands send
 * them) Kubernetes protobuf.
 */
export function parseBody(body: Buffer | string, contentType: string): unknown {
  if (/application\/vnd\.kubernetes\.protobuf/.test(contentType)) {
    try {
      return decodeKubernetesProtobuf(typeof body === 'string' ? Buffer.from(body, 'binary') : body);
    } catch (e) {
      if (e instanceof ProtobufError && e.unsupported) {
        throw new ApiError(415, 'UnsupportedMediaType', `${e.message}`);
      }
      throw badRequest(`the request body could not be decoded: ${(e as Error).message}`);
    }
  }
  if (/cbor/.test(contentType)) {
    throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (/yaml/.test(contentType)) return parseYaml(text, { version: '1.1' });
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body could not be decoded: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The field manager of a non-apply write: the fieldManager parameter, else the user agent's program name. */
export function managerOf(ctx: RequestContext): string {
  const explicit = ctx.query.get('fieldManager');
  if (explicit) return explicit;
  return ctx.userAgent.split('/')[0] || 'unknown';
}

/** The label selector of a scalable object as the string form HPAs read (`app=web,tier in (a,b)`). */
function selectorString(o: Obj): string | undefined {
  if (typeof o.status?.selector === 'string') return o.status.selector;
  const sel = o.spec?.selector;
  if (!sel || typeof sel !== 'object') return undefined;
  const terms: string[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = String(e.operator);
    if (op === 'Exists') terms.push(e.key);
    else if (op === 'DoesNotExist') terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${op.toLowerCase()} (${[...(e.values ?? [])].sort().join(',')})`);
  }
  return terms.sort().join(',') || undefined;
}

export function scaleOf(_t: ResourceType, o: Obj): Obj {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selectorString(o) ? { selector: selectorString(o) } : {}) },
  };
}

export function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

/** limit/continue pagination over objects in key order; the token records where the page ended. */
/** Reads a continue token: where the previous page ended, and the resourceVersion of the list. */
export function decodeContinue(token: string): { k: string; rv: number } {
  try {
    const d = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k: unknown; rv: unknown };
    if (typeof d.k === 'string' && Number.isInteger(d.rv)) return { k: d.k, rv: d.rv as number };
  } catch {
    // reported below
  }
  throw badRequest('continue key is not valid');
}

/**
 * limit/continue pagination over objects in key order (all pages are of the same snapshot: the
 * caller lists at the token's resourceVersion).
 */
export function paginate(items: Obj[], limitParam: string | null, token: { k: string } | undefined, rv: number): { items: Obj[]; continue?: string; remaining?: number } {
  let start = 0;
  if (token) {
    const keyOf = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    start = items.findIndex((o) => keyOf(o) > token.k);
    if (start < 0) start = items.length;
  }
  const limit = Number(limitParam ?? '0');
  if (!limit || limit <= 0 || start + limit >= items.length) return { items: items.slice(start) };
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1]!;
  const next = Buffer.from(JSON.stringify({ k: `${last.metadata.namespace ?? ''}/${last.metadata.name}`, rv })).toString('base64url');
  return { items: page, continue: next, remaining: items.length - start - limit };
}
