/** S18 with KServe's default deployment mode (its inferenceservice-config) as an admission fact. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldError } from '../../../src/api/validation/index.js';
import { informerFacts, type Cache } from '../../../src/webhooks/facts.js';
import { admissionCheck } from '../../../src/webhooks/rules/index.js';
import { kserveMode } from '../../../src/webhooks/rules/nimservice.js';

type Obj = Record<string, unknown>;
const MODE = 'serving.kserve.io/deploymentMode';
const FORBIDDEN = 'nimservice.spec.metrics.enabled: Forbidden: nimservice.spec.metrics.serviceMonitor cannot be set when KServe runs in knative mode';

const service = (spec: Obj = {}): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name: 'llm', namespace: 'ai' },
  spec: {
    inferencePlatform: 'kserve',
    image: { repository: 'nvcr.io/nim/x', tag: '1.0' },
    authSecret: 'ngc-api',
    storage: { pvc: { name: 'models' } },
    expose: { service: { port: 8000 } },
    metrics: { enabled: true, serviceMonitor: { interval: '30s' } },
    ...spec,
  },
});
const errors = (obj: Obj, kserveDefaultDeploymentMode?: string) =>
  admissionCheck(obj, { facts: kserveDefaultDeploymentMode ? { kserveDefaultDeploymentMode } : {} }).errors.map(formatFieldError);

describe('S18: KServe\'s default mode when the annotation asks for none', () => {
  test('annotation > KServe\'s default > Standard', () => {
    assert.deepEqual(kserveMode({ annotations: { [MODE]: 'Standard' } } as never, { kserveDefaultDeploymentMode: 'Serverless' }), { mode: 'Standard' });
    assert.deepEqual(kserveMode({} as never, { kserveDefaultDeploymentMode: 'Serverless' }), { mode: 'Serverless' });
    assert.deepEqual(kserveMode({ annotations: { [MODE]: '' } } as never, { kserveDefaultDeploymentMode: 'Knative' }), { mode: 'Knative' });
    assert.deepEqual(kserveMode({} as never, {}), { mode: 'Standard' });
    // A default that names no mode is no fact.
    assert.deepEqual(kserveMode({} as never, { kserveDefaultDeploymentMode: 'Fast' }), { mode: 'Standard' });
  });

  test('KServe defaulting to Serverless: knative-mode refusals without an annotation; the annotation Standard lifts them', () => {
    assert.ok(errors(service(), 'Serverless').includes(FORBIDDEN));
    assert.ok(!errors(service(), 'RawDeployment').includes(FORBIDDEN));
    assert.ok(!errors(service()).includes(FORBIDDEN));
    assert.ok(!errors(service({ annotations: { [MODE]: 'Standard' } }), 'Serverless').includes(FORBIDDEN));
  });

  test('informerFacts passes the last mode read, when there is one', () => {
    const empty: Cache = { list: () => [], get: () => undefined, hasSynced: () => true };
    let mode: string | undefined;
    const f = informerFacts({ nodes: empty, nimCaches: empty, namespaces: empty, strict: false, kserveDefaultMode: () => mode });
    assert.equal(f.facts('ai').kserveDefaultDeploymentMode, undefined);
    mode = 'Knative';
    assert.equal(f.facts('ai').kserveDefaultDeploymentMode, 'Knative');
  });
});
