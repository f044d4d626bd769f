/**
 * Does the model answer? `GET /v1/models` (then `/v1/metadata` for NIMs without it) on the
 * Service's API port, and the model name as upstream derives it (§2.2.13).
 */
import type { Address } from '../context.js';

export type ModelAnswer = { ok: true; name: string } | { ok: false; message: string };

async function getJSON(addr: Address, path: string, timeoutMs: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${addr.host}:${addr.port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** The model name from a `/v1/models` list: its only entry, else the first base model (root == id). */
export function modelNameFromList(body: any): string {
  if (!body || body.object !== 'list' || !Array.isArray(body.data) || body.data.length === 0) return '';
  if (body.data.length === 1) return String(body.data[0]?.id ?? '');
  const base = body.data.find((m: any) => m?.object === 'model' && m?.root === m?.id);
  return base ? String(base.id) : '';
}

export async function askModel(addr: Address, timeoutMs = 5_000): Promise<ModelAnswer> {
  try {
    const models = await getJSON(addr, '/v1/models', timeoutMs);
    if (models.status === 200) return { ok: true, name: modelNameFromList(models.body) };
    if (models.status === 404) {
      const meta = await getJSON(addr, '/v1/metadata', timeoutMs);
      if (meta.status === 200) {
        const short = String(meta.body?.modelInfo?.[0]?.shortName ?? '');
        return { ok: true, name: short.split(':')[0] ?? '' };
      }
      if (meta.status === 404) return { ok: true, name: '' };
      return { ok: false, message: `GET /v1/metadata answered ${meta.status}` };
    }
    return { ok: false, message: `GET /v1/models answered ${models.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (err.cause?.code ?? err.message);
    return { ok: false, message: `GET /v1/models failed: ${why}` };
  }
}
