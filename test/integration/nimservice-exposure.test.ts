/**
 * NIMService exposure and scaling children end to end: HPA, HTTPRoute, ServiceMonitor, Ingress, the
 * model PVC and the proxy, with the Gateway API installed after the fact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { installAddons } from '../../src/devcluster/ecosystem/index.js';
import { testNIMService } from '../helpers/nim.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const svc = testNIMService;
const gateway = { router: { hostDomainName: 'example.com', gateway: { name: 'inference', namespace: 'default' } } };

describe('NIMService exposure and scaling', () => {
  let c: SimCluster;
  let op: RunningOperator;
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', 'default', name);
  const apply = (obj: unknown) => c.ok(['apply', '-f', '-'], JSON.stringify(obj));
  const waitState = (name: string, state: string) =>
    eventually(() => (nimService(name)?.status?.state === state ? nimService(name) : undefined), `${name} ${state} (now ${String(nimService(name)?.status?.state)})`, 30_000);

  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('without the Gateway API an HTTPRoute is reported as OptionalAPIMissing; installing it carries on to Ready', async () => {
    await apply(svc('routed', { expose: { service: { port: 8000 }, ...gateway } }));
    const failed = await waitState('routed', 'Failed');
    assert.equal(condition(failed, 'Failed')?.reason, 'OptionalAPIMissing');
    assert.match(condition(failed, 'Failed')!.message, /Gateway API/);
    // The other children are applied all the same.
    assert.ok(c.get('apps/deployments', 'default', 'routed'));
    installAddons(c.cp);
    await c.ok(['wait', 'nimservice/routed', '--for=condition=Ready', '--timeout=30s']);
    const route = c.get('gateway.networking.k8s.io/httproutes', 'default', 'routed')!;
    assert.deepEqual(route.spec.hostnames, ['routed.default.example.com']);
    assert.deepEqual(route.spec.parentRefs, [{ name: 'inference', namespace: 'default' }]);
    assert.equal(nimService('routed')!.status.model.externalEndpoint, 'routed.default.example.com');
  });

  test('autoscaling: the HPA is created, a spec edit never resets its replica count, disabling it removes the HPA and restores spec.replicas', async () => {
    const scale = { enabled: true, hpa: { minReplicas: 1, maxReplicas: 4, metrics: [{ type: 'Pods', pods: { metric: { name: 'num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '10' } } }] } };
    await apply(svc('scaled', { scale }));
    await waitState('scaled', 'Ready');
    const hpa = await eventually(() => c.get('autoscaling/horizontalpodautoscalers', 'default', 'scaled'), 'the HPA');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' });
    assert.equal(hpa.spec.maxReplicas, 4);
    // Load makes the HPA scale the Deployment up.
    c.sim.setNimLoad({ namespace: 'default', service: 'scaled' }, { waiting: 60 }, 'total');
    await eventually(() => (c.get('apps/deployments', 'default', 'scaled')?.spec.replicas ?? 0) > 1, 'the HPA scales up', 30_000);
    const scaledTo = c.get('apps/deployments', 'default', 'scaled')!.spec.replicas as number;
    // An unrelated spec edit: the Deployment is re-applied (new env) but keeps the HPA's count.
    await c.ok(['patch', 'nimservice', 'scaled', '--type=merge', '-p', JSON.stringify({ spec: { env: [{ name: 'EXTRA', value: '1' }] } })]);
    await eventually(() => c.get('apps/deployments', 'default', 'scaled')?.spec.template.spec.containers[0].env.some((e: any) => e.name === 'EXTRA'), 'the edit reaches the Deployment');
    assert.ok(c.get('apps/deployments', 'default', 'scaled')!.spec.replicas >= scaledTo, 'replicas not reset by the edit');
    // Autoscaling off: the HPA goes and spec.replicas is restored.
    c.sim.setNimLoad({ namespace: 'default', service: 'scaled' }, { waiting: 0 }, 'total');
    await c.ok(['patch', 'nimservice', 'scaled', '--type=merge', '-p', JSON.stringify({ spec: { scale: { enabled: false }, replicas: 2 } })]);
    await eventually(() => !c.get('autoscaling/horizontalpodautoscalers', 'default', 'scaled'), 'the HPA deleted');
    await eventually(() => c.get('apps/deployments', 'default', 'scaled')?.spec.replicas === 2, 'replicas restored to spec.replicas');
    await waitState('scaled', 'Ready');
  });

  test('metrics: the ServiceMonitor appears with metrics.enabled and is deleted when metrics are disabled', async () => {
    await apply(svc('watched', { metrics: { enabled: true, serviceMonitor: { interval: '30s' } } }));
    const sm = await eventually(() => c.get('monitoring.coreos.com/servicemonitors', 'default', 'watched'), 'the ServiceMonitor');
    assert.equal(sm.spec.endpoints[0].path, '/v1/metrics');
    await c.ok(['patch', 'nimservice', 'watched', '--type=merge', '-p', JSON.stringify({ spec: { metrics: { enabled: false } } })]);
    await eventually(() => !c.get('monitoring.coreos.com/servicemonitors', 'default', 'watched'), 'the ServiceMonitor deleted (upstream leaves it)');
  });

  test('the Ingress of expose.router.ingress appears and disappears with its field', async () => {
    await apply(svc('ingressed', { expose: { service: { port: 8000 }, router: { hostDomainName: 'example.com', ingress: { ingressClass: 'nginx' } } } }));
    const ing = await eventually(() => c.get('networking.k8s.io/ingresses', 'default', 'ingressed'), 'the Ingress');
    assert.equal(ing.spec.ingressClassName, 'nginx');
    assert.equal(ing.spec.rules[0].host, 'ingressed.default.example.com');
    await waitState('ingressed', 'Ready');
    assert.equal(nimService('ingressed')!.status.model.externalEndpoint, 'ingressed.default.example.com');
    await c.ok(['patch', 'nimservice', 'ingressed', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/expose/router/ingress' }])]);
    await eventually(() => !c.get('networking.k8s.io/ingresses', 'default', 'ingressed'), 'the Ingress deleted');
  });

  test('a model PVC is created once and mounted; a proxy without a CA ConfigMap serves', async () => {
    await apply(svc('stored', {
      storage: { pvc: { create: true, size: '20Gi', volumeAccessMode: 'ReadWriteOnce' } },
      proxy: { httpsProxy: 'http://proxy.corp:3128', noProxy: 'localhost,.svc' },
    }));
    await waitState('stored', 'Ready');
    const pvc = c.get('/persistentvolumeclaims', 'default', 'stored-pvc')!;
    assert.equal(pvc.spec.resources.requests.storage, '20Gi');
    const d = c.get('apps/deployments', 'default', 'stored')!;
    assert.equal(d.spec.template.spec.volumes.find((v: any) => v.name === 'model-store').persistentVolumeClaim.claimName, 'stored-pvc');
    assert.equal(d.spec.template.spec.initContainers, undefined);
    const env = d.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === 'HTTPS_PROXY')?.value, 'http://proxy.corp:3128');
  });
});
