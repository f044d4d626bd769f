/**
 * A small controller built on src/runtime, for testing the machinery before the real controllers:
 * each NIMService gets a ConfigMap `<name>-model` (owned, labelled managed-by) holding its image,
 * and a status with a Ready condition. Annotation `demo/fail` makes its reconcile throw.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Applier, MANAGED_BY_LABEL, MANAGED_BY_VALUE, controllerRef } from '../../src/runtime/apply.js';
import { Client, type ResourceRef } from '../../src/runtime/client/client.js';
import { RestClient, isNotFound, type Json } from '../../src/runtime/client/rest.js';
import { Controller, type Queue, type Request } from '../../src/runtime/controller.js';
import { Informer } from '../../src/runtime/informer.js';
import { setCondition, updateStatusIfChanged } from '../../src/runtime/status.js';

export const NIMSERVICE: ResourceRef = { group: 'apps.nvidia.com', version: 'v1alpha1', plural: 'nimservices', kind: 'NIMService', namespaced: true };
export const CONFIGMAP: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

export interface Demo {
  client: Client;
  applier: Applier;
  controller: Controller;
  services: Informer;
  configmaps: Informer;
  reconciled: Request[];
  /** Times a key was reconciled while another reconcile of it was still running (must stay 0). */
  overlaps: { count: number };
  stop(): Promise<void>;
}

export async function startDemo(kubeconfig: string, queue: Queue, opts: { concurrency?: number; delayMs?: number } = {}): Promise<Demo> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new Client(new RestClient(kc, { userAgent: 'nim-operator/test' }));
  const applier = new Applier(client);
  const services = new Informer(client, NIMSERVICE, { watchTimeoutSeconds: [300, 300], backoffInitialMs: 20, backoffMaxMs: 200 });
  const configmaps = new Informer(client, CONFIGMAP, {
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    watchTimeoutSeconds: [300, 300],
    backoffInitialMs: 20,
    backoffMaxMs: 200,
  });
  configmaps.addIndexer('owner', (o) => (o.metadata?.ownerReferences ?? []).map((r: Json) => r.uid));
  const reconciled: Request[] = [];
  const inflight = new Set<string>();
  const overlaps = { count: 0 };
  const controller = new Controller(
    'demo',
    {
      async reconcile(req) {
        reconciled.push(req);
        const key = `${req.namespace}/${req.name}`;
        if (inflight.has(key)) overlaps.count++;
        inflight.add(key);
        try {
          return await reconcileOne(req);
        } finally {
          inflight.delete(key);
        }
      },
    },
    queue,
    { concurrency: opts.concurrency ?? 2 },
  )
    .for(services)
    .owns(configmaps, 'NIMService', 'apps.nvidia.com/v1alpha1');
  async function reconcileOne(req: Request): Promise<void> {
        // Yield once, so that a second worker would get the chance to overlap.
        await new Promise((r) => setImmediate(r));
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        const svc = services.get(req.namespace, req.name);
        if (!svc || svc.metadata.deletionTimestamp) return;
        if (svc.metadata.annotations?.['demo/fail']) throw new Error('asked to fail');
        const name = `${svc.metadata.name}-model`;
        const desired = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name,
            namespace: svc.metadata.namespace,
            labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
            ownerReferences: [controllerRef(svc)],
          },
          data: { image: `${svc.spec.image.repository}:${svc.spec.image.tag}` },
        };
        const keep = new Set<string>();
        if (!svc.metadata.annotations?.['demo/no-child']) {
          await applier.apply(CONFIGMAP, desired, configmaps.get(svc.metadata.namespace, name));
          keep.add(name);
        }
        await applier.prune(CONFIGMAP, configmaps.byIndex('owner', svc.metadata.uid), keep);
        const status = {
          state: 'Ready',
          conditions: setCondition(svc.status?.conditions, { type: 'Ready', status: 'True', reason: 'ChildApplied', message: `ConfigMap ${name} holds the image` }, svc.metadata.generation),
        };
        try {
          await updateStatusIfChanged(client, NIMSERVICE, svc, status, 'nim-operator');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
  }
  services.start();
  configmaps.start();
  await Promise.all([services.waitForSync(), configmaps.waitForSync()]);
  controller.start();
  return {
    client,
    applier,
    controller,
    services,
    configmaps,
    reconciled,
    overlaps,
    async stop() {
      await controller.stop();
      await services.stop();
      await configmaps.stop();
      client.rest.close();
    },
  };
}
