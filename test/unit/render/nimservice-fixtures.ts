/** Shared fixtures of the NIMService render tests: examples loaded as the API server stores them, and a K8s schema check. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { k8sSchema } from '../../../src/api/k8s/schemas.js';
import { parseManifests } from '../../../src/api/manifests.js';
import type { Wire } from '../../../src/api/schema.js';
import type { NIMCache, NIMService } from '../../../src/api/v1alpha1/kinds.js';
import { validateObject } from '../../../src/api/validate.js';
import { StructuralValidator } from '../../../src/api/validation/index.js';
import { renderNIMService, type Child, type NIMServiceFacts } from '../../../src/render/nimservice/index.js';

export type Deployment = Wire<V1Deployment>;

/** The objects of an example file, defaulted as the API server would store them. */
export function loadExample(path: string): { services: NIMService[]; caches: NIMCache[] } {
  const { docs, errors } = parseManifests(readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8'));
  assert.deepEqual(errors, []);
  const services: NIMService[] = [];
  const caches: NIMCache[] = [];
  for (const d of docs) {
    const v = validateObject(d.value);
    if (v.status === 'skipped') continue;
    assert.equal(v.status, 'valid', JSON.stringify(v.errors));
    const o = v.object as Record<string, unknown> & { metadata: Record<string, unknown> };
    o.metadata.namespace ??= 'default';
    o.metadata.uid = `uid-${String(o.metadata.name)}`;
    if (o.kind === 'NIMService') services.push(o as unknown as NIMService);
    if (o.kind === 'NIMCache') caches.push(o as unknown as NIMCache);
  }
  return { services, caches };
}

/** A NIMCache as the cache controller leaves it once Ready. */
export function readyCache(cache: NIMCache, extra: Partial<NonNullable<NIMCache['status']>> = {}): NIMCache {
  return { ...cache, status: { state: 'Ready', pvc: `${cache.metadata.name}-pvc`, ...extra } };
}

/**
 * A NIMService fixture built from a spec fragment (§6 fixture: PVC `models`, authSecret, port 8000,
 * replicas 1); a field given as `undefined` is removed from the fixture.
 */
export function fixture(spec: Record<string, unknown> = {}, name = 'llm'): NIMService {
  const merged: Record<string, unknown> = {
    image: { repository: 'nvcr.io/nim/x', tag: '1.0' },
    authSecret: 'ngc-api',
    storage: { pvc: { name: 'models' } },
    expose: { service: { port: 8000 } },
    replicas: 1,
    ...spec,
  };
  const v = validateObject({
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name, namespace: 'ns' },
    spec: Object.fromEntries(Object.entries(merged).filter(([, x]) => x !== undefined)),
  });
  assert.equal(v.status, 'valid', JSON.stringify(v.errors));
  const o = v.object as unknown as NIMService;
  o.metadata.uid = 'uid-1';
  return o;
}

export function find<T extends Child>(children: Child[], kind: string): T {
  const c = children.find((x) => x.kind === kind);
  assert.ok(c, `no ${kind} rendered`);
  return c as T;
}
export const deploymentOf = (svc: NIMService, facts?: NIMServiceFacts) => find<Deployment>(renderNIMService(svc, facts).children, 'Deployment');
export const mainOf = (d: Deployment) => d.spec!.template.spec!.containers[0]!;
export const envOf = (d: Deployment) => mainOf(d).env ?? [];
export const envValue = (env: Wire<V1EnvVar>[], name: string) => env.filter((e) => e.name === name);

const SCHEMAS: Record<string, string> = {
  ServiceAccount: 'V1ServiceAccount',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  Service: 'V1Service',
  Ingress: 'V1Ingress',
  HorizontalPodAutoscaler: 'V2HorizontalPodAutoscaler',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  Deployment: 'V1Deployment',
};
/** A child of a built-in Kubernetes kind (the others are CRD kinds: HTTPRoute, GRPCRoute, ServiceMonitor). */
export const isBuiltIn = (child: Child): boolean => child.kind! in SCHEMAS;
const validators = new Map<string, StructuralValidator>();
/** Checks a built-in child against the Kubernetes schema: no errors, no unknown fields. */
export function assertValidK8s(child: Child): void {
  const model = SCHEMAS[child.kind!];
  assert.ok(model, `${child.kind} is not a built-in kind`);
  let v = validators.get(model);
  if (!v) validators.set(model, (v = new StructuralValidator(k8sSchema(model))));
  const r = v.admit(child);
  assert.deepEqual(r.errors, [], `${child.kind} ${JSON.stringify(r.errors)}`);
  assert.deepEqual(r.unknownFields, [], `${child.kind} has unknown fields`);
}

/** Checks every built-in child of a render against the Kubernetes schema. */
export function assertAllValid(children: Child[]): void {
  for (const c of children) if (isBuiltIn(c)) assertValidK8s(c);
}

/**
 * The absent list without what is pruned when a service changes shape (the LeaderWorkerSet, MPI
 * ConfigMaps and ComputeDomain of a multi-node service; tested in nimservice-multinode.test.ts).
 */
export function exposureAbsent<T extends { kind: string; name: string }>(absent: T[]): T[] {
  return absent.filter((a) => a.kind !== 'LeaderWorkerSet' && a.kind !== 'ComputeDomain' && !(a.kind === 'ConfigMap' && /-mpi-(config|start-script)$/.test(a.name)));
}
