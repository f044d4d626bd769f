/**
 * Leader election on a Lease in the embedded control plane: one leader among candidates, takeover
 * after a crash once the lease has run out, immediate handover on a graceful release, and no
 * second leader when writes race. Timings are short (lease 600 ms, renew deadline 400 ms, retry
 * 100 ms); the Lease itself counts whole seconds, so a crashed leader's lease lasts 1 s.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  HttpLeaseStore,
  LeaderElector,
  LeadershipLostError,
  formatMicroTime,
  isConflict,
  type ElectionOutcome,
  type Lease,
  type LeaseStore,
} from '../../src/runtime/leader-election.js';
import { found } from '../helpers/api.js';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

const NS = 'default';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let c: TestCluster;
let store: HttpLeaseStore;
before(async () => {
  c = await startCluster();
  store = new HttpLeaseStore(c.cp.url);
});
after(async () => c?.stop());

/** Who leads right now, by the callbacks; a second leader at any moment fails the test. */
const leadingNow = new Set<string>();
let overlap: string | undefined;
const running: LeaderElector[] = [];

interface Candidate {
  elector: LeaderElector;
  outcome: Promise<ElectionOutcome>;
  events: string[];
  stoppedWith: unknown[];
  leaders: string[];
}

interface Timings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}
const SHORT: Timings = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 };

function candidate(lease: string, identity: string, s: LeaseStore = store, timings: Timings = SHORT): Candidate {
  const events: string[] = [];
  const stoppedWith: unknown[] = [];
  const leaders: string[] = [];
  const elector = new LeaderElector({
    store: s,
    namespace: NS,
    name: lease,
    identity,
    ...timings,
    callbacks: {
      onStartedLeading(leading) {
        if (leadingNow.size > 0) overlap ??= `${identity} started while ${[...leadingNow].join(',')} led`;
        leadingNow.add(identity);
        events.push('started');
        leading.addEventListener('abort', () => {
          leadingNow.delete(identity);
          stoppedWith.push(leading.reason);
        });
      },
      onStoppedLeading(outcome) {
        events.push(`stopped:${outcome}`);
      },
      onNewLeader(id) {
        leaders.push(id);
      },
    },
  });
  running.push(elector);
  return { elector, outcome: elector.run(), events, stoppedWith, leaders };
}

/** Waits for a promise, failing the test if it has not settled by the deadline. */
async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const readLease = async (name: string): Promise<Lease> => {
  const l = await store.get(NS, name);
  assert.ok(l, `lease ${name} exists`);
  return l;
};

afterEach(async () => {
  await within(Promise.all(running.splice(0).map((e) => e.stop({ release: false }))), 'electors to stop');
  leadingNow.clear();
  const o = overlap;
  overlap = undefined;
  assert.equal(o, undefined, 'two electors led at the same time');
});

describe('leader election', () => {
  test('of two candidates only one leads, and it keeps renewing the Lease', async () => {
    const a = candidate('one-leader', 'a');
    const b = candidate('one-leader', 'b');
    const leader = await found(() => [a, b].find((x) => x.elector.isLeader()), 'a leader');
    const follower = leader === a ? b : a;

    // Watch the Lease through several renewals: the holder stays the same and nobody else starts.
    const renewals = new Set<string>();
    await eventually(async () => {
      const l = await readLease('one-leader');
      assert.equal(l.spec?.holderIdentity, leader.elector.identity);
      renewals.add(l.spec?.renewTime ?? '');
      return renewals.size >= 5;
    }, 'five renewals');
    assert.deepEqual(leader.events, ['started']);
    assert.deepEqual(follower.events, []);
    assert.equal(follower.elector.isLeader(), false);
    assert.equal(follower.elector.leader(), leader.elector.identity);
    assert.deepEqual(follower.leaders, [leader.elector.identity], 'the follower was told who leads');

    const l = await readLease('one-leader');
    assert.match(l.spec?.renewTime ?? '', MICRO_TIME);
    assert.match(l.spec?.acquireTime ?? '', MICRO_TIME);
    assert.notEqual(l.spec?.renewTime, l.spec?.acquireTime, 'renewals keep the acquire time');
    assert.equal(l.spec?.leaseDurationSeconds, 1);
    assert.equal(l.spec?.leaseTransitions, 0);
  });

  test('a leader that stops renewing (a crash) is replaced once its lease has expired', async () => {
    const a = candidate('crash', 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = candidate('crash', 'b');
    await eventually(() => b.leaders.includes('a'), 'b sees a as leader');
    const before = await readLease('crash');

    const crashedAt = performance.now();
    assert.equal(await within(a.elector.stop({ release: false }), 'a to stop'), 'abandoned');
    assert.deepEqual(a.events, ['started', 'stopped:abandoned']);
    assert.equal((await readLease('crash')).spec?.holderIdentity, 'a', 'the Lease was left as it was');

    await eventually(() => b.elector.isLeader(), 'b takes over', 10_000);
    const waited = performance.now() - crashedAt;
    // b may only take over a full lease duration (1 s) after the last renewal it saw; a renewed at
    // most one retry period (plus a request) before it stopped.
    assert.ok(waited >= 750, `b took over after ${Math.round(waited)} ms, before the lease could have expired`);
    const after = await readLease('crash');
    assert.equal(after.spec?.holderIdentity, 'b');
    assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
    assert.notEqual(after.spec?.acquireTime, before.spec?.acquireTime);
    assert.deepEqual(b.events, ['started']);
  });

  test('a graceful stop releases the Lease and the successor takes over at once', async () => {
    const a = candidate('handover', 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = candidate('handover', 'b');
    await eventually(() => b.leaders.includes('a'), 'b sees a as leader');

    const stoppedAt = performance.now();
    assert.equal(await within(a.elector.stop(), 'a to release'), 'released');
    assert.deepEqual(a.events, ['started', 'stopped:released']);
    assert.ok(a.stoppedWith[0] instanceof Error && !(a.stoppedWith[0] instanceof LeadershipLostError));

    await eventually(() => b.elector.isLeader(), 'b takes over');
    const waited = performance.now() - stoppedAt;
    // Without the release b would wait the full lease (1 s); with it, one jittered retry (≤ 220 ms).
    assert.ok(waited < 900, `handover took ${Math.round(waited)} ms`);
    const l = await readLease('handover');
    assert.equal(l.spec?.holderIdentity, 'b');
    assert.equal(l.spec?.leaseTransitions, 1);
    assert.equal(l.spec?.leaseDurationSeconds, 1);
    assert.deepEqual(b.leaders, ['a', 'b']);
  });

  test('two candidates writing the same resourceVersion: one wins, the other gets 409 and follows', async () => {
    // A released Lease, so both candidates go straight to the PUT with the resourceVersion they read.
    await store.create({
      metadata: { name: 'race', namespace: NS },
      spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 3 },
    });
    // Hold each candidate's first PUT until both have read the Lease and are about to write.
    let arrived = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const conflicts: string[] = [];
    const gated = (who: string): LeaseStore => {
      let first = true;
      return {
        get: (ns, name, signal) => store.get(ns, name, signal),
        create: (lease, signal) => store.create(lease, signal),
        async update(lease, signal) {
          if (first) {
            first = false;
            if (++arrived === 2) openGate();
            await new Promise<void>((resolve, reject) => {
              void gate.then(resolve);
              signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
            });
          }
          try {
            return await store.update(lease, signal);
          } catch (err) {
            if (isConflict(err)) conflicts.push(who);
            throw err;
          }
        },
      };
    };
    const a = candidate('race', 'a', gated('a'));
    const b = candidate('race', 'b', gated('b'));
    await within(gate, 'both candidates to reach their first write');
    const leader = await found(() => [a, b].find((x) => x.elector.isLeader()), 'a leader');
    const loser = leader === a ? b : a;
    await eventually(() => loser.leaders.includes(leader.elector.identity), 'the loser sees the winner');
    assert.deepEqual(conflicts, [loser.elector.identity], 'exactly the loser was refused');
    assert.deepEqual(loser.events, []);
    const l = await readLease('race');
    assert.equal(l.spec?.holderIdentity, leader.elector.identity);
    assert.equal(l.spec?.leaseTransitions, 4, 'one takeover, counted once');
  });

  test('a leader that finds the Lease taken by someone else stops leading at once', async () => {
    // A long renew deadline, so "at once" is told apart from "when the deadline ran out".
    const a = candidate('intruder', 'a', store, { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 100 });
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = candidate('intruder', 'b');
    await eventually(() => b.leaders.includes('a'), 'b sees a as leader');

    // Another writer takes the Lease (as a replica with a different view might).
    const l = await readLease('intruder');
    const now = formatMicroTime(Date.now());
    await store.update({ ...l, spec: { ...l.spec, holderIdentity: 'intruder', acquireTime: now, renewTime: now, leaseDurationSeconds: 1 } });
    const intrudedAt = performance.now();

    assert.equal(await within(a.outcome, 'a to lose the lease'), 'lost');
    const waited = performance.now() - intrudedAt;
    assert.ok(waited < 1500, `a went on leading for ${Math.round(waited)} ms after the Lease named someone else`);
    assert.deepEqual(a.events, ['started', 'stopped:lost']);
    assert.ok(a.stoppedWith[0] instanceof LeadershipLostError, 'the leading signal says leadership was lost');
    // The intruder never renews, so b takes over after its lease; never while a still led.
    await eventually(() => b.elector.isLeader(), 'b takes over from the intruder');
    assert.ok(b.leaders.includes('intruder'));
    assert.equal((await readLease('intruder')).spec?.holderIdentity, 'b');
  });

  test('a stopped candidate that never led reports stopped and leaves the Lease alone', async () => {
    const a = candidate('never', 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = candidate('never', 'b');
    await eventually(() => b.leaders.includes('a'), 'b sees a as leader');
    assert.equal(await within(b.elector.stop(), 'b to stop'), 'stopped');
    assert.deepEqual(b.events, []);
    assert.equal((await readLease('never')).spec?.holderIdentity, 'a');
  });
});

describe('leader election: configuration and formats', () => {
  test('timings must leave the renew deadline inside the lease and above the retry period', () => {
    const base = { store: { get: async () => undefined, create: async (l: Lease) => l, update: async (l: Lease) => l }, namespace: NS, name: 'x' };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 400, renewDeadlineMs: 400, retryPeriodMs: 100 }), /leaseDuration/);
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 600, renewDeadlineMs: 110, retryPeriodMs: 100 }), /renewDeadline/);
    const e = new LeaderElector(base);
    assert.ok(e.identity.startsWith(`${hostname()}_`), e.identity);
    assert.match(e.identity, /_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('MicroTime has six fractional digits', () => {
    assert.equal(formatMicroTime(Date.UTC(2026, 10, 22, 20, 0, 0, 123) + 0.5), '2026-11-22T20:00:00.123500Z');
    assert.equal(formatMicroTime(Date.UTC(2026, 10, 22, 20, 0, 0)), '2026-11-22T20:00:00.000000Z');
  });
});
