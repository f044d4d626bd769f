/**
 * KServe's deployment-mode detection (inventory §2.2.14): an existing InferenceService's mode, then
 * the NIMService's annotation, then KServe's default from ConfigMap `inferenceservice-config`
 * (read with a GET in KServe's namespace, kept a short time), then `Standard`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { KServeConfig, kserveConfigFor, KSERVE_CONFIG_TTL_MS } from '../../../src/controllers/nimservice/kserve-config.js';
import { SpecError } from '../../../src/render/nimservice/index.js';
import { defaultModeFromConfig, kserveMode, renderKServe, type InferenceService, type KServeFacts } from '../../../src/render/nimservice/kserve.js';
import type { Client } from '../../../src/runtime/client/client.js';
import { KubeError } from '../../../src/runtime/client/rest.js';
import { fixture } from './nimservice-fixtures.js';

const MODE = 'serving.kserve.io/deploymentMode';
const kserve = (annotations?: Record<string, string>): NIMService => fixture({ inferencePlatform: 'kserve', ...(annotations ? { annotations } : {}) }, 'llm');
const deploy = (mode: string) => ({ deploy: JSON.stringify({ defaultDeploymentMode: mode }) });
const isvcOf = (svc: NIMService, facts: KServeFacts): InferenceService => renderKServe(svc, facts).children.find((c) => c.kind === 'InferenceService') as InferenceService;

describe('KServe\'s ConfigMap: the deploy key', () => {
  test('a mode in either spelling is taken as written; no deploy key is no default', () => {
    for (const m of ['Standard', 'RawDeployment', 'Knative', 'Serverless', 'ModelMesh']) assert.deepEqual(defaultModeFromConfig(deploy(m)), { mode: m });
    assert.deepEqual(defaultModeFromConfig({ ingress: '{}' }), {});
    assert.deepEqual(defaultModeFromConfig(undefined), {});
  });

  test('broken JSON, no defaultDeploymentMode, or an unknown mode: an error', () => {
    assert.match(defaultModeFromConfig({ deploy: '{' }).error!, /"deploy" key is not valid JSON/);
    assert.match(defaultModeFromConfig({ deploy: '{}' }).error!, /sets no defaultDeploymentMode/);
    assert.match(defaultModeFromConfig(deploy('')).error!, /sets no defaultDeploymentMode/);
    assert.match(defaultModeFromConfig(deploy('Fast')).error!, /defaultDeploymentMode "Fast" is none of Standard, Knative, ModelMesh, RawDeployment, Serverless/);
  });
});

describe('the three steps: annotation > KServe\'s ConfigMap > Standard', () => {
  const fromConfig = (mode: string) => ({ mode, source: 'kserve/inferenceservice-config' });

  test('no annotation: KServe\'s default, spelled as KServe\'s config spells it', () => {
    assert.deepEqual(kserveMode(kserve(), undefined, fromConfig('RawDeployment')), { mode: 'RawDeployment', family: 'Standard' });
    assert.deepEqual(kserveMode(kserve(), undefined, fromConfig('Standard')), { mode: 'Standard', family: 'Standard' });
    assert.deepEqual(kserveMode(kserve(), undefined, fromConfig('Serverless')), { mode: 'Serverless', family: 'Knative' });
    // An empty annotation asks for nothing.
    assert.deepEqual(kserveMode(kserve({ [MODE]: '' }), undefined, fromConfig('Knative')), { mode: 'Knative', family: 'Knative' });
  });

  test('the annotation wins over KServe\'s default', () => {
    assert.deepEqual(kserveMode(kserve({ [MODE]: 'Standard' }), undefined, fromConfig('Serverless')), { mode: 'Standard', family: 'Standard' });
    assert.deepEqual(kserveMode(kserve({ [MODE]: 'Serverless' }), undefined, fromConfig('RawDeployment')), { mode: 'Serverless', family: 'Knative' });
  });

  test('no annotation and no default (no ConfigMap, or no deploy key): Standard', () => {
    assert.deepEqual(kserveMode(kserve()), { mode: 'Standard', family: 'Standard' });
    assert.deepEqual(kserveMode(kserve(), undefined, { source: 'kserve/inferenceservice-config' }), { mode: 'Standard', family: 'Standard' });
  });

  test('an existing InferenceService keeps its mode whatever KServe\'s default says', () => {
    const live = { metadata: { name: 'llm', annotations: { [MODE]: 'RawDeployment' } } };
    assert.deepEqual(kserveMode(kserve(), live, fromConfig('Serverless')), { mode: 'RawDeployment', family: 'Standard' });
    assert.deepEqual(kserveMode(kserve(), { metadata: { name: 'llm' }, status: { deploymentMode: 'Knative' } }, fromConfig('Standard')), { mode: 'Knative', family: 'Knative' });
  });

  test('a default that cannot be told fails only when it decides; an invalid annotation stays a spec error', () => {
    const broken = { error: 'its "deploy" key is not valid JSON: x', source: 'kserve/inferenceservice-config' };
    assert.throws(() => kserveMode(kserve(), undefined, broken), (e: Error) => !(e instanceof SpecError) && /failed to determine KServe deployment mode: ConfigMap kserve\/inferenceservice-config: its "deploy" key is not valid JSON/.test(e.message));
    assert.equal(kserveMode(kserve({ [MODE]: 'Knative' }), undefined, broken).mode, 'Knative');
    assert.equal(kserveMode(kserve(), { metadata: { annotations: { [MODE]: 'Standard' } } }, broken).mode, 'Standard');
    assert.throws(() => kserveMode(kserve({ [MODE]: 'Fast' }), undefined, fromConfig('Standard')), SpecError);
  });

  test('rendered: KServe\'s Serverless default gives a Knative-mode InferenceService (unnamed ports, no strategy), RawDeployment a standard one', () => {
    const knative = isvcOf(kserve(), { kserveDefaultMode: fromConfig('Serverless') });
    assert.equal(knative.metadata.annotations![MODE], 'Serverless');
    assert.deepEqual(knative.spec.predictor.containers[0]!.ports, [{ containerPort: 8000, protocol: 'TCP' }]);
    assert.equal(knative.spec.predictor.deploymentStrategy, undefined);
    const raw = isvcOf(kserve(), { kserveDefaultMode: fromConfig('RawDeployment') });
    assert.equal(raw.metadata.annotations![MODE], 'RawDeployment');
    assert.equal(raw.spec.predictor.deploymentStrategy?.type, 'RollingUpdate');
    assert.equal(renderKServe(kserve(), { kserveDefaultMode: fromConfig('Serverless') }).mode.family, 'Knative');
  });
});

/** A client that answers the reader's LIST of Deployments and GET of the ConfigMap, counting them. */
function fakeClient(o: { deployments?: string[]; configMaps?: Record<string, Record<string, string>>; fail?: () => Error | undefined }) {
  const calls = { list: 0, get: [] as string[] };
  const client = {
    async list(_ref: unknown, opts: { labelSelector?: string }) {
      calls.list++;
      assert.equal(opts.labelSelector, 'control-plane=kserve-controller-manager');
      return { items: (o.deployments ?? []).map((ns) => ({ metadata: { name: 'kserve-controller-manager', namespace: ns } })), resourceVersion: '1' };
    },
    async get(_ref: unknown, ns: string, name: string) {
      calls.get.push(`${ns}/${name}`);
      const err = o.fail?.();
      if (err) throw err;
      const data = o.configMaps?.[ns];
      if (!data) throw new KubeError(404, 'NotFound', `configmaps "${name}" not found`);
      return { metadata: { name, namespace: ns }, data };
    },
  };
  return { client: client as unknown as Client, calls };
}

describe('reading KServe\'s ConfigMap', () => {
  test('KSERVE_NAMESPACE names the namespace: no Deployment is listed', async () => {
    const { client, calls } = fakeClient({ configMaps: { 'kserve-system': deploy('Serverless') } });
    const r = await new KServeConfig(client, { namespace: 'kserve-system' }).defaultMode();
    assert.deepEqual(r, { mode: 'Serverless', source: 'kserve-system/inferenceservice-config' });
    assert.deepEqual(calls, { list: 0, get: ['kserve-system/inferenceservice-config'] });
  });

  test('else the namespace of KServe\'s controller Deployment; none found: the kserve namespace', async () => {
    const one = fakeClient({ deployments: ['serving'], configMaps: { serving: deploy('Standard') } });
    assert.deepEqual(await new KServeConfig(one.client).defaultMode(), { mode: 'Standard', source: 'serving/inferenceservice-config' });
    const none = fakeClient({ configMaps: { kserve: deploy('RawDeployment') } });
    assert.deepEqual(await new KServeConfig(none.client).defaultMode(), { mode: 'RawDeployment', source: 'kserve/inferenceservice-config' });
  });

  test('controllers in several namespaces: an error naming KSERVE_NAMESPACE; no ConfigMap: no default', async () => {
    const several = fakeClient({ deployments: ['b', 'a', 'a'] });
    const r = await new KServeConfig(several.client).defaultMode();
    assert.match(r.error!, /several namespaces \(a, b\).*set KSERVE_NAMESPACE/);
    assert.equal(several.calls.get.length, 0);
    assert.deepEqual(await new KServeConfig(fakeClient({}).client).defaultMode(), { source: 'kserve/inferenceservice-config' });
  });

  test('a value is kept for a short time; concurrent reads share one request; an API error is not kept', async () => {
    let now = 0;
    let failing = true;
    const { client, calls } = fakeClient({ configMaps: { kserve: deploy('Knative') }, fail: () => (failing ? new KubeError(503, 'ServiceUnavailable', 'try later') : undefined) });
    const reader = new KServeConfig(client, { namespace: 'kserve', now: () => now });
    await assert.rejects(reader.defaultMode(), /try later/);
    assert.equal(reader.peek(), undefined);
    failing = false;
    const [a, b] = await Promise.all([reader.defaultMode(), reader.defaultMode()]);
    assert.deepEqual([a.mode, b.mode], ['Knative', 'Knative']);
    const before = calls.get.length;
    now += KSERVE_CONFIG_TTL_MS - 1;
    await reader.defaultMode();
    assert.equal(calls.get.length, before, 'kept');
    assert.equal(reader.peek(), 'Knative');
    now += 1;
    await reader.defaultMode();
    assert.equal(calls.get.length, before + 1, 'read again once stale');
  });

  test('peek answers at once and reads a stale value again in the background; one reader per client', async () => {
    let now = 0;
    const { client, calls } = fakeClient({ configMaps: { kserve: deploy('Serverless') } });
    const reader = new KServeConfig(client, { namespace: 'kserve', now: () => now });
    assert.equal(reader.peek(), undefined);
    await reader.defaultMode();
    assert.equal(reader.peek(), 'Serverless');
    assert.equal(calls.get.length, 1);
    assert.equal(kserveConfigFor(client), kserveConfigFor(client));
    assert.notEqual(kserveConfigFor(client), kserveConfigFor(fakeClient({}).client));
  });
});
