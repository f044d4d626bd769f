/** NIM model manifests: format detection, parsing of v1 and v2, the minimal manifest (inventory §2.1.4, §2.1.1 step 7). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManifestError, manifestVersion, minimalManifestYAML, parseManifest } from '../../../src/nim/manifest.js';
import { fixtureText, nameOf, v1, v2 } from './fixtures.js';

describe('format detection', () => {
  test('a manifest without schema_version is v1; schema_version 2.x is v2', () => {
    assert.equal(manifestVersion(fixtureText('v1-llm.yaml')), 'v1');
    assert.equal(manifestVersion(fixtureText('v2-llm.yaml')), 'v2');
  });
  test('upstream\'s unanchored pattern: any "2" in schema_version means v2, anything else v1', () => {
    assert.equal(manifestVersion("schema_version: ' 2 '\nprofiles: []"), 'v2');
    assert.equal(manifestVersion("schema_version: '1.2'\nprofiles: []"), 'v2', '"1.2" contains a 2');
    assert.equal(manifestVersion("schema_version: '1.0'\nprofiles: []"), 'v1');
    assert.equal(manifestVersion('schema_version: 2\nprofiles: []'), 'v2', 'a number is read as its text');
  });
  test('text that is not YAML is v1 (the parser then reports the error)', () => {
    assert.equal(manifestVersion('a: [1, 2'), 'v1');
    assert.throws(() => parseManifest('a: [1, 2'), ManifestError);
  });
});

describe('parsing', () => {
  test('v1: custom YAML tags are tolerated, every tag is text, profiles are sorted by id', () => {
    const m = v1();
    assert.equal(m.version, 'v1');
    assert.equal(m.profiles.length, 20);
    const ids = m.profiles.map((p) => p.id);
    assert.deepEqual(ids, [...ids].sort());
    const p = m.profiles.find((x) => nameOf(x) === 'tensorrt_llm-h100-fp8-tp1-throughput')!;
    assert.equal(p.model, 'example/llama-3.1-8b-instruct');
    assert.equal(p.release, '1.12.0');
    assert.equal(p.containerUrl, 'nvcr.io/nim/example/llama-3.1-8b-instruct:1.12.0');
    assert.deepEqual(p.tags, { feat_lora: 'false', gpu: 'H100', gpu_device: '2330:10de', llm_engine: 'tensorrt_llm', pp: '1', precision: 'fp8', profile: 'throughput', tp: '1' });
  });
  test('v1: unquoted scalars keep their text (tp: 1 is "1", release: 1.10 is "1.10", feat_lora: false is "false")', () => {
    const m = parseManifest('abc:\n  release: 1.10\n  tags:\n    tp: 1\n    feat_lora: false\n');
    assert.deepEqual(m.profiles[0]!.tags, { tp: '1', feat_lora: 'false' });
    assert.equal(m.profiles[0]!.release, '1.10');
  });
  test('v2: list order, schema and selection criteria kept, model and release empty', () => {
    const m = v2();
    assert.equal(m.version, 'v2');
    assert.equal(m.schemaVersion, '2.0.1');
    assert.equal(m.selectionCriteria, 'default');
    assert.equal(m.profiles.length, 12);
    assert.equal(nameOf(m.profiles[0]!), 'tensorrt_llm-h100-fp8-tp1-throughput');
    assert.equal(nameOf(m.profiles[11]!), 'triton-nvidia-a100-sxm4-80gb-fp16-tp1');
    assert.ok(m.profiles.every((p) => p.model === '' && p.release === ''));
  });
  test('what is not a manifest (an error printed by the image) is refused', () => {
    assert.throws(() => parseManifest('Error: simulated failure (nimop.dev/sim/failing)'), /lists no profiles/);
    assert.throws(() => parseManifest('just some text'), /not a YAML map/);
    assert.throws(() => parseManifest("schema_version: '2.0.0'\nprofiles: []"), /lists no profiles/);
  });
  test('v1 entries that are not profiles are skipped', () => {
    const m = parseManifest("schema_version: '1.0'\nabc:\n  tags:\n    tp: '1'\n");
    assert.deepEqual(m.profiles.map((p) => p.id), ['abc']);
  });
});

describe('the minimal manifest (ConfigMap <cache>-manifest)', () => {
  test('v1 keeps model, release, tags and container_url, drops workspaces, and parses back the same', () => {
    const m = v1();
    const text = minimalManifestYAML(m);
    assert.doesNotMatch(text, /workspace|repo_id/);
    assert.deepEqual(parseManifest(text), m);
  });
  test('v2 keeps schema_version, profile_selection_criteria and id+tags, and parses back the same', () => {
    const m = v2();
    const text = minimalManifestYAML(m);
    assert.match(text, /^schema_version: 2\.0\.1$/m);
    assert.doesNotMatch(text, /workspace|uri/);
    assert.deepEqual(parseManifest(text), m);
  });
});
