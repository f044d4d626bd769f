/** NIMCache objects for render tests, and a check of rendered children against the Kubernetes schemas. */
import assert from 'node:assert/strict';
import type { V1Container, V1EnvVar, V1Job } from '@kubernetes/client-node';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMCache } from '../../../src/api/v1alpha1/kinds.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';

type Spec = NIMCache['spec'];

/** Behaviour 54's NIMCache: NGC, explicit profiles p1 and p2, a 50Gi PVC to create. */
export function ngcCache(patch: Partial<Spec> = {}, name = 'llama'): NIMCache {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMCache',
    metadata: { name, namespace: 'ns', uid: 'uid-1', generation: 1 },
    spec: {
      source: { ngc: { authSecret: 'ngc-api', modelPuller: 'nvcr.io/nim/x:1.0', pullSecret: 'ngc-secret', model: { profiles: ['p1', 'p2'] } } },
      storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteOnce' } },
      ...patch,
    },
  };
}

export function hfCache(source: 'hf' | 'dataStore', hf: Record<string, string> = {}): NIMCache {
  const c = ngcCache();
  const base = {
    endpoint: source === 'hf' ? 'https://huggingface.co' : 'http://nds.example:3000/v1/hf',
    namespace: 'meta-llama',
    authSecret: 'hf',
    modelPuller: 'img:1',
    pullSecret: 'ps',
    ...(hf.datasetName ? {} : { modelName: 'L' }),
    ...hf,
  };
  c.spec.source = { [source]: base } as Spec['source'];
  return c;
}

type Job = Wire<V1Job>;
export const mainOf = (j: Job): Wire<V1Container> => j.spec!.template.spec!.containers[0]!;
export const envMap = (env: Wire<V1EnvVar>[] | undefined) => Object.fromEntries((env ?? []).map((e) => [e.name, e.value]));

const SCHEMAS: Record<string, string> = {
  ServiceAccount: 'V1ServiceAccount',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  ConfigMap: 'V1ConfigMap',
  Pod: 'V1Pod',
  Job: 'V1Job',
};
const validators = new Map<string, StructuralValidator>();

/** A rendered child is valid for its Kubernetes kind: no schema errors, no unknown fields. */
export function assertValidK8s(child: { kind?: string }): void {
  const model = SCHEMAS[child.kind ?? ''];
  assert.ok(model, `${child.kind} is not a kind this helper knows`);
  let v = validators.get(model);
  if (!v) validators.set(model, (v = new StructuralValidator(k8sSchema(model))));
  const r = v.admit(child as Record<string, unknown>);
  assert.deepEqual(r.errors, [], `${child.kind} ${JSON.stringify(r.errors)}`);
  assert.deepEqual(r.unknownFields, [], `${child.kind} has unknown fields`);
}
