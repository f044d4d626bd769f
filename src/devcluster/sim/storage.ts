/**
 * Storage as kube-controller-manager's PV controller and a dynamic provisioner would run it: a
 * default StorageClass `standard`; a claim binds to a matching PersistentVolume or gets a new one
 * from its class (waiting for its first consumer when the class says so); a claim whose class does
 * not exist stays Pending; released volumes are deleted or kept per their reclaim policy; a claim in
 * use by a pod is not removed until the pod is gone (pvc-protection).
 */
import type { ChangeEvent, Obj } from '../store.js';
import { DEFAULT_CLASS_ANNOTATION, PVC_PROTECTION, defaultStorageClass } from './apiserver-hooks.js';
import { POD, PV, PVC, SC, keyOf, nowRFC3339, splitKey, type Controller, type Engine } from './engine.js';
import { isTerminal } from './pods.js';
import { parseQuantity } from './quantity.js';

const MANAGER = 'kube-controller-manager';
export const PROVISIONER = 'sim.nimop.dev/hostpath';

/** The default StorageClass the simulated cluster starts with. */
export function standardClass(): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
  };
}

function covers(pvModes: string[], wanted: string[]): boolean {
  return wanted.every((m) => pvModes.includes(m));
}

export class Storage implements Controller {
  readonly name = 'storage';
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly e: Engine,
    private readonly stepDelayMs: number,
  ) {}

  *initialKeys(): Iterable<string> {
    for (const c of this.e.list(PVC)) yield `pvc:${keyOf(c)}`;
    for (const v of this.e.list(PV)) yield `pv:${keyOf(v)}`;
  }

  *keysFor(ev: ChangeEvent): Iterable<string> {
    const o = ev.object;
    if (ev.resource === PVC) {
      yield `pvc:${keyOf(o)}`;
      if (ev.type === 'DELETED' && o.spec?.volumeName) yield `pv:${String(o.spec.volumeName)}`;
    } else if (ev.resource === PV) {
      yield `pv:${keyOf(o)}`;
      const ref = o.spec?.claimRef;
      if (ref?.namespace && ref.name) yield `pvc:${String(ref.namespace)}/${String(ref.name)}`;
    } else if (ev.resource === SC) {
      for (const c of this.e.list(PVC)) if (c.status?.phase !== 'Bound') yield `pvc:${keyOf(c)}`;
    } else if (ev.resource === POD && (ev.type === 'DELETED' || isTerminal(o))) {
      // A pod going away may release a claim that is being deleted.
      for (const v of (o.spec?.volumes ?? []) as Obj[]) {
        if (v.persistentVolumeClaim?.claimName) yield `pvc:${String(o.metadata.namespace)}/${String(v.persistentVolumeClaim.claimName)}`;
      }
    }
  }

  reconcile(key: string): number | void {
    if (key.startsWith('pv:')) return this.volume(key.slice(3));
    return this.claim(key.slice(4));
  }

  private inUse(claim: Obj): boolean {
    return this.e.list(POD, claim.metadata.namespace).some(
      (p) => !isTerminal(p) && ((p.spec?.volumes ?? []) as Obj[]).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name),
    );
  }

  private claim(key: string): number | void {
    const [ns, name] = splitKey(key);
    const claim = this.e.get(PVC, ns, name);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp) {
      const f: string[] = claim.metadata.finalizers ?? [];
      if (f.includes(PVC_PROTECTION) && !this.inUse(claim)) {
        const next = structuredClone(claim);
        next.metadata.finalizers = f.filter((x) => x !== PVC_PROTECTION);
        this.e.update(PVC, claim, next, MANAGER);
      }
      return;
    }
    if (claim.spec?.volumeName) {
      const pv = this.e.get(PV, undefined, claim.spec.volumeName);
      if (!pv) return void this.e.writeStatus(PVC, claim, { ...(claim.status ?? {}), phase: 'Lost' }, MANAGER);
      if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata.uid) return;
      return void this.finishBinding(claim, pv);
    }
    // Unbound: find or make a volume.
    if (claim.spec?.storageClassName === undefined) {
      const def = defaultStorageClass(this.e.cp);
      if (def) {
        // Retroactive default class assignment.
        const next = structuredClone(claim);
        next.spec.storageClassName = def;
        this.e.update(PVC, claim, next, MANAGER);
        return;
      }
    }
    const className: string = claim.spec?.storageClassName ?? '';
    const pending = (reason?: [string, string]) => {
      this.e.writeStatus(PVC, claim, { ...(claim.status ?? {}), phase: 'Pending' }, MANAGER);
      if (reason) this.e.event(claim, reason[0] === 'ProvisioningFailed' ? 'Warning' : 'Normal', reason[0], reason[1], 'persistentvolume-controller');
    };
    const existing = this.matchingVolume(claim, className);
    if (existing) return void this.bind(claim, existing);
    if (!className) return pending(['FailedBinding', 'no persistent volumes available for this claim and no storage class is set']);
    const sc = this.e.get(SC, undefined, className);
    if (!sc) return pending(['ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`]);
    if (sc.provisioner === 'kubernetes.io/no-provisioner') return pending(['WaitForFirstConsumer', 'waiting for a volume to be created, either by external provisioner or manually created by system administrator']);
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !claim.metadata.annotations?.['volume.kubernetes.io/selected-node']) {
      return pending(['WaitForFirstConsumer', 'waiting for first consumer to be created before binding']);
    }
    const now = Date.now();
    const seen = this.firstSeen.get(claim.metadata.uid) ?? now;
    this.firstSeen.set(claim.metadata.uid, seen);
    if (now < seen + this.stepDelayMs) {
      pending();
      return seen + this.stepDelayMs - now;
    }
    this.bind(claim, this.provision(claim, sc));
  }

  private matchingVolume(claim: Obj, className: string): Obj | undefined {
    const want = parseQuantity(claim.spec?.resources?.requests?.storage ?? '0');
    const modes: string[] = claim.spec?.accessModes ?? [];
    const candidates = this.e
      .list(PV)
      .filter((pv) => {
        if (pv.metadata.deletionTimestamp) return false;
        const ref = pv.spec?.claimRef;
        if (ref && !(ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid))) return false;
        if ((pv.spec?.storageClassName ?? '') !== className) return false;
        if (pv.status?.phase && pv.status.phase !== 'Available' && !ref) return false;
        if (claim.spec?.volumeMode && (pv.spec?.volumeMode ?? 'Filesystem') !== claim.spec.volumeMode) return false;
        return parseQuantity(pv.spec?.capacity?.storage ?? '0') >= want && covers(pv.spec?.accessModes ?? [], modes);
      })
      .sort((a, b) => parseQuantity(a.spec?.capacity?.storage ?? '0') - parseQuantity(b.spec?.capacity?.storage ?? '0'));
    return candidates[0];
  }

  private provision(claim: Obj, sc: Obj): Obj {
    const name = `pvc-${String(claim.metadata.uid)}`;
    const existing = this.e.get(PV, undefined, name);
    if (existing) return existing;
    const pv: Obj = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name,
        annotations: { 'pv.kubernetes.io/provisioned-by': sc.provisioner },
        finalizers: ['kubernetes.io/pv-protection'],
      },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata.name,
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        hostPath: { path: `/var/lib/nimop/volumes/${name}`, type: 'DirectoryOrCreate' },
        claimRef: { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion },
        ...(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']
          ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [claim.metadata.annotations['volume.kubernetes.io/selected-node']] }] }] } } }
          : {}),
      },
    };
    const created = this.e.create(PV, pv, MANAGER);
    this.e.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`, PROVISIONER);
    return created;
  }

  private bind(claim: Obj, pv: Obj): void {
    if (!pv.spec?.claimRef?.uid) {
      const next = structuredClone(pv);
      next.spec.claimRef = { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
      pv = this.e.update(PV, pv, next, MANAGER);
    }
    const next = structuredClone(claim);
    next.spec.volumeName = pv.metadata.name;
    const provisioner = this.e.get(SC, undefined, claim.spec?.storageClassName ?? '')?.provisioner;
    next.metadata.annotations = {
      ...(next.metadata.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      ...(provisioner ? { 'volume.beta.kubernetes.io/storage-provisioner': provisioner, 'volume.kubernetes.io/storage-provisioner': provisioner } : {}),
    };
    const bound = this.e.update(PVC, claim, next, MANAGER);
    this.finishBinding(bound, pv);
  }

  private finishBinding(claim: Obj, pv: Obj): void {
    this.e.writeStatus(PV, pv, { ...(pv.status ?? {}), phase: 'Bound', lastPhaseTransitionTime: pv.status?.phase === 'Bound' ? pv.status.lastPhaseTransitionTime : nowRFC3339() }, MANAGER);
    this.e.writeStatus(PVC, claim, { phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: { storage: pv.spec?.capacity?.storage } }, MANAGER);
  }

  private volume(name: string): void {
    const pv = this.e.get(PV, undefined, name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    if (pv.metadata.deletionTimestamp) {
      const f: string[] = pv.metadata.finalizers ?? [];
      const claim = ref ? this.e.get(PVC, ref.namespace, ref.name) : undefined;
      if (f.includes('kubernetes.io/pv-protection') && !(claim && claim.metadata.uid === ref?.uid)) {
        const next = structuredClone(pv);
        next.metadata.finalizers = f.filter((x) => x !== 'kubernetes.io/pv-protection');
        this.e.update(PV, pv, next, MANAGER);
      }
      return;
    }
    if (!ref?.uid) {
      if (pv.status?.phase !== 'Available') this.e.writeStatus(PV, pv, { phase: 'Available', lastPhaseTransitionTime: nowRFC3339() }, MANAGER);
      return;
    }
    const claim = this.e.get(PVC, ref.namespace, ref.name);
    if (claim && claim.metadata.uid === ref.uid) return;
    // The claim is gone: reclaim.
    if ((pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete') this.e.delete(PV, undefined, name);
    else if (pv.status?.phase !== 'Released') this.e.writeStatus(PV, pv, { phase: 'Released', lastPhaseTransitionTime: nowRFC3339() }, MANAGER);
  }
}
