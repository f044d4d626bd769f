/** Admission rules: upstream's webhook rules (inventory §3.1, §3.2) and the sharp-edge rules of issue 9. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldError } from '../../../src/api/validation/index.js';
import { admissionCheck, type NodeLike } from '../../../src/webhooks/rules/index.js';

type Obj = Record<string, unknown>;

function cache(spec: Obj = {}): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMCache',
    metadata: { name: 'llama', namespace: 'ai' },
    spec: {
      source: { ngc: { authSecret: 'ngc-api', modelPuller: 'nvcr.io/nim/meta/llama:1.8.4', ...(spec.ngc as Obj) } },
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
      ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'ngc')),
    },
  };
}

function service(spec: Obj = {}, meta: Obj = {}): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'llm', namespace: 'ai', ...meta },
    spec: {
      image: { repository: 'nvcr.io/nim/x', tag: '1.0' },
      authSecret: 'ngc-api',
      storage: { pvc: { name: 'models' } },
      expose: { service: { port: 8000 } },
      replicas: 1,
      ...spec,
    },
  };
}

/** Errors as kubectl prints them, and warnings. */
function check(obj: Obj, opts: Parameters<typeof admissionCheck>[1] = {}) {
  const r = admissionCheck(obj, opts);
  return { errors: r.errors.map(formatFieldError), warnings: r.warnings };
}

function accepts(obj: Obj, opts: Parameters<typeof admissionCheck>[1] = {}) {
  assert.deepEqual(check(obj, opts), { errors: [], warnings: [] });
}

function refuses(obj: Obj, message: string, opts: Parameters<typeof admissionCheck>[1] = {}) {
  const { errors } = check(obj, opts);
  assert.ok(errors.includes(message), `expected ${JSON.stringify(message)} among ${JSON.stringify(errors, null, 1)}`);
}

function warns(obj: Obj, pattern: RegExp, opts: Parameters<typeof admissionCheck>[1] = {}) {
  const { errors, warnings } = check(obj, opts);
  assert.deepEqual(errors, []);
  assert.ok(warnings.some((w) => pattern.test(w)), `expected a warning matching ${pattern} among ${JSON.stringify(warnings, null, 1)}`);
}

describe('NIMCache: upstream rules', () => {
  test('a well-formed cache passes', () => accepts(cache()));

  test('C1 profiles with "all" must have one entry', () => {
    accepts(cache({ ngc: { model: { profiles: ['all'] } } }));
    refuses(
      cache({ ngc: { model: { profiles: ['all', 'p1'] } } }),
      'nimcache.spec.source.ngc.model.profiles: Invalid value: ["all","p1"]: must only have a single entry when it contains \'all\'',
    );
  });

  test('C2 profiles exclude the selectors', () => {
    accepts(cache({ ngc: { model: { engine: 'vllm', tensorParallelism: '2' } } }));
    const { errors } = check(cache({ ngc: { model: { profiles: ['p1'], engine: 'vllm', lora: false } } }));
    assert.deepEqual(errors, [
      'nimcache.spec.source.ngc.model.engine: Forbidden: must be empty if nimcache.spec.source.ngc.model.profiles is provided',
      'nimcache.spec.source.ngc.model.lora: Forbidden: must be empty if nimcache.spec.source.ngc.model.profiles is provided',
    ]);
  });

  test('C3 qosProfile', () => {
    accepts(cache({ ngc: { model: { qosProfile: 'throughput' } } }));
    refuses(
      cache({ ngc: { model: { qosProfile: 'fast' } } }),
      'nimcache.spec.source.ngc.model.qosProfile: Unsupported value: "fast": supported values: "latency", "throughput"',
    );
  });

  test('C4, C5 authSecret and modelPuller non-empty', () => {
    refuses(cache({ ngc: { authSecret: '' } }), 'nimcache.spec.source.ngc.authSecret: Required value: must be non-empty');
    refuses(cache({ ngc: { modelPuller: '' } }), 'nimcache.spec.source.ngc.modelPuller: Required value: must be non-empty');
  });

  test('C6 storage: hostPath alone is not enough', () => {
    const c = cache();
    (c.spec as Obj).storage = { hostPath: '/x' };
    assert.deepEqual(check(c).errors, ['nimcache.spec.storage: Required value: must not be empty']);
  });

  test('C7 pvc.name required unless create; C8 access mode', () => {
    accepts({ ...cache(), spec: { ...(cache().spec as Obj), storage: { pvc: { name: 'models' } } } });
    refuses(
      { ...cache(), spec: { ...(cache().spec as Obj), storage: { pvc: { create: false } } } },
      'nimcache.spec.storage.pvc.name: Required value: must be provided when nimcache.spec.storage.pvc.create is false',
    );
    refuses(
      { ...cache(), spec: { ...(cache().spec as Obj), storage: { pvc: { create: true, volumeAccessMode: 'RWX' } } } },
      'nimcache.spec.storage.pvc.volumeAccessMode: Invalid value: "RWX": unrecognized volumeAccessMode',
    );
  });

  test('C9 noProxy tokens; C10 proxy schemes', () => {
    accepts(cache({ proxy: { noProxy: 'localhost, .svc,10.0.0.1:80,[::1],10.0.0.0/8,[fd00::]/8,', httpsProxy: 'https://p:3128' } }));
    refuses(cache({ proxy: { noProxy: 'ok.local,bad host' } }), 'nimcache.spec.proxy.noProxy[1]: Invalid value: "bad host": invalid token');
    refuses(cache({ proxy: { httpProxy: 'p:3128' } }), 'nimcache.spec.proxy.httpProxy: Invalid value: "p:3128": must start with http:// or https://');
  });

  test('C11 the spec is immutable on update', () => {
    accepts(cache(), { old: cache() });
    refuses(cache({ ngc: { pullSecret: 'other' } }), 'nimcache.spec: Forbidden: is immutable once the object is created', { old: cache() });
  });
});

describe('NIMService: upstream rules', () => {
  test('the fixture passes', () => accepts(service()));

  test('S1, S2 image repository and tag', () => {
    const { errors } = check(service({ image: { repository: '', tag: '' } }));
    assert.deepEqual(errors, ['nimservice.spec.image.repository: Required value: is required', 'nimservice.spec.image.tag: Required value: is required']);
  });

  test('S3 an empty authSecret is a warning', () => {
    warns(service({ authSecret: undefined }), /NGC_API_KEY will not be injected/);
  });

  test('S4 sharedMemorySizeLimit > 0', () => {
    accepts(service({ storage: { pvc: { name: 'models' }, sharedMemorySizeLimit: '1Gi' } }));
    refuses(service({ storage: { pvc: { name: 'models' }, sharedMemorySizeLimit: '0' } }), 'nimservice.spec.storage.sharedMemorySizeLimit: Invalid value: "0": must be > 0');
  });

  test('S5 exactly one storage source', () => {
    accepts(service({ storage: { nimCache: { name: 'llama' } } }));
    refuses(
      service({ storage: { nimCache: { name: 'llama' }, pvc: { name: 'models' } } }),
      'nimservice.spec.storage: Invalid value: "multiple storage sources defined": only one of nimservice.spec.storage.nimCache, nimservice.spec.storage.pvc, nimservice.spec.storage.emptyDir or nimservice.spec.storage.hostPath must be defined',
    );
    refuses(
      service({ storage: {} }),
      'nimservice.spec.storage: Required value: one of nimservice.spec.storage.nimCache, nimservice.spec.storage.pvc, nimservice.spec.storage.emptyDir or nimservice.spec.storage.hostPath, must be defined',
    );
  });

  test('S6 nimCache.profile needs nimCache.name', () => {
    refuses(
      service({ storage: { nimCache: { profile: 'p1' } } }),
      'nimservice.spec.storage.nimCache.name: Required value: is required when nimservice.spec.storage.nimCache is defined',
    );
  });

  test('S7 pvc rules', () => {
    refuses(
      service({ storage: { pvc: { create: false, size: '1Gi' } } }),
      'nimservice.spec.storage.pvc.name: Required value: must be provided when nimservice.spec.storage.pvc.create is false',
    );
  });

  test('S8 router needs hostDomainName; S9 not ingress and gateway', () => {
    accepts(service({ expose: { service: { port: 8000 }, router: { hostDomainName: 'example.com', ingress: { ingressClass: 'nginx' } } } }));
    refuses(
      service({ expose: { service: { port: 8000 }, router: { ingress: { ingressClass: 'nginx' } } } }),
      'nimservice.spec.expose.router.hostDomainName: Required value: is required',
    );
    refuses(
      service({ expose: { router: { hostDomainName: 'e.com', ingress: { ingressClass: 'nginx' }, gateway: { namespace: 'g', name: 'g' } } } }),
      'nimservice.spec.expose.router: Forbidden: ingress and gateway cannot be specified together',
    );
  });

  test('S10 metrics need a serviceMonitor', () => {
    accepts(service({ metrics: { enabled: true, serviceMonitor: { interval: '30s' } } }));
    refuses(service({ metrics: { enabled: true } }), 'nimservice.spec.metrics.serviceMonitor: Required value: must be defined if nimservice.spec.metrics.enabled is true');
  });

  test('S11 scale needs hpa; S12 no replicas with autoscaling', () => {
    refuses(service({ replicas: undefined, scale: { enabled: true } }), 'nimservice.spec.scale.hpa: Required value: must be defined if nimservice.spec.scale.enabled is true');
    refuses(
      service({ scale: { enabled: true, hpa: { maxReplicas: 3 } } }),
      'spec.replicas: Forbidden: cannot be set when autoscaling is enabled; configure min/max replicas in spec.scale.hpa instead',
    );
  });

  test('S13 resources.claims must be empty', () => {
    accepts(service({ resources: { limits: { 'nvidia.com/gpu': '1' } } }));
    refuses(service({ resources: { claims: [{ name: 'gpu' }] } }), 'nimservice.spec.resources.claims: Forbidden: must be empty');
  });

  test('S14 DRA needs Kubernetes 1.34 (when the server version is known)', () => {
    const svc = service({ draResources: [{ resourceClaimTemplateName: 'gpu' }] });
    accepts(svc);
    accepts(svc, { facts: { serverVersion: 'v1.34.1' } });
    refuses(
      svc,
      "nimservice.spec.draResources: Forbidden: is not supported by NIM-Operator on this cluster, please upgrade to k8s version 'v1.34.0' or higher",
      { facts: { serverVersion: 'v1.33.2' } },
    );
  });

  test('S15 one claim source per entry; S16 shared claims', () => {
    refuses(
      service({ draResources: [{ resourceClaimName: 'a', resourceClaimTemplateName: 'b' }] }),
      'nimservice.spec.draResources[0]: Invalid value: "multiple dra resource sources defined": must specify exactly one of nimservice.spec.resourceClaimName, nimservice.spec.resourceClaimTemplateName, or nimservice.spec.claimCreationSpec',
    );
    refuses(
      service({ draResources: [{}] }),
      'nimservice.spec.draResources[0]: Required value: one of nimservice.spec.resourceClaimName, nimservice.spec.resourceClaimTemplateName, or nimservice.spec.claimCreationSpec must be provided',
    );
    refuses(
      service({ replicas: 2, draResources: [{ resourceClaimName: 'a' }] }),
      'nimservice.spec.draResources[0].resourceClaimName: Forbidden: must not be set when nimservice.spec.replicas > 1, use nimservice.spec.draResources[0].resourceClaimTemplateName instead',
    );
    refuses(
      service({ draResources: [{ resourceClaimName: 'a' }, { resourceClaimName: 'a' }] }),
      'nimservice.spec.draResources[1].resourceClaimName: Duplicate value: "a"',
    );
  });

  test('S17 claimCreationSpec devices and selectors', () => {
    const dev = (d: Obj) => service({ draResources: [{ claimCreationSpec: { devices: [{ name: 'gpu', count: 1, deviceClassName: 'gpu.nvidia.com', driverName: 'gpu.nvidia.com', ...d }] } }] });
    const p = 'nimservice.spec.draResources[0].claimCreationSpec.devices[0]';
    accepts(dev({ attributeSelectors: [{ key: 'productName', op: 'Equal', value: { stringValue: 'H100' } }] }));
    refuses(service({ draResources: [{ claimCreationSpec: { devices: [] } }] }), 'nimservice.spec.draResources[0].claimCreationSpec.devices: Required value: must be non-empty');
    refuses(dev({ count: 0 }), `${p}.count: Invalid value: 0: must be > 0`);
    refuses(
      dev({ attributeSelectors: [{ key: 'productName', op: 'Equal', value: { stringValue: 'a' } }, { key: 'gpu.nvidia.com/productName', op: 'Equal', value: { stringValue: 'b' } }] }),
      `${p}.attributeSelectors[1]: Duplicate value: "gpu.nvidia.com/productName"`,
    );
    refuses(
      dev({ attributeSelectors: [{ key: 'x', op: 'Equal', value: {} }] }),
      `${p}.attributeSelectors[0].value: Required value: must specify exactly one of ${p}.attributeSelectors[0].value.boolValue, ${p}.attributeSelectors[0].value.intValue, ${p}.attributeSelectors[0].value.stringValue, or ${p}.attributeSelectors[0].value.versionValue`,
    );
    refuses(
      dev({ attributeSelectors: [{ key: 'driverVersion', op: 'GreaterThan', value: { versionValue: '550' } }] }),
      `${p}.attributeSelectors[0].value: Invalid value: "550": must be a valid semantic version: invalid semantic version "550"`,
    );
  });

  test('S18 KServe: no multiNode; knative mode forbids autoscaling', () => {
    accepts(service({ inferencePlatform: 'kserve' }));
    refuses(
      service({ inferencePlatform: 'kserve', multiNode: { parallelism: { pipeline: 2 } } }),
      'nimservice.spec.multiNode: Forbidden: cannot be set when the inferencePlatform is KServe',
    );
    refuses(
      service({ inferencePlatform: 'kserve', replicas: undefined, storage: { nimCache: { name: 'c' } }, scale: { enabled: true, hpa: { maxReplicas: 2 } }, annotations: { 'serving.kserve.io/deploymentMode': 'Serverless' } }),
      'nimservice.spec.scale.enabled: Forbidden: nimservice.spec.scale (autoscaling) cannot be set when KServe runs in knative mode',
    );
    refuses(
      service({ inferencePlatform: 'kserve', annotations: { 'serving.kserve.io/deploymentMode': 'Fast' } }),
      'nimservice.spec: Internal error: failed to determine KServe deployment mode: deployment mode annotation found but value is invalid: Fast',
    );
  });

  test('S19 legacy ingress: a warning, and an error together with router.ingress', () => {
    warns(service({ expose: { ingress: { enabled: true, spec: {} } } }), /^spec\.expose\.ingress: \.spec\.expose\.ingress is deprecated, use \.spec\.expose\.router instead\./);
    refuses(
      service({ expose: { ingress: { enabled: true }, router: { hostDomainName: 'e.com', ingress: { ingressClass: 'nginx' } } } }),
      'nimservice.spec.expose.ingress: Forbidden: nimservice.spec.expose.ingress is deprecated. Omit the field if you use .spec.expose.router instead',
    );
  });

  test('S20 LoadBalancer with a router warns; grpcRoutes need grpcPort', () => {
    warns(
      service({ expose: { service: { type: 'LoadBalancer', port: 8000 }, router: { hostDomainName: 'e.com', ingress: { ingressClass: 'nginx' } } } }),
      /This creates two entry points for the service/,
    );
    refuses(
      service({ expose: { service: { port: 8000 }, router: { hostDomainName: 'e.com', gateway: { namespace: 'g', name: 'g', grpcRoutesEnabled: true } } } }),
      'nimservice.spec.expose.service.grpcPort: Required value: must be set when .spec.expose.router.gateway.grpcRoutesEnabled is true',
    );
  });

  test('U1 multiNode, U2 a created pvc, U3 draResources are immutable', () => {
    const mn = service({ multiNode: { parallelism: { pipeline: 2 } } });
    accepts(mn, { old: mn });
    refuses(service({ multiNode: { parallelism: { pipeline: 4 } } }), 'spec.multiNode: Forbidden: is immutable once the resource is created', { old: mn });
    const created = service({ storage: { pvc: { create: true, size: '10Gi' } } });
    accepts(service({ storage: { pvc: { create: true, size: '10Gi' } }, replicas: 3 }), { old: created });
    refuses(
      service({ storage: { pvc: { create: true, size: '20Gi' } } }),
      'spec.storage.pvc: Forbidden: is immutable once it is created with spec.storage.pvc.create = true',
      { old: created },
    );
    refuses(service({ draResources: [{ resourceClaimTemplateName: 'b' }] }), 'spec.draResources: Forbidden: is immutable', {
      old: service({ draResources: [{ resourceClaimTemplateName: 'a' }] }),
    });
  });
});

describe('sharp edges: warnings by default, refusals when strict', () => {
  test('spec.replicas with autoscaling is always refused', () => {
    refuses(
      service({ storage: { nimCache: { name: 'c' } }, scale: { enabled: true, hpa: { maxReplicas: 3, metrics: [{ type: 'Pods', pods: {} }] } } }),
      'spec.replicas: Forbidden: cannot be set when autoscaling is enabled; configure min/max replicas in spec.scale.hpa instead',
    );
  });

  test('emptyDir and hostPath model storage', () => {
    accepts(service({ storage: { nimCache: { name: 'c' } } }));
    warns(service({ storage: { emptyDir: {} } }), /^spec\.storage\.emptyDir: an emptyDir model store re-pulls the model on every restart: use a NIMCache on a PVC/);
    warns(service({ storage: { hostPath: '/models' } }), /^spec\.storage\.hostPath: a hostPath model store pins the pod to one node: use a NIMCache on a PVC/);
    refuses(
      service({ storage: { emptyDir: {} } }),
      'spec.storage.emptyDir: Forbidden: an emptyDir model store re-pulls the model on every restart: use a NIMCache on a PVC (spec.storage.nimCache.name)',
      { strict: true },
    );
    const c = cache();
    ((c.spec as Obj).storage as Obj).hostPath = '/x';
    warns(c, /^spec\.storage\.hostPath: hostPath is deprecated and ignored/);
  });

  const podsMetric = [{ type: 'Pods', pods: { metric: { name: 'num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '10' } } }];
  test('an autoscaled NIMService without a NIMCache', () => {
    accepts(service({ replicas: undefined, storage: { nimCache: { name: 'c' } }, scale: { enabled: true, hpa: { maxReplicas: 3, metrics: podsMetric } } }));
    warns(
      service({ replicas: undefined, scale: { enabled: true, hpa: { maxReplicas: 3, metrics: podsMetric } } }),
      /^spec\.storage\.nimCache: an autoscaled NIMService without a NIMCache downloads the model again in every new replica.*set spec\.storage\.nimCache\.name$/,
    );
  });

  test('image tag latest (NIMService) and missing or latest (NIMCache modelPuller)', () => {
    warns(service({ image: { repository: 'nvcr.io/nim/x', tag: 'latest' } }), /^spec\.image\.tag: image nvcr\.io\/nim\/x:latest uses the floating tag "latest".*pin an exact version/);
    warns(cache({ ngc: { modelPuller: 'nvcr.io/nim/meta/llama' } }), /^spec\.source\.ngc\.modelPuller: modelPuller nvcr\.io\/nim\/meta\/llama has no tag/);
    accepts(cache({ ngc: { modelPuller: 'registry:5000/nim/llama@sha256:abc' } }));
    refuses(
      cache({ ngc: { modelPuller: 'nvcr.io/nim/llama:latest' } }),
      'spec.source.ngc.modelPuller: Forbidden: modelPuller nvcr.io/nim/llama:latest uses the floating tag "latest", which changes on every pull: pin an exact version (for example 1.8.4) or a digest',
      { strict: true },
    );
  });

  test('CPU-only HPA metrics on a GPU workload', () => {
    const scaled = (metrics?: unknown[]) =>
      service({ replicas: undefined, storage: { nimCache: { name: 'c' } }, resources: { limits: { 'nvidia.com/gpu': '1' } }, scale: { enabled: true, hpa: { maxReplicas: 3, ...(metrics ? { metrics } : {}) } } });
    accepts(scaled(podsMetric));
    warns(scaled([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]), /^spec\.scale\.hpa\.metrics: the HPA scales on CPU only.*add a Pods or Object metric/);
    warns(scaled(), /^spec\.scale\.hpa\.metrics: no metrics means the HPA scales on CPU only/);
  });

  const node = (name: string, labels: Record<string, string>): NodeLike => ({ metadata: { name, labels: { 'nvidia.com/gpu.present': 'true', ...labels } }, status: { capacity: { 'nvidia.com/gpu': '4' } } });
  const l40sVGPU = node('l40s-1', { 'nvidia.com/gpu.product': 'NVIDIA-L40S', 'nvidia.com/vgpu.present': 'true' });
  const h100VGPU = node('h100-1', { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'nvidia.com/vgpu.host-driver-version': '550.90' });
  const l40sBare = node('l40s-2', { 'nvidia.com/gpu.product': 'NVIDIA-L40S' });

  test('a multi-GPU model on vGPU nodes without NVLink (from nvidia.com/gpu)', () => {
    const twoGPUs = service({ resources: { limits: { 'nvidia.com/gpu': '2' } } });
    accepts(twoGPUs, { facts: { nodes: [h100VGPU, l40sBare] } });
    accepts(service({ resources: { limits: { 'nvidia.com/gpu': '1' } } }), { facts: { nodes: [l40sVGPU] } });
    accepts(service({ resources: { limits: { 'nvidia.com/gpu': '2' } }, nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' } }), { facts: { nodes: [l40sVGPU, h100VGPU] } });
    warns(twoGPUs, /^spec\.resources\.limits\[nvidia\.com\/gpu\]: the model needs 2 GPUs per pod, but vGPU nodes l40s-1 \(NVIDIA-L40S\) have no NVLink.*set spec\.nodeSelector/, { facts: { nodes: [l40sVGPU, h100VGPU] } });
  });

  test('a multi-GPU model from the NIMCache profile\'s tensor parallelism', () => {
    const c = { ...cache(), metadata: { name: 'llama', namespace: 'ai' }, status: { profiles: [{ name: 'tp2', config: { tp: '2' } }, { name: 'tp1', config: { tp: '1' } }] } };
    const facts = { nodes: [l40sVGPU], nimCaches: [c as never] };
    accepts(service({ storage: { nimCache: { name: 'llama', profile: 'tp1' } } }), { facts });
    refuses(
      service({ storage: { nimCache: { name: 'llama', profile: 'tp2' } } }),
      'spec.storage.nimCache.profile: Forbidden: the model needs 2 GPUs per pod, but vGPU nodes l40s-1 (NVIDIA-L40S) have no NVLink, and tensor parallelism over vGPU needs NVLink peer-to-peer (only A100 or H100 with NVLink): set spec.nodeSelector to NVLink A100/H100 nodes (nvidia.com/gpu.product) or choose a profile with tensor parallelism 1',
      { facts, strict: true },
    );
  });

  test('the deprecated spec.expose.ingress, with the exact spec.expose.router.ingress rewrite', () => {
    const svc = service({
      expose: {
        service: { port: 8000 },
        ingress: {
          enabled: true,
          annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '0' },
          spec: { ingressClassName: 'nginx', rules: [{ host: 'llm.ai.example.com' }], tls: [{ hosts: ['llm.ai.example.com'], secretName: 'llm-tls' }] },
        },
      },
    });
    const { warnings, errors } = check(svc);
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, [
      'spec.expose.ingress: .spec.expose.ingress is deprecated, use .spec.expose.router instead. Remove spec.expose.ingress and set spec.expose.router: {hostDomainName: example.com, annotations: {nginx.ingress.kubernetes.io/proxy-body-size: "0"}, ingress: {ingressClass: nginx, tlsSecretName: llm-tls}}',
    ]);
    refuses(svc, `spec.expose.ingress: Forbidden: ${warnings[0]!.slice('spec.expose.ingress: '.length)}`, { strict: true });
  });

  test('other kinds pass with nothing to say', () => {
    assert.deepEqual(admissionCheck({ kind: 'NIMBuild', spec: {} }), { errors: [], warnings: [] });
  });
});
