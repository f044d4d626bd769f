/**
 * Fault injection: the embedded control plane misbehaving on purpose, so that clients' handling of
 * a flaky kube-apiserver can be tested. Added latency, errors (500, 503, 504, 429 with Retry-After,
 * 409) by verb and resource — at a rate or deterministically ("the next N matching requests") —,
 * watches closed early, 410 Gone for watches that resume from a resourceVersion, a pause during which
 * every request hangs, and a "restart" that drops every open watch at once.
 *
 * The server asks `before()` about every request except the admin endpoints; the rules come from
 * ControlPlaneOptions.faults, `POST /nimop/faults` or this class's methods (`cp.faults`).
 */
import { ApiError, STALE, conflict } from './errors.js';
import type { Route } from './routes.js';
import {
  validateFaultSpec,
  type ErrorFault,
  type FaultKind,
  type FaultMatch,
  type FaultSpec,
  type LatencyFault,
  type WatchCloseFault,
  type WatchGoneFault,
} from './faults-config.js';

/** What a rule needs to know of a request. */
export interface RequestFacts {
  verb: string;
  /** Set for API resource requests; undefined for discovery, OpenAPI, health, metrics. */
  resource?: { group: string; plural: string; subresource?: string; namespace?: string; name?: string };
  /** The resourceVersion a watch resumes from (a watch request with one other than "0"). */
  resumesFrom?: string;
}

/** The facts of a routed request. */
export function requestFacts(r: Route, verb: string, query: URLSearchParams): RequestFacts {
  if (r.kind !== 'resource') return { verb };
  const rv = query.get('resourceVersion');
  const initialEvents = ['true', '1'].includes(query.get('sendInitialEvents') ?? '');
  return {
    verb,
    resource: {
      group: r.type.group,
      plural: r.type.plural,
      ...(r.subresource ? { subresource: r.subresource } : {}),
      ...(r.namespace ? { namespace: r.namespace } : {}),
      ...(r.name ? { name: r.name } : {}),
    },
    ...(verb === 'watch' && rv && rv !== '0' && !initialEvents ? { resumesFrom: rv } : {}),
  };
}

/** What the server does about a request besides handling it. */
export interface Interception {
  /** Answer with this error instead of the request's result (an `afterCommit` error). */
  override?: ApiError;
  /** Faults of a watch request. */
  watch?: { closeAfterEvents?: number; closeAfterMs?: number; closeMode?: 'close' | 'reset'; gone?: boolean };
}

type Spec = LatencyFault | ErrorFault | WatchCloseFault | WatchGoneFault;

interface Rule {
  id: string;
  kind: FaultKind;
  spec: Spec;
  /** Matching requests seen, and how many times the rule fired. */
  seen: number;
  fired: number;
}

export interface FaultState {
  paused: boolean;
  /** Requests waiting for the pause to end. */
  waiting: number;
  rules: ({ id: string; kind: FaultKind; seen: number; fired: number; exhausted: boolean } & Spec)[];
}

/** Ends open watch streams (close: a clean end of the response; reset: the connection is destroyed). */
export type DropWatches = (mode: 'close' | 'reset') => number;

/** mulberry32: a small seeded PRNG, so that rate-based faults can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const asList = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** RBAC-style resource match: `plural[.group][/subresource]`, `*`, `plural/` + `*`, `*` + `/sub`. */
function resourceMatches(patterns: string[], r: NonNullable<RequestFacts['resource']>): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    const [res = '', sub] = p.split('/', 2);
    if (sub === undefined ? r.subresource !== undefined : sub !== '*' && sub !== r.subresource) return false;
    if (res === '*') return true;
    const dot = res.indexOf('.');
    const plural = dot < 0 ? res : res.slice(0, dot);
    return plural === r.plural && (dot < 0 || res.slice(dot + 1) === r.group);
  });
}

function matches(m: FaultMatch, req: RequestFacts, resourceOnly: boolean): boolean {
  const verbs = asList(m.verb);
  if (verbs && !verbs.includes('*') && !verbs.includes(req.verb)) return false;
  const r = req.resource;
  if (!r) return !resourceOnly && m.resource === undefined && m.namespace === undefined && m.name === undefined && verbs === undefined;
  const resources = asList(m.resource);
  if (resources && !resourceMatches(resources, r)) return false;
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false;
  if (m.name !== undefined && m.name !== r.name) return false;
  return true;
}

/** The Status kube-apiserver sends for each code a fault can inject. */
export function injectedError(f: Pick<ErrorFault, 'code' | 'message' | 'retryAfterSeconds'>, req: RequestFacts): ApiError {
  const retry = f.retryAfterSeconds ?? (f.code === 429 ? 1 : undefined);
  const retryDetails = retry !== undefined ? { retryAfterSeconds: retry } : undefined;
  const retryHeader: Record<string, string> = retry !== undefined ? { 'Retry-After': String(retry) } : {};
  switch (f.code) {
    case 429:
      return new ApiError(429, 'TooManyRequests', f.message ?? 'Too many requests, please try again later.', retryDetails, retryHeader);
    case 409: {
      const r = req.resource;
      const name = r?.name ?? '';
      return conflict(r?.plural ?? '', r?.group ?? '', name, f.message ?? STALE);
    }
    case 503:
      return new ApiError(503, 'ServiceUnavailable', f.message ?? 'the server is currently unable to handle the request', retryDetails, retryHeader);
    case 504:
      return new ApiError(504, 'Timeout', `Timeout: ${f.message ?? 'request did not complete within the allotted timeout'}`, retryDetails, retryHeader);
    case 500:
    default: {
      const cause = f.message ?? 'injected fault';
      return new ApiError(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] }, retryHeader);
    }
  }
}

export class Faults {
  private rules: Rule[] = [];
  private nextId = 1;
  private random: () => number;
  private pauseGate?: { promise: Promise<void>; release: () => void; timer?: NodeJS.Timeout };
  private waiting = 0;

  constructor(
    private readonly dropWatches: DropWatches,
    spec?: FaultSpec,
  ) {
    this.random = prng(spec?.seed ?? Math.floor(Math.random() * 2 ** 32));
    if (spec) this.add(spec);
  }

  /** Adds the rules of a spec (validated); returns their ids. */
  add(spec: FaultSpec): string[] {
    validateFaultSpec(spec);
    if (spec.seed !== undefined) this.random = prng(spec.seed);
    const ids: string[] = [];
    for (const kind of ['latency', 'errors', 'watchClose', 'watchGone'] as const) {
      for (const s of spec[kind] ?? []) {
        const id = `f${this.nextId++}`;
        this.rules.push({ id, kind, spec: structuredClone(s), seen: 0, fired: 0 });
        ids.push(id);
      }
    }
    if (spec.paused) this.pause();
    return ids;
  }

  /** Adds latency (ms, to every request the match selects; no match: every request). */
  latency(ms: number, match: FaultMatch & Omit<Partial<LatencyFault>, 'ms'> = {}): string {
    return this.add({ latency: [{ ...match, ms }] })[0]!;
  }

  /** Makes matching API requests fail with `code` (every time, unless count/skip/rate/every say otherwise). */
  error(code: ErrorFault['code'], opts: Omit<ErrorFault, 'code'> = {}): string {
    return this.add({ errors: [{ ...opts, code }] })[0]!;
  }

  /** Ends matching watches after `afterEvents` object events or `afterMs`. */
  closeWatches(opts: WatchCloseFault): string {
    return this.add({ watchClose: [opts] })[0]!;
  }

  /** Answers matching watches that resume from a resourceVersion with 410 Gone. */
  goneOnResume(opts: WatchGoneFault = {}): string {
    return this.add({ watchGone: [opts] })[0]!;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  /** Removes every rule and ends a pause. */
  clear(): void {
    this.rules = [];
    this.resume();
  }

  /** Whether any rule is set or a pause is on (else `before()` has nothing to do). */
  get active(): boolean {
    return this.rules.length > 0 || this.pauseGate !== undefined;
  }

  get paused(): boolean {
    return this.pauseGate !== undefined;
  }

  /** Every request (but the admin endpoints) hangs until `resume()` (or for `forMs`). */
  pause(forMs?: number): void {
    if (!this.pauseGate) {
      let release!: () => void;
      const promise = new Promise<void>((r) => (release = r));
      this.pauseGate = { promise, release };
    }
    if (this.pauseGate.timer) clearTimeout(this.pauseGate.timer);
    if (forMs !== undefined) {
      this.pauseGate.timer = setTimeout(() => this.resume(), forMs);
      this.pauseGate.timer.unref();
    }
  }

  /** Ends a pause; returns how many requests it releases. */
  resume(): number {
    const gate = this.pauseGate;
    if (!gate) return 0;
    this.pauseGate = undefined;
    if (gate.timer) clearTimeout(gate.timer);
    const released = this.waiting;
    gate.release();
    return released;
  }

  /** Drops every open watch at once, as a kube-apiserver restart does; returns how many. */
  restart(mode: 'close' | 'reset' = 'close'): number {
    return this.dropWatches(mode);
  }

  state(): FaultState {
    return {
      paused: this.paused,
      waiting: this.waiting,
      rules: this.rules.map((r) => ({
        id: r.id,
        kind: r.kind,
        ...r.spec,
        seen: r.seen,
        fired: r.fired,
        exhausted: r.spec.count !== undefined && r.fired >= r.spec.count,
      })),
    };
  }

  /** Whether a rule fires for a request it matches (and counts it). */
  private fires(rule: Rule, decide: () => boolean = () => true): boolean {
    rule.seen++;
    const s = rule.spec;
    if (s.skip !== undefined && rule.seen <= s.skip) return false;
    if (s.count !== undefined && rule.fired >= s.count) return false;
    if (!decide()) return false;
    rule.fired++;
    return true;
  }

  private errorDecision(rule: Rule): () => boolean {
    const s = rule.spec as ErrorFault;
    return () => {
      if (s.every !== undefined) return (rule.seen - (s.skip ?? 0)) % s.every === 0;
      if (s.rate !== undefined) return this.random() < s.rate;
      return true;
    };
  }

  /**
   * Called before the server handles a request: waits out a pause and any latency, throws an
   * injected error, and says what else to do (an error in place of the result, watch faults).
   */
  async before(req: RequestFacts): Promise<Interception> {
    while (this.pauseGate) {
      this.waiting++;
      try {
        await this.pauseGate.promise;
      } finally {
        this.waiting--;
      }
    }
    let delay = 0;
    for (const rule of this.rules) {
      if (rule.kind !== 'latency' || !matches(rule.spec as LatencyFault, req, false)) continue;
      const s = rule.spec as LatencyFault;
      if (this.fires(rule)) delay += s.ms + (s.jitterMs ? this.random() * s.jitterMs : 0);
    }
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const out: Interception = {};
    for (const rule of this.rules) {
      if (rule.kind !== 'errors' || !matches(rule.spec as ErrorFault, req, true)) continue;
      if (!this.fires(rule, this.errorDecision(rule))) continue;
      const s = rule.spec as ErrorFault;
      const err = injectedError(s, req);
      if (!s.afterCommit || req.verb === 'watch') throw err;
      out.override = err;
      break;
    }
    if (req.verb === 'watch') {
      const w: NonNullable<Interception['watch']> = {};
      for (const rule of this.rules) {
        if (rule.kind === 'watchGone' && req.resumesFrom !== undefined && !w.gone && matches(rule.spec as WatchGoneFault, req, true)) {
          if (this.fires(rule)) w.gone = true;
        } else if (rule.kind === 'watchClose' && w.closeAfterEvents === undefined && w.closeAfterMs === undefined && matches(rule.spec as WatchCloseFault, req, true)) {
          const s = rule.spec as WatchCloseFault;
          if (!this.fires(rule)) continue;
          if (s.afterEvents !== undefined) w.closeAfterEvents = s.afterEvents;
          if (s.afterMs !== undefined) w.closeAfterMs = s.afterMs;
          if (s.afterEvents === undefined && s.afterMs === undefined) w.closeAfterEvents = 0;
          w.closeMode = s.mode ?? 'close';
        }
      }
      if (Object.keys(w).length) out.watch = w;
    }
    return out;
  }
}
