/**
 * The control plane's own admin endpoints under `/nimop/` (never faulted, not part of the
 * Kubernetes API): fault injection (`/nimop/faults…`) and persistence (`/nimop/persistence…`).
 * Parts of the control plane register a handler for their first path segment.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotAllowed } from './errors.js';
import { FaultSpecError, validateFaultSpec } from './faults-config.js';
import type { Faults } from './faults.js';
import { parseBody, readBody } from './http-util.js';
import type { Persistence } from './persistence.js';

/** Handles `/nimop/<prefix>/<rest…>`; throws ApiError for errors. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, rest: string[], method: string) => Promise<void> | void;

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const notFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = parseBody(await readBody(req), String(req.headers['content-type'] ?? 'application/json'));
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be an object');
  return body as Record<string, unknown>;
}

export class AdminRouter {
  private readonly handlers = new Map<string, AdminHandler>();

  register(prefix: string, handler: AdminHandler): void {
    this.handlers.set(prefix, handler);
  }

  async handle(req: IncomingMessage, res: ServerResponse, sub: string): Promise<void> {
    const [prefix = '', ...rest] = sub.split('/').filter(Boolean).map(decodeURIComponent);
    const h = this.handlers.get(prefix);
    if (!h) throw notFound();
    await h(req, res, rest, (req.method ?? 'GET').toUpperCase());
  }
}

/**
 * `/nimop/faults`: GET the rules and their counters; POST a fault spec (JSON or YAML) to add
 * rules; DELETE all rules (and end a pause), or one by id; POST `pause` (`{"forMs": n}` optional),
 * `resume`, `restart` (`{"mode": "close"|"reset"}` optional).
 */
export function faultsAdmin(faults: Faults): AdminHandler {
  return async (req, res, rest, method) => {
    const [first, ...more] = rest;
    if (more.length) throw notFound();
    if (first === undefined) {
      if (method === 'GET') return sendJson(res, 200, faults.state());
      if (method === 'DELETE') {
        faults.clear();
        return sendJson(res, 200, faults.state());
      }
      if (method === 'POST') {
        let ids: string[];
        try {
          ids = faults.add(validateFaultSpec(await jsonBody(req)));
        } catch (e) {
          if (e instanceof FaultSpecError) throw badRequest(e.message);
          throw e;
        }
        return sendJson(res, 201, { ids, ...faults.state() });
      }
      throw methodNotAllowed(`${method} is not supported on /nimop/faults`);
    }
    if (first === 'pause' || first === 'resume' || first === 'restart') {
      if (method !== 'POST') throw methodNotAllowed(`use POST /nimop/faults/${first}`);
      const body = await jsonBody(req);
      if (first === 'pause') {
        const forMs = body.forMs;
        if (forMs !== undefined && (typeof forMs !== 'number' || forMs < 0)) throw badRequest('forMs must be a non-negative number');
        faults.pause(forMs);
        return sendJson(res, 200, faults.state());
      }
      if (first === 'resume') return sendJson(res, 200, { released: faults.resume(), ...faults.state() });
      const mode = body.mode ?? 'close';
      if (mode !== 'close' && mode !== 'reset') throw badRequest('mode must be "close" or "reset"');
      return sendJson(res, 200, { dropped: faults.restart(mode) });
    }
    if (method !== 'DELETE') throw methodNotAllowed(`use DELETE /nimop/faults/${first}`);
    if (!faults.remove(first)) throw new ApiError(404, 'NotFound', `fault "${first}" not found`, { name: first, kind: 'faults' });
    return sendJson(res, 200, faults.state());
  };
}

/** `/nimop/persistence`: GET where and how much is stored; POST `compact` writes a snapshot now. */
export function persistenceAdmin(persistence: () => Persistence | undefined): AdminHandler {
  return (_req, res, rest, method) => {
    const p = persistence();
    if (!p) throw new ApiError(404, 'NotFound', 'persistence is off (start with --data-dir)', {});
    if (rest.length === 0 && method === 'GET') return sendJson(res, 200, p.info());
    if (rest.length === 1 && rest[0] === 'compact' && method === 'POST') {
      p.compact();
      return sendJson(res, 200, p.info());
    }
    throw notFound();
  };
}
