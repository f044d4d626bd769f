/**
 * Readiness of a KServe NIMService from its InferenceService (inventory §2.2.14 "Status"; §6
 * behaviour 52): the reconciler's KServe step with plain objects for its caches and a local model
 * server behind the resolver.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ControllerContext } from '../../../src/controllers/context.js';
import { kserveReadiness, resolveURL } from '../../../src/controllers/nimservice/kserve.js';
import type { NIMServiceCaches } from '../../../src/controllers/nimservice/reconcile.js';
import { renderKServe } from '../../../src/render/nimservice/kserve.js';
import type { Json } from '../../../src/runtime/client/rest.js';
import { fixture } from './nimservice-fixtures.js';

let server: Server;
let port = 0;
const resolved: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/v1/models' ? JSON.stringify({ object: 'list', data: [{ id: 'meta/llama', object: 'model', root: 'meta/llama' }] }) : '{}');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

const ctx = {
  pollMs: 5_000,
  resolveService: (ns: string, svc: string, p: number | string) => {
    resolved.push(`${svc}.${ns}:${String(p)}`);
    return svc === 'llm-predictor' ? { host: '127.0.0.1', port } : undefined;
  },
} as unknown as ControllerContext;
const caches = (isvc: Json | undefined, pods: Json[] = []) =>
  ({ pods: { byIndex: () => pods }, child: () => ({ get: () => isvc }) }) as unknown as NIMServiceCaches;
const svc = fixture({ inferencePlatform: 'kserve' }) as never;
const render = renderKServe(svc);
const isvc = (conditions: Json[], status: Json = {}) => ({ metadata: { name: 'llm', namespace: 'ns', generation: 1 }, status: { observedGeneration: 1, conditions, ...status } });
const ADDRESS = { url: 'https://llm.example.com', address: { url: 'http://llm-predictor.ns.svc.cluster.local' } };

describe('KServe readiness (behaviour 52)', () => {
  test('no InferenceService yet, or no PredictorReady yet: waiting, with upstream\'s messages', async () => {
    const none = await kserveReadiness(ctx, caches(undefined), svc, render);
    assert.deepEqual([none.outcome.state, none.outcome.message, none.requeueAfterMs], ['Pending', 'Waiting for InferenceService "llm" creation', 30_000]);
    const silent = await kserveReadiness(ctx, caches(isvc([])), svc, render);
    assert.equal(silent.outcome.message, 'Waiting for InferenceService "llm" reporting Predictor readiness');
  });

  test('PredictorReady False: NotReady with that condition\'s message, checked again in 30 s', async () => {
    const r = await kserveReadiness(ctx, caches(isvc([{ type: 'PredictorReady', status: 'False', reason: 'X', message: 'Revision failed' }])), svc, render);
    assert.deepEqual([r.outcome.state, r.outcome.reason, r.outcome.message, r.requeueAfterMs], ['NotReady', 'NotReady', 'Revision failed', 30_000]);
    assert.equal(r.outcome.model, undefined);
  });

  test('a status not yet observing the spec update is not trusted', async () => {
    const stale = { ...isvc([{ type: 'PredictorReady', status: 'True' }], ADDRESS), metadata: { name: 'llm', namespace: 'ns', generation: 2 } };
    const r = await kserveReadiness(ctx, caches(stale), svc, render);
    assert.match(r.outcome.message, /to observe its spec update/);
  });

  test('PredictorReady True without URLs: not Ready yet; with them and the model answering: Ready, endpoints from the status', async () => {
    const noUrl = await kserveReadiness(ctx, caches(isvc([{ type: 'PredictorReady', status: 'True' }])), svc, render);
    assert.equal(noUrl.outcome.state, 'NotReady');
    assert.equal(noUrl.requeueAfterMs, 5_000);
    resolved.length = 0;
    const ready = await kserveReadiness(ctx, caches(isvc([{ type: 'PredictorReady', status: 'True' }], ADDRESS)), svc, render);
    assert.equal(ready.outcome.state, 'Ready');
    assert.deepEqual(ready.outcome.model, { name: 'meta/llama', clusterEndpoint: 'http://llm-predictor.ns.svc.cluster.local', externalEndpoint: 'https://llm.example.com' });
    assert.deepEqual(resolved, ['llm-predictor.ns:80'], 'the cluster URL goes through the resolver, port 80 by default');
    // `Ready` stands in for PredictorReady when a KServe reports only that.
    const readyOnly = await kserveReadiness(ctx, caches(isvc([{ type: 'Ready', status: 'True' }], ADDRESS)), svc, render);
    assert.equal(readyOnly.outcome.state, 'Ready');
  });

  test('a mode change KServe would refuse is said in the message', async () => {
    const live = { metadata: { name: 'llm', annotations: { 'serving.kserve.io/deploymentMode': 'Standard' } } };
    const asked = fixture({ inferencePlatform: 'kserve', annotations: { 'serving.kserve.io/deploymentMode': 'Knative' } }) as never;
    const r = await kserveReadiness(ctx, caches(isvc([{ type: 'PredictorReady', status: 'True' }], ADDRESS)), asked, renderKServe(asked, { liveInferenceService: live }));
    assert.equal(r.outcome.state, 'Ready');
    assert.match(r.outcome.message, /Standard mode\); model meta\/llama answers on \/v1\/models; spec\.annotations asks for KServe deployment mode Knative/);
  });

  test('resolveURL: cluster hosts through the resolver, other hosts as they are', async () => {
    assert.deepEqual(await resolveURL(ctx, 'http://llm-predictor.ns.svc:8080'), { host: '127.0.0.1', port });
    assert.deepEqual(await resolveURL(ctx, 'https://llm.example.com/v1'), { host: 'llm.example.com', port: 443 });
    assert.equal(await resolveURL(ctx, 'not a url'), undefined);
  });
});
