/**
 * What faults the embedded control plane can inject, as data: the schema of a fault spec (the body
 * of `POST /nimop/faults`, a `--faults` file, `ControlPlaneOptions.faults`), its validation, and
 * the compact `--fault key=value,…` flag syntax of `nimop dev`.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

const strings = Type.Union([Type.String(), Type.Array(Type.String())]);

/** Which requests a rule applies to; an absent field matches everything. */
const match = {
  /** Kubernetes verbs (get, list, watch, create, update, patch, delete, deletecollection) or '*'. */
  verb: Type.Optional(strings),
  /**
   * As in RBAC rules: `pods`, `deployments.apps`, `nimservices.apps.nvidia.com`,
   * `deployments/status`, `deployments/` + `*` (every subresource), `*` (every resource), and
   * `*` + `/status` (the status of every resource).
   */
  resource: Type.Optional(strings),
  namespace: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
};

/** How often a rule fires: let the first `skip` matching requests pass, then fire at most `count` times. */
const budget = {
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  skip: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const ERROR_CODES = [409, 429, 500, 503, 504] as const;

const LatencyFault = Type.Object(
  { ...match, ...budget, ms: Type.Number({ minimum: 0 }), jitterMs: Type.Optional(Type.Number({ minimum: 0 })) },
  { additionalProperties: false },
);

const ErrorFault = Type.Object(
  {
    ...match,
    ...budget,
    code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
    /** Probability (0..1) that a matching request fails. */
    rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Deterministic rate: every Nth matching request fails. */
    every: Type.Optional(Type.Integer({ minimum: 1 })),
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    message: Type.Optional(Type.String()),
    /** Carry the request out, then answer with the error instead of its result. */
    afterCommit: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const watchMatch = { resource: match.resource, namespace: match.namespace, ...budget };

const WatchCloseFault = Type.Object(
  {
    ...watchMatch,
    /** End the stream after this many object events (ADDED, MODIFIED, DELETED). */
    afterEvents: Type.Optional(Type.Integer({ minimum: 0 })),
    afterMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** `close` ends the response cleanly; `reset` destroys the connection. */
    mode: Type.Optional(Type.Union([Type.Literal('close'), Type.Literal('reset')])),
  },
  { additionalProperties: false },
);

const WatchGoneFault = Type.Object(watchMatch, { additionalProperties: false });

export const FaultSpecSchema = Type.Object(
  {
    /** Seed of the random numbers behind `rate` and `jitterMs` (reproducible runs). */
    seed: Type.Optional(Type.Integer()),
    latency: Type.Optional(Type.Array(LatencyFault)),
    errors: Type.Optional(Type.Array(ErrorFault)),
    watchClose: Type.Optional(Type.Array(WatchCloseFault)),
    watchGone: Type.Optional(Type.Array(WatchGoneFault)),
    /** Start paused (every request hangs until resumed). */
    paused: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type FaultMatch = { verb?: string | string[]; resource?: string | string[]; namespace?: string; name?: string };
export type LatencyFault = Static<typeof LatencyFault>;
export type ErrorFault = Static<typeof ErrorFault>;
export type WatchCloseFault = Static<typeof WatchCloseFault>;
export type WatchGoneFault = Static<typeof WatchGoneFault>;
export type FaultSpec = Static<typeof FaultSpecSchema>;
export type FaultKind = 'latency' | 'errors' | 'watchClose' | 'watchGone';

export class FaultSpecError extends Error {}

function check<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const errors = [...Value.Errors(schema, value)];
  if (errors.length) {
    const e = errors[0]!;
    throw new FaultSpecError(`${what}${e.path ? ` at ${e.path}` : ''}: ${e.message}`);
  }
  return value as Static<T>;
}

/** Validates a fault spec (throws FaultSpecError naming the field). */
export function validateFaultSpec(value: unknown, what = 'fault spec'): FaultSpec {
  return check(FaultSpecSchema, value, what);
}

/** A fault spec from a YAML or JSON file. */
export function loadFaultFile(path: string): FaultSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FaultSpecError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new FaultSpecError(`${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateFaultSpec(value ?? {}, path);
}

/** "200ms", "1.5s", "2m", or a plain number of milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new FaultSpecError(`"${s}" is not a duration (e.g. 200ms, 1.5s)`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

/**
 * One `--fault` flag: comma-separated `key=value` pairs whose first pair names the fault.
 *
 *   latency=200ms[,jitter=50ms][,verb=list][,resource=pods]
 *   error=429[,rate=0.1|every=3|count=2][,retryAfter=2][,verb=create][,resource=configmaps][,after-commit]
 *   watch-close=5 (after 5 events) | watch-close=30s (after 30 s) [,mode=reset][,resource=pods]
 *   watch-gone[,count=1][,resource=pods]
 *   seed=42 | paused
 */
export function parseFaultFlag(flag: string): FaultSpec {
  const pairs = flag.split(',').map((p) => p.trim()).filter(Boolean);
  if (pairs.length === 0) throw new FaultSpecError('empty --fault');
  const kv = pairs.map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? ([p, ''] as const) : ([p.slice(0, i), p.slice(i + 1)] as const);
  });
  const [head, headValue] = kv[0]!;
  const common: Record<string, unknown> = {};
  for (const [k, v] of kv.slice(1)) {
    const list = () => (v.includes('|') ? v.split('|') : v);
    const int = () => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new FaultSpecError(`--fault ${flag}: ${k} must be an integer`);
      return n;
    };
    if (k === 'verb' || k === 'resource') common[k] = list();
    else if (k === 'namespace' || k === 'name' || k === 'message') common[k] = v;
    else if (k === 'count' || k === 'skip' || k === 'every') common[k] = int();
    else if (k === 'rate') common.rate = Number(v);
    else if (k === 'retryAfter' || k === 'retry-after') common.retryAfterSeconds = int();
    else if (k === 'jitter') common.jitterMs = parseDuration(v);
    else if (k === 'mode') common.mode = v;
    else if (k === 'after-commit' || k === 'afterCommit') common.afterCommit = v === '' || v === 'true';
    else throw new FaultSpecError(`--fault ${flag}: unknown key "${k}"`);
  }
  let spec: unknown;
  switch (head) {
    case 'latency':
      spec = { latency: [{ ms: parseDuration(headValue), ...common }] };
      break;
    case 'error':
      spec = { errors: [{ code: Number(headValue), ...common }] };
      break;
    case 'watch-close':
      spec = { watchClose: [{ ...(/[a-z]$/.test(headValue) ? { afterMs: parseDuration(headValue) } : { afterEvents: Number(headValue) }), ...common }] };
      break;
    case 'watch-gone':
      spec = { watchGone: [common] };
      break;
    case 'seed':
      spec = { seed: Number(headValue) };
      break;
    case 'paused':
      spec = { paused: true };
      break;
    default:
      throw new FaultSpecError(`--fault ${flag}: unknown fault "${head}" (latency, error, watch-close, watch-gone, seed, paused)`);
  }
  return validateFaultSpec(spec, `--fault ${flag}`);
}

/** Merges fault specs (rules are appended in order; the last seed and paused win). */
export function mergeFaultSpecs(specs: FaultSpec[]): FaultSpec {
  const out: FaultSpec = {};
  for (const s of specs) {
    if (s.seed !== undefined) out.seed = s.seed;
    if (s.paused !== undefined) out.paused = s.paused;
    for (const k of ['latency', 'errors', 'watchClose', 'watchGone'] as const) {
      const rules = s[k];
      if (rules?.length) (out[k] as unknown[]) = [...((out[k] as unknown[] | undefined) ?? []), ...rules];
    }
  }
  return out;
}

/** The fault spec of `nimop dev --faults FILE --fault SPEC…` (throws FaultSpecError with a message for the user). */
export function faultSpecFromFlags(flags: { faults?: string; fault?: string[] }): FaultSpec | undefined {
  const specs: FaultSpec[] = [];
  if (flags.faults) specs.push(loadFaultFile(flags.faults));
  for (const f of flags.fault ?? []) specs.push(parseFaultFlag(f));
  return specs.length ? mergeFaultSpecs(specs) : undefined;
}
