/**
 * The real @kubernetes/client-node (1.4.0) against the embedded control plane: typed clients,
 * CustomObjectsApi, errors as ApiException with a Status body, server-side apply, list + watch
 * with resume, 410 Gone with relist, and the informer (ListWatch) across dropped watches.
 * Everything is asserted on what the client observes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  ListWatch,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { eventually, startCluster, type TestCluster } from '../helpers/devcluster.js';

const GROUP = 'apps.nvidia.com';
const VERSION = 'v1alpha1';
const PLURAL = 'nimservices';
const IMAGE = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.8.4' };
const CR = { group: GROUP, version: VERSION, plural: PLURAL };

type Json = Record<string, any>;

function nimService(name: string, spec: Json = {}): Json {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'NIMService', metadata: { name }, spec: { image: IMAGE, ...spec } };
}

const ssa = () => setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const merge = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategic = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
}

function clientsFor(c: TestCluster): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** Awaits a call that must fail; asserts the ApiException's code and its metav1 Status body. */
async function apiError(call: Promise<unknown>, code: number, reason: string): Promise<Json> {
  let result: unknown;
  try {
    result = await call;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, code, `HTTP code: ${String(e.body)}`);
    const body: Json = typeof e.body === 'string' ? JSON.parse(e.body) : (e.body as Json);
    assert.equal(body.kind, 'Status');
    assert.equal(body.apiVersion, 'v1');
    assert.equal(body.status, 'Failure');
    assert.equal(body.code, code);
    assert.equal(body.reason, reason, body.message);
    assert.equal(typeof body.message, 'string');
    return body;
  }
  assert.fail(`expected HTTP ${code} ${reason}, but the call succeeded: ${JSON.stringify(result)}`);
}

interface WatchEvent {
  type: string;
  object: Json;
}

interface Collector {
  events: WatchEvent[];
  /** Resolves with the done callback's argument. */
  done: Promise<unknown>;
  finished(): boolean;
  stop(): void;
}

/** A client-node Watch whose events and done callback are recorded. */
async function collect(kc: KubeConfig, path: string, params: Record<string, string | number | boolean | undefined>): Promise<Collector> {
  const events: WatchEvent[] = [];
  let finished = false;
  let resolveDone!: (v: unknown) => void;
  const done = new Promise<unknown>((r) => (resolveDone = r));
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    (err) => {
      finished = true;
      resolveDone(err);
    },
  );
  return { events, done, finished: () => finished, stop: () => controller.abort() };
}

/** A Watch that records everything it passes to the informer using it. */
class RecordingWatch extends Watch {
  readonly events: WatchEvent[] = [];
  readonly dones: unknown[] = [];
  readonly requests: Record<string, unknown>[] = [];

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    this.requests.push({ ...queryParams });
    return super.watch(
      path,
      queryParams,
      (type, object, raw) => {
        this.events.push({ type, object });
        callback(type, object, raw);
      },
      (err) => {
        this.dones.push(err);
        done(err);
      },
    );
  }
}

const nameRV = (items: ReadonlyArray<KubernetesObject>) =>
  Object.fromEntries(items.map((o) => [o.metadata!.name!, o.metadata!.resourceVersion!]));

/** True when the informer's cache holds exactly the server's objects, at the same resourceVersions. */
async function cacheMatchesServer(core: CoreV1Api, cache: { list(ns?: string): ReadonlyArray<KubernetesObject> }, namespace: string): Promise<boolean> {
  const live = await core.listNamespacedConfigMap({ namespace });
  return JSON.stringify(sortKeys(nameRV(cache.list(namespace)))) === JSON.stringify(sortKeys(nameRV(live.items)));
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const rvNum = (o: { metadata?: { resourceVersion?: string } }) => Number(o.metadata?.resourceVersion);

// ---------------------------------------------------------------------------------------------

describe('client-node against the embedded control plane', () => {
  let c: TestCluster;
  let k: Clients;
  const openWatches: Collector[] = [];

  before(async () => {
    c = await startCluster();
    k = clientsFor(c);
    for (const name of ['typed', 'crs', 'errors', 'ssa', 'watch', 'informer', 'drop']) {
      await k.core.createNamespace({ body: { metadata: { name } } });
    }
  });
  after(async () => {
    for (const w of openWatches) w.stop();
    await c?.stop();
  });

  describe('typed clients', () => {
    test('CoreV1Api: create, read, list, replace and delete a ConfigMap', async () => {
      const created = await k.core.createNamespacedConfigMap({
        namespace: 'typed',
        body: { metadata: { name: 'settings', labels: { app: 'nim' } }, data: { mode: 'fast' } },
      });
      assert.equal(created.kind, 'ConfigMap');
      assert.equal(created.apiVersion, 'v1');
      assert.equal(created.metadata?.namespace, 'typed');
      assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(rvNum(created) > 0);
      assert.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp deserializes to a Date');
      assert.deepEqual(created.data, { mode: 'fast' });

      const read = await k.core.readNamespacedConfigMap({ namespace: 'typed', name: 'settings' });
      assert.equal(read.metadata?.uid, created.metadata?.uid);
      assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
      assert.deepEqual(read.data, { mode: 'fast' });

      await k.core.createNamespacedConfigMap({ namespace: 'typed', body: { metadata: { name: 'other' }, data: { x: '1' } } });
      const all = await k.core.listNamespacedConfigMap({ namespace: 'typed' });
      assert.equal(all.kind, 'ConfigMapList');
      assert.deepEqual(all.items.map((i) => i.metadata?.name), ['other', 'settings']);
      assert.ok(Number(all.metadata?.resourceVersion) >= rvNum(created));
      const labelled = await k.core.listNamespacedConfigMap({ namespace: 'typed', labelSelector: 'app=nim' });
      assert.deepEqual(labelled.items.map((i) => i.metadata?.name), ['settings']);
      const byField = await k.core.listNamespacedConfigMap({ namespace: 'typed', fieldSelector: 'metadata.name=other' });
      assert.deepEqual(byField.items.map((i) => i.metadata?.name), ['other']);

      const body: V1ConfigMap = { ...read, data: { mode: 'safe', extra: 'yes' } };
      const replaced = await k.core.replaceNamespacedConfigMap({ namespace: 'typed', name: 'settings', body });
      assert.deepEqual(replaced.data, { mode: 'safe', extra: 'yes' });
      assert.equal(replaced.metadata?.uid, created.metadata?.uid);
      assert.ok(rvNum(replaced) > rvNum(read));
      assert.equal(replaced.metadata?.creationTimestamp?.getTime(), created.metadata?.creationTimestamp?.getTime());

      await k.core.deleteNamespacedConfigMap({ namespace: 'typed', name: 'settings' });
      await apiError(k.core.readNamespacedConfigMap({ namespace: 'typed', name: 'settings' }), 404, 'NotFound');
      const rest = await k.core.listNamespacedConfigMap({ namespace: 'typed' });
      assert.deepEqual(rest.items.map((i) => i.metadata?.name), ['other']);
    });

    test(
      'CoreV1Api: deleting a ConfigMap answers with a Success Status, as kube-apiserver does',
      async () => {
        const cm = await k.core.createNamespacedConfigMap({ namespace: 'typed', body: { metadata: { name: 'doomed' } } });
        const st = await k.core.deleteNamespacedConfigMap({ namespace: 'typed', name: 'doomed' });
        assert.equal(st.kind, 'Status');
        assert.equal(st.apiVersion, 'v1');
        assert.equal(st.status, 'Success');
        assert.equal(st.details?.name, 'doomed');
        assert.equal(st.details?.kind, 'configmaps');
        assert.equal(st.details?.uid, cm.metadata?.uid);
        const cr = await k.custom.createNamespacedCustomObject({ ...CR, namespace: 'typed', body: nimService('doomed') });
        const crst = await k.custom.deleteNamespacedCustomObject({ ...CR, namespace: 'typed', name: 'doomed' });
        assert.deepEqual(
          [crst.kind, crst.status, crst.details?.name, crst.details?.group, crst.details?.kind, crst.details?.uid],
          ['Status', 'Success', 'doomed', GROUP, PLURAL, cr.metadata.uid],
        );
      },
    );

    test('AppsV1Api: Deployment create, replace, and the scale subresource', async () => {
      const deployment: V1Deployment = {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
          },
        },
      };
      const created = await k.apps.createNamespacedDeployment({ namespace: 'typed', body: deployment });
      assert.equal(created.kind, 'Deployment');
      assert.equal(created.apiVersion, 'apps/v1');
      assert.equal(created.metadata?.generation, 1);
      assert.equal(created.spec?.replicas, 1);
      assert.equal(created.spec?.template.spec?.containers[0]?.image, 'nginx:1.27');

      const replaced = await k.apps.replaceNamespacedDeployment({
        namespace: 'typed',
        name: 'web',
        body: {
          ...created,
          spec: {
            ...created.spec!,
            template: { ...created.spec!.template, spec: { containers: [{ name: 'main', image: 'nginx:1.28' }] } },
          },
        },
      });
      assert.equal(replaced.spec?.template.spec?.containers[0]?.image, 'nginx:1.28');
      assert.equal(replaced.metadata?.generation, 2, 'a spec change moves generation');
      assert.ok(rvNum(replaced) > rvNum(created));

      const scale = await k.apps.readNamespacedDeploymentScale({ namespace: 'typed', name: 'web' });
      assert.equal(scale.kind, 'Scale');
      assert.equal(scale.apiVersion, 'autoscaling/v1');
      assert.equal(scale.metadata?.name, 'web');
      assert.equal(scale.metadata?.uid, created.metadata?.uid);
      assert.equal(scale.spec?.replicas, 1);

      // client-node's default patch content type is JSON patch.
      const patched = await k.apps.patchNamespacedDeploymentScale({
        namespace: 'typed',
        name: 'web',
        body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      });
      assert.equal(patched.kind, 'Scale');
      assert.equal(patched.spec?.replicas, 3);
      const merged = await k.apps.patchNamespacedDeploymentScale({ namespace: 'typed', name: 'web', body: { spec: { replicas: 4 } } }, merge());
      assert.equal(merged.spec?.replicas, 4);

      const replacedScale = await k.apps.replaceNamespacedDeploymentScale({
        namespace: 'typed',
        name: 'web',
        body: { ...merged, spec: { replicas: 5 } },
      });
      assert.equal(replacedScale.spec?.replicas, 5);
      const after = await k.apps.readNamespacedDeployment({ namespace: 'typed', name: 'web' });
      assert.equal(after.spec?.replicas, 5);
      assert.equal(after.metadata?.resourceVersion, replacedScale.metadata?.resourceVersion);
      await apiError(
        k.apps.replaceNamespacedDeploymentScale({ namespace: 'typed', name: 'web', body: { ...merged, spec: { replicas: 6 } } }),
        409,
        'Conflict',
      );
    });

    test('AppsV1Api: strategic merge patch merges containers by name', async () => {
      const patched = await k.apps.patchNamespacedDeployment(
        {
          namespace: 'typed',
          name: 'web',
          body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } },
        },
        strategic(),
      );
      assert.deepEqual(
        patched.spec?.template.spec?.containers.map((ct) => [ct.name, ct.image]),
        [
          ['sidecar', 'busybox:1.36'],
          ['main', 'nginx:1.28'],
        ],
      );
    });
  });

  describe('CustomObjectsApi: NIMService', () => {
    test('create, get, list, merge patch, replace, delete', async () => {
      const created = await k.custom.createNamespacedCustomObject({ ...CR, namespace: 'crs', body: nimService('llama') });
      assert.equal(created.kind, 'NIMService');
      assert.equal(created.apiVersion, 'apps.nvidia.com/v1alpha1');
      assert.equal(created.metadata.namespace, 'crs');
      assert.equal(created.metadata.generation, 1);
      assert.deepEqual(created.spec.image, IMAGE);
      assert.equal(typeof created.metadata.creationTimestamp, 'string', 'custom objects stay raw JSON');

      const got = await k.custom.getNamespacedCustomObject({ ...CR, namespace: 'crs', name: 'llama' });
      assert.equal(got.metadata.uid, created.metadata.uid);
      assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);

      await k.custom.createNamespacedCustomObject({ ...CR, namespace: 'crs', body: nimService('mistral') });
      const list = await k.custom.listNamespacedCustomObject({ ...CR, namespace: 'crs' });
      assert.equal(list.kind, 'NIMServiceList');
      assert.equal(list.apiVersion, 'apps.nvidia.com/v1alpha1');
      assert.deepEqual(list.items.map((i: Json) => i.metadata.name), ['llama', 'mistral']);
      assert.match(list.metadata.resourceVersion, /^\d+$/);

      const patched = await k.custom.patchNamespacedCustomObject(
        { ...CR, namespace: 'crs', name: 'llama', body: { metadata: { labels: { tier: 'gold' } }, spec: { replicas: 2 } } },
        merge(),
      );
      assert.equal(patched.metadata.labels.tier, 'gold');
      assert.equal(patched.spec.replicas, 2);
      assert.deepEqual(patched.spec.image, IMAGE);
      assert.equal(patched.metadata.generation, 2);

      const labelOnly = await k.custom.patchNamespacedCustomObject(
        { ...CR, namespace: 'crs', name: 'llama', body: { metadata: { labels: { tier: 'silver' } } } },
        merge(),
      );
      assert.equal(labelOnly.metadata.generation, 2, 'a metadata-only change keeps generation');

      const replaced = await k.custom.replaceNamespacedCustomObject({
        ...CR,
        namespace: 'crs',
        name: 'llama',
        body: { ...labelOnly, spec: { ...labelOnly.spec, replicas: 3 } },
      });
      assert.equal(replaced.spec.replicas, 3);
      assert.equal(replaced.metadata.generation, 3);
      assert.ok(rvNum(replaced) > rvNum(labelOnly));

      await k.custom.deleteNamespacedCustomObject({ ...CR, namespace: 'crs', name: 'mistral' });
      await apiError(k.custom.getNamespacedCustomObject({ ...CR, namespace: 'crs', name: 'mistral' }), 404, 'NotFound');
      const rest = await k.custom.listNamespacedCustomObject({ ...CR, namespace: 'crs' });
      assert.deepEqual(rest.items.map((i: Json) => i.metadata.name), ['llama']);
    });

    test('status subresource: replace and patch status; spec and status are written apart', async () => {
      const live = await k.custom.getNamespacedCustomObject({ ...CR, namespace: 'crs', name: 'llama' });
      const gen = live.metadata.generation;

      const withStatus = await k.custom.replaceNamespacedCustomObjectStatus({
        ...CR,
        namespace: 'crs',
        name: 'llama',
        body: { ...live, spec: { ...live.spec, replicas: 9 }, status: { state: 'NotReady', availableReplicas: 0 } },
      });
      assert.deepEqual(withStatus.status, { state: 'NotReady', availableReplicas: 0 });
      assert.equal(withStatus.spec.replicas, live.spec.replicas, 'spec is ignored on /status');
      assert.equal(withStatus.metadata.generation, gen, 'a status write keeps generation');
      assert.ok(rvNum(withStatus) > rvNum(live));

      const patched = await k.custom.patchNamespacedCustomObjectStatus(
        { ...CR, namespace: 'crs', name: 'llama', body: { status: { state: 'Ready', availableReplicas: 3 } } },
        merge(),
      );
      assert.deepEqual(patched.status, { state: 'Ready', availableReplicas: 3 });

      const viaStatus = await k.custom.getNamespacedCustomObjectStatus({ ...CR, namespace: 'crs', name: 'llama' });
      assert.equal(viaStatus.status.state, 'Ready');

      const mainWrite = await k.custom.replaceNamespacedCustomObject({
        ...CR,
        namespace: 'crs',
        name: 'llama',
        body: { ...patched, status: { state: 'Failed' } },
      });
      assert.equal(mainWrite.status.state, 'Ready', 'status is ignored on the main resource');
      assert.equal(mainWrite.metadata.resourceVersion, patched.metadata.resourceVersion, 'a write that changes nothing keeps resourceVersion');

      await apiError(
        k.custom.replaceNamespacedCustomObjectStatus({ ...CR, namespace: 'crs', name: 'llama', body: { ...live, status: { state: 'Failed' } } }),
        409,
        'Conflict',
      );
    });
  });

  describe('KubernetesObjectApi (generic, discovery-driven)', () => {
    test('create, read, list, SSA patch, replace and delete a NIMService and a ConfigMap', async () => {
      const objects = KubernetesObjectApi.makeApiClient(k.kc);
      const created = await objects.create<Json & KubernetesObject>({ ...nimService('generic'), metadata: { name: 'generic', namespace: 'crs' } });
      assert.equal(created.kind, 'NIMService');
      assert.equal(created.metadata?.namespace, 'crs');
      const read = await objects.read<Json & KubernetesObject>({ apiVersion: `${GROUP}/${VERSION}`, kind: 'NIMService', metadata: { name: 'generic', namespace: 'crs' } });
      assert.equal(read.metadata?.uid, created.metadata?.uid);
      assert.deepEqual(read.spec.image, IMAGE);
      const list = await objects.list(`${GROUP}/${VERSION}`, 'NIMService', 'crs');
      assert.ok(list.items.some((i) => i.metadata?.name === 'generic'));
      const applied = await objects.patch<Json & KubernetesObject>(
        { ...nimService('generic', { replicas: 4 }), metadata: { name: 'generic', namespace: 'crs' } },
        undefined,
        undefined,
        'generic-applier',
        true,
        PatchStrategy.ServerSideApply,
      );
      assert.equal(applied.spec.replicas, 4);
      assert.ok(applied.metadata?.managedFields?.some((m) => m.manager === 'generic-applier' && m.operation === 'Apply'));
      const replaced = await objects.replace<Json & KubernetesObject>({ ...applied, spec: { ...applied.spec, replicas: 5 } });
      assert.equal(replaced.spec.replicas, 5);
      await objects.delete({ apiVersion: `${GROUP}/${VERSION}`, kind: 'NIMService', metadata: { name: 'generic', namespace: 'crs' } });
      await apiError(objects.read({ apiVersion: `${GROUP}/${VERSION}`, kind: 'NIMService', metadata: { name: 'generic', namespace: 'crs' } }), 404, 'NotFound');

      const cm = await objects.create<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: 'crs' }, data: { a: 'b' } });
      assert.deepEqual(cm.data, { a: 'b' });
      await apiError(objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: 'crs' } }), 409, 'AlreadyExists');
      await objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: 'crs' } });
    });
  });

  describe('errors surface as ApiException with a Status body', () => {
    test('404 NotFound', async () => {
      const st = await apiError(k.core.readNamespacedConfigMap({ namespace: 'errors', name: 'missing' }), 404, 'NotFound');
      assert.equal(st.message, 'configmaps "missing" not found');
      assert.equal(st.details.name, 'missing');
      assert.equal(st.details.kind, 'configmaps');
      const cr = await apiError(k.custom.getNamespacedCustomObject({ ...CR, namespace: 'errors', name: 'missing' }), 404, 'NotFound');
      assert.equal(cr.message, 'nimservices.apps.nvidia.com "missing" not found');
      assert.equal(cr.details.group, 'apps.nvidia.com');
      await apiError(k.apps.readNamespacedDeploymentScale({ namespace: 'errors', name: 'missing' }), 404, 'NotFound');
      await apiError(k.core.createNamespacedConfigMap({ namespace: 'no-such-ns', body: { metadata: { name: 'x' } } }), 404, 'NotFound');
    });

    test('409 AlreadyExists', async () => {
      await k.core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: { name: 'twice' } } });
      const st = await apiError(k.core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: { name: 'twice' } } }), 409, 'AlreadyExists');
      assert.equal(st.message, 'configmaps "twice" already exists');
      assert.equal(st.details.name, 'twice');
      await k.custom.createNamespacedCustomObject({ ...CR, namespace: 'errors', body: nimService('dup') });
      const cr = await apiError(k.custom.createNamespacedCustomObject({ ...CR, namespace: 'errors', body: nimService('dup') }), 409, 'AlreadyExists');
      assert.equal(cr.message, 'nimservices.apps.nvidia.com "dup" already exists');
    });

    test('409 Conflict on replace with a stale resourceVersion', async () => {
      const first = await k.core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: { name: 'race' }, data: { v: '1' } } });
      await k.core.replaceNamespacedConfigMap({ namespace: 'errors', name: 'race', body: { ...first, data: { v: '2' } } });
      const st = await apiError(
        k.core.replaceNamespacedConfigMap({ namespace: 'errors', name: 'race', body: { ...first, data: { v: '3' } } }),
        409,
        'Conflict',
      );
      assert.equal(
        st.message,
        'Operation cannot be fulfilled on configmaps "race": the object has been modified; please apply your changes to the latest version and try again',
      );
      const cur = await k.core.readNamespacedConfigMap({ namespace: 'errors', name: 'race' });
      assert.deepEqual(cur.data, { v: '2' });

      const cr = await k.custom.getNamespacedCustomObject({ ...CR, namespace: 'errors', name: 'dup' });
      await k.custom.replaceNamespacedCustomObject({ ...CR, namespace: 'errors', name: 'dup', body: { ...cr, spec: { ...cr.spec, replicas: 1 } } });
      const crst = await apiError(
        k.custom.replaceNamespacedCustomObject({ ...CR, namespace: 'errors', name: 'dup', body: { ...cr, spec: { ...cr.spec, replicas: 2 } } }),
        409,
        'Conflict',
      );
      assert.match(crst.message, /^Operation cannot be fulfilled on nimservices\.apps\.nvidia\.com "dup": the object has been modified/);
    });

    test('409 Conflict on delete with a stale resourceVersion precondition', async () => {
      const cur = await k.core.readNamespacedConfigMap({ namespace: 'errors', name: 'race' });
      const st = await apiError(
        k.core.deleteNamespacedConfigMap({ namespace: 'errors', name: 'race', body: { preconditions: { resourceVersion: '1' } } }),
        409,
        'Conflict',
      );
      assert.equal(
        st.message,
        `Operation cannot be fulfilled on configmaps "race": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${cur.metadata!.resourceVersion}`,
      );
      await k.core.deleteNamespacedConfigMap({ namespace: 'errors', name: 'race', body: { preconditions: { resourceVersion: cur.metadata!.resourceVersion! } } });
      await apiError(k.core.readNamespacedConfigMap({ namespace: 'errors', name: 'race' }), 404, 'NotFound');
    });

    test('422 Invalid: spec.replicas with spec.scale.enabled', async () => {
      const st = await apiError(
        k.custom.createNamespacedCustomObject({
          ...CR,
          namespace: 'errors',
          body: nimService('bad', { replicas: 2, scale: { enabled: true, hpa: { maxReplicas: 4 } } }),
        }),
        422,
        'Invalid',
      );
      assert.ok(st.message.includes('spec.replicas cannot be set when spec.scale.enabled is true'), st.message);
      assert.match(st.message, /^NIMService\.apps\.nvidia\.com "bad" is invalid: /);
      assert.equal(st.details.name, 'bad');
      assert.equal(st.details.kind, 'NIMService');
      assert.ok(
        (st.details.causes as Json[]).some((cause) => String(cause.message).includes('spec.replicas cannot be set when spec.scale.enabled is true')),
        JSON.stringify(st.details.causes),
      );
      await apiError(k.custom.getNamespacedCustomObject({ ...CR, namespace: 'errors', name: 'bad' }), 404, 'NotFound');
    });
  });

  describe('server-side apply through client-node', () => {
    test('ConfigMap: create by apply, no-op re-apply, conflict, force', async () => {
      const config = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { owned: v } });
      const created = await k.core.patchNamespacedConfigMapWithHttpInfo(
        { namespace: 'ssa', name: 'applied', body: config('a'), fieldManager: 'mgr-a' },
        ssa(),
      );
      assert.equal(created.httpStatusCode, 201, 'apply creates');
      assert.deepEqual(created.data.data, { owned: 'a' });
      const mf = created.data.metadata?.managedFields ?? [];
      assert.deepEqual(
        mf.map((m) => [m.manager, m.operation, m.apiVersion, m.fieldsType]),
        [['mgr-a', 'Apply', 'v1', 'FieldsV1']],
      );
      assert.deepEqual(mf[0]?.fieldsV1, { 'f:data': { 'f:owned': {} } });

      // Re-apply in a later second, so that a rewritten managedFields time would show.
      const t0 = Math.floor(Date.now() / 1000);
      await eventually(() => Math.floor(Date.now() / 1000) > t0, 'the next second');
      const again = await k.core.patchNamespacedConfigMapWithHttpInfo(
        { namespace: 'ssa', name: 'applied', body: config('a'), fieldManager: 'mgr-a' },
        ssa(),
      );
      assert.equal(again.httpStatusCode, 200);
      assert.equal(again.data.metadata?.resourceVersion, created.data.metadata?.resourceVersion, 're-applying identical config changes nothing');
      assert.equal(again.data.metadata?.managedFields?.[0]?.time?.getTime(), mf[0]?.time?.getTime());

      const st = await apiError(
        k.core.patchNamespacedConfigMap({ namespace: 'ssa', name: 'applied', body: config('b'), fieldManager: 'mgr-b' }, ssa()),
        409,
        'Conflict',
      );
      assert.match(st.message, /^Apply failed with 1 conflict: conflict with "mgr-a": \.data\.owned/);
      assert.deepEqual(
        (st.details.causes as Json[]).map((cause) => [cause.reason, cause.field]),
        [['FieldManagerConflict', '.data.owned']],
      );
      const unchanged = await k.core.readNamespacedConfigMap({ namespace: 'ssa', name: 'applied' });
      assert.deepEqual(unchanged.data, { owned: 'a' });

      const forced = await k.core.patchNamespacedConfigMap(
        { namespace: 'ssa', name: 'applied', body: config('b'), fieldManager: 'mgr-b', force: true },
        ssa(),
      );
      assert.deepEqual(forced.data, { owned: 'b' });
      const managers = Object.fromEntries((forced.metadata?.managedFields ?? []).map((m) => [m.manager, m.fieldsV1]));
      assert.deepEqual(managers['mgr-b'], { 'f:data': { 'f:owned': {} } });
      assert.equal(managers['mgr-a'], undefined, 'mgr-a lost its only field');
      assert.ok(rvNum(forced) > rvNum(unchanged));
    });

    test('ConfigMap: applying over a field set by an update conflicts with that manager', async () => {
      await k.core.createNamespacedConfigMap({ namespace: 'ssa', body: { metadata: { name: 'edited' }, data: { k: 'x' } }, fieldManager: 'editor' });
      const st = await apiError(
        k.core.patchNamespacedConfigMap(
          { namespace: 'ssa', name: 'edited', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edited' }, data: { k: 'y' } }, fieldManager: 'applier' },
          ssa(),
        ),
        409,
        'Conflict',
      );
      assert.match(st.message, /conflict with "editor" using v1: \.data\.k/);
      // The same value is shared, not a conflict.
      const shared = await k.core.patchNamespacedConfigMap(
        { namespace: 'ssa', name: 'edited', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edited' }, data: { k: 'x' } }, fieldManager: 'applier' },
        ssa(),
      );
      assert.deepEqual(
        (shared.metadata?.managedFields ?? []).map((m) => [m.manager, m.operation]).sort(),
        [
          ['applier', 'Apply'],
          ['editor', 'Update'],
        ],
      );
    });

    test('NIMService: create by apply, no-op re-apply, conflict, force', async () => {
      const config = (replicas: number) => nimService('applied', { replicas });
      const created = await k.custom.patchNamespacedCustomObjectWithHttpInfo(
        { ...CR, namespace: 'ssa', name: 'applied', body: config(1), fieldManager: 'mgr-a' },
        ssa(),
      );
      assert.equal(created.httpStatusCode, 201);
      assert.equal(created.data.spec.replicas, 1);
      assert.equal(created.data.metadata.generation, 1);
      assert.deepEqual(
        created.data.metadata.managedFields.map((m: Json) => [m.manager, m.operation, m.apiVersion]),
        [['mgr-a', 'Apply', 'apps.nvidia.com/v1alpha1']],
      );

      const again = await k.custom.patchNamespacedCustomObject({ ...CR, namespace: 'ssa', name: 'applied', body: config(1), fieldManager: 'mgr-a' }, ssa());
      assert.equal(again.metadata.resourceVersion, created.data.metadata.resourceVersion);

      const st = await apiError(
        k.custom.patchNamespacedCustomObject({ ...CR, namespace: 'ssa', name: 'applied', body: config(2), fieldManager: 'mgr-b' }, ssa()),
        409,
        'Conflict',
      );
      assert.match(st.message, /^Apply failed with 1 conflict: conflict with "mgr-a": \.spec\.replicas/);

      const forced = await k.custom.patchNamespacedCustomObject(
        { ...CR, namespace: 'ssa', name: 'applied', body: config(2), fieldManager: 'mgr-b', force: true },
        ssa(),
      );
      assert.equal(forced.spec.replicas, 2);
      assert.deepEqual(forced.spec.image, IMAGE);
      assert.equal(forced.metadata.generation, 2);
      const byManager = Object.fromEntries(forced.metadata.managedFields.map((m: Json) => [m.manager, m.fieldsV1]));
      assert.deepEqual(byManager['mgr-b'], { 'f:spec': { 'f:image': { 'f:repository': {}, 'f:tag': {} }, 'f:replicas': {} } });
      assert.equal(byManager['mgr-a']['f:spec']['f:replicas'], undefined, 'mgr-a no longer owns spec.replicas');
      assert.ok(byManager['mgr-a']['f:spec']['f:image'], 'mgr-a still co-owns spec.image');

      const status = await k.custom.patchNamespacedCustomObjectStatus(
        { ...CR, namespace: 'ssa', name: 'applied', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NIMService', metadata: { name: 'applied' }, status: { state: 'Ready' } }, fieldManager: 'status-writer', force: true },
        ssa(),
      );
      assert.equal(status.status.state, 'Ready');
      assert.equal(status.metadata.generation, 2);
      const statusEntry = status.metadata.managedFields.find((m: Json) => m.manager === 'status-writer');
      assert.equal(statusEntry.subresource, 'status');
      assert.equal(statusEntry.operation, 'Apply');
    });
  });

  describe('list + watch with resume', () => {
    test('a Watch from a list resourceVersion gets later events in order; a second from an intermediate one only those after it', async () => {
      const ns = 'watch';
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
      const list = await k.core.listNamespacedConfigMap({ namespace: ns });
      const listRV = list.metadata!.resourceVersion!;

      const w1 = await collect(k.kc, path, { resourceVersion: listRV });
      openWatches.push(w1);
      const a = await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'w' }, data: { n: '1' } } });
      const b = await k.core.replaceNamespacedConfigMap({ namespace: ns, name: 'w', body: { ...a, data: { n: '2' } } });
      const cc = await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'w', body: { data: { n: '3' } } }, merge());
      await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'w' });
      // A change elsewhere must not show up in this namespace's watch.
      await k.core.createNamespacedConfigMap({ namespace: 'typed', body: { metadata: { name: 'elsewhere' } } });

      await eventually(() => w1.events.length >= 4, 'four events on the first watch');
      assert.deepEqual(
        w1.events.map((e) => [e.type, e.object.metadata.name, e.object.data?.n]),
        [
          ['ADDED', 'w', '1'],
          ['MODIFIED', 'w', '2'],
          ['MODIFIED', 'w', '3'],
          ['DELETED', 'w', '3'],
        ],
      );
      const rvs = w1.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual(rvs.slice(0, 3), [rvNum(a), rvNum(b), rvNum(cc)]);
      assert.ok(rvs.every((rv, i) => i === 0 || rv > rvs[i - 1]!), `increasing resourceVersions: ${rvs.join(',')}`);
      assert.ok(rvs[0]! > Number(listRV));
      for (const e of w1.events) {
        assert.equal(e.object.kind, 'ConfigMap');
        assert.equal(e.object.apiVersion, 'v1');
      }

      const w2 = await collect(k.kc, path, { resourceVersion: b.metadata!.resourceVersion! });
      openWatches.push(w2);
      await eventually(() => w2.events.length >= 2, 'replayed events on the second watch');
      // It stays live: a later change arrives after the replayed ones.
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'later' } } });
      await eventually(() => w2.events.length >= 3 && w1.events.length >= 5, 'the later event on both watches');
      assert.deepEqual(
        w2.events.map((e) => [e.type, e.object.metadata.name, e.object.data?.n]),
        [
          ['MODIFIED', 'w', '3'],
          ['DELETED', 'w', '3'],
          ['ADDED', 'later', undefined],
        ],
      );
      assert.deepEqual(w1.events[4] && [w1.events[4].type, w1.events[4].object.metadata.name], ['ADDED', 'later']);
      assert.equal(w1.finished(), false);
      w1.stop();
      w2.stop();
      await w1.done;
      await w2.done;
    });

    test('a Watch without a resourceVersion starts with ADDED for every existing object, then goes live', async () => {
      const ns = 'watch';
      const existing = await k.core.listNamespacedConfigMap({ namespace: ns });
      const w = await collect(k.kc, `/api/v1/namespaces/${ns}/configmaps`, {});
      openWatches.push(w);
      await eventually(() => w.events.length >= existing.items.length, 'the synthetic ADDED events');
      assert.ok(existing.items.length > 0);
      assert.deepEqual(
        w.events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion]),
        existing.items.map((i) => ['ADDED', i.metadata!.name, i.metadata!.resourceVersion]),
      );
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'live' } } });
      await eventually(() => w.events.length > existing.items.length, 'the live event');
      assert.deepEqual([w.events.at(-1)!.type, w.events.at(-1)!.object.metadata.name], ['ADDED', 'live']);
      w.stop();
      await w.done;
    });

    test('a Watch with a label selector sees objects enter and leave the selection', async () => {
      const ns = 'watch';
      const list = await k.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'pick=yes' });
      const w = await collect(k.kc, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: list.metadata!.resourceVersion!, labelSelector: 'pick=yes' });
      openWatches.push(w);
      const x = await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'sel', labels: { pick: 'no' } } } });
      await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'sel', body: { metadata: { labels: { pick: 'yes' } } } }, merge());
      await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'sel', body: { data: { touched: 'true' } } }, merge());
      await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'sel', body: { metadata: { labels: { pick: 'no' } } } }, merge());
      await eventually(() => w.events.length >= 3, 'three selected events');
      assert.deepEqual(
        w.events.map((e) => [e.type, e.object.metadata.name]),
        [
          ['ADDED', 'sel'],
          ['MODIFIED', 'sel'],
          ['DELETED', 'sel'],
        ],
      );
      assert.ok(rvNum(w.events[0]!.object) > rvNum(x));
      w.stop();
      await w.done;
    });

    test('the server ends a watch after timeoutSeconds; the done callback gets no error', async () => {
      const list = await k.core.listNamespacedConfigMap({ namespace: 'watch' });
      const w = await collect(k.kc, '/api/v1/namespaces/watch/configmaps', { resourceVersion: list.metadata!.resourceVersion!, timeoutSeconds: 1 });
      openWatches.push(w);
      const err = await w.done;
      assert.equal(err, null);
      assert.deepEqual(w.events, []);
    });
  });

  describe('informer (makeInformer / ListWatch)', () => {
    test('add, update and delete callbacks fire and the cache follows the server', async () => {
      const ns = 'informer';
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'pre' }, data: { v: '0' } } });
      const informer = makeInformer<V1ConfigMap>(k.kc, `/api/v1/namespaces/${ns}/configmaps`, () => k.core.listNamespacedConfigMap({ namespace: ns }));
      const seen: string[] = [];
      const errors: unknown[] = [];
      informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
      informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
      informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
      informer.on('error', (e) => errors.push(e));
      await informer.start();
      try {
        await eventually(() => informer.get('pre', ns), 'the listed object in the cache');
        assert.deepEqual(seen, ['add pre']);

        const n = await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new' }, data: { v: '1' } } });
        await k.core.replaceNamespacedConfigMap({ namespace: ns, name: 'new', body: { ...n, data: { v: '2' } } });
        await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'pre' });
        await eventually(() => seen.length >= 4, 'three more callbacks');
        assert.deepEqual(seen, ['add pre', 'add new', 'update new 2', 'delete pre']);
        assert.equal(informer.get('pre', ns), undefined);
        assert.equal(informer.get('new', ns)?.data?.v, '2');
        assert.ok(await cacheMatchesServer(k.core, informer, ns));
        assert.deepEqual(errors, []);
      } finally {
        await informer.stop();
      }
    });

    test('a cluster-wide NIMService informer built on CustomObjectsApi follows creates, patches and deletes', async () => {
      const informer = makeInformer<Json & KubernetesObject>(k.kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`, () =>
        k.custom.listClusterCustomObject({ ...CR }),
      );
      const seen: string[] = [];
      informer.on('add', (o) => seen.push(`add ${o.metadata?.namespace}/${o.metadata?.name}`));
      informer.on('update', (o) => seen.push(`update ${o.metadata?.namespace}/${o.metadata?.name} ${o.spec.replicas}`));
      informer.on('delete', (o) => seen.push(`delete ${o.metadata?.namespace}/${o.metadata?.name}`));
      const initial = await k.custom.listClusterCustomObject({ ...CR });
      await informer.start();
      try {
        await eventually(() => informer.list().length === initial.items.length, 'the initial list');
        seen.length = 0;
        await k.custom.createNamespacedCustomObject({ ...CR, namespace: 'informer', body: nimService('inf') });
        await k.custom.patchNamespacedCustomObject({ ...CR, namespace: 'informer', name: 'inf', body: { spec: { replicas: 2 } } }, merge());
        await k.custom.deleteNamespacedCustomObject({ ...CR, namespace: 'informer', name: 'inf' });
        await eventually(() => seen.length >= 3, 'three callbacks');
        assert.deepEqual(seen, ['add informer/inf', 'update informer/inf 2', 'delete informer/inf']);
        const live = await k.custom.listClusterCustomObject({ ...CR });
        assert.deepEqual(
          informer.list().map((o) => `${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort(),
          live.items.map((o: Json) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort(),
        );
      } finally {
        await informer.stop();
      }
    });

    test('survives the server dropping its watch: re-watches from its resourceVersion without relisting and keeps converging', async () => {
      const ns = 'drop';
      const watch = new RecordingWatch(k.kc);
      let lists = 0;
      const informer = new ListWatch<V1ConfigMap>(
        `/api/v1/namespaces/${ns}/configmaps`,
        watch,
        () => {
          lists++;
          return k.core.listNamespacedConfigMap({ namespace: ns });
        },
        false,
      );
      const errors: unknown[] = [];
      informer.on('error', (e) => errors.push(e));
      let connects = 0;
      informer.on('connect', () => connects++);
      await eventually(() => c.cp.hub.open.size === 0, 'earlier watches closed');
      await informer.start();
      try {
        await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one' } } });
        await eventually(() => informer.get('one', ns), 'the first object');
        await eventually(() => c.cp.hub.open.size === 1, 'the informer watch open');

        for (let round = 1; round <= 3; round++) {
          const open = [...c.cp.hub.open];
          assert.equal(open.length, 1, 'only the informer watches');
          const watchesBefore = watch.requests.length;
          for (const res of open) res.end();
          // Changes made while the informer reconnects reach it through the resumed watch.
          await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `r${round}` } } });
          await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'one', body: { data: { round: String(round) } } }, merge());
          if (round === 2) await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'r1' });
          await eventually(() => watch.requests.length > watchesBefore, `re-watch after drop ${round}`);
          await eventually(() => cacheMatchesServer(k.core, informer, ns), `cache converges after drop ${round}`);
          await eventually(() => c.cp.hub.open.size === 1 && !open.some((r) => c.cp.hub.open.has(r)), 'the new watch is open');
        }
        assert.equal(lists, 1, 'a dropped watch resumes from the last resourceVersion, without a relist');
        assert.ok(connects >= 4);
        assert.ok(watch.requests.slice(1).every((q) => q.resourceVersion !== '' && q.resourceVersion !== undefined));
        assert.deepEqual(watch.dones.slice(0, 3), [null, null, null]);
        assert.equal(informer.get('one', ns)?.data?.round, '3');
        assert.deepEqual(informer.list(ns).map((o) => o.metadata?.name).sort(), ['one', 'r2', 'r3']);
        assert.deepEqual(errors, []);
      } finally {
        await informer.stop();
      }
    });
  });
});

describe('410 Gone and relist (historySize 5)', () => {
  let c: TestCluster;
  let k: Clients;
  const ns = 'gone';

  before(async () => {
    c = await startCluster({ historySize: 5 });
    k = clientsFor(c);
    await k.core.createNamespace({ body: { metadata: { name: ns } } });
    await k.core.createNamespace({ body: { metadata: { name: 'noise' } } });
  });
  after(async () => c?.stop());

  let filler = 0;
  /** Changes outside the watched namespace that push older resourceVersions out of the history. */
  async function churn(n = 6): Promise<void> {
    for (let i = 0; i < n; i++) {
      await k.core.createNamespacedConfigMap({ namespace: 'noise', body: { metadata: { name: `f${filler++}` } } });
    }
  }

  test('a Watch from a compacted resourceVersion gets an ERROR event with code 410, then done', async () => {
    const list = await k.core.listNamespacedConfigMap({ namespace: ns });
    const old = list.metadata!.resourceVersion!;
    await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'early' } } });
    await churn();
    const w = await collect(k.kc, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: old });
    const err = await w.done;
    assert.equal(err, null);
    assert.equal(w.events.length, 1, JSON.stringify(w.events));
    const [e] = w.events;
    assert.equal(e!.type, 'ERROR');
    assert.equal(e!.object.kind, 'Status');
    assert.equal(e!.object.code, 410);
    assert.equal(e!.object.reason, 'Expired');
    assert.match(e!.object.message, /too old resource version/);

    // A recent resourceVersion still resumes.
    const recent = await k.core.listNamespacedConfigMap({ namespace: ns });
    const ok = await collect(k.kc, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: recent.metadata!.resourceVersion! });
    await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'fresh' } } });
    await eventually(() => ok.events.length >= 1, 'an event on a resumable watch');
    assert.deepEqual([ok.events[0]!.type, ok.events[0]!.object.metadata.name], ['ADDED', 'fresh']);
    ok.stop();
    await ok.done;
    await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'fresh' });
  });

  test('an informer restarted from an expired resourceVersion relists, emits the differences, and converges', async () => {
    const watch = new RecordingWatch(k.kc);
    let lists = 0;
    const informer = new ListWatch<V1ConfigMap>(
      `/api/v1/namespaces/${ns}/configmaps`,
      watch,
      () => {
        lists++;
        return k.core.listNamespacedConfigMap({ namespace: ns });
      },
      false,
    );
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    informer.on('error', (e) => errors.push(e));

    await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'keep' } } });
    await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'vanish' } } });
    await informer.start();
    try {
      await eventually(() => informer.get('keep', ns) && informer.get('vanish', ns), 'the initial list');
      assert.ok(await cacheMatchesServer(k.core, informer, ns));
      assert.deepEqual(seen.sort(), informer.list(ns).map((o) => `add ${o.metadata?.name}`).sort());
      seen.length = 0;
      const stopRV = informer.latestResourceVersion();

      // While stopped, the namespace changes and the history moves past the informer's resourceVersion.
      await informer.stop();
      await eventually(() => c.cp.hub.open.size === 0, 'the informer watch closed');
      await k.core.patchNamespacedConfigMap({ namespace: ns, name: 'keep', body: { data: { changed: 'yes' } } }, merge());
      await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'vanish' });
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'appeared' } } });
      await churn();

      const eventsBefore = watch.events.length;
      await informer.start();
      await eventually(() => lists === 2, 'a relist after 410');
      const afterRestart = watch.events.slice(eventsBefore);
      assert.deepEqual(
        afterRestart.map((e) => [e.type, e.object.code]),
        [['ERROR', 410]],
        'the watch from the old resourceVersion answered 410',
      );
      assert.equal(watch.requests.at(-2)?.resourceVersion, stopRV);
      await eventually(() => cacheMatchesServer(k.core, informer, ns), 'the cache converges after the relist');
      assert.deepEqual(seen.sort(), ['add appeared', 'delete vanish', 'update keep']);
      assert.equal(informer.get('keep', ns)?.data?.changed, 'yes');

      // It keeps watching from the relisted resourceVersion.
      seen.length = 0;
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' } } });
      await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'early' });
      await eventually(() => seen.length >= 2, 'events after the relist');
      assert.deepEqual(seen, ['add after', 'delete early']);
      assert.ok(await cacheMatchesServer(k.core, informer, ns));
      assert.equal(lists, 2);
      // ListWatch.stop() aborts its own request and reports that AbortError to 'error' callbacks.
      assert.deepEqual(errors.filter((e) => (e as Error).name !== 'AbortError'), []);
    } finally {
      await informer.stop();
    }
  });

  test('an informer whose dropped watch resumes from an expired resourceVersion relists and converges', async () => {
    const watch = new RecordingWatch(k.kc);
    let lists = 0;
    const informer = new ListWatch<V1ConfigMap>(
      `/api/v1/namespaces/${ns}/configmaps`,
      watch,
      () => {
        lists++;
        return k.core.listNamespacedConfigMap({ namespace: ns });
      },
      false,
    );
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    const deleted: string[] = [];
    informer.on('delete', (o) => deleted.push(o.metadata!.name!));
    await informer.start();
    try {
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x1' } } });
      await eventually(() => informer.get('x1', ns), 'x1 in the cache');
      await eventually(() => c.cp.hub.open.size === 1, 'one open watch');
      const lastRV = informer.latestResourceVersion();

      // Changes elsewhere are not delivered to this watch, so its resourceVersion falls out of the history.
      await churn();
      const open = [...c.cp.hub.open];
      for (const res of open) res.end();
      await eventually(() => lists === 2, 'a relist after the resumed watch got 410');
      const resumed = watch.requests.find((q, i) => i > 0 && q.resourceVersion === lastRV);
      assert.ok(resumed, `re-watched from ${lastRV}: ${JSON.stringify(watch.requests)}`);
      assert.ok(watch.events.some((e) => e.type === 'ERROR' && e.object.code === 410));
      await eventually(() => cacheMatchesServer(k.core, informer, ns), 'converged after relist');

      await k.core.deleteNamespacedConfigMap({ namespace: ns, name: 'x1' });
      await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x2' } } });
      await eventually(() => informer.get('x2', ns) && !informer.get('x1', ns), 'later changes reach the cache');
      assert.deepEqual(deleted, ['x1']);
      assert.ok(await cacheMatchesServer(k.core, informer, ns));
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
