/** NIMCache's other children: shared RBAC, PVC, manifest probe pod, manifest ConfigMap (inventory §2.1.1, §2.1.3; behaviours 54, 65, 66; Appendix A23). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifest } from '../../../src/nim/manifest.js';
import { cacheModelURI } from '../../../src/nim/source.js';
import {
  PROBE_SCRIPT, RenderError, renderManifestConfigMap, renderPVC, renderProbePod, renderRole, renderRoleBinding, renderServiceAccount, sharedRoleSCCs,
} from '../../../src/render/nimcache/index.js';
import { assertValidK8s, hfCache, ngcCache } from '../../unit/nim/cache-fixtures.js';
import { v1 } from '../../unit/nim/fixtures.js';

describe('shared ServiceAccount, Role and RoleBinding', () => {
  test('nim-cache-sa, nim-cache-role and nim-cache-rolebinding: labelled, no owner', () => {
    const sa = renderServiceAccount('ns');
    const role = renderRole('ns', ['nonroot']);
    const rb = renderRoleBinding('ns');
    for (const o of [sa, role, rb]) {
      assertValidK8s(o);
      assert.equal(o.metadata!.ownerReferences, undefined);
      assert.equal(o.metadata!.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
    }
    assert.equal(sa.metadata!.name, 'nim-cache-sa');
    assert.deepEqual(role.rules, [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: ['nonroot'], verbs: ['use'] }]);
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nim-cache-role' });
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'nim-cache-sa', namespace: 'ns' }]);
  });
  test('the Role serves every cache of the namespace, whatever the order (Appendix A23)', () => {
    const plain = ngcCache({}, 'a');
    const proxied = ngcCache({ proxy: { httpsProxy: 'http://p:3128' } }, 'b');
    assert.deepEqual(sharedRoleSCCs([plain]), ['nonroot']);
    assert.deepEqual(sharedRoleSCCs([plain, proxied]), ['anyuid', 'nonroot']);
    assert.deepEqual(sharedRoleSCCs([proxied, plain]), ['anyuid', 'nonroot']);
    proxied.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.deepEqual(sharedRoleSCCs([plain, proxied]), ['nonroot'], 'a cache being deleted no longer counts');
  });
});

describe('PVC', () => {
  test('<cache>-pvc: size, access mode, class, annotations, cache labels, owned (behaviour 54)', () => {
    const c = ngcCache({ storage: { pvc: { create: true, size: '50Gi', volumeAccessMode: 'ReadWriteMany', storageClass: 'fast', annotations: { a: 'b' } } } });
    const pvc = renderPVC(c);
    assertValidK8s(pvc);
    assert.equal(pvc.metadata!.name, 'llama-pvc');
    assert.deepEqual(pvc.metadata!.annotations, { a: 'b' });
    assert.deepEqual(pvc.metadata!.labels, {
      app: 'k8s-nim-operator',
      'app.kubernetes.io/name': 'llama',
      'app.kubernetes.io/managed-by': 'k8s-nim-operator',
      'app.kubernetes.io/instance': 'llama',
      'app.kubernetes.io/part-of': 'nim-cache',
    });
    assert.equal(pvc.metadata!.ownerReferences![0]!.uid, 'uid-1');
    assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '50Gi' } }, storageClassName: 'fast' });
  });
  test('a named claim keeps its name; no class means the cluster default; no access mode means ReadWriteOnce', () => {
    const pvc = renderPVC(ngcCache({ storage: { pvc: { create: true, name: 'models', size: '1Ti' } } }));
    assert.equal(pvc.metadata!.name, 'models');
    assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Ti' } } });
  });
  test('a missing or malformed size is an error naming the field', () => {
    assert.throws(() => renderPVC(ngcCache({ storage: { pvc: { create: true } } })), (e: unknown) => e instanceof RenderError && /spec\.storage\.pvc\.size: is required/.test(e.message));
    assert.throws(() => renderPVC(ngcCache({ storage: { pvc: { create: true, size: '50 gigs' } } })), /"50 gigs" is not a quantity/);
  });
});

describe('manifest probe pod', () => {
  const pod = renderProbePod(ngcCache({ resources: { cpu: '1', memory: '2Gi' }, tolerations: [{ key: 'k', operator: 'Exists' }] }));

  test('<cache>-pod: nim-cache-ctr prints the manifest (either path) or says it is missing, then exits', () => {
    assertValidK8s(pod);
    assert.equal(pod.metadata!.name, 'llama-pod');
    const ctr = pod.spec!.containers[0]!;
    assert.equal(ctr.name, 'nim-cache-ctr');
    assert.equal(ctr.image, 'nvcr.io/nim/x:1.0');
    assert.deepEqual(ctr.command, ['sh', '-c', PROBE_SCRIPT]);
    assert.match(PROBE_SCRIPT, /\/opt\/nim\/etc\/default\/model_manifest\.yaml.*\/etc\/nim\/config\/model_manifest\.yaml.*model_manifest\.yaml not found/);
    assert.doesNotMatch(PROBE_SCRIPT, /sleep/);
    assert.equal(pod.spec!.restartPolicy, 'Never');
  });
  test('runs like the Job\'s pod: service account, security, node selector, tolerations, resources, pull secret, owner', () => {
    const spec = pod.spec!;
    assert.equal(spec.serviceAccountName, 'nim-cache-sa');
    assert.deepEqual(spec.securityContext, { runAsUser: 1000, fsGroup: 2000, runAsNonRoot: true });
    assert.deepEqual(spec.nodeSelector, { 'feature.node.kubernetes.io/pci-10de.present': 'true' });
    assert.deepEqual(spec.tolerations, [{ key: 'k', operator: 'Exists' }]);
    assert.deepEqual(spec.containers[0]!.resources, { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'ngc-secret' }]);
    assert.equal(pod.metadata!.ownerReferences![0]!.kind, 'NIMCache');
    assert.equal(pod.metadata!.labels!['app.kubernetes.io/managed-by'], 'k8s-nim-operator');
  });
  test('the Hugging Face puller for an HF cache; OpenShift and TKGS settings', () => {
    assert.equal(renderProbePod(hfCache('hf')).spec!.containers[0]!.image, 'img:1');
    assert.deepEqual(renderProbePod(ngcCache(), { orchestrator: 'OpenShift' }).metadata!.annotations, { 'openshift.io/required-scc': 'nonroot' });
    const tkgs = renderProbePod(ngcCache(), { orchestrator: 'TKGS' });
    assert.deepEqual(tkgs.spec!.containers[0]!.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
  });
});

describe('manifest ConfigMap and model URIs', () => {
  test('<cache>-manifest holds the minimal manifest under model_manifest.yaml', () => {
    const m = v1();
    const cm = renderManifestConfigMap(ngcCache(), m);
    assertValidK8s(cm);
    assert.equal(cm.metadata!.name, 'llama-manifest');
    assert.equal(cm.metadata!.labels!['app.kubernetes.io/part-of'], 'nim-cache');
    assert.deepEqual(parseManifest(cm.data!['model_manifest.yaml']!), m);
  });
  test('the model URI a NIMService gives a multi-model NIM (Appendix A16)', () => {
    const universal = ngcCache();
    universal.spec.source.ngc = { authSecret: 'a', modelPuller: 'p', modelEndpoint: 'ngc://org/team/model:1.0' };
    assert.equal(cacheModelURI(universal.spec), 'ngc://org/team/model:1.0');
    assert.equal(cacheModelURI(hfCache('hf').spec), 'hf://meta-llama/L');
    assert.equal(cacheModelURI(hfCache('dataStore', { datasetName: 'D' }).spec), undefined);
    assert.equal(cacheModelURI(ngcCache().spec), undefined);
  });
});
