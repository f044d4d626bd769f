/**
 * A rate-limited work queue with the semantics controllers rely on in client-go and
 * controller-runtime:
 *
 * - a key waiting in the queue is held once, however often it is added (the "dirty" set);
 * - a key handed to a worker is not handed to another until that worker calls `done(key)`; if it
 *   was added again meanwhile, `done` puts it back in the queue, so the change is not lost;
 * - `addAfter` holds a key back for a while (the earliest pending deadline wins);
 * - `addRateLimited` holds it back by the larger of a per-key exponential backoff and an overall
 *   token bucket, and `forget` clears the key's failure count.
 *
 * Keys are strings (controllers use `namespace/name`). Timers are unref'd, so a queue never keeps
 * the process alive by itself. Metrics are reported through a small hook interface, so this module
 * does not depend on a metrics library.
 */

/** Decides how long a key waits before it is retried, and remembers failures per key. */
export interface RateLimiter {
  /** Delay in milliseconds for the next retry of `key`; counts one more failure. */
  when(key: string): number;
  /** Clears what the limiter remembers about `key` (call after a success). */
  forget(key: string): void;
  /** How many failures of `key` have been counted since it was last forgotten. */
  numRequeues(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** First delay, in ms (default 5). */
  baseDelayMs?: number;
  /** Largest delay, in ms (default 1,000,000: 1000 s). */
  maxDelayMs?: number;
}

/** Per-key backoff: base · 2^failures, capped at the maximum. */
export class ExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;

  constructor(opts: ExponentialBackoffOptions = {}) {
    this.base = opts.baseDelayMs ?? 5;
    this.max = opts.maxDelayMs ?? 1_000_000;
    if (!(this.base >= 0) || !(this.max >= 0)) throw new RangeError('backoff delays must be non-negative numbers');
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2 ** n becomes Infinity for large n, which Math.min turns into the cap.
    return Math.min(this.base * 2 ** n, this.max);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Sustained rate, tokens per second (default 10). */
  qps?: number;
  /** Bucket size, i.e. how many can go at once (default 100). */
  burst?: number;
  /** Clock in ms (default Date.now); injectable for tests. */
  now?: () => number;
}

/**
 * An overall token bucket shared by all keys. Every call takes a token, borrowing from the future
 * when the bucket is empty, and answers how long the caller must wait for the token it took — the
 * way golang.org/x/time/rate's `Reserve().Delay()` behaves, so a burst of retries is spread out at
 * `qps` instead of all landing at once.
 */
export class BucketRateLimiter implements RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(opts: TokenBucketOptions = {}) {
    this.qps = opts.qps ?? 10;
    this.burst = opts.burst ?? 100;
    this.now = opts.now ?? (() => Date.now());
    if (!(this.qps > 0) || !(this.burst >= 1)) throw new RangeError('token bucket needs qps > 0 and burst >= 1');
    this.tokens = this.burst;
    this.last = this.now();
  }

  when(): number {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** The bucket is shared: nothing is kept per key. */
  forget(): void {}
  numRequeues(): number {
    return 0;
  }
}

/** Combines limiters: the delay is the longest any of them asks for. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter needs at least one limiter');
    this.limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    // Every limiter must see the call (each counts it), so no short-circuit here.
    for (const l of this.limiters) delay = Math.max(delay, l.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

export interface ControllerRateLimiterOptions extends ExponentialBackoffOptions, TokenBucketOptions {}

/** controller-runtime's default: per-key 5 ms → 1000 s backoff, under a 10 qps / burst 100 bucket. */
export function defaultControllerRateLimiter(opts: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialFailureRateLimiter(opts), new BucketRateLimiter(opts));
}

/**
 * Hooks the queue calls so its figures can be exported (the manager connects these to
 * `workqueue_*` metrics). Every hook is optional. Durations are in seconds, as Prometheus
 * histograms expect.
 */
export interface WorkQueueMetrics {
  /** Keys waiting to be processed (client-go's `depth` gauge), after every change. */
  depth(n: number): void;
  /** A key entered the queue (an add that was not swallowed by de-duplication). */
  add(): void;
  /** A key was handed back to the queue by `addRateLimited`. */
  retry(): void;
  /** How long a key waited in the queue before a worker took it. */
  queueLatency(seconds: number): void;
  /** How long a worker held a key (from `get` to `done`). */
  workDuration(seconds: number): void;
  /** Sum of how long the keys being processed right now have been held. */
  unfinishedWork(seconds: number): void;
  /** How long the longest-held key being processed right now has been held. */
  longestRunningProcessor(seconds: number): void;
}

export interface WorkQueueOptions {
  /** Name for logs and metric labels (`name` label of `workqueue_*`). */
  name?: string;
  /** Delay policy for `addRateLimited` (default: `defaultControllerRateLimiter()`). */
  rateLimiter?: RateLimiter;
  metrics?: Partial<WorkQueueMetrics>;
  /**
   * How often the two in-flight gauges (`unfinishedWork`, `longestRunningProcessor`) are pushed to
   * the hooks, in ms (default 500, as client-go). Only runs when one of those hooks is given;
   * `snapshot()` gives the same figures on demand.
   */
  metricsUpdatePeriodMs?: number;
  /** Clock in ms (default Date.now), used for metric durations. */
  now?: () => number;
}

/** The queue's figures at one instant, for a metrics collector that pulls. */
export interface WorkQueueSnapshot {
  depth: number;
  processing: number;
  unfinishedWorkSeconds: number;
  longestRunningProcessorSeconds: number;
}

/** setTimeout cannot wait longer than this; longer delays are clamped (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

interface Waiting {
  readyAt: number;
  timer: ReturnType<typeof setTimeout>;
}

export class WorkQueue {
  readonly name: string;
  private readonly limiter: RateLimiter;
  private readonly hooks: Partial<WorkQueueMetrics>;
  private readonly now: () => number;

  /** Keys ready for a worker, in arrival order. A key is in here at most once. */
  private readonly ready = new Set<string>();
  /** Keys that need processing: those in `ready`, plus keys re-added while being processed. */
  private readonly dirty = new Set<string>();
  /** Keys a worker holds, with the time it took them. */
  private readonly processing = new Map<string, number>();
  /** When each dirty key was added, for the queue-latency figure. */
  private readonly addedAt = new Map<string, number>();
  /** Keys held back by `addAfter`/`addRateLimited`. */
  private readonly waiting = new Map<string, Waiting>();
  /** Workers blocked in `get()`, first come first served. */
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainers: Array<() => void> = [];
  private shuttingDown = false;
  private metricsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly metricsPeriod: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? '';
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter();
    this.hooks = opts.metrics ?? {};
    this.now = opts.now ?? (() => Date.now());
    this.metricsPeriod = opts.metricsUpdatePeriodMs ?? 500;
    if (this.hooks.unfinishedWork || this.hooks.longestRunningProcessor) this.scheduleMetrics();
  }

  /** Marks `key` as needing processing. Ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.now());
    this.hooks.add?.();
    this.reportDepth();
    // A key being processed goes back in the queue when its worker calls done().
    if (this.processing.has(key)) return;
    this.ready.add(key);
    this.dispatch();
  }

  /** Adds `key` once `delayMs` has passed. If it is already waiting, the earlier deadline wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, Math.min(delayMs, MAX_TIMER_MS));
    timer.unref?.();
    this.waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's delay for it (one more failure counted). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.hooks.retry?.();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears the key's failure count (call after a successful reconcile). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * The next key to process; waits while the queue is empty. The caller owns the key until it
   * calls `done(key)`. Resolves to undefined once the queue is shut down (keys still queued at that
   * point are not handed out).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.hooks.workDuration?.((this.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.ready.add(key);
      this.dispatch();
    }
    this.settleDrain();
  }

  /** Number of keys ready for a worker (not counting held-back or in-process keys). */
  len(): number {
    return this.ready.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops the queue: adds are ignored, blocked and later `get()` calls get undefined, held-back
   * keys are dropped. Workers still holding keys may call `done`.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    this.ready.clear();
    this.dirty.clear();
    this.addedAt.clear();
    this.reportDepth();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    if (this.metricsTimer) clearTimeout(this.metricsTimer);
    this.metricsTimer = undefined;
    this.settleDrain();
  }

  /** Like `shutDown`, and resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drainers.push(resolve));
    this.shutDown();
    this.settleDrain(); // in case the queue was already shut down
    return drained;
  }

  snapshot(): WorkQueueSnapshot {
    const now = this.now();
    let total = 0;
    let longest = 0;
    for (const started of this.processing.values()) {
      const held = Math.max(0, now - started) / 1000;
      total += held;
      longest = Math.max(longest, held);
    }
    return {
      depth: this.dirty.size,
      processing: this.processing.size,
      unfinishedWorkSeconds: total,
      longestRunningProcessorSeconds: longest,
    };
  }

  /** Takes the oldest ready key and marks it as being processed. */
  private take(): string | undefined {
    const next = this.ready.values().next();
    if (next.done) return undefined;
    const key = next.value;
    this.ready.delete(key);
    this.dirty.delete(key);
    const now = this.now();
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.hooks.queueLatency?.((now - added) / 1000);
    this.processing.set(key, now);
    this.reportDepth();
    return key;
  }

  /** Hands ready keys to blocked workers. */
  private dispatch(): void {
    while (this.getters.length > 0 && this.ready.size > 0) {
      const key = this.take()!;
      this.getters.shift()!(key);
    }
  }

  /** Resolves `shutDownWithDrain` callers once shut down and nothing is held by a worker. */
  private settleDrain(): void {
    if (!this.shuttingDown || this.processing.size > 0) return;
    for (const resolve of this.drainers.splice(0)) resolve();
  }

  private reportDepth(): void {
    this.hooks.depth?.(this.dirty.size);
  }

  private scheduleMetrics(): void {
    this.metricsTimer = setTimeout(() => {
      const s = this.snapshot();
      this.hooks.unfinishedWork?.(s.unfinishedWorkSeconds);
      this.hooks.longestRunningProcessor?.(s.longestRunningProcessorSeconds);
      if (!this.shuttingDown) this.scheduleMetrics();
    }, this.metricsPeriod);
    this.metricsTimer.unref?.();
  }
}
