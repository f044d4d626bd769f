/** The fault spec as `nimop dev` reads it: `--fault key=value,…` flags and `--faults` files. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FaultSpecError, faultSpecFromFlags, parseDuration, parseFaultFlag } from '../../../src/devcluster/faults-config.js';

test('--fault flags name a fault and its options', () => {
  assert.deepEqual(parseFaultFlag('latency=200ms'), { latency: [{ ms: 200 }] });
  assert.deepEqual(parseFaultFlag('latency=1.5s,jitter=100ms,verb=list|watch,resource=pods'), {
    latency: [{ ms: 1500, jitterMs: 100, verb: ['list', 'watch'], resource: 'pods' }],
  });
  assert.deepEqual(parseFaultFlag('error=429,rate=0.1,retryAfter=2,verb=create,resource=configmaps'), {
    errors: [{ code: 429, rate: 0.1, retryAfterSeconds: 2, verb: 'create', resource: 'configmaps' }],
  });
  assert.deepEqual(parseFaultFlag('error=500,count=3,skip=1,after-commit'), { errors: [{ code: 500, count: 3, skip: 1, afterCommit: true }] });
  assert.deepEqual(parseFaultFlag('watch-close=5,resource=pods'), { watchClose: [{ afterEvents: 5, resource: 'pods' }] });
  assert.deepEqual(parseFaultFlag('watch-close=30s,mode=reset'), { watchClose: [{ afterMs: 30_000, mode: 'reset' }] });
  assert.deepEqual(parseFaultFlag('watch-gone,count=1'), { watchGone: [{ count: 1 }] });
  assert.deepEqual(parseFaultFlag('seed=42'), { seed: 42 });
  assert.deepEqual(parseFaultFlag('paused'), { paused: true });
  assert.equal(parseDuration('2m'), 120_000);
});

test('bad flags and files are errors that say what is wrong', () => {
  assert.throws(() => parseFaultFlag('error=418'), (e: unknown) => e instanceof FaultSpecError && /code/.test(e.message));
  assert.throws(() => parseFaultFlag('error=500,rate=2'), /rate/);
  assert.throws(() => parseFaultFlag('latency=fast'), /not a duration/);
  assert.throws(() => parseFaultFlag('latency=1s,colour=red'), /unknown key "colour"/);
  assert.throws(() => parseFaultFlag('explode'), /unknown fault "explode"/);
  const dir = mkdtempSync(join(tmpdir(), 'nimop-faults-'));
  try {
    const file = join(dir, 'faults.yaml');
    writeFileSync(file, 'seed: 1\nerrors:\n- code: 503\n  verb: list\n');
    assert.deepEqual(faultSpecFromFlags({ faults: file, fault: ['latency=10ms', 'error=429,count=1'] }), {
      seed: 1,
      errors: [{ code: 503, verb: 'list' }, { code: 429, count: 1 }],
      latency: [{ ms: 10 }],
    });
    writeFileSync(file, 'errors:\n- code: 500\n  rat: 0.5\n');
    assert.throws(() => faultSpecFromFlags({ faults: file }), /faults\.yaml at \/errors\/0/);
    assert.equal(faultSpecFromFlags({}), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
