/** The caching Job for every source (inventory §2.1.2; behaviours 54, 56, 59–61, 64, 66, 67; Appendix A16, A19). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CERT_CONFIG_DEPRECATED, NO_PROFILES, RenderError, jobProfiles, renderJob } from '../../../src/render/nimcache/index.js';
import { assertValidK8s, envMap, hfCache, mainOf, ngcCache } from '../../unit/nim/cache-fixtures.js';

describe('NGC optimized (download-to-cache)', () => {
  const job = renderJob(ngcCache(), { profiles: ['p1', 'p2'] });
  const main = mainOf(job);

  test('Job <cache>-job owned by the cache, labelled like its pods (behaviour 54)', () => {
    assertValidK8s(job);
    assert.equal(job.metadata!.name, 'llama-job');
    assert.equal(job.metadata!.namespace, 'ns');
    assert.deepEqual(job.metadata!.ownerReferences, [{ apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMCache', name: 'llama', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(job.metadata!.labels, { app: 'k8s-nim-operator', 'app.kubernetes.io/name': 'llama', 'app.kubernetes.io/managed-by': 'k8s-nim-operator' });
    assert.deepEqual(job.spec!.template.metadata!.labels, job.metadata!.labels);
  });
  test('container nim-cache-ctr runs download-to-cache --profiles p1 p2 with the NGC secret and /model-store (behaviour 54)', () => {
    assert.equal(main.name, 'nim-cache-ctr');
    assert.equal(main.image, 'nvcr.io/nim/x:1.0');
    assert.deepEqual(main.command, ['download-to-cache']);
    assert.deepEqual(main.args, ['--profiles', 'p1', 'p2']);
    assert.deepEqual(main.envFrom, [{ secretRef: { name: 'ngc-api' } }]);
    assert.deepEqual(main.env, [{ name: 'NIM_CACHE_PATH', value: '/model-store' }]);
    assert.deepEqual(main.volumeMounts, [{ name: 'nim-cache-volume', mountPath: '/model-store' }, { name: 'scratch', mountPath: '/scratch' }]);
    assert.deepEqual(job.spec!.template.spec!.volumes, [{ name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'llama-pvc' } }, { name: 'scratch', emptyDir: {} }]);
    assert.equal(main.terminationMessagePolicy, 'FallbackToLogsOnError');
  });
  test('the Job\'s fixed settings and pod security (behaviour 61)', () => {
    const pod = job.spec!.template.spec!;
    assert.equal(job.spec!.backoffLimit, 5);
    assert.equal(job.spec!.ttlSecondsAfterFinished, 600);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.serviceAccountName, 'nim-cache-sa');
    assert.deepEqual(pod.securityContext, { runAsUser: 1000, fsGroup: 2000, runAsNonRoot: true });
    assert.deepEqual(main.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000 });
    assert.deepEqual(job.spec!.template.metadata!.annotations, { 'sidecar.istio.io/inject': 'false' });
    assert.deepEqual(pod.nodeSelector, { 'feature.node.kubernetes.io/pci-10de.present': 'true' });
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'ngc-secret' }]);
  });
  test('no resources and no pull secret when none are given (Appendix A19: no zero quantities, no unnamed secret)', () => {
    assert.equal(main.resources, undefined);
    const c = ngcCache();
    delete c.spec.source.ngc!.pullSecret;
    assert.equal(renderJob(c, { profiles: ['p1'] }).spec!.template.spec!.imagePullSecrets, undefined);
  });
  test('cpu and memory are both request and limit; user ids, node selector, tolerations, runtime class pass through', () => {
    const c = ngcCache({
      resources: { cpu: '4', memory: '16Gi' },
      userID: 5,
      groupID: 6,
      nodeSelector: { pool: 'gpu' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
      runtimeClassName: 'nvidia',
    });
    const j = renderJob(c, { profiles: ['p1'] });
    assertValidK8s(j);
    const pod = j.spec!.template.spec!;
    assert.deepEqual(mainOf(j).resources, { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '4', memory: '16Gi' } });
    assert.deepEqual(pod.securityContext, { runAsUser: 5, fsGroup: 6, runAsNonRoot: true });
    assert.equal(mainOf(j).securityContext!.runAsGroup, 6);
    assert.deepEqual(pod.nodeSelector, { pool: 'gpu' });
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]);
    assert.equal(pod.runtimeClassName, 'nvidia');
    assert.deepEqual(renderJob(ngcCache({ resources: { memory: '8Gi' } }), { profiles: ['p1'] }).spec!.template.spec!.containers[0]!.resources, {
      requests: { memory: '8Gi' },
      limits: { memory: '8Gi' },
    });
  });
  test('all profiles: --all (behaviour 56); none: an error saying so (behaviour 58)', () => {
    assert.deepEqual(mainOf(renderJob(ngcCache(), { profiles: ['all'] })).args, ['--all']);
    assert.throws(() => renderJob(ngcCache(), { profiles: [] }), (e: unknown) => e instanceof RenderError && e.message === NO_PROFILES);
  });
  test('the profiles are read back from a live Job', () => {
    assert.deepEqual(jobProfiles(job), ['p1', 'p2']);
    assert.deepEqual(jobProfiles(renderJob(ngcCache(), { profiles: ['all'] })), ['all']);
    assert.equal(jobProfiles(renderJob(hfCache('hf'))), undefined);
  });
  test('storage.pvc.name and subPath: that claim, mounted at the sub-path', () => {
    const j = renderJob(ngcCache({ storage: { pvc: { name: 'models', subPath: 'llama' } } }), { profiles: ['p1'] });
    assert.deepEqual(j.spec!.template.spec!.volumes![0], { name: 'nim-cache-volume', persistentVolumeClaim: { claimName: 'models' } });
    assert.deepEqual(mainOf(j).volumeMounts![0], { name: 'nim-cache-volume', mountPath: '/model-store', subPath: 'llama' });
  });
  test('spec.env: the user\'s variables first and winning, then the operator\'s others (mirror settings)', () => {
    const c = ngcCache({ env: [{ name: 'NIM_REPOSITORY_OVERRIDE', value: 's3://bucket/' }, { name: 'NIM_CACHE_PATH', value: '/elsewhere' }] });
    assert.deepEqual(mainOf(renderJob(c, { profiles: ['p1'] })).env, [
      { name: 'NIM_REPOSITORY_OVERRIDE', value: 's3://bucket/' },
      { name: 'NIM_CACHE_PATH', value: '/elsewhere' },
    ]);
  });
  test('deprecated certConfig: an error telling to use spec.proxy (behaviour 64)', () => {
    assert.throws(() => renderJob(ngcCache({ certConfig: { name: 'ca', mountPath: '/c' } }), { profiles: ['p1'] }), { message: CERT_CONFIG_DEPRECATED });
    assert.match(CERT_CONFIG_DEPRECATED, /^Deprecated field 'CertConfig' is used/);
  });
  test('rendering is pure: the same input gives deep-equal Jobs', () => {
    assert.deepEqual(renderJob(ngcCache(), { profiles: ['p1', 'p2'] }), job);
  });
});

describe('other sources', () => {
  test('NGC universal: create-model-store --model-repo <endpoint> --model-store /model-store (behaviour 59)', () => {
    const c = ngcCache();
    c.spec.source.ngc = { authSecret: 'ngc-api', modelPuller: 'nvcr.io/nim/nvidia/llm-nim:1.0', modelEndpoint: 'ngc://org/model' };
    const j = renderJob(c, { type: 'model-free' });
    assertValidK8s(j);
    assert.deepEqual(mainOf(j).command, ['create-model-store']);
    assert.deepEqual(mainOf(j).args, ['--model-repo', 'ngc://org/model', '--model-store', '/model-store']);
    assert.deepEqual(envMap(mainOf(j).env), { NIM_CACHE_PATH: '/model-store' });
  });
  test('Hugging Face model: huggingface-cli download into /model-store, with the HF env and secret (behaviour 60)', () => {
    const j = renderJob(hfCache('hf', { revision: 'v1.0' }));
    assertValidK8s(j);
    const main = mainOf(j);
    assert.equal(main.image, 'img:1');
    assert.deepEqual(main.command, ['huggingface-cli', 'download', 'meta-llama/L', '--local-dir', '/model-store', '--repo-type', 'model', '--revision', 'v1.0']);
    assert.equal(main.args, undefined);
    assert.deepEqual(envMap(main.env), { HF_ENDPOINT: 'https://huggingface.co', HF_HUB_OFFLINE: '0', NIM_CACHE_PATH: '/model-store', HF_HOME: '/model-store/huggingface/hub' });
    assert.deepEqual(main.envFrom, [{ secretRef: { name: 'hf' } }]);
    assert.deepEqual(j.spec!.template.spec!.imagePullSecrets, [{ name: 'ps' }]);
  });
  test('Hugging Face with a model-free NIM: download-to-cache --model-uri hf://<ns>/<model> (behaviour 60)', () => {
    assert.deepEqual(mainOf(renderJob(hfCache('hf'), { type: 'model-free' })).command, [
      'download-to-cache', '--model-uri', 'hf://meta-llama/L', '--manifest-file', '/model-store/model_manifest.json',
    ]);
  });
  test('a dataset is fetched with huggingface-cli --repo-type dataset, model-free NIM or not (Appendix A16)', () => {
    for (const type of ['', 'model-free'] as const) {
      const cmd = mainOf(renderJob(hfCache('dataStore', { datasetName: 'D' }), { type })).command;
      assert.deepEqual(cmd, ['huggingface-cli', 'download', 'meta-llama/D', '--local-dir', '/model-store', '--repo-type', 'dataset']);
    }
  });
  test('NeMo Data Store: the same as Hugging Face, with the data store as HF_ENDPOINT', () => {
    const main = mainOf(renderJob(hfCache('dataStore')));
    assert.equal(envMap(main.env).HF_ENDPOINT, 'http://nds.example:3000/v1/hf');
    assert.equal(main.command![2], 'meta-llama/L');
  });
  test('native download: the image\'s entrypoint, its two variables pinned, the PVC at /model and /opt/cache (behaviour 67)', () => {
    const c = ngcCache({ env: [{ name: 'NIM_ENGINE_MODEL_PATH', value: '/tmp/x' }, { name: 'FOO', value: 'bar' }], storage: { pvc: { create: true, size: '1Ti', subPath: 's' } } });
    const j = renderJob(c, { type: 'native' });
    assertValidK8s(j);
    const main = mainOf(j);
    assert.equal(main.command, undefined);
    assert.equal(main.args, undefined);
    assert.deepEqual(main.env, [
      { name: 'NIM_ENGINE_MODEL_DOWNLOAD_ONLY', value: '1' },
      { name: 'NIM_ENGINE_MODEL_PATH', value: '/model/llama' },
      { name: 'FOO', value: 'bar' },
    ]);
    assert.deepEqual(main.volumeMounts, [
      { name: 'nim-cache-volume', mountPath: '/model', subPath: 's' },
      { name: 'nim-cache-volume', mountPath: '/opt/cache', subPath: 's' },
      { name: 'scratch', mountPath: '/scratch' },
    ]);
  });
});

describe('proxy, CA certificates, init containers, platforms', () => {
  const proxied = ngcCache({
    proxy: { httpsProxy: 'http://p:3128', noProxy: '.svc', certConfigMap: 'ca' },
    env: [{ name: 'HTTPS_PROXY', value: 'http://user-set' }, { name: 'A', value: '1' }],
    initContainers: [{ name: 'prep', image: { repository: 'busybox', tag: '1.36', pullPolicy: 'IfNotPresent' }, command: ['sh', '-c', 'true'], env: [{ name: 'A', value: 'own' }, { name: 'B', value: '2' }] }],
  });
  const job = renderJob(proxied, { profiles: ['p1'], orchestrator: 'OpenShift' });
  const pod = job.spec!.template.spec!;

  test('the seven proxy variables first and winning over spec.env (behaviour 66)', () => {
    assertValidK8s(job);
    assert.deepEqual(mainOf(job).env!.map((e) => e.name), ['NIM_SDK_USE_NATIVE_TLS', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'A', 'NIM_CACHE_PATH']);
    assert.deepEqual(envMap(mainOf(job).env), {
      NIM_SDK_USE_NATIVE_TLS: '1', HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: '', NO_PROXY: '.svc', https_proxy: 'http://p:3128', http_proxy: '', no_proxy: '.svc', A: '1', NIM_CACHE_PATH: '/model-store',
    });
  });
  test('certConfigMap: update-ca-certificates runs first as root; the CA store is mounted at /etc/ssl (behaviour 66)', () => {
    const ca = pod.initContainers![0]!;
    assert.equal(ca.name, 'update-ca-certificates');
    assert.equal(ca.image, 'nvcr.io/nim/x:1.0');
    assert.deepEqual(ca.securityContext, { runAsUser: 0, runAsNonRoot: false });
    assert.deepEqual(ca.volumeMounts, [{ name: 'ca-cert-volume', mountPath: '/ca-certs' }, { name: 'custom-ca', mountPath: '/custom' }]);
    assert.match(ca.command![2]!, /update-ca-certificates/);
    assert.deepEqual(pod.volumes!.slice(2), [{ name: 'ca-cert-volume', emptyDir: {} }, { name: 'custom-ca', configMap: { name: 'ca' } }]);
    assert.deepEqual(mainOf(job).volumeMounts!.at(-1), { name: 'ca-cert-volume', mountPath: '/etc/ssl' });
  });
  test('user init containers: image repo:tag, their pull policy, the main env winning (proxy included) and the main mounts', () => {
    const init = pod.initContainers![1]!;
    assert.equal(init.name, 'prep');
    assert.equal(init.image, 'busybox:1.36');
    assert.equal(init.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(init.command, ['sh', '-c', 'true']);
    const env = envMap(init.env);
    assert.equal(env.A, '1', 'the main container\'s A wins');
    assert.equal(env.B, '2');
    assert.equal(env.HTTPS_PROXY, 'http://p:3128');
    assert.deepEqual(init.volumeMounts, mainOf(job).volumeMounts);
  });
  test('OpenShift: the pod asks for the anyuid SCC with a proxy, nonroot without', () => {
    assert.equal(job.spec!.template.metadata!.annotations!['openshift.io/scc'], 'anyuid');
    assert.equal(renderJob(ngcCache(), { profiles: ['p1'], orchestrator: 'OpenShift' }).spec!.template.metadata!.annotations!['openshift.io/scc'], 'nonroot');
    assert.equal(renderJob(ngcCache(), { profiles: ['p1'] }).spec!.template.metadata!.annotations!['openshift.io/scc'], undefined);
  });
  test('TKGS: seccomp RuntimeDefault on the pod', () => {
    assert.deepEqual(renderJob(ngcCache(), { profiles: ['p1'], orchestrator: 'TKGS' }).spec!.template.spec!.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
  });
});
