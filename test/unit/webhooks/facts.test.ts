/** The webhook's facts from caches, the namespace admission-policy label, caBundle patches and durations. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGoDuration } from '../../../src/webhooks/duration.js';
import { ADMISSION_POLICY_LABEL, informerFacts, namespacePolicy, type Cache } from '../../../src/webhooks/facts.js';
import { caBundlePatch, trustedBy } from '../../../src/webhooks/self-certs.js';
import { selfSignedCertificate } from '../../../src/webhooks/server.js';
import { certInfo } from '../../../src/webhooks/certs.js';

type Obj = Record<string, any>;
const cache = (items: Obj[], synced = true): Cache => ({
  list: (ns?: string) => items.filter((o) => ns === undefined || o.metadata?.namespace === ns),
  get: (ns, name) => items.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name),
  hasSynced: () => synced,
});

describe('namespace admission policy', () => {
  test('strict and warn override the default; no label keeps it; anything else keeps it and says so', () => {
    assert.deepEqual(namespacePolicy({ [ADMISSION_POLICY_LABEL]: 'strict' }, false), { strict: true });
    assert.deepEqual(namespacePolicy({ [ADMISSION_POLICY_LABEL]: 'warn' }, true), { strict: false });
    assert.deepEqual(namespacePolicy({}, true), { strict: true });
    assert.deepEqual(namespacePolicy(undefined, false), { strict: false });
    const odd = namespacePolicy({ [ADMISSION_POLICY_LABEL]: 'Strict' }, false);
    assert.equal(odd.strict, false);
    assert.match(odd.warning!, /nimop\.dev\/admission-policy="Strict" is not one of "strict", "warn"; the operator's default policy \(warn\) applies/);
  });
});

describe('facts from caches', () => {
  const nodes = [{ metadata: { name: 'gpu-1', labels: { 'nvidia.com/gpu.product': 'H100' } } }];
  const caches = [{ metadata: { name: 'c', namespace: 'ai' } }, { metadata: { name: 'd', namespace: 'other' } }];
  const namespaces = [{ metadata: { name: 'ai', labels: { [ADMISSION_POLICY_LABEL]: 'strict' } } }, { metadata: { name: 'other' } }];

  test('nodes, the namespace\'s NIMCaches and the server version; the namespace\'s label decides strictness', () => {
    const f = informerFacts({ nodes: cache(nodes), nimCaches: cache(caches), namespaces: cache(namespaces), serverVersion: 'v1.34.1', strict: false });
    assert.deepEqual(f.facts('ai'), { nodes, nimCaches: [caches[0]], serverVersion: 'v1.34.1' });
    assert.equal(f.strict('ai').strict, true);
    assert.equal(f.strict('other').strict, false);
    assert.equal(f.strict('unknown').strict, false);
  });

  test('a cache not yet filled, or a namespace the operator does not watch, is left out rather than read as empty', () => {
    const f = informerFacts({ nodes: cache(nodes, false), nimCaches: cache(caches), namespaces: cache([]), strict: true, watchedNamespaces: ['ai'] });
    assert.deepEqual(f.facts('other'), {});
    assert.deepEqual(f.facts('ai'), { nimCaches: [caches[0]] });
    assert.equal(f.strict('ai').strict, true);
  });
});

describe('caBundle upkeep', () => {
  test('a patch only for the webhooks whose caBundle differs, guarded by their names; trust is what every webhook holds', async () => {
    const a = await selfSignedCertificate(['a'], []);
    const b = await selfSignedCertificate(['b'], []);
    const config = {
      webhooks: [
        { name: 'vnimcache-v1alpha1.kb.io', clientConfig: { caBundle: a.caBundle } },
        { name: 'vnimservice-v1alpha1.kb.io', clientConfig: { caBundle: b.caBundle } },
      ],
    };
    assert.deepEqual(caBundlePatch(config, a.caBundle), [
      { op: 'test', path: '/webhooks/1/name', value: 'vnimservice-v1alpha1.kb.io' },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: a.caBundle },
    ]);
    assert.deepEqual(caBundlePatch({ webhooks: [config.webhooks[0]] }, a.caBundle), []);
    const caA = certInfo(Buffer.from(a.caBundle, 'base64').toString())!.fingerprint;
    assert.equal(trustedBy(config)!(caA), false, 'one webhook does not trust it');
    assert.equal(trustedBy({ webhooks: [config.webhooks[0]] })!(caA), true);
    assert.equal(trustedBy({ webhooks: [] }), undefined);
  });
});

describe('durations', () => {
  test('Go notation', () => {
    assert.equal(parseGoDuration('8760h'), 8760 * 3_600_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('2.5s'), 2500);
    assert.equal(parseGoDuration('500ms'), 500);
    assert.throws(() => parseGoDuration('10'), /not a duration/);
    assert.throws(() => parseGoDuration('1d'), /not a duration/);
    assert.throws(() => parseGoDuration(''), /not a duration/);
  });
});
