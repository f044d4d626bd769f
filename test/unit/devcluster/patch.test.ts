/** PATCH semantics of the embedded control plane: JSON patch, merge patch, strategic merge patch. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PatchError, applyPatch, patchTypeOf, unsupportedPatchType } from '../../../src/devcluster/patch/index.js';

type Obj = Record<string, any>;

function deployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'llama',
      namespace: 'nim',
      labels: { app: 'llama', tier: 'inference' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
      finalizers: ['apps.nvidia.com/cleanup'],
      ownerReferences: [
        { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', name: 'llama', uid: 'u-1', controller: true },
      ],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'llama' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'llama' } },
        spec: {
          nodeSelector: { 'nvidia.com/gpu.present': 'true' },
          tolerations: [
            { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'dedicated', operator: 'Equal', value: 'ai', effect: 'NoSchedule' },
          ],
          containers: [
            {
              name: 'nim',
              image: 'nvcr.io/nim/llama:1.0',
              env: [
                { name: 'NIM_CACHE_PATH', value: '/model-store' },
                { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: 'ngc', key: 'key' } } },
              ],
              ports: [
                { name: 'api', containerPort: 8000, protocol: 'TCP' },
                { name: 'metrics', containerPort: 8002, protocol: 'TCP' },
              ],
              volumeMounts: [{ name: 'cache', mountPath: '/model-store' }],
            },
            { name: 'logger', image: 'busybox:1.36', args: ['tail', '-f', '/var/log/nim.log'] },
          ],
          volumes: [{ name: 'cache', persistentVolumeClaim: { claimName: 'llama-cache' } }],
        },
      },
    },
    status: {
      observedGeneration: 4,
      conditions: [
        { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
      ],
    },
  };
}

function service(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'llama', namespace: 'nim' },
    spec: {
      type: 'ClusterIP',
      selector: { app: 'llama' },
      ports: [
        { name: 'api', port: 8000, targetPort: 'api', protocol: 'TCP' },
        { name: 'metrics', port: 8002, targetPort: 8002, protocol: 'TCP' },
      ],
    },
  };
}

const DEPLOYMENT = { model: 'V1Deployment' };
const CUSTOM_RESOURCE = {};

function smp(original: Obj, patch: unknown, model = 'V1Deployment'): Obj {
  return applyPatch('strategic', original, patch, { model });
}

function podSpec(d: Obj): Obj {
  return d.spec.template.spec;
}

function names(list: Obj[]): string[] {
  return list.map((item) => item.name);
}

function rejects(fn: () => unknown, code: number, message?: string | RegExp): PatchError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PatchError, `expected a PatchError, got ${String(caught)}`);
  assert.equal(caught.code, code, `code of: ${caught.message} (${caught.detail ?? ''})`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

describe('patchTypeOf', () => {
  test('recognises the four PATCH content types and ignores parameters', () => {
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf('application/strategic-merge-patch+json;charset=UTF-8'), 'strategic');
    assert.equal(patchTypeOf('application/apply-patch+yaml'), 'apply');
  });

  test('anything else is unsupported, matched as exactly as kube-apiserver does', () => {
    assert.equal(patchTypeOf('application/json'), undefined);
    assert.equal(patchTypeOf('application/yaml'), undefined);
    assert.equal(patchTypeOf('Application/Merge-Patch+JSON'), undefined);
    assert.equal(patchTypeOf(''), undefined);
  });

  test('the 415 for an unsupported type lists what the resource accepts', () => {
    const builtIn = unsupportedPatchType(false);
    assert.equal(builtIn.code, 415);
    assert.equal(builtIn.reason, 'UnsupportedMediaType');
    assert.match(builtIn.message, /application\/strategic-merge-patch\+json/);
    assert.doesNotMatch(unsupportedPatchType(true).message, /strategic/);
  });
});

describe('JSON patch', () => {
  test('adds an env var to the first container and leaves the original untouched', () => {
    const original = deployment();
    const before = structuredClone(original);
    const out = applyPatch(
      'json',
      original,
      [
        { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'NIM_LOG_LEVEL', value: 'DEBUG' } },
        { op: 'replace', path: '/spec/replicas', value: 3 },
      ],
      DEPLOYMENT,
    ) as Obj;
    assert.deepEqual(names(podSpec(out).containers[0].env), ['NIM_CACHE_PATH', 'NGC_API_KEY', 'NIM_LOG_LEVEL']);
    assert.equal(out.spec.replicas, 3);
    assert.deepEqual(original, before);
  });

  test('a failed test op rejects the whole patch with 422 and the server message', () => {
    const original = deployment();
    const err = rejects(
      () =>
        applyPatch(
          'json',
          original,
          [
            { op: 'replace', path: '/spec/replicas', value: 5 },
            { op: 'test', path: '/metadata/resourceVersion', value: '41' },
          ],
          DEPLOYMENT,
        ),
      422,
      'the server rejected our request due to an error in our request',
    );
    assert.equal(err.reason, 'Invalid');
    assert.match(err.detail ?? '', /testing value \/metadata\/resourceVersion failed/);
    assert.equal(original.spec.replicas, 2);
  });

  test('a passing test op lets the patch through; null matches a missing value', () => {
    const out = applyPatch(
      'json',
      deployment(),
      [
        { op: 'test', path: '/spec/replicas', value: 2 },
        { op: 'test', path: '/spec/paused', value: null },
        { op: 'remove', path: '/metadata/finalizers/0' },
      ],
      DEPLOYMENT,
    ) as Obj;
    assert.deepEqual(out.metadata.finalizers, []);
  });

  test('paths that do not exist and unknown ops are 422', () => {
    rejects(() => applyPatch('json', deployment(), [{ op: 'remove', path: '/spec/paused' }], DEPLOYMENT), 422);
    rejects(() => applyPatch('json', deployment(), [{ op: 'replace', path: '/spec/nope/x', value: 1 }], DEPLOYMENT), 422);
    rejects(
      () => applyPatch('json', deployment(), [{ op: 'add', path: '/spec/template/spec/containers/9', value: {} }], DEPLOYMENT),
      422,
    );
    const err = rejects(() => applyPatch('json', deployment(), [{ op: 'merge', path: '/spec' }], DEPLOYMENT), 422);
    assert.match(err.detail ?? '', /Unexpected kind: merge/);
  });

  test('a negative index counts from the end of the list', () => {
    const out = applyPatch('json', deployment(), [{ op: 'remove', path: '/spec/template/spec/containers/-1' }], DEPLOYMENT) as Obj;
    assert.deepEqual(names(podSpec(out).containers), ['nim']);
  });

  test('a body that is not a list of operations is a 400; too many operations a 413', () => {
    rejects(
      () => applyPatch('json', deployment(), { op: 'add' }, DEPLOYMENT),
      400,
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
    const many = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    rejects(() => applyPatch('json', deployment(), many, DEPLOYMENT), 413, /maximum operations in a JSON patch is 10000, got 10001/);
  });

  test('works on custom resources too', () => {
    const cr = { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', spec: { replicas: 1 } };
    const out = applyPatch('json', cr, [{ op: 'replace', path: '/spec/replicas', value: 4 }], CUSTOM_RESOURCE) as Obj;
    assert.equal(out.spec.replicas, 4);
  });
});

describe('JSON merge patch', () => {
  test('null deletes, objects merge recursively', () => {
    const original = deployment();
    const out = applyPatch(
      'merge',
      original,
      { metadata: { labels: { tier: null, team: 'ml' }, annotations: null }, spec: { replicas: 1 } },
      DEPLOYMENT,
    ) as Obj;
    assert.deepEqual(out.metadata.labels, { app: 'llama', team: 'ml' });
    assert.equal('annotations' in out.metadata, false);
    assert.equal(out.spec.replicas, 1);
    assert.equal(out.spec.strategy.type, 'RollingUpdate');
    assert.equal(original.metadata.labels.tier, 'inference');
  });

  test('lists are replaced whole, even containers', () => {
    const out = applyPatch(
      'merge',
      deployment(),
      { spec: { template: { spec: { containers: [{ name: 'nim', image: 'nvcr.io/nim/llama:1.1' }] } } } },
      DEPLOYMENT,
    ) as Obj;
    assert.deepEqual(podSpec(out).containers, [{ name: 'nim', image: 'nvcr.io/nim/llama:1.1' }]);
  });

  test('nulls inside a newly added object are dropped', () => {
    const out = applyPatch('merge', deployment(), { spec: { paused: true, revisionHistoryLimit: null, progress: { a: 1, b: null } } }, DEPLOYMENT) as Obj;
    assert.equal(out.spec.paused, true);
    assert.equal('revisionHistoryLimit' in out.spec, false);
    assert.deepEqual(out.spec.progress, { a: 1 });
  });

  test('a status patch of a custom resource', () => {
    const cr = { kind: 'NIMCache', status: { state: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] } };
    const out = applyPatch('merge', cr, { status: { state: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] } }, CUSTOM_RESOURCE) as Obj;
    assert.deepEqual(out.status, { state: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] });
  });

  test('a body that is not an object is a 400', () => {
    rejects(() => applyPatch('merge', deployment(), [{ spec: {} }], DEPLOYMENT), 400, 'Invalid JSON Patch');
    rejects(() => applyPatch('merge', deployment(), null, DEPLOYMENT), 400, 'Invalid JSON Patch');
  });
});

describe('strategic merge patch: lists merged by key', () => {
  test('adding an env var to one container by name keeps its other vars and the other containers', () => {
    const original = deployment();
    const before = structuredClone(original);
    const out = smp(original, {
      spec: { template: { spec: { containers: [{ name: 'nim', env: [{ name: 'NIM_LOG_LEVEL', value: 'DEBUG' }] }] } } },
    });
    const [nim, logger] = podSpec(out).containers;
    assert.deepEqual(names(podSpec(out).containers), ['nim', 'logger']);
    assert.deepEqual(names(nim.env).sort(), ['NGC_API_KEY', 'NIM_CACHE_PATH', 'NIM_LOG_LEVEL']);
    assert.equal(nim.image, 'nvcr.io/nim/llama:1.0');
    assert.deepEqual(nim.env.find((e: Obj) => e.name === 'NGC_API_KEY').valueFrom.secretKeyRef, { name: 'ngc', key: 'key' });
    assert.deepEqual(logger, before.spec.template.spec.containers[1]);
    assert.deepEqual(original, before);
  });

  test('changing an existing env var merges into it', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'nim', env: [{ name: 'NIM_CACHE_PATH', value: '/cache' }] }] } } },
    });
    const env = podSpec(out).containers[0].env;
    assert.deepEqual(env[0], { name: 'NIM_CACHE_PATH', value: '/cache' });
    assert.equal(env.length, 2);
  });

  test('$patch: delete removes a container; other containers stay', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'logger', $patch: 'delete' }] } } },
    });
    assert.deepEqual(names(podSpec(out).containers), ['nim']);
  });

  test('ports merge by containerPort, volume mounts by mountPath', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'nim',
                ports: [
                  { containerPort: 8002, name: 'prom' },
                  { containerPort: 8080, name: 'grpc' },
                ],
                volumeMounts: [{ mountPath: '/model-store', readOnly: true }],
              },
            ],
          },
        },
      },
    });
    const nim = podSpec(out).containers[0];
    const byPort = Object.fromEntries(nim.ports.map((p: Obj) => [p.containerPort, p]));
    assert.deepEqual(Object.keys(byPort).sort(), ['8000', '8002', '8080']);
    assert.deepEqual(byPort[8002], { name: 'prom', containerPort: 8002, protocol: 'TCP' });
    assert.equal(byPort[8000].name, 'api');
    assert.deepEqual(nim.volumeMounts, [{ name: 'cache', mountPath: '/model-store', readOnly: true }]);
  });

  test('a new list item without $setElementOrder goes before the live items it does not name', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'exporter', image: 'dcgm-exporter:3' }] } } },
    });
    assert.deepEqual(names(podSpec(out).containers), ['exporter', 'nim', 'logger']);
  });

  test('Service ports merge by port', () => {
    const out = smp(service(), { spec: { ports: [{ port: 8000, targetPort: 8001 }] } }, 'V1Service');
    assert.deepEqual(out.spec.ports, [
      { name: 'api', port: 8000, targetPort: 8001, protocol: 'TCP' },
      { name: 'metrics', port: 8002, targetPort: 8002, protocol: 'TCP' },
    ]);
    assert.deepEqual(out.spec.selector, { app: 'llama' });
  });

  test('status conditions merge by type', () => {
    const out = smp(deployment(), {
      status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] },
    });
    assert.deepEqual(
      out.status.conditions.map((c: Obj) => `${c.type}=${c.status}/${c.reason}`).sort(),
      ['Available=True/MinimumReplicasAvailable', 'Progressing=True/ReplicaSetUpdated'],
    );
  });

  test('owner references merge by uid', () => {
    const out = smp(deployment(), {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-2' }] },
    });
    assert.deepEqual(out.metadata.ownerReferences.map((o: Obj) => o.uid).sort(), ['u-1', 'u-2']);
  });

  test('a Pod: volumes merge by name, init containers by name', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        initContainers: [{ name: 'fetch', image: 'nim-cache:1' }],
        containers: [{ name: 'nim', image: 'nim:1' }],
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
    };
    const out = smp(
      pod,
      { spec: { initContainers: [{ name: 'fetch', args: ['--all'] }], volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }] } },
      'V1Pod',
    );
    assert.deepEqual(out.spec.initContainers, [{ name: 'fetch', image: 'nim-cache:1', args: ['--all'] }]);
    assert.deepEqual(names(out.spec.volumes).sort(), ['cache', 'shm']);
  });
});

describe('strategic merge patch: lists and maps without a merge strategy', () => {
  test('tolerations are replaced whole', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] } } },
    });
    assert.deepEqual(podSpec(out).tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists' }]);
  });

  test('container args are replaced whole', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'logger', args: ['sleep', 'infinity'] }] } } },
    });
    assert.deepEqual(podSpec(out).containers[1].args, ['sleep', 'infinity']);
  });

  test('HPA metrics are replaced whole, its conditions merge by type', () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      spec: {
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
          { type: 'Pods', pods: { metric: { name: 'gpu_cache_usage_perc' }, target: { type: 'AverageValue', averageValue: '0.5' } } },
        ],
      },
      status: { conditions: [{ type: 'AbleToScale', status: 'True' }] },
    };
    const out = smp(
      hpa,
      {
        spec: { metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } }] },
        status: { conditions: [{ type: 'ScalingActive', status: 'True' }] },
      },
      'V2HorizontalPodAutoscaler',
    );
    assert.equal(out.spec.metrics.length, 1);
    assert.equal(out.spec.metrics[0].resource.name, 'memory');
    assert.deepEqual(out.status.conditions.map((c: Obj) => c.type).sort(), ['AbleToScale', 'ScalingActive']);
  });

  test('RoleBinding subjects are replaced whole', () => {
    const rb = {
      kind: 'RoleBinding',
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nim' },
      subjects: [
        { kind: 'ServiceAccount', name: 'a', namespace: 'nim' },
        { kind: 'ServiceAccount', name: 'b', namespace: 'nim' },
      ],
    };
    const out = smp(rb, { subjects: [{ kind: 'ServiceAccount', name: 'c', namespace: 'nim' }] }, 'V1RoleBinding');
    assert.deepEqual(names(out.subjects), ['c']);
  });

  test('maps merge key by key and null deletes a key', () => {
    const out = smp(deployment(), {
      metadata: { labels: { tier: null, team: 'ml' } },
      spec: { template: { spec: { nodeSelector: { 'nvidia.com/gpu.product': 'H100' } } } },
    });
    assert.deepEqual(out.metadata.labels, { app: 'llama', team: 'ml' });
    assert.deepEqual(podSpec(out).nodeSelector, { 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'H100' });
  });

  test('null deletes a whole field, and nulls in new values are dropped', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { nodeSelector: null, affinity: { nodeAffinity: null, podAntiAffinity: { x: null } } } } },
    });
    assert.equal('nodeSelector' in podSpec(out), false);
    assert.deepEqual(podSpec(out).affinity, { podAntiAffinity: {} });
  });

  test('a PodDisruptionBudget selector is replaced, not merged', () => {
    const pdb = { kind: 'PodDisruptionBudget', spec: { minAvailable: 1, selector: { matchLabels: { app: 'llama', tier: 'x' } } } };
    const out = smp(pdb, { spec: { selector: { matchLabels: { app: 'mistral' } } } }, 'V1PodDisruptionBudget');
    assert.deepEqual(out.spec.selector, { matchLabels: { app: 'mistral' } });
    assert.equal(out.spec.minAvailable, 1);
  });
});

describe('strategic merge patch: directives', () => {
  test('$patch: replace on a map replaces it', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { nodeSelector: { $patch: 'replace', 'kubernetes.io/arch': 'arm64' } } } },
    });
    assert.deepEqual(podSpec(out).nodeSelector, { 'kubernetes.io/arch': 'arm64' });
  });

  test('$patch: delete on a map empties it', () => {
    const out = smp(deployment(), { metadata: { annotations: { $patch: 'delete' } } });
    assert.deepEqual(out.metadata.annotations, {});
  });

  test('$patch: replace in a list makes the list exactly the patch items', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'vllm', image: 'vllm:0.6' }] } } },
    });
    assert.deepEqual(podSpec(out).containers, [{ name: 'vllm', image: 'vllm:0.6' }]);
  });

  test('$retainKeys switches a volume source: keys not listed are dropped', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: { volumes: [{ name: 'cache', $retainKeys: ['name', 'emptyDir'], emptyDir: { sizeLimit: '50Gi' } }] },
        },
      },
    });
    assert.deepEqual(podSpec(out).volumes, [{ name: 'cache', emptyDir: { sizeLimit: '50Gi' } }]);
  });

  test('$retainKeys switches a Deployment to Recreate and drops rollingUpdate', () => {
    const out = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  });

  test('$retainKeys must list every key the patch sets', () => {
    rejects(
      () => smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }),
      400,
      'invalid patch format of retainKeys',
    );
  });

  test('finalizers merge as a set; $deleteFromPrimitiveList removes values', () => {
    const added = smp(deployment(), { metadata: { finalizers: ['apps.nvidia.com/cleanup', 'foregroundDeletion'] } });
    assert.deepEqual(added.metadata.finalizers, ['apps.nvidia.com/cleanup', 'foregroundDeletion']);
    const prepended = smp(deployment(), { metadata: { finalizers: ['orphan'] } });
    assert.deepEqual(prepended.metadata.finalizers, ['orphan', 'apps.nvidia.com/cleanup']);
    const removed = smp(added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['apps.nvidia.com/cleanup'] } });
    assert.deepEqual(removed.metadata.finalizers, ['foregroundDeletion']);
    const untouched = smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['not-there'] } });
    assert.deepEqual(untouched.metadata.finalizers, ['apps.nvidia.com/cleanup']);
  });

  test('$setElementOrder puts merged items in the given order', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'logger' }, { name: 'exporter' }, { name: 'nim' }],
            containers: [{ name: 'exporter', image: 'dcgm-exporter:3' }],
          },
        },
      },
    });
    assert.deepEqual(names(podSpec(out).containers), ['logger', 'exporter', 'nim']);
    assert.equal('$setElementOrder/containers' in podSpec(out), false);
  });

  test('a kubectl apply patch (order, add, delete) keeps a server-injected container where kube-apiserver puts it', () => {
    const live = deployment();
    podSpec(live).containers = [
      { name: 'nim', image: 'nim:1' },
      { name: 'sidecar', image: 'sidecar:1' },
      { name: 'istio-proxy', image: 'proxyv2:1.22' },
    ];
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nim' }, { name: 'exporter' }],
            containers: [{ name: 'exporter', image: 'dcgm-exporter:3' }, { name: 'sidecar', $patch: 'delete' }],
          },
        },
      },
    });
    assert.deepEqual(names(podSpec(out).containers), ['nim', 'istio-proxy', 'exporter']);
  });

  test('a patch list out of step with its $setElementOrder is refused', () => {
    rejects(
      () =>
        smp(deployment(), {
          spec: {
            template: {
              spec: {
                '$setElementOrder/containers': [{ name: 'nim' }, { name: 'logger' }],
                containers: [{ name: 'logger' }, { name: 'nim' }],
              },
            },
          },
        }),
      500,
      /doesn't match \$setElementOrder list/,
    );
  });

  test('$patch: merge in a list, a missing merge key and an unknown $patch are server errors', () => {
    const containers = (items: Obj[]) => ({ spec: { template: { spec: { containers: items } } } });
    rejects(() => smp(deployment(), containers([{ $patch: 'merge' }])), 500, 'merging lists cannot yet be specified in the patch');
    rejects(() => smp(deployment(), containers([{ image: 'x' }])), 500, /does not contain declared merge key: name/);
    rejects(() => smp(deployment(), { spec: { strategy: { $patch: 'keep' } } }), 500, /unknown patch type: keep/);
  });
});

describe('strategic merge patch: what it applies to', () => {
  test('a custom resource gets the 415 kube-apiserver gives', () => {
    const cr = { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', spec: { replicas: 1 } };
    const err = rejects(
      () => applyPatch('strategic', cr, { spec: { replicas: 2 } }, CUSTOM_RESOURCE),
      415,
      'the body of the request was in an unknown format - accepted media types include: ' +
        'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    assert.equal(err.reason, 'UnsupportedMediaType');
  });

  test('a body that is not an object is a 400; null changes nothing', () => {
    rejects(() => smp(deployment(), [{ spec: {} }]), 400, /cannot unmarshal array into Go value of type map/);
    assert.deepEqual(smp(deployment(), null), deployment());
  });

  test('a list of lists is a 422', () => {
    const live = deployment();
    podSpec(live).containers[0].env = [];
    rejects(
      () => smp(live, { spec: { template: { spec: { containers: [{ name: 'nim', env: [['x']] }] } } } }),
      422,
      'the server rejected our request due to an error in our request',
    );
  });
});
