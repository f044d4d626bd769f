/**
 * The admission webhook down: with failurePolicy Fail applies are refused with a clear error; with
 * Ignore they pass, and the controller still refuses to serve what the webhook would have refused.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { NIMSERVICE_PATH, selfSignedCertificate, webhookConfiguration } from '../../src/webhooks/server.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const bad = {
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name: 'two-stores', namespace: 'default' },
  spec: {
    image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' },
    authSecret: 'ngc-api-secret',
    storage: { emptyDir: { sizeLimit: '1Gi' }, hostPath: '/data' },
    expose: { service: { port: 8000 } },
  },
};

describe('webhook down', () => {
  let c: SimCluster;
  let op: RunningOperator;
  const register = async (failurePolicy: 'Fail' | 'Ignore') => {
    const { caBundle } = await selfSignedCertificate(['localhost'], ['127.0.0.1']);
    const config = webhookConfiguration({ url: `https://127.0.0.1:${await closedPort()}${NIMSERVICE_PATH}`, caBundle, failurePolicy });
    await c.ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(config as Obj));
  };
  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('failurePolicy Fail: the apply is refused, saying the webhook could not be called', async () => {
    await register('Fail');
    const r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Internal error occurred: failed calling webhook "[^"]+": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/validate-apps-nvidia-com-v1alpha1-nimservice\?timeout=10s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);
    assert.equal(c.get('apps.nvidia.com/nimservices', 'default', 'two-stores'), undefined);
  });

  test('failurePolicy Ignore: the apply passes, and the NIMService is Failed with InvalidSpec naming the field; nothing is created', async () => {
    await register('Ignore');
    await c.ok(['apply', '-f', '-'], JSON.stringify(bad));
    const failed = await eventually(() => {
      const o = c.get('apps.nvidia.com/nimservices', 'default', 'two-stores');
      return o?.status?.state === 'Failed' ? o : undefined;
    }, 'Failed');
    assert.equal(condition(failed, 'Failed')?.reason, 'InvalidSpec');
    assert.match(condition(failed, 'Failed')!.message, /spec\.storage: .*only one of .*must be defined/);
    assert.equal(c.get('apps/deployments', 'default', 'two-stores'), undefined);
    assert.equal(c.get('/services', 'default', 'two-stores'), undefined);
  });
});
