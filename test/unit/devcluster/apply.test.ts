/** Server-side apply and managedFields, as kube-apiserver computes them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import { kindDefinition, openAPISchema } from '../../../src/api/v1alpha1/kinds.js';
import {
  apply as applyConfig,
  ApplyConflictError,
  ApplyInvalidError,
  recordUpdate as recordWrite,
  type ApplyOptions,
  type ManagedFieldsEntry,
  type WriteOptions,
} from '../../../src/devcluster/apply/index.js';

type Obj = Record<string, any>;

const apply = (live: Obj | undefined, config: Obj, opts: ApplyOptions): Obj => applyConfig(live, config, opts);
const recordUpdate = (before: Obj | undefined, after: Obj, opts: WriteOptions): Obj => recordWrite(before, after, opts);

const DEPLOYMENT = k8sSchema('V1Deployment');
const SERVICE = k8sSchema('V1Service');
const NIMSERVICE = openAPISchema(kindDefinition('NIMService')!);
const T1 = '2025-01-01T10:00:00Z';
const T2 = '2025-01-01T10:05:00Z';
const T3 = '2025-01-01T10:10:00Z';
const OPERATOR = 'nim-operator';

const applyOpts = (o: Partial<ApplyOptions> = {}): ApplyOptions => ({
  manager: OPERATOR,
  force: false,
  schema: DEPLOYMENT,
  apiVersion: 'apps/v1',
  now: T1,
  ...o,
});
const updateOpts = (o: Partial<WriteOptions> & { manager: string }): WriteOptions => ({
  schema: DEPLOYMENT,
  apiVersion: 'apps/v1',
  now: T2,
  ...o,
});

/** What the operator renders for a NIMService named "llama". */
function deployment(patch: { replicas?: number; env?: Obj[]; args?: string[]; labels?: Obj } = {}): Obj {
  const container: Obj = {
    name: 'llama',
    image: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3',
    ports: [{ name: 'api', containerPort: 8000 }],
    env: patch.env ?? [{ name: 'NIM_CACHE_PATH', value: '/model-store' }],
  };
  if (patch.args) container.args = patch.args;
  const spec: Obj = {
    selector: { matchLabels: { app: 'llama' } },
    template: { metadata: { labels: { app: 'llama' } }, spec: { containers: [container] } },
  };
  if (patch.replicas !== undefined) spec.replicas = patch.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llama', namespace: 'nim', labels: patch.labels ?? { app: 'llama', 'app.kubernetes.io/managed-by': 'nim-operator' } },
    spec,
  };
}

/** What the API server adds when it stores an object. */
function stored(obj: Obj, rv = '1'): Obj {
  const out = structuredClone(obj);
  out.metadata.uid = 'a6a3c1c4-0000-4000-8000-000000000001';
  out.metadata.creationTimestamp = T1;
  out.metadata.resourceVersion = rv;
  out.metadata.generation = 1;
  return out;
}

const entries = (obj: Obj): ManagedFieldsEntry[] => obj.metadata.managedFields;
const entry = (obj: Obj, manager: string, operation = 'Apply'): (ManagedFieldsEntry & { fieldsV1: Obj }) | undefined =>
  entries(obj).find((e) => e.manager === manager && e.operation === operation);
const container = (obj: Obj, name = 'llama'): Obj => obj.spec.template.spec.containers.find((c: Obj) => c.name === name);
const fieldsOf = (obj: Obj, manager: string, operation = 'Apply') => entry(obj, manager, operation)?.fieldsV1 as Obj;
const containerFields = (obj: Obj, manager: string, operation = 'Apply', name = 'llama') =>
  fieldsOf(obj, manager, operation)['f:spec']['f:template']['f:spec']['f:containers'][`k:{"name":"${name}"}`];

describe('create and re-apply', () => {
  test('apply on a missing object creates it with one Apply entry', () => {
    const obj = apply(undefined, deployment({ replicas: 1 }), applyOpts());
    const { managedFields, ...meta } = obj.metadata as Obj;
    assert.deepEqual({ ...obj, metadata: meta }, deployment({ replicas: 1 }));
    assert.equal(managedFields.length, 1);
    const e = managedFields[0] as ManagedFieldsEntry;
    assert.deepEqual(
      { ...e, fieldsV1: undefined },
      { manager: OPERATOR, operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: undefined },
    );
    // kube-apiserver's encoding: a list item owns itself ("."), keys are k:{…} with the defaulted
    // protocol, an atomic struct (the selector) is one field, name and namespace are nobody's.
    assert.equal(
      JSON.stringify(e.fieldsV1),
      JSON.stringify({
        'f:metadata': { 'f:labels': { 'f:app': {}, 'f:app.kubernetes.io/managed-by': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"llama"}': {
                  '.': {},
                  'f:env': { 'k:{"name":"NIM_CACHE_PATH"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":8000,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} } },
                },
              },
            },
          },
        },
      }),
    );
  });

  test('re-applying the same configuration changes nothing, not even the time', () => {
    const live = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    const again = apply(live, deployment({ replicas: 1 }), applyOpts({ now: T3 }));
    assert.deepEqual(again, live);
    assert.equal(entry(again, OPERATOR)!.time, T1);
  });

  test('at rest: server defaults and a controller\'s status do not make the next apply a write', () => {
    const created = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    // What kube-apiserver's defaulting adds, unowned.
    created.spec.revisionHistoryLimit = 10;
    created.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    Object.assign(container(created), { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    container(created).ports[0].protocol = 'TCP';
    // The Deployment controller writes status through the status subresource.
    const withStatus = structuredClone(created);
    withStatus.status = { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
    const live = stored(recordUpdate(created, withStatus, updateOpts({ manager: 'kube-controller-manager', subresource: 'status' })), '2');
    assert.deepEqual(entry(live, 'kube-controller-manager', 'Update')!.subresource, 'status');
    assert.deepEqual(apply(live, deployment({ replicas: 1 }), applyOpts({ now: T3 })), live);
  });

  test('server-set metadata in the configuration (creationTimestamp: null) does not make a change', () => {
    const live = stored(apply(undefined, deployment(), applyOpts()));
    const manifest = deployment();
    manifest.metadata.creationTimestamp = null;
    assert.deepEqual(apply(live, manifest, applyOpts({ now: T3 })), live);
  });

  test('a change moves the entry time', () => {
    const live = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    const next = apply(live, deployment({ replicas: 2 }), applyOpts({ now: T2 }));
    assert.equal(next.spec.replicas, 2);
    assert.equal(entry(next, OPERATOR)!.time, T2);
    assert.equal(next.metadata.uid, live.metadata.uid);
    assert.equal(next.metadata.resourceVersion, '1', 'the caller bumps the resourceVersion');
  });
});

describe('fields the manager stops applying', () => {
  test('are removed from the object', () => {
    const live = stored(
      apply(undefined, deployment({ replicas: 2, args: ['--verbose'], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }), applyOpts()),
    );
    const next = apply(live, deployment({ env: [{ name: 'B', value: '2' }], labels: { app: 'llama' } }), applyOpts({ now: T2 }));
    assert.equal(next.spec.replicas, undefined);
    assert.deepEqual(next.metadata.labels, { app: 'llama' });
    assert.deepEqual(container(next).env, [{ name: 'B', value: '2' }]);
    assert.equal(container(next).args, undefined);
    const f = fieldsOf(next, OPERATOR);
    assert.equal(f['f:spec']['f:replicas'], undefined);
    assert.deepEqual(Object.keys(containerFields(next, OPERATOR)['f:env']), ['k:{"name":"B"}']);
  });

  test('a struct goes when nothing in it is owned any more; server defaults inside it go with it', () => {
    const withStrategy = deployment();
    withStrategy.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } };
    const live = stored(apply(undefined, withStrategy, applyOpts()));
    live.spec.strategy.rollingUpdate.maxSurge = '25%'; // defaulted by the server, owned by nobody
    const next = apply(live, deployment(), applyOpts({ now: T2 }));
    assert.equal(next.spec.strategy, undefined);
  });

  test('stay when another manager owns them too', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), applyOpts()));
    const shared = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'llama', namespace: 'nim' }, spec: { replicas: 3 } }, applyOpts({ manager: 'autoscaler', now: T2 }));
    const dropped = apply(stored(shared, '2'), deployment(), applyOpts({ now: T3 }));
    assert.equal(dropped.spec.replicas, 3);
    assert.deepEqual(fieldsOf(dropped, 'autoscaler'), { 'f:spec': { 'f:replicas': {} } });
    assert.equal(fieldsOf(dropped, OPERATOR)['f:spec']['f:replicas'], undefined);
  });

  test('a list item goes as a whole, even when an updater owns a field in it', () => {
    const live = stored(apply(undefined, deployment({ env: [{ name: 'A', value: '1' }] }), applyOpts()));
    const edited = structuredClone(live);
    container(edited).env[0].value = 'edited';
    const afterEdit = recordUpdate(live, edited, updateOpts({ manager: 'kubectl-edit' }));
    // The operator no longer owns env A's value, only the item and its name; dropping the item
    // from its configuration removes the item (an item goes as a whole).
    assert.deepEqual(containerFields(afterEdit, OPERATOR)['f:env'], { 'k:{"name":"A"}': { '.': {}, 'f:name': {} } });
    const next = apply(stored(afterEdit, '2'), deployment({ env: [] }), applyOpts({ now: T3 }));
    assert.equal(container(next).env, undefined, 'a list emptied by removal is dropped');
    assert.equal(entry(next, 'kubectl-edit', 'Update'), undefined, 'the updater owned only what was removed');
  });
});

describe('shared ownership and conflicts', () => {
  const scaled = () => {
    const live = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    const after = structuredClone(live);
    after.spec.replicas = 3;
    return recordUpdate(live, after, updateOpts({ manager: 'kubectl-client-side-apply' }));
  };

  test('an update takes the fields it changes away from the applier', () => {
    const obj = scaled();
    assert.deepEqual(fieldsOf(obj, 'kubectl-client-side-apply', 'Update'), { 'f:spec': { 'f:replicas': {} } });
    assert.equal(fieldsOf(obj, OPERATOR)['f:spec']['f:replicas'], undefined);
    assert.deepEqual(
      entries(obj).map((e) => [e.manager, e.operation, e.time]),
      [
        [OPERATOR, 'Apply', T1],
        ['kubectl-client-side-apply', 'Update', T2],
      ],
    );
  });

  test('applying another value to a field an updater owns is a conflict, with kube-apiserver\'s message', () => {
    const live = stored(scaled(), '2');
    assert.throws(
      () => apply(live, deployment({ replicas: 1 }), applyOpts({ now: T3 })),
      (err: unknown) => {
        assert.ok(err instanceof ApplyConflictError);
        assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
        assert.deepEqual(err.conflicts, [
          {
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            apiVersion: 'apps/v1',
            field: '.spec.replicas',
            message: 'conflict with "kubectl-client-side-apply" using apps/v1',
          },
        ]);
        assert.deepEqual(err.toStatus(), {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: err.message,
          reason: 'Conflict',
          details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
          code: 409,
        });
        return true;
      },
    );
  });

  test('kubectl scale (an update through /scale) then apply: a conflict naming the subresource', () => {
    const live = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    const scaledUp = structuredClone(live);
    scaledUp.spec.replicas = 4;
    const obj = stored(recordUpdate(live, scaledUp, updateOpts({ manager: 'kubectl', subresource: 'scale' })), '2');
    assert.deepEqual(
      entries(obj).find((e) => e.manager === 'kubectl'),
      { manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' },
    );
    assert.throws(
      () => apply(obj, deployment({ replicas: 1 }), applyOpts({ now: T3 })),
      { message: 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas' },
    );
  });

  test('applying the value already there shares the field', () => {
    const obj = apply(stored(scaled(), '2'), deployment({ replicas: 3 }), applyOpts({ now: T3 }));
    assert.deepEqual(fieldsOf(obj, OPERATOR)['f:spec']['f:replicas'], {});
    assert.deepEqual(fieldsOf(obj, 'kubectl-client-side-apply', 'Update'), { 'f:spec': { 'f:replicas': {} } });
    assert.equal(entry(obj, OPERATOR)!.time, T1, 'nothing changed in the object');
  });

  test('force takes the field over; an updater left with nothing disappears', () => {
    const obj = apply(stored(scaled(), '2'), deployment({ replicas: 1 }), applyOpts({ force: true, now: T3 }));
    assert.equal(obj.spec.replicas, 1);
    assert.deepEqual(fieldsOf(obj, OPERATOR)['f:spec']['f:replicas'], {});
    assert.equal(entry(obj, 'kubectl-client-side-apply', 'Update'), undefined);
  });

  test('two appliers: same value shared, different value a conflict listing every field', () => {
    const live = stored(apply(undefined, deployment({ replicas: 1 }), applyOpts()));
    const other = deployment({ replicas: 1 });
    assert.doesNotThrow(() => apply(live, other, applyOpts({ manager: 'gitops' })));
    other.spec.replicas = 5;
    other.spec.template.spec.containers[0].image = 'nvcr.io/nim/other:1';
    assert.throws(
      () => apply(live, other, applyOpts({ manager: 'gitops' })),
      (err: unknown) =>
        err instanceof ApplyConflictError &&
        err.message ===
          'Apply failed with 2 conflicts: conflicts with "nim-operator":\n- .spec.replicas\n- .spec.template.spec.containers[name="llama"].image',
    );
  });

  test('the status subresource is named in the conflict', () => {
    const cr = nimService();
    const live = stored(apply(undefined, cr, crOpts()));
    const withStatus = stored(apply(live, statusOf('Ready'), crOpts({ subresource: 'status' })));
    assert.throws(
      () => apply(withStatus, statusOf('Failed'), crOpts({ subresource: 'status', manager: 'someone-else' })),
      (err: unknown) =>
        err instanceof ApplyConflictError &&
        err.message === 'Apply failed with 1 conflict: conflict with "nim-operator" with subresource "status": .status.state',
    );
  });
});

describe('list merging', () => {
  const injector = (): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llama', namespace: 'nim' },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'llama', env: [{ name: 'OTEL_ENDPOINT', value: 'http://otel:4317' }] },
            { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
          ],
        },
      },
    },
  });

  test('list-maps merge by key and each manager owns its items', () => {
    const live = stored(apply(undefined, deployment(), applyOpts()));
    const merged = apply(live, injector(), applyOpts({ manager: 'injector', now: T2 }));
    assert.deepEqual(
      merged.spec.template.spec.containers.map((c: Obj) => c.name),
      ['llama', 'proxy'],
    );
    assert.deepEqual(container(merged).env, [
      { name: 'NIM_CACHE_PATH', value: '/model-store' },
      { name: 'OTEL_ENDPOINT', value: 'http://otel:4317' },
    ]);
    assert.equal(container(merged).image, 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3');
    assert.deepEqual(Object.keys(fieldsOf(merged, 'injector')['f:spec']['f:template']['f:spec']['f:containers']), [
      'k:{"name":"llama"}',
      'k:{"name":"proxy"}',
    ]);
    assert.deepEqual(containerFields(merged, 'injector'), {
      '.': {},
      'f:env': { 'k:{"name":"OTEL_ENDPOINT"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
      'f:name': {},
    });

    // The operator re-applies its own configuration: the injected items survive, nothing changes.
    const live2 = stored(merged, '2');
    assert.deepEqual(apply(live2, deployment(), applyOpts({ now: T3 })), live2);

    // The operator drops its env var: only that item goes.
    const next = apply(live2, deployment({ env: [] }), applyOpts({ now: T3 }));
    assert.deepEqual(container(next).env, [{ name: 'OTEL_ENDPOINT', value: 'http://otel:4317' }]);
    assert.equal(container(next, 'proxy').image, 'envoyproxy/envoy:v1.31');
  });

  test('the applied order wins for shared items; items only the live list has keep their place', () => {
    const three = deployment({ env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }] });
    const live = stored(apply(undefined, three, applyOpts({ manager: 'first' })));
    const reordered = deployment({ env: [{ name: 'C', value: '3' }, { name: 'A', value: '1' }] });
    const next = apply(live, reordered, applyOpts({ manager: 'second' }));
    assert.deepEqual(container(next).env.map((e: Obj) => e.name), ['B', 'C', 'A']);
  });

  test('container ports are keyed by containerPort and protocol, protocol defaulting to TCP', () => {
    const live = stored(apply(undefined, deployment(), applyOpts()));
    container(live).ports[0].protocol = 'TCP'; // defaulted by the server
    const udp = deployment();
    container(udp).ports.push({ name: 'metrics', containerPort: 8000, protocol: 'UDP' });
    const next = apply(live, udp, applyOpts({ now: T2 }));
    assert.deepEqual(container(next).ports, [
      { name: 'api', containerPort: 8000, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8000, protocol: 'UDP' },
    ]);
    assert.deepEqual(Object.keys(containerFields(next, OPERATOR)['f:ports']), [
      'k:{"containerPort":8000,"protocol":"TCP"}',
      'k:{"containerPort":8000,"protocol":"UDP"}',
    ]);
  });

  test('Service ports merge by port and protocol', () => {
    const svc = (ports: Obj[]): Obj => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'llama', namespace: 'nim' },
      spec: { selector: { app: 'llama' }, ports },
    });
    const opts = (o: Partial<ApplyOptions> = {}) => applyOpts({ schema: SERVICE, apiVersion: 'v1', ...o });
    const live = stored(apply(undefined, svc([{ name: 'api', port: 8000, targetPort: 'api' }]), opts()));
    const next = apply(live, svc([{ name: 'grpc', port: 8001 }]), opts({ manager: 'other' }));
    assert.deepEqual(next.spec.ports.map((p: Obj) => p.port), [8000, 8001]);
    assert.deepEqual(Object.keys(fieldsOf(next, 'other')['f:spec']['f:ports']), ['k:{"port":8001,"protocol":"TCP"}']);
    // spec.selector is an atomic map: owned as one field, so a different selector conflicts.
    assert.deepEqual(fieldsOf(next, OPERATOR)['f:spec']['f:selector'], {});
  });

  test('atomic lists are replaced whole and owned as one field', () => {
    const live = stored(apply(undefined, deployment({ args: ['--a', '--b'] }), applyOpts()));
    assert.deepEqual(containerFields(live, OPERATOR)['f:args'], {});
    const next = apply(live, deployment({ args: ['--c'] }), applyOpts({ now: T2 }));
    assert.deepEqual(container(next).args, ['--c']);
    assert.throws(
      () => apply(stored(next, '2'), deployment({ args: ['--d'] }), applyOpts({ manager: 'other' })),
      /conflict with "nim-operator": \.spec\.template\.spec\.containers\[name="llama"\]\.args$/,
    );
  });

  test('finalizers are a set and owner references a list-map keyed by uid', () => {
    const owned = (finalizers: string[], uid: string): Obj => {
      const d = deployment();
      d.metadata.finalizers = finalizers;
      d.metadata.ownerReferences = [{ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', name: 'llama', uid, controller: true }];
      return d;
    };
    const live = stored(apply(undefined, owned(['apps.nvidia.com/cleanup'], 'uid-1'), applyOpts()));
    const next = apply(live, owned(['example.com/other'], 'uid-2'), applyOpts({ manager: 'other' }));
    assert.deepEqual(next.metadata.finalizers, ['apps.nvidia.com/cleanup', 'example.com/other']);
    assert.deepEqual(next.metadata.ownerReferences.map((r: Obj) => r.uid), ['uid-1', 'uid-2']);
    const f = fieldsOf(next, 'other')['f:metadata'];
    assert.deepEqual(f['f:finalizers'], { 'v:"example.com/other"': {} });
    assert.deepEqual(f['f:ownerReferences'], { 'k:{"uid":"uid-2"}': {} }, 'an OwnerReference is an atomic struct');
  });

  test('Deployment status conditions merge by type on the status subresource', () => {
    const live = stored(apply(undefined, deployment(), applyOpts()));
    const status = (manager: string, type: string): [Obj, ApplyOptions] => [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'llama', namespace: 'nim' },
        spec: { replicas: 7 }, // ignored: the status subresource writes status only
        status: { conditions: [{ type, status: 'True', reason: 'R', message: '' }] },
      },
      applyOpts({ manager, subresource: 'status', now: T2 }),
    ];
    const one = apply(live, ...status('deployment-controller', 'Available'));
    const two = apply(stored(one, '2'), ...status('progress-checker', 'Progressing'));
    assert.deepEqual(two.status.conditions.map((c: Obj) => c.type), ['Available', 'Progressing']);
    assert.equal(two.spec.replicas, undefined);
    assert.deepEqual(fieldsOf(two, 'progress-checker')['f:status']['f:conditions'], {
      'k:{"type":"Progressing"}': { '.': {}, 'f:message': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} },
    });
  });

  test('a configuration with duplicate or missing keys is refused as kube-apiserver does', () => {
    const dup = deployment({ env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] });
    assert.throws(
      () => apply(undefined, dup, applyOpts()),
      (err: unknown) =>
        err instanceof ApplyInvalidError &&
        err.code === 500 &&
        err.field === '.spec.template.spec.containers[name="llama"].env' &&
        err.message ===
          'failed to create typed patch object (nim/llama; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="llama"].env: duplicate entries for key [name="A"]',
    );
    const noName = deployment({ env: [{ value: '1' }] });
    assert.throws(() => apply(undefined, noName, applyOpts()), /element 0: associative list with keys has an element that omits key field "name"/);
  });
});

test('a configuration of another apiVersion, or with managedFields, is a bad request', () => {
  const v1beta1 = { ...deployment(), apiVersion: 'apps/v1beta1' };
  assert.throws(
    () => apply(undefined, v1beta1, applyOpts()),
    (err: unknown) =>
      err instanceof ApplyInvalidError &&
      err.code === 400 &&
      err.message === 'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1',
  );
  const withFields = deployment();
  withFields.metadata.managedFields = [];
  assert.throws(() => apply(undefined, withFields, applyOpts()), { message: 'metadata.managedFields must be nil' });
});

test('arguments are never modified', () => {
  const freeze = <T>(o: T): T => {
    if (o && typeof o === 'object') {
      for (const v of Object.values(o)) freeze(v);
      Object.freeze(o);
    }
    return o;
  };
  const live = freeze(stored(apply(undefined, deployment({ replicas: 1, env: [{ name: 'A', value: '1' }] }), applyOpts())));
  const config = freeze(deployment({ replicas: 2 }));
  assert.doesNotThrow(() => apply(live, config, applyOpts({ manager: 'other', force: true })));
  assert.doesNotThrow(() => apply(live, config, applyOpts({ now: T2 })));
  assert.doesNotThrow(() => recordUpdate(live, config, updateOpts({ manager: 'kubectl-edit' })));
});

describe('updates (create, update, patch)', () => {
  test('a create records an Update entry, objects and items that appear owning themselves', () => {
    const obj = recordUpdate(undefined, deployment({ replicas: 1 }), updateOpts({ manager: 'kubectl-create', now: T1 }));
    const e = entry(obj, 'kubectl-create', 'Update')!;
    assert.equal(e.time, T1);
    assert.equal(e.apiVersion, 'apps/v1');
    assert.deepEqual(e.fieldsV1['f:metadata'], { 'f:labels': { '.': {}, 'f:app': {}, 'f:app.kubernetes.io/managed-by': {} } });
    assert.deepEqual(containerFields(obj, 'kubectl-create', 'Update')['f:env'], {
      '.': {},
      'k:{"name":"NIM_CACHE_PATH"}': { '.': {}, 'f:name': {}, 'f:value': {} },
    });
  });

  test('an update that changes nothing leaves managedFields as they were', () => {
    const live = stored(recordUpdate(undefined, deployment(), updateOpts({ manager: 'kubectl-create', now: T1 })));
    const same = recordUpdate(live, structuredClone(live), updateOpts({ manager: 'kubectl-edit', now: T3 }));
    assert.deepEqual(same.metadata.managedFields, live.metadata.managedFields);
  });

  test('updates of one manager accumulate; removed fields leave every entry', () => {
    const live = stored(apply(undefined, deployment({ replicas: 1, args: ['--x'] }), applyOpts()));
    const a = structuredClone(live);
    a.spec.paused = true;
    const first = stored(recordUpdate(live, a, updateOpts({ manager: 'kubectl-patch' })), '2');
    const b = structuredClone(first);
    delete b.spec.paused;
    delete container(b).args;
    b.spec.minReadySeconds = 5;
    const second = recordUpdate(first, b, updateOpts({ manager: 'kubectl-patch', now: T3 }));
    assert.deepEqual(fieldsOf(second, 'kubectl-patch', 'Update'), { 'f:spec': { 'f:minReadySeconds': {} } });
    assert.equal(entry(second, 'kubectl-patch', 'Update')!.time, T3);
    assert.equal(containerFields(second, OPERATOR)['f:args'], undefined);
  });

  test('managedFields sent with an update replace the stored ones; [{}] clears them', () => {
    const live = stored(apply(undefined, deployment(), applyOpts()));
    const cleared = structuredClone(live);
    cleared.metadata.managedFields = [{}];
    const out = recordUpdate(live, cleared, updateOpts({ manager: 'kubectl-edit' }));
    assert.equal(out.metadata.managedFields, undefined);
  });

  test('the first apply to an object nobody owns attributes its fields to before-first-apply', () => {
    const legacy = stored(deployment({ replicas: 2 }));
    const obj = apply(legacy, deployment({ replicas: 2 }), applyOpts({ now: T2 }));
    const before = entry(obj, 'before-first-apply', 'Update')!;
    assert.deepEqual(before.fieldsV1['f:spec']['f:replicas'], {});
    assert.throws(() => apply(legacy, deployment({ replicas: 4 }), applyOpts({ now: T2 })), /conflict with "before-first-apply" using apps\/v1: \.spec\.replicas/);
  });

  test('entries are kept per manager and operation, appliers first', () => {
    let obj = stored(apply(undefined, deployment(), applyOpts()));
    const edited = structuredClone(obj);
    edited.metadata.annotations = { note: 'x' };
    obj = stored(recordUpdate(obj, edited, updateOpts({ manager: OPERATOR, now: T2 })), '2');
    obj = apply(obj, deployment({ replicas: 2 }), applyOpts({ now: T3 }));
    assert.deepEqual(
      entries(obj).map((e) => [e.manager, e.operation]),
      [
        [OPERATOR, 'Apply'],
        [OPERATOR, 'Update'],
      ],
    );
  });

  test('more than ten updaters are folded into ancient-changes', () => {
    let obj = stored(apply(undefined, deployment(), applyOpts()));
    for (let i = 0; i < 12; i++) {
      const next = structuredClone(obj);
      next.metadata.annotations = { ...next.metadata.annotations, [`k${i}`]: 'v' };
      obj = recordUpdate(obj, next, updateOpts({ manager: `m${i}`, now: `2025-01-01T11:${String(10 + i)}:00Z` }));
    }
    const updaters = entries(obj).filter((e) => e.operation === 'Update');
    assert.equal(updaters.length, 10);
    const ancient = entry(obj, 'ancient-changes', 'Update')!;
    assert.deepEqual(Object.keys(ancient.fieldsV1['f:metadata']['f:annotations']).sort(), ['.', 'f:k0', 'f:k1', 'f:k2']);
  });
});

// A custom resource: the CRD's own schema, a status subresource, ObjectMeta supplied by the server.
function nimService(): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'llama', namespace: 'nim', labels: { team: 'ml' } },
    spec: {
      image: { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' },
      replicas: 1,
      env: [{ name: 'A', value: '1' }],
      expose: { service: { type: 'ClusterIP', port: 8000 } },
    },
  };
}
function statusOf(state: string): Obj {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name: 'llama', namespace: 'nim' },
    status: {
      state,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: T1 }],
    },
  };
}
const crOpts = (o: Partial<ApplyOptions> = {}) => applyOpts({ schema: NIMSERVICE, apiVersion: 'apps.nvidia.com/v1alpha1', ...o });

describe('custom resources', () => {
  test('spec applies with the CRD schema; metadata merges as ObjectMeta', () => {
    const live = stored(apply(undefined, nimService(), crOpts()));
    assert.deepEqual(fieldsOf(live, OPERATOR), {
      'f:metadata': { 'f:labels': { 'f:team': {} } },
      'f:spec': {
        'f:env': {},
        'f:expose': { 'f:service': { 'f:port': {}, 'f:type': {} } },
        'f:image': { 'f:repository': {}, 'f:tag': {} },
        'f:replicas': {},
      },
    });
    const more = nimService();
    more.metadata.labels = { owner: 'me' };
    more.spec.env = [{ name: 'B', value: '2' }];
    const next = apply(live, more, crOpts({ manager: 'kubectl', force: true, now: T2 }));
    assert.deepEqual(next.metadata.labels, { team: 'ml', owner: 'me' });
    assert.deepEqual(next.spec.env, [{ name: 'B', value: '2' }], 'an unmarked list is atomic');
  });

  test('status on the main resource is neither written nor owned; the status subresource tracks separately', () => {
    const cr = nimService();
    cr.status = { state: 'Ready' };
    const live = stored(apply(undefined, cr, crOpts()));
    assert.equal(live.status, undefined);
    const withStatus = apply(live, statusOf('Ready'), crOpts({ subresource: 'status', now: T2 }));
    assert.equal(withStatus.status.state, 'Ready');
    assert.deepEqual(withStatus.spec, live.spec);
    const e = entries(withStatus).find((x) => x.subresource === 'status')!;
    assert.deepEqual(
      { manager: e.manager, operation: e.operation, time: e.time, fields: e.fieldsV1 },
      { manager: OPERATOR, operation: 'Apply', time: T2, fields: { 'f:status': { 'f:conditions': {}, 'f:state': {} } } },
    );
    // The main-resource entry is untouched, and re-applying the spec keeps the status.
    assert.deepEqual(entry(withStatus, OPERATOR)!.fieldsV1, entry(live, OPERATOR)!.fieldsV1);
    const stable = stored(withStatus, '2');
    assert.deepEqual(apply(stable, nimService(), crOpts({ now: T3 })), stable);
    assert.deepEqual(apply(stable, statusOf('Ready'), crOpts({ subresource: 'status', now: T3 })), stable);
    // Dropping a status field from the status configuration removes it.
    const partial = statusOf('Ready');
    delete partial.status.conditions;
    assert.equal(apply(stable, partial, crOpts({ subresource: 'status', now: T3 })).status.conditions, undefined);
  });

  test('a status update by another manager takes the fields it changed', () => {
    const live = stored(apply(stored(apply(undefined, nimService(), crOpts())), statusOf('Ready'), crOpts({ subresource: 'status' })));
    const after = structuredClone(live);
    after.status.state = 'Failed';
    const out = recordUpdate(live, after, { ...updateOpts({ manager: 'kubectl-patch' }), schema: NIMSERVICE, apiVersion: 'apps.nvidia.com/v1alpha1', subresource: 'status' });
    const mine = entries(out).find((x) => x.manager === 'kubectl-patch')!;
    assert.equal(mine.subresource, 'status');
    assert.deepEqual(mine.fieldsV1, { 'f:status': { 'f:state': {} } });
    assert.deepEqual(entries(out).find((x) => x.manager === OPERATOR && x.subresource === 'status')!.fieldsV1, { 'f:status': { 'f:conditions': {} } });
  });
});
