/**
 * Kubernetes resource quantities ("500m", "8Gi", "1e3") as plain numbers, and back, for the
 * scheduler's arithmetic and the HPA's metric values.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The value of a quantity; NaN when it is not one. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** A number as kube prints a metric quantity: whole numbers plainly, fractions in milli-units. */
export function formatQuantity(n: number): string {
  if (!Number.isFinite(n)) return '0';
  if (Number.isInteger(n)) return String(n);
  return `${Math.round(n * 1000)}m`;
}

/** A pod's effective requests: per container requests, limits standing in for missing requests
 * (as the API server defaults them), init containers' maximum against the sum of the others. */
export function podRequests(spec: Record<string, any> | undefined): Map<string, number> {
  const total = new Map<string, number>();
  const of = (c: Record<string, any>): Map<string, number> => {
    const out = new Map<string, number>();
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    for (const [k, v] of Object.entries({ ...lim, ...req })) {
      const n = parseQuantity(v);
      if (Number.isFinite(n)) out.set(k, n);
    }
    return out;
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const c of (spec?.containers ?? []) as Record<string, any>[]) for (const [k, v] of of(c)) add(total, k, v);
  // Native sidecars (init containers that keep running) add to the main containers; a regular init
  // container runs alone, beside the sidecars started before it.
  const sidecars = new Map<string, number>();
  const initMax = new Map<string, number>();
  for (const c of (spec?.initContainers ?? []) as Record<string, any>[]) {
    const r = of(c);
    if (c.restartPolicy === 'Always') {
      for (const [k, v] of r) add(sidecars, k, v);
      continue;
    }
    for (const [k, v] of r) initMax.set(k, Math.max(initMax.get(k) ?? 0, v + (sidecars.get(k) ?? 0)));
  }
  for (const [k, v] of sidecars) add(total, k, v);
  for (const [k, v] of initMax) if (v > (total.get(k) ?? 0)) total.set(k, v);
  for (const [k, v] of Object.entries(spec?.overhead ?? {})) {
    const n = parseQuantity(v);
    if (Number.isFinite(n)) total.set(k, (total.get(k) ?? 0) + n);
  }
  return total;
}

/** The number of GPUs a container asks for (limit, else request). */
export function containerGpus(c: Record<string, any> | undefined): number {
  const v = c?.resources?.limits?.['nvidia.com/gpu'] ?? c?.resources?.requests?.['nvidia.com/gpu'];
  const n = parseQuantity(v);
  return Number.isFinite(n) ? n : 0;
}
