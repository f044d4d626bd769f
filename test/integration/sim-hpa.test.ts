/**
 * The simulated HPA controller: replicas computed from simulated metrics, written to the target's
 * scale; a manual `kubectl scale` is reverted; min/max limits and the scale-down window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

let c: SimCluster;
before(async () => {
  c = await startSimCluster();
});
after(async () => {
  await c?.stop();
});

const replicasOf = (ns: string, name: string) => c.get('apps/deployments', ns, name)?.spec?.replicas as number | undefined;

describe('HorizontalPodAutoscaler', () => {
  test('kubectl scale on a Deployment under an HPA is reverted by the HPA', async () => {
    const ns = 'hpa-revert';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '-n', ns]);
    await c.ok(['set', 'resources', 'deployment/web', '--requests=cpu=500m', '-n', ns]);
    await c.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
    // The workload's load is 100% of one pod's CPU request, shared by its pods: two pods at 50%.
    c.sim.setMetric({ namespace: ns, name: 'cpu', target: 'web', value: 100, spread: 'total' });
    const autoscaler = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(autoscaler));
    const hpa = await eventually(() => {
      const h = c.get('autoscaling/horizontalpodautoscalers', ns, 'web');
      return condition(h, 'ScalingActive')?.status === 'True' ? h : undefined;
    }, 'the HPA to compute');
    assert.equal(hpa.status.desiredReplicas, 2);
    assert.equal(hpa.status.currentReplicas, 2);
    assert.equal(hpa.status.currentMetrics[0].resource.current.averageUtilization, 50);
    assert.equal(hpa.status.currentMetrics[0].resource.current.averageValue, '250m');
    // Below the HPA's recommendation: scaled back up at once (each pod now carries all the load).
    await c.ok(['scale', 'deployment/web', '--replicas=1', '-n', ns]);
    await eventually(() => replicasOf(ns, 'web') === 2 && c.get('apps/deployments', ns, 'web')?.status?.readyReplicas === 2, 'the HPA to scale back up to 2');
    // Above maxReplicas: back to the maximum, then, once the new pods share the load, down to 2.
    await c.ok(['scale', 'deployment/web', '--replicas=9', '-n', ns]);
    await eventually(() => replicasOf(ns, 'web') === 2, 'the HPA to scale back down to 2');
    await c.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
    const after = c.get('autoscaling/horizontalpodautoscalers', ns, 'web')!;
    assert.equal(after.status.desiredReplicas, 2);
    assert.ok(after.status.lastScaleTime);
    const events = await c.ok(['get', 'events', '-n', ns, '--field-selector', 'reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /New size: 2; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(events, /New size: 5; reason: Current number of replicas above Spec.MaxReplicas/);
    assert.match(events, /New size: 2; reason: All metrics below target/);
  });

  test('more load scales up, limited by maxReplicas; less load scales down after the window', async () => {
    const ns = 'hpa-up';
    await c.ok(['create', 'namespace', ns]);
    await c.ok(['create', 'deployment', 'api', '--image=nginx:1.27', '--replicas=1', '-n', ns]);
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{ type: 'External', external: { metric: { name: 'queue_depth' }, target: { type: 'AverageValue', averageValue: '10' } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    };
    await c.ok(['apply', '-f', '-'], JSON.stringify(hpa));
    await eventually(() => condition(c.get('autoscaling/horizontalpodautoscalers', ns, 'api'), 'ScalingActive')?.reason === 'FailedGetExternalMetric', 'no metric yet');
    c.sim.setMetric({ namespace: ns, name: 'queue_depth', value: 55 });
    await eventually(() => replicasOf(ns, 'api') === 3, 'three replicas');
    await eventually(() => condition(c.get('autoscaling/horizontalpodautoscalers', ns, 'api'), 'ScalingLimited')?.reason === 'TooManyReplicas', 'limited');
    c.sim.setMetric({ namespace: ns, name: 'queue_depth', value: 15 });
    await eventually(() => replicasOf(ns, 'api') === 2, 'two replicas');
    c.sim.setMetric({ namespace: ns, name: 'queue_depth', value: 0 });
    await eventually(() => replicasOf(ns, 'api') === 1, 'back to minReplicas');
    assert.equal(condition(c.get('autoscaling/horizontalpodautoscalers', ns, 'api'), 'ScalingLimited')?.reason, 'TooFewReplicas');
  });
});
