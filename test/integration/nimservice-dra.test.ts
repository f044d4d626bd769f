/**
 * A NIMService that claims its GPU through Dynamic Resource Allocation (draResources with a
 * claimCreationSpec, as examples/advanced/dra-claim-creation.yaml): the operator writes the
 * ResourceClaimTemplate, the simulated cluster makes and allocates the pod's claim, the NIM runs,
 * and the NIMService reports its claim in status.draResourceStatuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Obj } from '../../src/devcluster/store.js';
import { testNIMService } from '../helpers/nim.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

describe('NIMService with DRA resources', () => {
  let c: SimCluster;
  let op: RunningOperator;
  const nimService = (name: string) => c.get('apps.nvidia.com/nimservices', 'default', name);

  before(async () => {
    c = await startSimCluster();
    op = await startOperator(c);
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '--from-literal=NGC_API_KEY=x']);
  });
  after(async () => {
    await op?.stop();
    await c?.stop();
  });

  test('a claimCreationSpec gets a claim allocated on a Hopper GPU and the service becomes Ready', async () => {
    const draResources = [
      {
        claimCreationSpec: {
          generateName: 'hopper-gpu',
          devices: [
            {
              name: 'gpu',
              count: 1,
              deviceClassName: 'gpu.nvidia.com',
              driverName: 'gpu.nvidia.com',
              attributeSelectors: [
                { key: 'architecture', op: 'Equal', value: { stringValue: 'Hopper' } },
                { key: 'cudaComputeCapability', op: 'GreaterThanOrEqual', value: { versionValue: '9.0.0' } },
                { key: 'gpu.nvidia.com/type', op: 'Equal', value: { stringValue: 'gpu' } },
              ],
              capacitySelectors: [{ key: 'memory', op: 'GreaterThanOrEqual', value: '40Gi' }],
            },
          ],
        },
      },
    ];
    await c.ok(['apply', '-f', '-'], JSON.stringify(testNIMService('dra-llm', { resources: {}, draResources })));
    const ready = await eventually(
      () => {
        const s = nimService('dra-llm');
        const claims = s?.status?.draResourceStatuses?.[0]?.resourceClaimTemplateStatus?.resourceClaimStatuses;
        return s?.status?.state === 'Ready' && claims?.length ? s : undefined;
      },
      `dra-llm Ready with its claim (now ${String(nimService('dra-llm')?.status?.state)})`,
      30_000,
    );
    const tplStatus = ready.status.draResourceStatuses[0].resourceClaimTemplateStatus;
    assert.match(tplStatus.name, /^hopper-gpu/);
    assert.ok(c.get('resource.k8s.io/resourceclaimtemplates', 'default', tplStatus.name), 'the template exists');
    const [claimStatus] = tplStatus.resourceClaimStatuses;
    await eventually(
      () => nimService('dra-llm')?.status?.draResourceStatuses?.[0]?.resourceClaimTemplateStatus?.resourceClaimStatuses?.[0]?.state === 'allocated,reserved',
      'the claim reported allocated,reserved',
      30_000,
    );
    const claim = c.get('resource.k8s.io/resourceclaims', 'default', claimStatus.name)!;
    const [result] = claim.status.allocation.devices.results;
    assert.match(result.pool, /^gpu-h100-/);
    const pod = c.list('/pods', 'default').find((p: Obj) => p.metadata.uid === claim.status.reservedFor[0].uid)!;
    assert.equal(pod.spec.nodeName, result.pool);
    assert.equal(pod.status.phase, 'Running');
  });
});
