/**
 * The work queue as a controller sees it: de-duplication, one worker per key, re-queue on done,
 * delayed and rate-limited adds, shutdown, and the metric hooks. Time is mocked, so delays are
 * exact and no test waits for real time.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
  defaultControllerRateLimiter,
} from '../../../src/runtime/workqueue.js';

const PENDING = Symbol('pending');

/** The value of a promise if it has already settled, else PENDING. */
async function peek<T>(p: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([p, new Promise<typeof PENDING>((r) => setImmediate(() => r(PENDING)))]);
}

/** Lets promise callbacks that timers triggered run (setImmediate is not mocked). */
const flush = () => new Promise<void>((r) => setImmediate(r));

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
afterEach(() => mock.timers.reset());

describe('WorkQueue: de-duplication and one worker per key', () => {
  test('a key added several times while waiting is handed out once', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    q.add('ns/a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
    assert.equal(q.len(), 0);
    assert.equal(await peek(q.get()), PENDING);
    q.shutDown();
  });

  test('a key being processed is not handed to a second worker; re-added, it comes back on done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');

    q.add('a'); // a change arrives while a worker holds the key
    q.add('b');
    assert.equal(q.len(), 1, 'only b is ready; a waits for its worker');
    assert.equal(await q.get(), 'b');
    const second = q.get();
    assert.equal(await peek(second), PENDING, 'a is not given to another worker while held');

    q.done('a');
    assert.equal(await peek(second), 'a', 'the change that arrived meanwhile is not lost');
    q.done('a');
    q.done('b');
    assert.equal(q.len(), 0, 'done without a re-add queues nothing');
    q.shutDown();
  });

  test('blocked workers are served in the order they asked', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add('x');
    q.add('y');
    assert.equal(await w1, 'x');
    assert.equal(await w2, 'y');
    q.shutDown();
  });

  test('a burst of 1,000 adds of one key gives far fewer gets, never two at once, and the last add is seen', async () => {
    const q = new WorkQueue();
    let gets = 0;
    let active = 0;
    let maxActive = 0;
    let lastAddAt = -1;
    let lastGetAt = -1;
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        gets++;
        lastGetAt = Date.now();
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 10)); // a reconcile takes 10 ms
        active--;
        q.done(key);
      }
    };
    const workers = [worker(), worker(), worker()];
    for (let i = 0; i < 1000; i++) {
      q.add('ns/hot');
      lastAddAt = Date.now();
      mock.timers.tick(1);
      await flush();
    }
    for (let i = 0; i < 30; i++) {
      mock.timers.tick(1);
      await flush();
    }
    assert.equal(maxActive, 1, 'one key is never processed by two workers at once');
    assert.ok(gets < 150, `expected far fewer gets than adds, got ${gets}`);
    assert.ok(gets >= 50, `the key keeps being processed while changes arrive, got ${gets}`);
    assert.ok(lastGetAt >= lastAddAt, 'a processing started after the last add');
    q.shutDown();
    await Promise.all(workers);
  });
});

describe('WorkQueue: delayed adds', () => {
  test('addAfter hands keys out in deadline order, not call order', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 300);
    q.addAfter('b', 100);
    q.addAfter('c', 200);
    q.addAfter('now', 0);
    assert.equal(await q.get(), 'now');
    const order: string[] = [];
    for (const step of [99, 1, 100, 100]) {
      mock.timers.tick(step);
      while (q.len() > 0) order.push((await q.get())!);
    }
    assert.deepEqual(order, ['b', 'c', 'a']);
    q.shutDown();
  });

  test('for a key already waiting, the earlier deadline wins', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 500);
    q.addAfter('a', 100); // earlier: replaces the pending one
    q.addAfter('a', 300); // later: ignored
    mock.timers.tick(99);
    assert.equal(q.len(), 0);
    mock.timers.tick(1);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    mock.timers.tick(1000);
    assert.equal(q.len(), 0, 'the replaced deadlines do not fire');
    q.shutDown();
  });

  test('a delayed key that is already queued is not duplicated', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.addAfter('a', 50);
    mock.timers.tick(50);
    assert.equal(q.len(), 1);
    q.shutDown();
  });
});

describe('rate limiting', () => {
  test('per-key backoff doubles from 5 ms and is capped at 1000 s', () => {
    const l = new ExponentialFailureRateLimiter();
    const delays = Array.from({ length: 12 }, () => l.when('k'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240]);
    for (let i = 0; i < 100; i++) l.when('k');
    assert.equal(l.when('k'), 1_000_000);
    assert.equal(l.numRequeues('k'), 113);
    assert.equal(l.when('other'), 5, 'keys back off independently');
  });

  test('forget resets the backoff and the requeue count', () => {
    const l = new ExponentialFailureRateLimiter({ baseDelayMs: 1, maxDelayMs: 50 });
    assert.deepEqual([l.when('k'), l.when('k'), l.when('k')], [1, 2, 4]);
    assert.deepEqual([l.when('k'), l.when('k'), l.when('k'), l.when('k')], [8, 16, 32, 50]);
    l.forget('k');
    assert.equal(l.numRequeues('k'), 0);
    assert.equal(l.when('k'), 1);
  });

  test('the token bucket lets a burst through, then spaces calls at the rate, and refills', () => {
    const b = new BucketRateLimiter({ qps: 10, burst: 100 });
    for (let i = 0; i < 100; i++) assert.equal(b.when(), 0);
    assert.equal(b.when(), 100);
    assert.equal(b.when(), 200);
    mock.timers.tick(1000); // 10 tokens come back; 2 were owed
    for (let i = 0; i < 8; i++) assert.equal(b.when(), 0);
    assert.equal(b.when(), 100);
  });

  test('the default limiter takes the larger of the two delays', () => {
    const l = defaultControllerRateLimiter();
    for (let i = 0; i < 100; i++) assert.equal(l.when(`k${i}`), 5, 'within the burst, the per-key delay rules');
    assert.equal(l.when('k100'), 100, 'past the burst, the bucket rules');
    mock.timers.tick(60_000);
    const repeated = Array.from({ length: 6 }, () => l.when('same'));
    assert.deepEqual(repeated, [5, 10, 20, 40, 80, 160]);
    const combo = new MaxOfRateLimiter(new ExponentialFailureRateLimiter(), new ExponentialFailureRateLimiter({ baseDelayMs: 7 }));
    assert.equal(combo.when('x'), 7);
    assert.equal(combo.numRequeues('x'), 1);
    combo.forget('x');
    assert.equal(combo.numRequeues('x'), 0);
  });

  test('addRateLimited holds a failing key back longer each time; forget starts over', async () => {
    const q = new WorkQueue();
    const readyAfter = async (): Promise<number> => {
      let waited = 0;
      while (q.len() === 0) {
        mock.timers.tick(1);
        waited++;
        assert.ok(waited < 10_000, 'key never became ready');
      }
      const key = await q.get();
      assert.equal(key, 'k');
      return waited;
    };
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.addRateLimited('k');
      seen.push(await readyAfter());
      q.done('k');
    }
    assert.deepEqual(seen, [5, 10, 20, 40, 80]);
    assert.equal(q.numRequeues('k'), 5);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
    q.addRateLimited('k');
    assert.equal(await readyAfter(), 5);
    q.shutDown();
  });

  test('the bucket limits how fast many failing keys come back', async () => {
    const q = new WorkQueue({ rateLimiter: defaultControllerRateLimiter({ qps: 10, burst: 5 }) });
    for (let i = 0; i < 8; i++) q.addRateLimited(`k${i}`);
    mock.timers.tick(5);
    assert.equal(q.len(), 5, 'the burst comes back after the per-key delay');
    mock.timers.tick(95);
    assert.equal(q.len(), 6);
    mock.timers.tick(100);
    assert.equal(q.len(), 7);
    mock.timers.tick(100);
    assert.equal(q.len(), 8);
    q.shutDown();
  });
});

describe('WorkQueue: shutdown', () => {
  test('shutDown releases blocked workers, ignores adds, and stops delayed keys', async () => {
    const q = new WorkQueue();
    const blocked = q.get();
    q.addAfter('later', 100);
    q.shutDown();
    assert.equal(await blocked, undefined);
    q.add('a');
    q.addRateLimited('b');
    assert.equal(q.len(), 0);
    mock.timers.tick(1000);
    assert.equal(await q.get(), undefined);
    assert.equal(q.isShuttingDown(), true);
  });

  test('shutDownWithDrain waits for keys still held by workers', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const a = (await q.get())!;
    const b = (await q.get())!;
    const drained = q.shutDownWithDrain();
    assert.equal(await peek(drained), PENDING);
    q.done(a);
    assert.equal(await peek(drained), PENDING);
    q.add(b); // too late: ignored, and done does not re-queue
    q.done(b);
    assert.equal(await peek(drained), undefined);
    assert.equal(await q.get(), undefined);
    assert.equal(await peek(q.shutDownWithDrain()), undefined, 'a second drain on an idle queue resolves at once');
  });
});

describe('WorkQueue: metric hooks', () => {
  test('depth, adds, retries, queue latency, work duration and in-flight figures', async () => {
    const depth: number[] = [];
    const latency: number[] = [];
    const work: number[] = [];
    const unfinished: number[] = [];
    const longest: number[] = [];
    let adds = 0;
    let retries = 0;
    const q = new WorkQueue({
      name: 'test',
      metrics: {
        depth: (n) => depth.push(n),
        add: () => adds++,
        retry: () => retries++,
        queueLatency: (s) => latency.push(s),
        workDuration: (s) => work.push(s),
        unfinishedWork: (s) => unfinished.push(s),
        longestRunningProcessor: (s) => longest.push(s),
      },
    });
    q.add('a');
    q.add('a'); // swallowed: not an add for the metrics
    q.add('b');
    assert.equal(adds, 2);
    assert.deepEqual(depth, [1, 2]);
    mock.timers.tick(250);
    const a = (await q.get())!;
    assert.deepEqual(latency, [0.25]);
    mock.timers.tick(250); // the periodic in-flight update runs at 500 ms
    assert.deepEqual(unfinished, [0.25]);
    assert.deepEqual(longest, [0.25]);
    const b = (await q.get())!;
    mock.timers.tick(500);
    assert.deepEqual(unfinished, [0.25, 1.25]);
    assert.deepEqual(longest, [0.25, 0.75]);
    assert.deepEqual(q.snapshot(), { depth: 0, processing: 2, unfinishedWorkSeconds: 1.25, longestRunningProcessorSeconds: 0.75 });
    q.done(a);
    q.done(b);
    assert.deepEqual(work, [0.75, 0.5]);
    q.addRateLimited('a');
    assert.equal(retries, 1);
    assert.deepEqual(depth, [1, 2, 1, 0]);
    q.shutDown();
  });
});
