/**
 * kube-controller-manager's resource-claim controller: a ResourceClaim per pod claim that names a
 * ResourceClaimTemplate (`<pod>-<podClaimName>-<5 random>`, owned by the pod, annotated
 * `resource.kubernetes.io/pod-claim-name`), recorded in the pod's `status.resourceClaimStatuses`;
 * reservations of pods that are gone or done dropped from `status.reservedFor`; a claim no one
 * reserves deallocated (and its `resource.kubernetes.io/delete-protection` finalizer removed); a
 * claim made for a pod that is done deleted. The garbage collector deletes it with its pod.
 */
import type { ChangeEvent, Obj } from '../store.js';
import { POD, randomSuffix, type Controller, type Engine } from './engine.js';
import { CLAIM, TEMPLATE } from './dra-slices.js';
import { isTerminal } from './pods.js';

export const POD_CLAIM_NAME = 'resource.kubernetes.io/pod-claim-name';
export const DELETE_PROTECTION = 'resource.kubernetes.io/delete-protection';
const MANAGER = 'kube-controller-manager';

/** The pod that a template-made claim belongs to (its controller owner of kind Pod). */
export function owningPod(claim: Obj): Obj | undefined {
  return ((claim.metadata?.ownerReferences ?? []) as Obj[]).find((r) => r.controller && r.kind === 'Pod' && (r.apiVersion ?? 'v1') === 'v1');
}

/** kube's generated claim name: pod and claim name, truncated as resourceclaim.GenerateName does. */
function claimName(pod: string, podClaim: string): string {
  let prefix = `${pod}-${podClaim}`;
  if (prefix.length > 57) prefix = `${pod.slice(0, 28)}-${podClaim.slice(0, 28)}`;
  return `${prefix}-${randomSuffix()}`;
}

export class ResourceClaimController implements Controller {
  readonly name = 'resource-claim';

  constructor(private readonly e: Engine) {}

  *keysFor(ev: ChangeEvent): Iterable<string> {
    const ns = ev.object.metadata?.namespace;
    if (!ns) return;
    if (ev.resource === POD && ((ev.object.spec?.resourceClaims ?? []) as Obj[]).length) yield ns;
    else if (ev.resource === CLAIM || (ev.resource === TEMPLATE && ev.type !== 'DELETED')) yield ns;
  }

  initialKeys(): Iterable<string> {
    return [...new Set(this.e.list(CLAIM).map((c) => String(c.metadata.namespace)))];
  }

  reconcile(ns: string): void {
    if (!this.e.type(CLAIM)) return;
    const pods = this.e.list(POD, ns);
    for (const pod of pods) {
      if (((pod.spec?.resourceClaims ?? []) as Obj[]).length && !pod.metadata.deletionTimestamp && !isTerminal(pod)) this.createClaims(pod);
    }
    const live = new Map(this.e.list(POD, ns).map((p) => [String(p.metadata.uid), p]));
    for (const claim of this.e.list(CLAIM, ns)) this.syncClaim(claim, live);
  }

  private createClaims(pod: Obj): void {
    const ns = String(pod.metadata.namespace);
    const statuses: Obj[] = [...((pod.status?.resourceClaimStatuses ?? []) as Obj[])];
    let changed = false;
    for (const rc of pod.spec.resourceClaims as Obj[]) {
      if (!rc.resourceClaimTemplateName || statuses.some((s) => s.name === rc.name)) continue;
      let claim = this.e
        .list(CLAIM, ns)
        .find((c) => owningPod(c)?.uid === pod.metadata.uid && c.metadata.annotations?.[POD_CLAIM_NAME] === rc.name);
      if (!claim) {
        const template = this.e.get(TEMPLATE, ns, rc.resourceClaimTemplateName);
        if (!template) {
          this.e.event(pod, 'Warning', 'FailedResourceClaimCreation', `PodResourceClaim ${String(rc.name)}: resource claim template "${String(rc.resourceClaimTemplateName)}": resourceclaimtemplate.resource.k8s.io "${String(rc.resourceClaimTemplateName)}" not found`, 'resource_claim');
          continue;
        }
        const meta: Obj = template.spec?.metadata ?? {};
        claim = this.e.create(
          CLAIM,
          {
            apiVersion: 'resource.k8s.io/v1',
            kind: 'ResourceClaim',
            metadata: {
              name: claimName(String(pod.metadata.name), String(rc.name)),
              namespace: ns,
              ...(meta.labels ? { labels: structuredClone(meta.labels) } : {}),
              annotations: { ...(meta.annotations ?? {}), [POD_CLAIM_NAME]: rc.name },
              ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: structuredClone(template.spec?.spec ?? {}),
          },
          MANAGER,
        );
      }
      statuses.push({ name: rc.name, resourceClaimName: claim.metadata.name });
      changed = true;
    }
    if (changed) this.e.writeStatus(POD, pod, { ...structuredClone(pod.status ?? {}), resourceClaimStatuses: statuses }, MANAGER);
  }

  private syncClaim(claim: Obj, live: Map<string, Obj>): void {
    const reserved: Obj[] = claim.status?.reservedFor ?? [];
    const valid = reserved.filter((r) => {
      if (r.resource !== 'pods' || (r.apiGroup ?? '') !== '') return true;
      const p = live.get(String(r.uid));
      return p !== undefined && !isTerminal(p);
    });
    const owner = owningPod(claim);
    if (valid.length === 0 && owner && !claim.metadata.deletionTimestamp) {
      const p = live.get(String(owner.uid));
      if (!p || isTerminal(p) || p.metadata.deletionTimestamp) {
        // Made for a pod that will not run (again): not needed any more.
        this.e.delete(CLAIM, claim.metadata.namespace, claim.metadata.name);
        const left = this.e.get(CLAIM, claim.metadata.namespace, claim.metadata.name);
        if (!left) return;
        claim = left;
      }
    }
    if (valid.length !== reserved.length || (valid.length === 0 && claim.status?.allocation)) {
      const status = structuredClone(claim.status ?? {});
      if (valid.length) status.reservedFor = valid;
      else {
        delete status.reservedFor;
        delete status.allocation;
      }
      claim = this.e.writeStatus(CLAIM, claim, status, MANAGER);
    }
    const finalizers: string[] = claim.metadata.finalizers ?? [];
    if (valid.length === 0 && !claim.status?.allocation && finalizers.includes(DELETE_PROTECTION)) {
      const next = structuredClone(claim);
      next.metadata.finalizers = finalizers.filter((f) => f !== DELETE_PROTECTION);
      if (!next.metadata.finalizers.length) delete next.metadata.finalizers;
      this.e.update(CLAIM, claim, next, MANAGER);
    }
  }
}
