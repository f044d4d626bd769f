/** NIMService render: variations of the inventory's §6 fixture (behaviours 3–11, 27, 28, 38; Appendix A8, A10, A19). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Role, V1Service } from '@kubernetes/client-node';
import type { Wire } from '../../../src/api/schema.js';
import { renderNIMService } from '../../../src/render/nimservice/index.js';
import { assertValidK8s, deploymentOf, envOf, envValue, find, fixture, mainOf, type Deployment } from './nimservice-fixtures.js';

describe('fixture variations', () => {
  test('no authSecret → no NGC_API_KEY anywhere (behaviour 3)', () => {
    const s = fixture({ initContainers: [{ name: 'i', image: { repository: 'r', tag: 't' } }] });
    delete s.spec.authSecret;
    const d = deploymentOf(s);
    assert.equal(JSON.stringify(d).includes('NGC_API_KEY'), false);
  });

  test('user env wins in place; proxy env wins over user env (behaviours 4, 38)', () => {
    const s = fixture({
      env: [{ name: 'NIM_LOG_LEVEL', value: 'DEBUG' }, { name: 'HTTPS_PROXY', value: 'mine' }, { name: 'EXTRA', value: 'x' }],
      proxy: { httpsProxy: 'http://p:3128', noProxy: '.svc' },
    });
    const env = envOf(deploymentOf(s));
    assert.deepEqual(envValue(env, 'NIM_LOG_LEVEL'), [{ name: 'NIM_LOG_LEVEL', value: 'DEBUG' }]);
    assert.equal(env.findIndex((e) => e.name === 'NIM_LOG_LEVEL'), 5);
    assert.deepEqual(envValue(env, 'HTTPS_PROXY'), [{ name: 'HTTPS_PROXY', value: 'http://p:3128' }]);
    assert.deepEqual(env.slice(-6).map((e) => e.name), ['NIM_SDK_USE_NATIVE_TLS', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy']);
    assert.deepEqual(envValue(env, 'no_proxy'), [{ name: 'no_proxy', value: '.svc' }]);
  });

  test('proxy with a CA ConfigMap: update-ca-certificates init container, CA volumes and mounts (behaviour 38)', () => {
    const { children } = renderNIMService(fixture({ proxy: { httpsProxy: 'http://p:3128', certConfigMap: 'ca' } }));
    const d = find<Deployment>(children, 'Deployment');
    const pod = d.spec!.template.spec!;
    assert.equal(pod.initContainers![0]!.name, 'update-ca-certificates');
    assert.deepEqual(pod.initContainers![0]!.securityContext, { runAsUser: 0, runAsNonRoot: false });
    assert.deepEqual(pod.initContainers![0]!.volumeMounts!.map((m) => m.mountPath), ['/model-store', '/ca-certs', '/custom']);
    assert.deepEqual(pod.volumes!.slice(-2), [{ name: 'ca-cert-volume', emptyDir: {} }, { name: 'custom-ca', configMap: { name: 'ca' } }]);
    assert.ok(mainOf(d).volumeMounts!.some((m) => m.name === 'ca-cert-volume' && m.mountPath === '/etc/ssl'));
    assert.equal(d.metadata!.annotations!['openshift.io/required-scc'], 'anyuid');
    assert.deepEqual(find<Wire<V1Role>>(children, 'Role').rules![0]!.resourceNames, ['anyuid']);
    for (const c of children) assertValidK8s(c);
  });

  test('disabled probes are absent (behaviour 6)', () => {
    const c = mainOf(deploymentOf(fixture({ readinessProbe: { enabled: false }, startupProbe: { enabled: false } })));
    assert.equal(c.readinessProbe, undefined);
    assert.equal(c.startupProbe, undefined);
    assert.ok(c.livenessProbe);
  });

  test('userID/groupID and TKGS seccomp (behaviour 7)', () => {
    const d = deploymentOf(fixture({ userID: 5, groupID: 6 }), { orchestrator: 'TKGS' });
    assert.deepEqual(d.spec!.template.spec!.securityContext, { runAsUser: 5, runAsGroup: 6, fsGroup: 6, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('readOnly PVC, shared memory, emptyDir, hostPath (behaviours 8, 27, 11)', () => {
    let vols = deploymentOf(fixture({ storage: { pvc: { name: 'models' }, readOnly: true, sharedMemorySizeLimit: '2Gi' } })).spec!.template.spec!.volumes!;
    assert.deepEqual(vols, [
      { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } },
      { name: 'model-store', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
    ]);
    vols = deploymentOf(fixture({ storage: { emptyDir: { sizeLimit: '10Gi' } } })).spec!.template.spec!.volumes!;
    assert.deepEqual(vols[1], { name: 'model-store', emptyDir: { sizeLimit: '10Gi' } });
    const hp = deploymentOf(fixture({ storage: { hostPath: '/data' } }));
    assert.deepEqual(hp.spec!.template.spec!.volumes![1], { name: 'model-store', hostPath: { path: '/data', type: 'DirectoryOrCreate' } });
    assert.equal(hp.metadata!.annotations!['openshift.io/required-scc'], 'hostmount-anyuid');
    const created = deploymentOf(fixture({ storage: { pvc: { create: true, size: '50Gi' } } }));
    assert.equal(created.spec!.template.spec!.volumes![1]!.persistentVolumeClaim!.claimName, 'llm-pvc');
  });

  test('no storage at all blocks the Deployment with upstream\'s message (behaviour 28)', () => {
    const r = renderNIMService(fixture({ storage: {} }));
    assert.equal(r.blocked?.message, 'neither external PVC name, NIMCache volume, empty dir or local host path should be provided');
    assert.equal(r.children.some((c) => c.kind === 'Deployment'), false);
  });

  test('grpc and metrics ports on the Service, the container and the env (behaviour 9)', () => {
    const { children } = renderNIMService(fixture({ expose: { service: { port: 8000, grpcPort: 8001, metricsPort: 8002, type: 'NodePort' } } }));
    const s = find<Wire<V1Service>>(children, 'Service');
    assert.equal(s.spec!.type, 'NodePort');
    assert.deepEqual(s.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]), [['api', 8000, 'api'], ['grpc', 8001, 'grpc'], ['metrics', 8002, 'metrics']]);
    const d = find<Deployment>(children, 'Deployment');
    assert.deepEqual(mainOf(d).ports!.map((p) => p.name), ['api', 'grpc', 'metrics']);
    const env = envOf(d);
    for (const [n, v] of [['NIM_GRPC_API_PORT', '8001'], ['NIM_TRITON_GRPC_PORT', '8001'], ['NIM_TRITON_METRICS_PORT', '8002']]) {
      assert.deepEqual(envValue(env, n!), [{ name: n, value: v }]);
    }
  });

  test('a missing expose means port 8000 (Appendix A8 fix)', () => {
    const s = fixture();
    delete s.spec.expose;
    const { children } = renderNIMService(s);
    assert.equal(find<Wire<V1Service>>(children, 'Service').spec!.ports![0]!.port, 8000);
    assert.deepEqual(envValue(envOf(find<Deployment>(children, 'Deployment')), 'NIM_SERVER_PORT'), [{ name: 'NIM_SERVER_PORT', value: '8000' }]);
  });

  test('user labels are added but standard labels win; app stays the selector (behaviour 10)', () => {
    const { children } = renderNIMService(fixture({ labels: { team: 'a', 'app.kubernetes.io/name': 'other', app: 'x' } }));
    for (const c of children) {
      assert.equal(c.metadata!.labels!.team, 'a');
      assert.equal(c.metadata!.labels!['app.kubernetes.io/name'], 'llm');
    }
    assert.equal(find<Deployment>(children, 'Deployment').spec!.template.metadata!.labels!.app, 'llm');
  });

  test('tolerationSeconds is kept and empty pull secrets are dropped (Appendix A10, A19 fixes)', () => {
    const d = deploymentOf(fixture({
      image: { repository: 'nvcr.io/nim/x', tag: '1.0', pullSecrets: [''] },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
    }));
    assert.deepEqual(d.spec!.template.spec!.tolerations, [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]);
    assert.equal(d.spec!.template.spec!.imagePullSecrets, undefined);
  });
});
