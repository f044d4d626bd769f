/**
 * kube-scheduler's DynamicResources plugin, simplified: a pod's ResourceClaims must exist (a
 * template's claim once the resource-claim controller made it); an allocated claim pins the pod to
 * the nodes its allocation selects; unallocated claims are allocated from the free devices of the
 * node's ResourceSlices (each request's device class and CEL selectors, `exactly` with ExactCount
 * or All, or the first of `firstAvailable` that fits). On binding the allocation is written to
 * `status.allocation` and the pod to `status.reservedFor`; a shared claim gains one more consumer.
 */
import type { Obj } from '../store.js';
import { type Engine } from './engine.js';
import { termMatches, type NodeVerdict } from './fit.js';
import { celDevice, selectorsMatch } from './dra-cel.js';
import { DELETE_PROTECTION, owningPod } from './dra.js';
import { CLAIM, CLASS, SLICE } from './dra-slices.js';

const MANAGER = 'kube-scheduler';
const RESERVED_MAX = 256;

interface Result {
  request: string;
  driver: string;
  pool: string;
  device: string;
}

interface Candidate {
  driver: string;
  pool: string;
  name: string;
  cel: Obj;
}

export interface DraPlan {
  /** Why no node can do (kube's PreFilter failures), if so. */
  problem?: string;
  filter(node: Obj): NodeVerdict | undefined;
  /** Allocates and reserves the claims for the pod on the node (before it is bound). */
  commit(node: Obj): void;
}

const devKey = (d: { driver: string; pool: string; device?: string; name?: string }) => `${d.driver}/${d.pool}/${d.device ?? d.name}`;

export class DraAllocator {
  constructor(private readonly e: Engine) {}

  /** The plan for a pod, or undefined when it has no claims. */
  prepare(pod: Obj): DraPlan | undefined {
    const podClaims: Obj[] = pod.spec?.resourceClaims ?? [];
    if (!podClaims.length) return undefined;
    const ns = String(pod.metadata.namespace);
    const fail = (problem: string): DraPlan => ({ problem, filter: () => undefined, commit: () => {} });
    if (!this.e.type(CLAIM)) return fail('resource.k8s.io/v1 ResourceClaims are not served');
    const statuses: Obj[] = pod.status?.resourceClaimStatuses ?? [];
    const claims: Obj[] = [];
    for (const rc of podClaims) {
      let name: string | undefined = rc.resourceClaimName;
      if (!name) {
        const st = statuses.find((s) => s.name === rc.name);
        if (!st) return fail(`waiting for dynamic resource controller to create the resourceclaim "${String(rc.name)}"`);
        if (!st.resourceClaimName) continue;
        name = String(st.resourceClaimName);
      }
      const claim = this.e.get(CLAIM, ns, name);
      if (!claim) return fail(`resourceclaim "${name}" not found`);
      if (claim.metadata.deletionTimestamp) return fail(`resourceclaim "${name}" is being deleted`);
      if (rc.resourceClaimTemplateName && owningPod(claim)?.uid !== pod.metadata.uid) {
        return fail(`ResourceClaim ${ns}/${name} was not created for pod ${ns}/${String(pod.metadata.name)} (pod is not owner)`);
      }
      const reserved: Obj[] = claim.status?.reservedFor ?? [];
      if (reserved.length >= RESERVED_MAX && !reserved.some((r) => r.uid === pod.metadata.uid)) return fail(`resourceclaim "${name}" in use`);
      claims.push(claim);
    }
    for (const claim of claims) {
      if (claim.status?.allocation) continue;
      for (const req of (claim.spec?.devices?.requests ?? []) as Obj[]) {
        for (const sub of req.exactly ? [req.exactly] : ((req.firstAvailable ?? []) as Obj[])) {
          if (!this.e.get(CLASS, undefined, String(sub.deviceClassName))) {
            return fail(`resourceclaim "${String(claim.metadata.name)}": request ${String(req.name)}: device class ${String(sub.deviceClassName)} does not exist`);
          }
        }
      }
    }
    const inUse = new Set<string>();
    for (const c of this.e.list(CLAIM)) for (const r of (c.status?.allocation?.devices?.results ?? []) as Result[]) inUse.add(devKey(r));
    const plans = new Map<string, Map<string, Result[]>>();
    return {
      filter: (node) => {
        const name = String(node.metadata.name);
        for (const c of claims) {
          const sel = c.status?.allocation?.nodeSelector;
          if (sel && !((sel.nodeSelectorTerms ?? []) as Obj[]).some((t) => termMatches(t, node))) {
            return { reasons: ['resourceclaim not available on the node'], resolvable: false };
          }
        }
        const pending = claims.filter((c) => !c.status?.allocation);
        if (!pending.length) return undefined;
        const errors: string[] = [];
        const plan = this.allocate(pending, this.devicesOn(node), inUse, errors);
        if (!plan) return { reasons: [errors.length ? `cannot allocate all claims (${errors[0]!})` : 'cannot allocate all claims'], resolvable: false };
        plans.set(name, plan);
        return undefined;
      },
      commit: (node) => {
        const name = String(node.metadata.name);
        const ref = { resource: 'pods', name: pod.metadata.name, uid: pod.metadata.uid };
        for (const c of claims) {
          let claim = this.e.get(CLAIM, ns, String(c.metadata.name)) ?? c;
          const status = structuredClone(claim.status ?? {});
          const results = plans.get(name)?.get(String(claim.metadata.uid));
          if (!status.allocation && results) {
            const finalizers: string[] = claim.metadata.finalizers ?? [];
            if (!finalizers.includes(DELETE_PROTECTION)) {
              const next = structuredClone(claim);
              next.metadata.finalizers = [...finalizers, DELETE_PROTECTION];
              claim = this.e.update(CLAIM, claim, next, MANAGER);
            }
            const config = ((claim.spec?.devices?.config ?? []) as Obj[]).map((cfg) => ({ source: 'FromClaim', ...structuredClone(cfg) }));
            status.allocation = {
              devices: { results, ...(config.length ? { config } : {}) },
              nodeSelector: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [name] }] }] },
            };
          }
          const reserved: Obj[] = status.reservedFor ?? [];
          if (!reserved.some((r) => r.uid === pod.metadata.uid)) status.reservedFor = [...reserved, ref];
          this.e.writeStatus(CLAIM, claim, status, MANAGER);
        }
      },
    };
  }

  /** Devices of the node's ResourceSlices (node-local, or for all nodes). */
  private devicesOn(node: Obj): Candidate[] {
    const out: Candidate[] = [];
    for (const s of this.e.list(SLICE)) {
      const spec: Obj = s.spec ?? {};
      const here = spec.nodeName === node.metadata.name || spec.allNodes === true || (spec.nodeSelector && ((spec.nodeSelector.nodeSelectorTerms ?? []) as Obj[]).some((t) => termMatches(t, node)));
      if (!here) continue;
      for (const d of (spec.devices ?? []) as Obj[]) {
        out.push({ driver: String(spec.driver), pool: String(spec.pool?.name), name: String(d.name), cel: celDevice(String(spec.driver), d) });
      }
    }
    return out;
  }

  private matches(className: string, selectors: Obj[] | undefined, d: Candidate, errors: string[], where: string): boolean {
    const cls = this.e.get(CLASS, undefined, className);
    for (const sels of [cls?.spec?.selectors as Obj[] | undefined, selectors]) {
      const r = selectorsMatch(sels, d.cel);
      if (r.error) errors.push(`${where}: ${r.error}`);
      if (!r.match) return false;
    }
    return true;
  }

  /** First-fit allocation of every request of every claim; undefined when one cannot be satisfied. */
  private allocate(claims: Obj[], devices: Candidate[], inUse: Set<string>, errors: string[]): Map<string, Result[]> | undefined {
    const taken = new Set<string>();
    const out = new Map<string, Result[]>();
    for (const claim of claims) {
      const results: Result[] = [];
      for (const req of (claim.spec?.devices?.requests ?? []) as Obj[]) {
        const options: { name: string; sub: Obj }[] = req.exactly
          ? [{ name: String(req.name), sub: req.exactly }]
          : ((req.firstAvailable ?? []) as Obj[]).map((s) => ({ name: `${String(req.name)}/${String(s.name)}`, sub: s }));
        let picked: Candidate[] | undefined;
        let resultName = '';
        for (const { name, sub } of options) {
          const where = `claim ${String(claim.metadata.name)}, request ${name}`;
          const free = devices.filter((d) => !inUse.has(devKey(d)) && !taken.has(devKey(d)) && this.matches(String(sub.deviceClassName), sub.selectors, d, errors, where));
          const all = (sub.allocationMode ?? 'ExactCount') === 'All';
          const want = all ? free.length : Number(sub.count ?? 1);
          if (all && devices.some((d) => (inUse.has(devKey(d)) || taken.has(devKey(d))) && this.matches(String(sub.deviceClassName), sub.selectors, d, [], where))) continue;
          if (want >= 1 && free.length >= want) {
            picked = free.slice(0, want);
            resultName = name;
            break;
          }
        }
        if (!picked) return undefined;
        for (const d of picked) {
          taken.add(devKey(d));
          results.push({ request: resultName, driver: d.driver, pool: d.pool, device: d.name });
        }
      }
      out.set(String(claim.metadata.uid), results);
    }
    return out;
  }
}
