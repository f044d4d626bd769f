/**
 * Every CEL rule of the CRDs, with an object it accepts and one it refuses (and, for transition
 * rules, an update it accepts and one it refuses). A rule added to the API without a case here
 * fails the last test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allCRDs } from '../../src/api/crd.js';
import type { JSONSchemaProps } from '../../src/api/k8s/schemas.js';
import { validateObject } from '../../src/api/validate.js';
import { formatFieldError } from '../../src/api/validation/index.js';

type Obj = Record<string, any>;

const image = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' };
const svc = (spec: Obj, status?: Obj): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata: { name: 'llm', namespace: 'nim' },
  spec: { image, ...spec },
  ...(status ? { status } : {}),
});
const ngc = { authSecret: 'ngc-api-secret', modelPuller: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.4' };
const cache = (source: Obj): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMCache',
  metadata: { name: 'cache', namespace: 'nim' },
  spec: { source, storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } } },
});
const hf = { endpoint: 'https://huggingface.co', namespace: 'meta-llama', authSecret: 'hf', modelPuller: 'nvcr.io/nim/x:1', pullSecret: 'ngc-secret' };
const ds = { endpoint: 'http://datastore:3000/v1/hf', namespace: 'default', authSecret: 'hf', modelPuller: 'nvcr.io/nim/x:1', pullSecret: 'ngc-secret' };
const build = (spec: Obj): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMBuild',
  metadata: { name: 'engine', namespace: 'nim' },
  spec: { nimCache: { name: 'cache' }, image, ...spec },
});
const device = (d: Obj): Obj => ({ name: 'gpu', deviceClassName: 'gpu.nvidia.com', count: 1, ...d });
const gateway = (g: Obj = {}): Obj => ({ namespace: 'gw', name: 'gateway', ...g });

interface Case {
  message: string;
  /** Path of the refusal, as kube-apiserver reports it. */
  field: string;
  accept: Obj;
  refuse: Obj;
  /** For transition rules: the stored object both updates start from. */
  old?: Obj;
}

const CASES: Case[] = [
  {
    message: 'Exactly one of ngc, dataStore, or hf must be defined',
    field: 'spec.source',
    accept: cache({ ngc }),
    refuse: cache({ ngc, hf: { ...hf, modelName: 'm' } }),
  },
  {
    message: 'Exactly one of modelName or datasetName must be defined',
    field: 'spec.source.hf',
    accept: cache({ hf: { ...hf, modelName: 'Llama-3.2-1B' } }),
    refuse: cache({ hf: { ...hf, modelName: 'a', datasetName: 'b' } }),
  },
  {
    message: 'Exactly one of modelName or datasetName must be defined',
    field: 'spec.source.dataStore',
    accept: cache({ dataStore: { ...ds, datasetName: 'squad' } }),
    refuse: cache({ dataStore: { ...ds } }),
  },
  {
    message: "Only one of 'model' or 'modelEndpoint' can be specified",
    field: 'spec.source.ngc',
    accept: cache({ ngc: { ...ngc, modelEndpoint: 'ngc://nim/meta/llama:1' } }),
    refuse: cache({ ngc: { ...ngc, modelEndpoint: 'ngc://nim/meta/llama:1', model: { engine: 'vllm' } } }),
  },
  {
    message: 'modelPuller is an immutable field. Please create a new NIMCache resource instead when you want to change this container.',
    field: 'spec.source.ngc.modelPuller',
    old: cache({ ngc }),
    accept: cache({ ngc: { ...ngc, pullSecret: 'changed-is-fine' } }),
    refuse: cache({ ngc: { ...ngc, modelPuller: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.9.0' } }),
  },
  {
    message: 'autoScaling must be nil or disabled when multiNode is set',
    field: 'spec',
    accept: svc({ multiNode: { parallelism: { pipeline: 2, tensor: 8 } }, scale: { enabled: false } }),
    refuse: svc({ multiNode: { parallelism: { pipeline: 2 } }, scale: { enabled: true, hpa: { maxReplicas: 3 } } }),
  },
  {
    message: 'spec.replicas cannot be set when spec.scale.enabled is true',
    field: 'spec',
    accept: svc({ replicas: 2, scale: { enabled: false } }),
    refuse: svc({ replicas: 2, scale: { enabled: true, hpa: { maxReplicas: 3 } } }),
  },
  {
    message:
      '.spec.expose.ingress is deprecated, and will be removed in a future release. If .spec.expose.ingress is set, please do not set .spec.expose.router.ingress.',
    field: 'spec',
    accept: svc({ expose: { ingress: { enabled: false }, router: { ingress: { ingressClass: 'nginx' } } } }),
    refuse: svc({ expose: { ingress: { enabled: true }, router: { ingress: { ingressClass: 'nginx' } } } }),
  },
  {
    message: 'spec.draResources is immutable',
    field: 'spec',
    old: svc({ draResources: [{ resourceClaimTemplateName: 'gpus' }] }),
    accept: svc({ draResources: [{ resourceClaimTemplateName: 'gpus' }], replicas: 3 }),
    refuse: svc({ draResources: [{ resourceClaimTemplateName: 'other-gpus' }] }),
  },
  {
    message: 'exactly one of spec.resourceClaimName, spec.resourceClaimTemplateName, or spec.claimCreationSpec must be set.',
    field: 'spec.draResources[0]',
    accept: svc({ draResources: [{ resourceClaimName: 'shared-gpu' }] }),
    refuse: svc({ draResources: [{ resourceClaimName: 'shared-gpu', resourceClaimTemplateName: 'gpus' }] }),
  },
  {
    message: 'celExpressions must not be set if attributeSelectors or capacitySelectors are set',
    field: 'spec.draResources[0].claimCreationSpec.devices[0]',
    accept: svc({ draResources: [{ claimCreationSpec: { devices: [device({ celExpressions: ['device.driver == "gpu.nvidia.com"'] })] } }] }),
    refuse: svc({
      draResources: [
        {
          claimCreationSpec: {
            devices: [device({ celExpressions: ['true'], capacitySelectors: [{ key: 'memory', op: 'GreaterThanOrEqual', value: '40Gi' }] })],
          },
        },
      ],
    }),
  },
  {
    message: 'ingress and gateway cannot be specified together',
    field: 'spec.expose.router',
    accept: svc({ expose: { router: { hostDomainName: 'example.com', gateway: gateway() } } }),
    refuse: svc({ expose: { router: { gateway: gateway(), ingress: { ingressClass: 'nginx' } } } }),
  },
  {
    message: 'specify either configMapRef or config, not both',
    field: 'spec.expose.router.eppConfig',
    accept: svc({ expose: { router: { gateway: gateway(), eppConfig: { containerSpec: { name: 'epp', image }, configMapRef: { name: 'epp', key: 'config.yaml' } } } } }),
    refuse: svc({
      expose: {
        router: {
          gateway: gateway(),
          eppConfig: {
            containerSpec: { name: 'epp', image },
            configMapRef: { name: 'epp', key: 'config.yaml' },
            config: { plugins: [{ type: 'queue-scorer' }], schedulingProfiles: [{ name: 'default', plugins: [{ pluginRef: 'queue-scorer' }] }] },
          },
        },
      },
    }),
  },
  {
    message: 'Must have port for Service reference',
    field: 'spec.expose.router.gateway.backendRef',
    accept: svc({ expose: { router: { gateway: gateway({ backendRef: { name: 'llm-pool', group: 'inference.networking.k8s.io', kind: 'InferencePool' } }) } } }),
    refuse: svc({ expose: { router: { gateway: gateway({ backendRef: { name: 'llm' } }) } } }),
  },
  {
    message: 'mpi and ray are mutually exclusive',
    field: 'spec.multiNode',
    accept: svc({ multiNode: { parallelism: { pipeline: 2 }, ray: {} } }),
    refuse: svc({ multiNode: { parallelism: { pipeline: 2 }, ray: {}, mpi: {} } }),
  },
  {
    message: 'if create is true, name must not be set; otherwise name is required.',
    field: 'spec.multiNode.computeDomain',
    accept: svc({ multiNode: { parallelism: { pipeline: 2 }, computeDomain: { create: true } } }),
    refuse: svc({ multiNode: { parallelism: { pipeline: 2 }, computeDomain: { create: false } } }),
  },
  {
    message: 'exactly one of resourceClaimStatus and resourceClaimTemplateStatus must be set.',
    field: 'status.draResourceStatuses[0]',
    accept: svc({}, { draResourceStatuses: [{ name: 'gpu', resourceClaimStatus: { name: 'c', state: 'allocated,reserved' } }] }),
    refuse: svc({}, { draResourceStatuses: [{ name: 'gpu' }] }),
  },
  {
    message: 'spec is immutable',
    field: 'spec',
    old: build({ modelName: 'llama-h100' }),
    accept: build({ modelName: 'llama-h100' }),
    refuse: build({ modelName: 'llama-h100-v2' }),
  },
];

/** NIMService spec rules (all but the transition one) also hold inside a NIMPipeline. */
function inPipeline(c: Case): Case | undefined {
  if (c.old || c.accept.kind !== 'NIMService' || c.field.startsWith('status')) return undefined;
  const wrap = (o: Obj): Obj => ({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMPipeline',
    metadata: { name: 'rag', namespace: 'nim' },
    spec: { services: [{ name: 'llm', enabled: true, spec: o.spec }] },
  });
  return { ...c, field: c.field.replace(/^spec/, 'spec.services[0].spec'), accept: wrap(c.accept), refuse: wrap(c.refuse) };
}

const ALL = [...CASES, ...CASES.map(inPipeline).filter((c): c is Case => c !== undefined)];

for (const c of ALL) {
  const kind = c.accept.kind as string;
  test(`${kind} rule "${c.message.slice(0, 60)}" at ${c.field}`, () => {
    const opts = c.old ? { old: c.old } : {};
    const ok = validateObject(c.accept, opts);
    assert.equal(ok.status, 'valid', `accepted object was refused: ${ok.errors.map(formatFieldError).join('\n')}`);
    const bad = validateObject(c.refuse, opts);
    const lines = bad.errors.map(formatFieldError);
    assert.equal(bad.status, 'invalid');
    assert.deepEqual(lines, [`${c.field}: Invalid value: "${c.field.endsWith('modelPuller') ? 'string' : 'object'}": ${c.message}`]);
    if (c.old) {
      // A transition rule does not apply on create.
      assert.equal(validateObject(c.refuse).status, 'valid', 'a transition rule must not run on create');
    }
  });
}

test('every CEL rule in the generated CRDs has a case here', () => {
  const rules = new Set<string>();
  const walk = (kind: string, s: JSONSchemaProps) => {
    for (const r of s['x-kubernetes-validations'] ?? []) rules.add(`${kind}: ${r.message}`);
    for (const c of Object.values(s.properties ?? {})) walk(kind, c);
    if (s.items) walk(kind, s.items);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(kind, s.additionalProperties);
  };
  for (const crd of allCRDs() as any[]) walk(crd.spec.names.kind, crd.spec.versions[0].schema.openAPIV3Schema);
  const covered = new Set(ALL.map((c) => `${c.accept.kind}: ${c.message}`));
  assert.deepEqual([...rules].filter((r) => !covered.has(r)), []);
  assert.ok(rules.size >= 18);
});
