/**
 * Every upstream sample manifest validates with our engine, except those that upstream's own CRD
 * refuses: those must be refused by ours with upstream's message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseManifests } from '../../src/api/manifests.js';
import { validateObject } from '../../src/api/validate.js';
import { formatFieldError } from '../../src/api/validation/index.js';
import { listFiles, rel, requireUpstream, UPSTREAM } from '../helpers/upstream.js';

requireUpstream();

const REPLICAS_WITH_SCALE = 'spec: Invalid value: "object": spec.replicas cannot be set when spec.scale.enabled is true';

/** sample (relative to config/samples/nim) and document number → the error upstream's CRD gives. */
const REFUSED: Record<string, string> = {
  'serving/standalone/full/llm.yaml#2': REPLICAS_WITH_SCALE,
  'serving/standalone/autoscaling/llm.yaml#2': REPLICAS_WITH_SCALE,
  'serving/standalone/autoscaling/multi-llm.yaml#2': REPLICAS_WITH_SCALE,
  'serving/kserve/standard/llm.yaml#2': REPLICAS_WITH_SCALE,
  'serving/standalone/routers/ingress/llm.yaml#2': 'spec.router: Unknown field',
};

const samplesDir = join(UPSTREAM, 'samples', 'nim');
const files = listFiles(samplesDir);

test('there are upstream samples to check', () => {
  assert.ok(files.length >= 20, `found only ${files.length} samples in ${samplesDir}`);
});

for (const file of files) {
  const name = rel(file, samplesDir);
  test(`upstream sample ${name}`, () => {
    const parsed = parseManifests(readFileSync(file, 'utf8'));
    assert.deepEqual(parsed.errors, []);
    for (const doc of parsed.docs) {
      const key = `${name}#${doc.index}`;
      const verdict = validateObject(doc.value);
      const errors = verdict.errors.map(formatFieldError);
      const expected = REFUSED[key];
      if (expected) {
        assert.equal(verdict.status, 'invalid', `${key} should be refused`);
        assert.ok(errors.some((e) => e.startsWith(expected)), `${key}: expected "${expected}", got ${JSON.stringify(errors)}`);
      } else {
        assert.notEqual(verdict.status, 'invalid', `${key}: ${errors.join('\n')}`);
      }
    }
  });
}
