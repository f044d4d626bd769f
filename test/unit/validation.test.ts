/** The validation engine: pruning, defaulting, schema errors and their Kubernetes-shaped messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateObject } from '../../src/api/validate.js';
import { formatFieldError } from '../../src/api/validation/index.js';

type Obj = Record<string, any>;
const image = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' };
const svc = (spec: Obj, metadata: Obj = { name: 'llm' }): Obj => ({
  apiVersion: 'apps.nvidia.com/v1alpha1',
  kind: 'NIMService',
  metadata,
  spec: { image, ...spec },
});
const errorsOf = (o: Obj, opts = {}) => validateObject(o, opts).errors.map(formatFieldError);

describe('defaults', () => {
  test('schema defaults are applied where the parent is present', () => {
    const v = validateObject(
      svc({
        expose: { service: {}, router: { gateway: { namespace: 'gw', name: 'g' } } },
        scale: { enabled: true, hpa: { maxReplicas: 4 } },
        multiNode: undefined,
      }),
    );
    assert.equal(v.status, 'valid');
    const spec = (v as any).object.spec;
    assert.equal(spec.inferencePlatform, 'standalone');
    assert.equal(spec.expose.service.port, 8000);
    assert.equal(spec.expose.router.gateway.httpRoutesEnabled, true);
    assert.equal(spec.expose.router.gateway.grpcRoutesEnabled, false);
    assert.equal(spec.scale.hpa.minReplicas, 1);
  });

  test('no default is invented for an absent parent', () => {
    const v = validateObject(svc({}));
    assert.equal((v as any).object.spec.expose, undefined);
  });

  test('defaults inside embedded Kubernetes types and list items', () => {
    const v = validateObject(
      svc({
        env: [{ name: 'A', valueFrom: { secretKeyRef: { key: 'k' } } }],
        draResources: [{ claimCreationSpec: { devices: [{ name: 'gpu', attributeSelectors: [{ key: 'productName', value: { stringValue: 'H100' } }] }] } }],
      }),
    );
    assert.equal(v.status, 'valid', v.errors.map(formatFieldError).join('\n'));
    const spec = (v as any).object.spec;
    assert.equal(spec.env[0].valueFrom.secretKeyRef.name, '');
    const dev = spec.draResources[0].claimCreationSpec.devices[0];
    assert.deepEqual([dev.count, dev.deviceClassName, dev.driverName, dev.attributeSelectors[0].op], [1, 'gpu.nvidia.com', 'gpu.nvidia.com', 'Equal']);
  });

  test('null is dropped (then defaulted) for fields that are not nullable', () => {
    const v = validateObject(svc({ inferencePlatform: null, replicas: null }));
    assert.equal(v.status, 'valid');
    assert.equal((v as any).object.spec.inferencePlatform, 'standalone');
    assert.ok(!('replicas' in (v as any).object.spec));
  });
});

describe('unknown fields', () => {
  test('a misspelt field is refused with its path, also inside embedded Kubernetes types', () => {
    const errs = errorsOf(svc({ replica: 2, env: [{ name: 'A', valu: 'x' }], tolerations: [{ key: 'k', efect: 'NoSchedule' }] }));
    assert.deepEqual(errs.sort(), [
      'spec.env[0].valu: Unknown field: field not declared in the NIMService schema',
      'spec.replica: Unknown field: field not declared in the NIMService schema',
      'spec.tolerations[0].efect: Unknown field: field not declared in the NIMService schema',
    ]);
  });

  test('unknown metadata fields are reported; map keys are not fields', () => {
    const errs = errorsOf(svc({ nodeSelector: { 'nvidia.com/gpu.product': 'H100' } }, { name: 'llm', lables: { a: 'b' } }));
    assert.deepEqual(errs, ['metadata.lables: Unknown field: field not declared in the NIMService schema']);
  });

  test('Warn and Ignore modes do not refuse unknown fields', () => {
    const warn = validateObject(svc({ replica: 2 }), { fieldValidation: 'Warn' });
    assert.equal(warn.status, 'valid');
    assert.deepEqual(warn.warnings, ['unknown field "spec.replica"']);
    const ignore = validateObject(svc({ replica: 2 }), { fieldValidation: 'Ignore' });
    assert.deepEqual([ignore.status, ignore.warnings], ['valid', []]);
  });

  test('fields inside preserve-unknown-fields objects are kept', () => {
    const v = validateObject(
      svc({
        expose: {
          router: {
            gateway: { namespace: 'gw', name: 'g' },
            eppConfig: {
              containerSpec: { name: 'epp', image },
              config: { plugins: [{ type: 'x' }], schedulingProfiles: [{ name: 'p', plugins: [{ pluginRef: 'x' }] }], futureField: { a: 1 } },
            },
          },
        },
      }),
    );
    assert.equal(v.status, 'valid', v.errors.map(formatFieldError).join('\n'));
    assert.deepEqual((v as any).object.spec.expose.router.eppConfig.config.futureField, { a: 1 });
  });
});

describe('schema errors are reported as kube-apiserver reports them', () => {
  const cases: [string, Obj, string[]][] = [
    ['required field', { image: { repository: 'r' } }, ['spec.image.tag: Required value']],
    ['minimum', { replicas: -1 }, ['spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0']],
    ['maximum', { expose: { service: { port: 70000 } } }, ['spec.expose.service.port: Invalid value: 70000: spec.expose.service.port in body should be less than or equal to 65535']],
    ['enum', { inferencePlatform: 'kubeflow' }, ['spec.inferencePlatform: Unsupported value: "kubeflow": supported values: "standalone", "kserve"']],
    ['type', { replicas: 'two' }, ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']],
    ['pattern', { metrics: { serviceMonitor: { interval: '30 seconds' } } }, [`spec.metrics.serviceMonitor.interval: Invalid value: "30 seconds": spec.metrics.serviceMonitor.interval in body should match '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'`]],
    ['minLength', { expose: { router: { ingress: { ingressClass: '' } } } }, ['spec.expose.router.ingress.ingressClass: Invalid value: "": spec.expose.router.ingress.ingressClass in body should be at least 1 chars long']],
    ['maxLength', { draResources: [{ claimCreationSpec: { generateName: 'a-very-long-prefix-name', devices: [{ name: 'gpu' }] } }] }, ['spec.draResources[0].claimCreationSpec.generateName: Too long: may not be more than 16 bytes']],
    ['quantity', { storage: { sharedMemorySizeLimit: '1 GB' } }, [`spec.storage.sharedMemorySizeLimit: Invalid value: "1 GB": spec.storage.sharedMemorySizeLimit in body should match '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'`]],
    ['int32 range', { replicas: 3000000000 }, ['spec.replicas: Invalid value: 3000000000: spec.replicas in body must be of type int32: 3000000000']],
    ['map value type', { nodeSelector: { 'nvidia.com/gpu.count': 8 } }, ['spec.nodeSelector[nvidia.com/gpu.count]: Invalid value: "integer": spec.nodeSelector[nvidia.com/gpu.count] in body must be of type string: "integer"']],
  ];
  for (const [name, spec, expected] of cases) {
    test(name, () => {
      const errs = errorsOf(svc(spec)).filter((e) => !e.startsWith('<root>: Invalid value: some validation rules'));
      assert.deepEqual(errs, expected);
    });
  }

  test('quantities accept numbers and suffixed strings', () => {
    assert.equal(validateObject(svc({ storage: { sharedMemorySizeLimit: '16Gi' }, resources: { limits: { 'nvidia.com/gpu': 1, memory: '32Gi', cpu: '500m' } } })).status, 'valid');
  });

  test('type and enum errors stop the CEL rules, with the API server\'s note', () => {
    const errs = errorsOf(svc({ replicas: 'two', scale: { enabled: true } }));
    assert.ok(errs.includes('<root>: Invalid value: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'), errs.join('\n'));
    assert.ok(!errs.some((e) => e.includes('spec.replicas cannot be set')));
  });

  test('duplicate keys of a list-map are refused', () => {
    const errs = errorsOf(svc({ resources: { claims: [{ name: 'gpu' }, { name: 'gpu' }] } }));
    assert.deepEqual(errs, ['spec.resources.claims[1]: Duplicate value: {"name":"gpu"}']);
  });
});

describe('metadata', () => {
  test('name is required and must be a DNS subdomain', () => {
    // A required value that is missing also stops the CEL rules, as in kube-apiserver.
    assert.deepEqual(errorsOf(svc({}, {})), [
      'metadata.name: Required value: name or generateName is required',
      '<root>: Invalid value: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    const errs = errorsOf(svc({}, { name: 'Llama_3' }));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^metadata\.name: Invalid value: "Llama_3": a lowercase RFC 1123 subdomain/);
  });

  test('label keys and values are checked', () => {
    const errs = errorsOf(svc({}, { name: 'llm', labels: { 'bad key!': 'ok', good: 'bad value!' } }));
    assert.equal(errs.length, 2, errs.join('\n'));
  });
});

describe('kinds and versions', () => {
  test('objects of other groups are skipped with a reason', () => {
    const v = validateObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } });
    assert.equal(v.status, 'skipped');
  });

  test('an unknown kind or version of our group is refused', () => {
    assert.deepEqual(validateObject({ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMServce', metadata: { name: 'x' } }).errors.map(formatFieldError), [
      'kind: Unsupported value: "NIMServce": supported values: NIMCache, NIMService, NIMPipeline, NIMBuild',
    ]);
    assert.equal(validateObject({ ...svc({}), apiVersion: 'apps.nvidia.com/v1' }).status, 'invalid');
  });
});
