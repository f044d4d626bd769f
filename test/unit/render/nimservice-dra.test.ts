/**
 * DRA claims of a NIMService: name hashing, ResourceClaimTemplates and their CEL selectors, pod and
 * container claim references, the version gate and checks, and status.draResourceStatuses
 * (inventory §2.0.4, §2.2.3 step 1, §2.2.11; §6 behaviours 25, 44–47).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1ResourceClaimTemplate } from '@kubernetes/client-node';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';
import { claimTemplateName, nameHash, versionAtLeast } from '../../../src/render/nimservice/dra.js';
import {
  computeDomainStatus,
  draResourceStatuses,
  isCreateOnly,
  missingResourceClaims,
  renderNIMService,
  SpecError,
  type LeaderWorkerSet,
} from '../../../src/render/nimservice/index.js';
import { canonicalQuantity } from '../../../src/api/k8s/quantity.js';
import { assertAllValid, deploymentOf, find, fixture, loadExample, mainOf, readyCache } from './nimservice-fixtures.js';

type Template = Wire<V1ResourceClaimTemplate>;
const templateValidator = new StructuralValidator(k8sSchema('V1ResourceClaimTemplate'));
function assertValidTemplate(t: Template): void {
  const r = templateValidator.admit(t);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unknownFields, []);
}

const templatesOf = (svc: NIMService) => renderNIMService(svc).children.filter((c) => c.kind === 'ResourceClaimTemplate') as Template[];
const selectors = (t: Template, i = 0) => t.spec.spec!.devices!.requests![i]!.exactly!.selectors!.map((s) => s.cel!.expression);
const device = (d: Record<string, unknown>) => fixture({ draResources: [{ claimCreationSpec: { devices: [{ name: 'gpu', ...d }] } }] });

describe('name hashing (§2.0.4)', () => {
  test('upstream\'s test vectors', () => {
    assert.equal(nameHash('test-service'), '8568b4fb55');
    assert.equal(nameHash('meta-llama3-2-1b-instruct'), '6f49c65b4c');
    assert.equal(claimTemplateName('test-service', 'cd-claimtemplate'), 'cd-claimtemplate-8568b4fb55');
    assert.equal(claimTemplateName('meta-llama3-2-1b-instruct', undefined, 0), 'claimtemplate-6f49c65b4c-0');
  });
});

describe('claimCreationSpec (behaviour 45)', () => {
  const svc = fixture(
    {
      draResources: [
        {
          claimCreationSpec: {
            devices: [
              {
                name: 'gpu',
                attributeSelectors: [{ key: 'architecture', op: 'Equal', value: { stringValue: 'Ampere' } }],
                capacitySelectors: [{ key: 'memory', op: 'GreaterThanOrEqual', value: '40Gi' }],
              },
            ],
          },
        },
      ],
    },
    'meta-llama3-2-1b-instruct',
  );
  const r = renderNIMService(svc);
  const t = find<Template>(r.children, 'ResourceClaimTemplate');

  test('ResourceClaimTemplate claimtemplate-<hash>-0 with one ExactCount request and the CEL selectors', () => {
    assert.equal(t.apiVersion, 'resource.k8s.io/v1');
    assert.equal(t.metadata!.name, 'claimtemplate-6f49c65b4c-0');
    assert.deepEqual(t.spec.spec, {
      devices: {
        requests: [
          {
            name: 'gpu',
            exactly: {
              allocationMode: 'ExactCount',
              count: 1,
              deviceClassName: 'gpu.nvidia.com',
              selectors: [
                { cel: { expression: 'device.driver == "gpu.nvidia.com"' } },
                { cel: { expression: 'device.attributes["gpu.nvidia.com"].architecture == "Ampere"' } },
                { cel: { expression: '(device.capacity["gpu.nvidia.com"].memory).compareTo(quantity("40Gi")) >= 0' } },
              ],
            },
          },
        ],
      },
    });
    assertValidTemplate(t);
  });

  test('template metadata: service labels; claims get the labels and the annotations without the spec hash', () => {
    assert.equal(t.metadata!.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
    assert.ok(t.metadata!.annotations!['nvidia.com/parent-spec-hash']);
    assert.deepEqual(t.spec.metadata, { labels: t.metadata!.labels, annotations: { 'openshift.io/required-scc': 'nonroot' } });
    assert.equal(t.metadata!.ownerReferences![0]!.kind, 'NIMService');
    assert.equal(isCreateOnly(t), true);
  });

  test('the pod claims the template; every container references the claim', () => {
    const d = find<Wire<import('@kubernetes/client-node').V1Deployment>>(r.children, 'Deployment');
    const pod = d.spec!.template.spec!;
    assert.deepEqual(pod.resourceClaims, [{ name: 'claim-6f49c65b4c-1-55478b69d5-0', resourceClaimTemplateName: 'claimtemplate-6f49c65b4c-0' }]);
    assert.deepEqual(mainOf(d).resources!.claims, [{ name: 'claim-6f49c65b4c-1-55478b69d5-0' }]);
    assertAllValid(r.children);
  });

  test('order: the templates come right before the workload', () => {
    assert.deepEqual(r.children.map((c) => c.kind).slice(-2), ['ResourceClaimTemplate', 'Deployment']);
  });
});

describe('device selectors (§2.2.11)', () => {
  test('every operator on int, version and quantity; == and != on bool and string; domains; driverName', () => {
    const ops = ['Equal', 'NotEqual', 'GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual'];
    const sym = ['==', '!=', '>', '>=', '<', '<='];
    const t = templatesOf(
      device({
        driverName: 'example.com',
        attributeSelectors: [
          ...ops.map((op, i) => ({ key: 'cores', op, value: { intValue: i } })),
          { key: 'nvidia.com/mig', op: 'NotEqual', value: { boolValue: true } },
          { key: 'model', op: 'NotEqual', value: { stringValue: 'say "hi" \\ bye' } },
          { key: 'driverVersion', op: 'LessThan', value: { versionValue: '550.54.15' } },
        ],
        capacitySelectors: [{ key: 'memory', op: 'LessThanOrEqual', value: '2048Mi' }],
      }),
    )[0]!;
    assert.deepEqual(selectors(t), [
      'device.driver == "example.com"',
      ...sym.map((s, i) => `device.attributes["example.com"].cores ${s} ${i}`),
      'device.attributes["nvidia.com"].mig != true',
      'device.attributes["example.com"].model != "say \\"hi\\" \\\\ bye"',
      '(device.attributes["example.com"].driverVersion).compareTo(semver("550.54.15")) < 0',
      '(device.capacity["example.com"].memory).compareTo(quantity("2Gi")) <= 0',
    ]);
  });

  test('count and deviceClassName are carried; user celExpressions follow the driver check', () => {
    const exprs = ['device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H")', 'device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("79Gi")) >= 0'];
    const t = templatesOf(device({ count: 2, deviceClassName: 'mig.nvidia.com', celExpressions: exprs }))[0]!;
    const req = t.spec.spec!.devices!.requests![0]!.exactly!;
    assert.equal(req.count, 2);
    assert.equal(req.deviceClassName, 'mig.nvidia.com');
    assert.deepEqual(selectors(t), ['device.driver == "gpu.nvidia.com"', ...exprs]);
  });

  test('the example\'s selectors, generateName as prefix', () => {
    const { services, caches } = loadExample('examples/advanced/dra-claim-creation.yaml');
    const r = renderNIMService(services[0]!, { nimCache: readyCache(caches[0]!) });
    const t = find<Template>(r.children, 'ResourceClaimTemplate');
    assert.equal(t.metadata!.name, `hopper-gpu-${nameHash('llama3-8b-dra')}-0`);
    assert.deepEqual(selectors(t).slice(1), [
      'device.attributes["gpu.nvidia.com"].architecture == "Hopper"',
      '(device.attributes["gpu.nvidia.com"].cudaComputeCapability).compareTo(semver("9.0.0")) >= 0',
      'device.attributes["gpu.nvidia.com"].type == "gpu"',
      '(device.capacity["gpu.nvidia.com"].memory).compareTo(quantity("79Gi")) >= 0',
    ]);
    assertValidTemplate(t);
  });

  test('specs upstream fails on throw a SpecError naming the field', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof SpecError);
        return e.field;
      }
      assert.fail('no SpecError');
    };
    assert.equal(
      field(() => templatesOf(device({ attributeSelectors: [{ key: 'mig', op: 'GreaterThan', value: { boolValue: true } }] }))),
      'spec.draResources[0].claimCreationSpec.devices[0].attributeSelectors[0].op',
    );
    assert.equal(field(() => templatesOf(device({ celExpressions: ['device.driver =='] }))), 'spec.draResources[0].claimCreationSpec.devices[0].celExpressions[0]');
    assert.equal(field(() => templatesOf(device({ attributeSelectors: [{ key: 'x', op: 'Equal', value: {} }] }))), 'spec.draResources[0].claimCreationSpec.devices[0].attributeSelectors[0].value');
    // celExpressions with selectors (the CRD refuses it; as if admission were bypassed).
    const mixed = device({ celExpressions: ['true'] });
    mixed.spec.draResources![0]!.claimCreationSpec!.devices[0]!.capacitySelectors = [{ key: 'memory', op: 'Equal', value: '1Gi' }];
    assert.equal(field(() => templatesOf(mixed)), 'spec.draResources[0].claimCreationSpec.devices[0].celExpressions');
  });

  test('quantities in canonical form, as Kubernetes prints them', () => {
    const cases: [string, string][] = [
      ['40Gi', '40Gi'], ['2048Mi', '2Gi'], ['1536Mi', '1536Mi'], ['1.5Ki', '1536'], ['0.5Gi', '512Mi'], ['512Ki', '512Ki'],
      ['1000k', '1M'], ['0.5', '500m'], ['1e3', '1e3'], ['1.5e3', '1500'], ['100', '100'], ['0', '0'], ['0Gi', '0'], ['1.1Ki', '1126400m'],
    ];
    for (const [q, want] of cases) assert.equal(canonicalQuantity(q), want, q);
  });
});

describe('existing claims and templates (behaviour 46)', () => {
  const svc = fixture({ draResources: [{ resourceClaimName: 'c1', requests: ['r1'] }] });
  const h = nameHash('llm');

  test('the pod claims c1; containers reference its request r1', () => {
    const d = deploymentOf(svc);
    const name = `claim-${h}-0-${nameHash('c1')}-0`;
    assert.deepEqual(d.spec!.template.spec!.resourceClaims, [{ name, resourceClaimName: 'c1' }]);
    assert.deepEqual(mainOf(d).resources!.claims, [{ name, request: 'r1' }]);
    assert.equal(renderNIMService(svc).children.some((c) => c.kind === 'ResourceClaimTemplate'), false);
  });

  test('status: allocated and reserved; pending while missing', () => {
    const claim = { metadata: { name: 'c1', namespace: 'ns' }, status: { allocation: {}, reservedFor: [{ resource: 'pods', name: 'p', uid: 'u' }] } };
    assert.deepEqual(draResourceStatuses(svc, [claim]), [{ name: `claim-${h}-0-${nameHash('c1')}-0`, resourceClaimStatus: { name: 'c1', state: 'allocated,reserved' } }]);
    assert.equal((draResourceStatuses(svc, [])[0] as { resourceClaimStatus: { state: string } }).resourceClaimStatus.state, 'pending');
    assert.deepEqual(missingResourceClaims(svc, []), ['c1']);
    assert.deepEqual(missingResourceClaims(svc, [claim]), []);
  });

  test('templates: the claims made for this pod claim name, oldest first, with their states', () => {
    const s = fixture({ draResources: [{ resourceClaimTemplateName: 'one-gpu' }, { resourceClaimTemplateName: 'one-gpu' }] });
    const names = deploymentOf(s).spec!.template.spec!.resourceClaims!.map((c) => c.name);
    assert.deepEqual(names, [`claim-${h}-1-${nameHash('one-gpu')}-0`, `claim-${h}-1-${nameHash('one-gpu')}-1`]);
    const made = (name: string, created: string, extra: object = {}) => ({
      metadata: { name, namespace: 'ns', creationTimestamp: created, annotations: { 'resource.kubernetes.io/pod-claim-name': names[0]! } },
      ...extra,
    });
    const claims = [
      made('b', '2025-01-02T00:00:00Z', { status: { allocation: {} } }),
      made('a', '2025-01-01T00:00:00Z', { metadata: { name: 'a', namespace: 'ns', creationTimestamp: '2025-01-01T00:00:00Z', deletionTimestamp: '2025-01-03T00:00:00Z', annotations: { 'resource.kubernetes.io/pod-claim-name': names[0]! } } }),
      made('c', '2025-01-01T00:00:00Z', { metadata: { name: 'c', namespace: 'other', annotations: { 'resource.kubernetes.io/pod-claim-name': names[0]! } } }),
    ];
    assert.deepEqual(draResourceStatuses(s, claims), [
      { name: names[0], resourceClaimTemplateStatus: { name: 'one-gpu', resourceClaimStatuses: [{ name: 'a', state: 'deleted' }, { name: 'b', state: 'allocated' }] } },
      { name: names[1], resourceClaimTemplateStatus: { name: 'one-gpu' } },
    ]);
  });
});

describe('checks before any child (behaviour 47, §2.2.3 step 1)', () => {
  const svc = fixture({ draResources: [{ resourceClaimTemplateName: 't' }] });

  test('a cluster older than v1.34.0: Failed, DRAResourcesUnsupported, nothing rendered', () => {
    const r = renderNIMService(svc, { serverVersion: 'v1.33.4' });
    assert.deepEqual(r, {
      children: [],
      absent: [],
      blocked: {
        state: 'Failed',
        reason: 'DRAResourcesUnsupported',
        message: "DRA resources are not supported by NIM-Operator on this cluster, please upgrade to k8s version 'v1.34.0' or higher",
      },
    });
    assert.equal(renderNIMService(svc, { serverVersion: 'v1.34.0' }).blocked, undefined);
    assert.equal(renderNIMService(svc).blocked, undefined);
    assert.equal(renderNIMService(fixture(), { serverVersion: 'v1.20.0' }).blocked, undefined);
  });

  test('version comparison: numbers only, vendor suffixes ignored', () => {
    assert.equal(versionAtLeast('v1.34.0-gke.1200'), true);
    assert.equal(versionAtLeast('v1.35.1+k3s1'), true);
    assert.equal(versionAtLeast('v1.9.0'), false);
    assert.equal(versionAtLeast('v2.0'), true);
    assert.equal(versionAtLeast('unknown'), false);
  });

  test('duplicate claim names and versions that are not semver', () => {
    const dup = fixture({ draResources: [{ resourceClaimName: 'c' }, { resourceClaimName: 'c' }] });
    assert.equal(renderNIMService(dup).blocked?.message, "spec.draResources[1].resourceClaimName: duplicate resource claim name: 'c'");
    const bad = device({ attributeSelectors: [{ key: 'v', op: 'Equal', value: { versionValue: '9.0' } }] });
    const b = renderNIMService(bad).blocked!;
    assert.equal(b.reason, 'DRAResourcesUnsupported');
    assert.match(b.message, /^spec\.draResources\[0\]\.claimCreationSpec\.devices\[0\]\.attributeSelectors\[0\]\.value\.versionValue\.version: invalid version "9\.0"/);
  });
});

describe('claims with sidecars, GPU sizing and multi-node', () => {
  test('sidecars reference the claims too; init containers do not', () => {
    const s = fixture({
      draResources: [{ resourceClaimTemplateName: 't' }],
      initContainers: [{ name: 'i', image: { repository: 'busybox', tag: '1' } }],
      sidecarContainers: [{ name: 's', image: { repository: 'busybox', tag: '1' } }],
    });
    const pod = deploymentOf(s).spec!.template.spec!;
    const claim = pod.resourceClaims![0]!.name;
    for (const c of pod.containers) assert.deepEqual(c.resources!.claims, [{ name: claim }]);
    assert.equal(pod.initContainers![0]!.resources, undefined);
  });

  test('no GPU auto-sizing with DRA (behaviour 25)', () => {
    const { services, caches } = loadExample('examples/advanced/dra-claim-creation.yaml');
    const s = services[0]!;
    s.spec.storage!.nimCache!.profile = 'p';
    const cache = readyCache(caches[0]!, { profiles: [{ name: 'p', config: { tp: '2' } }] });
    assert.equal(mainOf(deploymentOf(s, { nimCache: cache })).resources!.limits, undefined);
  });

  test('multi-node: leader and worker claim the templates, the ComputeDomain\'s last', () => {
    const s = fixture({ multiNode: { parallelism: { pipeline: 2, tensor: 4 }, ray: {}, computeDomain: { create: true } }, draResources: [{ resourceClaimTemplateName: 't', requests: ['a', 'b'] }] });
    const lws = find<LeaderWorkerSet>(renderNIMService(s).children, 'LeaderWorkerSet');
    const t = lws.spec.leaderWorkerTemplate;
    for (const pod of [t.leaderTemplate!.spec!, t.workerTemplate.spec!]) {
      const [user, cd] = pod.resourceClaims!;
      assert.equal(user!.resourceClaimTemplateName, 't');
      assert.equal(cd!.resourceClaimTemplateName, `cd-claimtemplate-${nameHash('llm')}`);
      assert.deepEqual(pod.containers[0]!.resources!.claims, [{ name: user!.name, request: 'a' }, { name: user!.name, request: 'b' }, { name: cd!.name }]);
    }
    const statuses = draResourceStatuses(s, []);
    assert.equal(statuses.length, 2);
    assert.deepEqual(computeDomainStatus(s, { status: { status: 'Ready', nodes: [{ name: 'n1', cliqueID: 'c.1', status: 'Ready' }] } }), {
      name: 'llm', status: 'Ready', nodes: [{ name: 'n1', cliqueID: 'c.1', status: 'Ready' }],
    });
    assert.equal(computeDomainStatus(fixture(), undefined), undefined);
  });
});
