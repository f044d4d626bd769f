/**
 * LeaderWorkerSet (leaderworkerset.x-k8s.io/v1), which the operator renders for multi-node NIMs:
 * a minimal CRD, and a controller that keeps `replicas` groups of `size` pods — leader `<lws>-<g>`
 * and workers `<lws>-<g>-<w>` with the LWS labels, annotations and env — a headless Service, group
 * recreation on a pod restart, group-by-group rolling updates, and the Available condition.
 */
import { createHash } from 'node:crypto';
import type { ChangeEvent, Obj } from '../store.js';
import { LWS, POD, SVC, controllerOf, ownerRef, splitKey, templateHash, type Controller, type Engine } from './engine.js';
import { isDeleting, isReady, isTerminal, ownedPods, podFromTemplate } from './pods.js';

const MANAGER = 'lws-controller-manager';
const L = 'leaderworkerset.sigs.k8s.io';

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** A minimal CRD for LeaderWorkerSet: the fields with defaults typed, the rest preserved. */
export function lwsCRD(): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'leaderworkersets.leaderworkerset.x-k8s.io', annotations: { 'sim.nimop.dev/minimal': 'true' } },
    spec: {
      group: 'leaderworkerset.x-k8s.io',
      names: { kind: 'LeaderWorkerSet', listKind: 'LeaderWorkerSetList', plural: 'leaderworkersets', singular: 'leaderworkerset', shortNames: ['lws'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.hpaPodSelector' } },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  'x-kubernetes-preserve-unknown-fields': true,
                  properties: {
                    replicas: { type: 'integer', format: 'int32', default: 1 },
                    startupPolicy: { type: 'string', enum: ['LeaderCreated', 'LeaderReady'], default: 'LeaderCreated' },
                    leaderWorkerTemplate: {
                      type: 'object',
                      'x-kubernetes-preserve-unknown-fields': true,
                      properties: {
                        size: { type: 'integer', format: 'int32', default: 1 },
                        restartPolicy: { type: 'string', enum: ['RecreateGroupOnPodRestart', 'Default', 'None'], default: 'RecreateGroupOnPodRestart' },
                        leaderTemplate: preserve,
                        workerTemplate: preserve,
                      },
                      required: ['workerTemplate'],
                    },
                    rolloutStrategy: { ...preserve, default: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0 } } },
                    networkConfig: preserve,
                  },
                  required: ['leaderWorkerTemplate'],
                },
                status: preserve,
              },
            },
          },
          additionalPrinterColumns: [
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

function withEnv(spec: Obj, vars: Record<string, string>): Obj {
  const add = (c: Obj) => {
    const env: Obj[] = (c.env ?? []).filter((e: Obj) => !(e.name in vars));
    c.env = [...Object.entries(vars).map(([name, value]) => ({ name, value })), ...env];
  };
  for (const c of (spec.containers ?? []) as Obj[]) add(c);
  for (const c of (spec.initContainers ?? []) as Obj[]) add(c);
  return spec;
}

export class LeaderWorkerSets implements Controller {
  readonly name = 'leaderworkersets';

  constructor(private readonly e: Engine) {}

  *initialKeys(): Iterable<string> {
    for (const s of this.e.list(LWS)) yield `${s.metadata.namespace}/${s.metadata.name}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    if (ev.resource === LWS) yield `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
    else if (ev.resource === POD) {
      const ref = controllerOf(ev.object);
      if (ref?.kind === 'LeaderWorkerSet') yield `${ev.object.metadata.namespace}/${ref.name}`;
    }
  }

  reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const lws = this.e.get(LWS, ns, name);
    if (!lws || lws.metadata.deletionTimestamp) return;
    const spec: Obj = lws.spec ?? {};
    const lwt: Obj = spec.leaderWorkerTemplate ?? {};
    const replicas: number = spec.replicas ?? 1;
    const size: number = lwt.size ?? 1;
    const leaderTpl: Obj = lwt.leaderTemplate ?? lwt.workerTemplate ?? {};
    const workerTpl: Obj = lwt.workerTemplate ?? {};
    const revision = templateHash({ leaderTpl, workerTpl, size });
    this.ensureService(lws);
    const pods = ownedPods(this.e.list(POD, ns), lws).filter((p) => !isDeleting(p));
    const groups = new Map<number, Obj[]>();
    for (const p of pods) {
      const g = Number(p.metadata.labels?.[`${L}/group-index`] ?? -1);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(p);
    }
    const deleteGroup = (g: number) => {
      for (const p of groups.get(g) ?? []) this.e.delete(POD, ns, p.metadata.name);
      groups.delete(g);
    };
    // A restarted or failed pod takes its whole group down (RecreateGroupOnPodRestart).
    if ((lwt.restartPolicy ?? 'RecreateGroupOnPodRestart') === 'RecreateGroupOnPodRestart') {
      for (const [g, members] of groups) {
        if (members.some((p) => isTerminal(p) || ((p.status?.containerStatuses ?? []) as Obj[]).some((c) => (c.restartCount ?? 0) > 0))) deleteGroup(g);
      }
    }
    for (const g of [...groups.keys()]) if (g < 0 || g >= replicas) deleteGroup(g);
    const groupReady = (g: number) => {
      const m = groups.get(g) ?? [];
      return m.length === size && m.every(isReady);
    };
    const current = (g: number) => (groups.get(g) ?? []).every((p) => p.metadata.labels?.[`${L}/template-revision-hash`] === revision);
    // Rolling update: replace stale groups from the highest index, within maxUnavailable.
    const maxUnavailable = Number(spec.rolloutStrategy?.rollingUpdateConfiguration?.maxUnavailable ?? 1) || 1;
    const stale = [...groups.keys()].filter((g) => !current(g)).sort((a, b) => b - a);
    const unready = () => Array.from({ length: replicas }, (_, g) => g).filter((g) => !groupReady(g)).length;
    for (const g of stale) {
      if (unready() >= maxUnavailable && groupReady(g)) break;
      deleteGroup(g);
    }
    for (let g = 0; g < replicas; g++) this.ensureGroup(lws, g, size, revision, groups, leaderTpl, workerTpl);
    this.writeStatus(lws, replicas, groups, groupReady, current);
  }

  private ensureService(lws: Obj): void {
    const name = lws.metadata.name;
    if (this.e.get(SVC, lws.metadata.namespace, name)) return;
    this.e.create(SVC, {
      metadata: { name, namespace: lws.metadata.namespace, ownerReferences: [ownerRef(lws)] },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { [`${L}/name`]: name } },
    }, MANAGER);
  }

  private ensureGroup(lws: Obj, g: number, size: number, revision: string, groups: Map<number, Obj[]>, leaderTpl: Obj, workerTpl: Obj): void {
    const ns = lws.metadata.namespace;
    const name = lws.metadata.name;
    const members = groups.get(g) ?? [];
    const leaderName = `${name}-${g}`;
    const groupKey = createHash('sha1').update(`${ns}/${leaderName}`).digest('hex');
    const common = { [`${L}/name`]: name, [`${L}/group-index`]: String(g), [`${L}/group-key`]: groupKey, [`${L}/template-revision-hash`]: revision };
    const address = `${leaderName}.${name}.${ns}`;
    const shared = lws.spec?.networkConfig?.subdomainPolicy !== 'UniquePerReplica';
    const make = (tpl: Obj, podName: string, w: number): Obj => {
      const pod = podFromTemplate(tpl, lws, podName, {
        labels: { ...common, [`${L}/worker-index`]: String(w) },
        annotations: { [`${L}/size`]: String(size), ...(w > 0 ? { [`${L}/leader-name`]: leaderName } : {}) },
        hostname: podName,
        subdomain: shared ? name : leaderName,
      });
      withEnv(pod.spec, { LWS_LEADER_ADDRESS: address, LWS_GROUP_SIZE: String(size), LWS_WORKER_INDEX: String(w) });
      return this.e.create(POD, pod, MANAGER);
    };
    let leader = members.find((p) => p.metadata.name === leaderName);
    if (!leader) {
      leader = make(leaderTpl, leaderName, 0);
      members.push(leader);
    }
    const startWorkers = (lws.spec?.startupPolicy ?? 'LeaderCreated') === 'LeaderCreated' || isReady(leader);
    if (startWorkers) {
      for (let w = 1; w < size; w++) {
        const wn = `${leaderName}-${w}`;
        if (!members.some((p) => p.metadata.name === wn)) members.push(make(workerTpl, wn, w));
      }
    }
    groups.set(g, members);
  }

  private writeStatus(lws: Obj, replicas: number, groups: Map<number, Obj[]>, groupReady: (g: number) => boolean, current: (g: number) => boolean): void {
    const existing = [...groups.keys()].filter((g) => g >= 0 && g < replicas);
    const ready = existing.filter(groupReady).length;
    const updated = existing.filter(current).length;
    const prev: Obj = lws.status ?? {};
    const allReady = replicas > 0 && ready === replicas;
    // As the LWS controller does: a condition appears when it first turns True, and Available and
    // Progressing exclude each other (the other one flips to False, keeping its reason).
    const on = allReady
      ? { type: 'Available', reason: 'AllGroupsReady', message: 'all replicas are ready' }
      : { type: 'Progressing', reason: 'GroupsAreProgressing', message: 'Creating resources' };
    const other = allReady ? 'Progressing' : 'Available';
    const conditions: Obj[] = structuredClone(prev.conditions ?? []);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const i = conditions.findIndex((c) => c.type === on.type);
    if (i < 0) conditions.push({ ...on, status: 'True', lastTransitionTime: now });
    else if (conditions[i]!.status !== 'True') conditions[i] = { ...on, status: 'True', lastTransitionTime: now };
    const j = conditions.findIndex((c) => c.type === other);
    if (j >= 0 && conditions[j]!.status === 'True') conditions[j] = { ...conditions[j], status: 'False', lastTransitionTime: now };
    const status: Obj = {
      conditions,
      replicas,
      readyReplicas: ready,
      updatedReplicas: updated,
      hpaPodSelector: `${L}/name=${lws.metadata.name},${L}/worker-index=0`,
    };
    this.e.writeStatus(LWS, lws, status, MANAGER);
  }
}
