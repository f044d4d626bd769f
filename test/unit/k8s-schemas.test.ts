/** Schemas of embedded Kubernetes types, derived from @kubernetes/client-node's models. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { k8sSchema } from '../../src/api/k8s/schemas.js';

test('fields, required list, formats and descriptions come from the model', () => {
  const env = k8sSchema('V1EnvVar');
  assert.deepEqual(env.required, ['name']);
  assert.deepEqual(Object.keys(env.properties!).sort(), ['name', 'value', 'valueFrom']);
  assert.match(env.properties!.name!.description!, /environment variable/i);
  const tol = k8sSchema('V1Toleration');
  assert.deepEqual(tol.properties!.tolerationSeconds, { ...tol.properties!.tolerationSeconds, type: 'integer', format: 'int64' });
});

test('int-or-string and quantities', () => {
  const probe = k8sSchema('V1Probe');
  assert.equal(probe.properties!.httpGet!.properties!.port!['x-kubernetes-int-or-string'], true);
  const res = k8sSchema('V1ResourceRequirements');
  const limit = res.properties!.limits!.additionalProperties as Record<string, unknown>;
  assert.equal(limit['x-kubernetes-int-or-string'], true);
  assert.equal(typeof limit.pattern, 'string');
});

test('merge markers and defaults the generator drops are restored', () => {
  const sel = k8sSchema('V1LabelSelector');
  assert.equal(sel['x-kubernetes-map-type'], 'atomic');
  assert.equal(sel.properties!.matchExpressions!['x-kubernetes-list-type'], 'atomic');
  assert.equal(k8sSchema('V1ContainerPort').properties!.protocol!.default, 'TCP');
});

test('recursive types stay open instead of looping', () => {
  const s = k8sSchema('V1JSONSchemaProps');
  assert.equal(s.properties!.items!.type, 'object');
  assert.equal(s.properties!.not!['x-kubernetes-preserve-unknown-fields'], true);
});

test('each call returns an independent copy', () => {
  const a = k8sSchema('V1EnvVar');
  a.properties!.name!.description = 'changed';
  assert.notEqual(k8sSchema('V1EnvVar').properties!.name!.description, 'changed');
});

test('an unknown model is a clear error', () => {
  assert.throws(() => k8sSchema('V1NoSuchThing'), /unknown Kubernetes model V1NoSuchThing/);
});
