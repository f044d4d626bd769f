/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
 *
 * - a candidate takes the Lease when nobody holds it, or when the record it last saw has not
 *   changed for the holder's lease duration — measured on this process's own monotonic clock from
 *   the moment the change was seen, so the writer's wall clock (skew) does not matter;
 * - every write is a PUT carrying the resourceVersion that was read, so of two candidates racing
 *   for the same Lease only one write succeeds (the other gets 409 Conflict);
 * - the leader renews every retry period and gives up when it cannot renew within the renew
 *   deadline; taking over from someone else increments `leaseTransitions`;
 * - on a graceful stop the leader empties `holderIdentity` (lease duration 1 s), so a successor
 *   takes over at its next retry instead of waiting for the lease to expire.
 *
 * The elector talks to the API through `LeaseStore`; `HttpLeaseStore` is a plain-`fetch`
 * implementation of it.
 */
import { isConflict, type Lease, type LeaseSpec, type LeaseStore } from './lease-store.js';
import {
  defaultIdentity, formatMicroTime, LeadershipLostError, type ElectionClock, type ElectionLogger, type ElectionOutcome, type LeaderCallbacks, type LeaderElectionOptions,
} from './leader-election-types.js';

export * from './lease-store.js';
export * from './leader-election-types.js';

/** client-go's jitter on the acquire loop: each wait is retry · (1 + random · 1.2). */
const JITTER_FACTOR = 1.2;

interface Observed {
  spec: LeaseSpec;
  /** Canonical text of the record, to tell whether it changed. */
  raw: string;
  /** Monotonic time at which this record was first seen (or written by us). */
  at: number;
}

function recordText(s: LeaseSpec | undefined): string {
  return JSON.stringify([
    s?.holderIdentity ?? '',
    s?.leaseDurationSeconds ?? 0,
    s?.acquireTime ?? '',
    s?.renewTime ?? '',
    s?.leaseTransitions ?? 0,
    s?.strategy ?? '',
    s?.preferredHolder ?? '',
  ]);
}

const silentLogger: ElectionLogger = { info() {}, error() {} };
const systemClock: ElectionClock = { wall: () => Date.now(), monotonic: () => performance.now() };

export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly ns: string;
  private readonly leaseName: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly leaseSeconds: number;
  private releaseOnCancel: boolean;
  private readonly cb: LeaderCallbacks;
  private readonly log: ElectionLogger;
  private readonly clock: ElectionClock;

  private observed: Observed | undefined;
  /** The Lease as last read or written: its resourceVersion is the precondition of the next PUT. */
  private lease: Lease | undefined;
  private reportedLeader: string | undefined;
  private readonly stopper = new AbortController();
  private running: Promise<ElectionOutcome> | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.store = opts.store;
    this.ns = opts.namespace;
    this.leaseName = opts.name;
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.releaseOnCancel = opts.releaseOnCancel ?? true;
    this.cb = opts.callbacks ?? {};
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    if (!this.identity) throw new RangeError('leader election: identity must not be empty');
    if (!(this.retryMs > 0)) throw new RangeError('leader election: retryPeriod must be positive');
    if (!(this.leaseMs > this.renewMs)) throw new RangeError('leader election: leaseDuration must be greater than renewDeadline');
    if (!(this.renewMs > JITTER_FACTOR * this.retryMs)) {
      throw new RangeError(`leader election: renewDeadline must be greater than retryPeriod × ${JITTER_FACTOR}`);
    }
    // The Lease counts in whole seconds; round up so nobody is told a shorter term than ours.
    this.leaseSeconds = Math.max(1, Math.ceil(this.leaseMs / 1000));
  }

  /** True while the Lease, as last seen, names this elector as holder. */
  isLeader(): boolean {
    return this.observed?.spec.holderIdentity === this.identity;
  }

  /** The holder named by the Lease as last seen (undefined if none). */
  leader(): string | undefined {
    return this.observed?.spec.holderIdentity || undefined;
  }

  /**
   * Campaigns, then leads until leadership is lost or the elector is stopped (by `stop()` or by
   * `signal`). Resolves with how it ended; on 'lost' the caller should exit the process. An
   * elector runs once.
   */
  run(signal?: AbortSignal): Promise<ElectionOutcome> {
    if (this.running) throw new Error('leader election: run() was already called');
    if (signal) {
      if (signal.aborted) this.stopper.abort();
      else signal.addEventListener('abort', () => this.stopper.abort(), { once: true });
    }
    this.running = this.campaign();
    return this.running;
  }

  /**
   * Stops the elector and waits for `run()` to end. While leading, the Lease is released unless
   * `release` is false (false leaves it to expire, as a crash would). Stop the work that needs
   * leadership first if it must not overlap with a successor's.
   */
  async stop(opts: { release?: boolean } = {}): Promise<ElectionOutcome> {
    if (opts.release !== undefined) this.releaseOnCancel = opts.release;
    this.stopper.abort();
    return this.running ?? 'stopped';
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async campaign(): Promise<ElectionOutcome> {
    const where = { lease: `${this.ns}/${this.leaseName}`, identity: this.identity };
    this.log.info(where, 'attempting to acquire leader lease');
    if (!(await this.acquire())) return 'stopped';
    if (this.stopped) {
      // Won the Lease just as we were told to stop: hand it straight back.
      if (this.releaseOnCancel) await this.release();
      return 'stopped';
    }
    this.log.info(where, 'successfully acquired lease');
    const leading = new AbortController();
    this.invoke('onStartedLeading', () => this.cb.onStartedLeading?.(leading.signal));

    const kept = await this.renew();
    let outcome: Exclude<ElectionOutcome, 'stopped'>;
    if (kept === 'lost') {
      this.log.error(where, 'leader election lost');
      leading.abort(new LeadershipLostError(`lost the lease ${this.ns}/${this.leaseName}`));
      outcome = 'lost';
    } else {
      leading.abort(new Error('leader election stopped'));
      outcome = this.releaseOnCancel && (await this.release()) ? 'released' : 'abandoned';
      this.log.info({ ...where, outcome }, 'stopped leading');
    }
    this.invoke('onStoppedLeading', () => this.cb.onStoppedLeading?.(outcome));
    return outcome;
  }

  /** Tries until the Lease is ours (true) or the elector is stopped (false). */
  private async acquire(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      // An attempt already sent is allowed to finish, so we always know whether we hold the Lease.
      if (await this.attempt(this.renewMs)) return true;
      const wait = this.retryMs * (1 + Math.random() * JITTER_FACTOR);
      if (!(await this.sleep(wait))) return false;
    }
  }

  /** Renews every retry period; 'lost' when a renewal round misses its deadline or someone else holds the Lease. */
  private async renew(): Promise<'lost' | 'stopped'> {
    for (;;) {
      if (!(await this.sleep(this.retryMs))) return 'stopped';
      const start = this.clock.monotonic();
      for (;;) {
        const left = this.renewMs - (this.clock.monotonic() - start);
        if (left <= 0) return 'lost';
        if (await this.attempt(left)) break;
        if (!this.isLeader()) return 'lost'; // the Lease no longer names us (someone else wrote it): stop at once
        const after = this.renewMs - (this.clock.monotonic() - start);
        if (after <= 0) return 'lost';
        if (!(await this.sleep(Math.min(this.retryMs, after)))) return 'stopped';
      }
    }
  }

  /** One try-acquire-or-renew, bounded by `timeoutMs`; reports a change of leader afterwards. */
  private async attempt(timeoutMs: number): Promise<boolean> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew(AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))));
    } catch (err) {
      this.log.error({ lease: `${this.ns}/${this.leaseName}`, err: String(err) }, 'error retrieving or writing the lease');
    }
    this.reportLeader();
    return ok;
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = formatMicroTime(this.clock.wall());
    const desired: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };

    // Fast path: a leader whose Lease is still valid writes straight away, with the
    // resourceVersion of its own last write. A conflict means someone else wrote; read and judge.
    if (this.isLeader() && this.leaseValid() && this.lease && this.observed) {
      desired.acquireTime = this.observed.spec.acquireTime ?? now;
      desired.leaseTransitions = this.observed.spec.leaseTransitions ?? 0;
      try {
        this.remember(await this.store.update(this.withSpec(this.lease, desired), signal));
        return true;
      } catch (err) {
        this.log.debug?.({ lease: `${this.ns}/${this.leaseName}`, err: String(err) }, 'optimistic renew failed; reading the lease');
        if (signal.aborted) return false;
      }
    }

    const current = await this.store.get(this.ns, this.leaseName, signal);
    if (!current) {
      try {
        this.remember(
          await this.store.create(
            { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.leaseName, namespace: this.ns }, spec: desired },
            signal,
          ),
        );
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
        return false; // someone created it first
      }
    }

    this.lease = current;
    const raw = recordText(current.spec);
    if (!this.observed || this.observed.raw !== raw) {
      this.observed = { spec: { ...current.spec }, raw, at: this.clock.monotonic() };
    }
    const holder = current.spec?.holderIdentity ?? '';
    if (holder !== '' && !this.isLeader() && this.leaseValid()) return false; // held, and not expired

    if (this.isLeader()) {
      desired.acquireTime = current.spec?.acquireTime ?? now;
      desired.leaseTransitions = current.spec?.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (current.spec?.leaseTransitions ?? 0) + 1;
    }
    try {
      this.remember(await this.store.update(this.withSpec(current, desired), signal));
      return true;
    } catch (err) {
      if (!isConflict(err)) throw err;
      return false; // someone else wrote in between; the next attempt reads again
    }
  }

  /** Empties the holder (lease duration 1 s) so a successor need not wait. True on success. */
  private async release(): Promise<boolean> {
    if (!this.isLeader() || !this.lease || !this.observed) return true;
    const now = formatMicroTime(this.clock.wall());
    const spec: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.observed.spec.leaseTransitions ?? 0,
    };
    try {
      this.remember(await this.store.update(this.withSpec(this.lease, spec), AbortSignal.timeout(this.renewMs)));
      this.reportLeader();
      return true;
    } catch (err) {
      this.log.error({ lease: `${this.ns}/${this.leaseName}`, err: String(err) }, 'failed to release the lease');
      return false;
    }
  }

  /** Records a Lease we wrote: it is the newest version, and its record changed just now. */
  private remember(written: Lease): void {
    this.lease = written;
    this.observed = { spec: { ...written.spec }, raw: recordText(written.spec), at: this.clock.monotonic() };
  }

  /** True while the observed record is younger than its holder's lease duration. */
  private leaseValid(): boolean {
    if (!this.observed) return false;
    const ms = (this.observed.spec.leaseDurationSeconds ?? 0) * 1000;
    return this.observed.at + ms > this.clock.monotonic();
  }

  private withSpec(lease: Lease, spec: LeaseSpec): Lease {
    return { ...lease, metadata: { ...lease.metadata }, spec: { ...lease.spec, ...spec } };
  }

  private reportLeader(): void {
    const holder = this.observed?.spec.holderIdentity ?? '';
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder === '') return; // a released Lease: remembered, so the next holder is reported even if it is the same one
    this.invoke('onNewLeader', () => this.cb.onNewLeader?.(holder));
  }

  /** Calls a user callback; its errors (sync or async) are logged, never thrown into the loop. */
  private invoke(name: string, call: () => void | Promise<void>): void {
    const fail = (err: unknown) => this.log.error({ callback: name, err: String(err) }, 'leader election callback failed');
    try {
      const r = call();
      if (r instanceof Promise) r.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Waits `ms`; false if the elector was stopped first. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopper.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
