/**
 * The simulated kubelets: pods bound to a node start (after the step delay), run their init
 * containers one by one, then their containers, as the image catalogue says; they turn ready, exit,
 * restart with back-off, and the pod's status follows. A running NIM container gets a live endpoint.
 */
import type { Obj } from '../store.js';
import { containerGpus } from './quantity.js';
import { CONFIGMAP, SECRET, nowRFC3339, POD, NODE, PVC, splitKey, type Controller, type Engine } from './engine.js';
import { containerEnv, expandRefs, volumeData } from './env.js';
import type { NimFleet } from './nim-fleet.js';
import { imageFiles, resolveProgram } from './programs.js';
import { newContainer, newContainerID, renderStatus, rfc3339, visibleLog, type ContainerState, type PodState } from './pod-state.js';
import { gpuOfNode, nodeIP } from './topology.js';
import { ContainerFS, FileTree, type Mount, type Volumes } from './vfs.js';
import type { Catalogue } from './catalogue.js';
import { nimImage } from './nim-image.js';
import type { SimulationOptions } from './options.js';

/** Readiness-probe paths a NIM answers with 200 once it is ready. */
const NIM_OK_PATHS = new Set(['/v1/health/ready', '/v1/health/live', '/v1/models', '/v1/metadata', '/v1/metrics', '/metrics', '/v1/version']);
const MANAGER = 'kubelet';

export class Kubelet implements Controller {
  readonly name = 'kubelet';
  private readonly pods = new Map<string, PodState>();
  private readonly nodeIndex = new Map<string, number>();
  private readonly podIPs = new Map<string, number>();
  /** Pods waiting for a Secret or ConfigMap to appear, by namespace. */
  private readonly blocked = new Map<string, Set<string>>();

  constructor(
    private readonly e: Engine,
    private readonly opts: SimulationOptions,
    private readonly catalogue: Catalogue,
    private readonly volumes: Volumes,
    private readonly fleet: NimFleet | undefined,
  ) {
    opts.nodes.forEach((n, i) => this.nodeIndex.set(n.name, i));
  }

  *initialKeys(): Iterable<string> {
    for (const p of this.e.list(POD)) if (p.spec?.nodeName) yield `${p.metadata.namespace}/${p.metadata.name}`;
  }

  *keysFor(ev: { resource: string; type: string; object: Obj }): Iterable<string> {
    const o = ev.object;
    if (ev.resource === POD) {
      if (o.spec?.nodeName || ev.type === 'DELETED') yield `${o.metadata.namespace}/${o.metadata.name}`;
    } else if (ev.resource === SECRET || ev.resource === CONFIGMAP) {
      yield* this.blocked.get(o.metadata.namespace) ?? [];
    } else if (ev.resource === NODE && ev.type === 'ADDED') {
      for (const p of this.e.list(POD)) if (p.spec?.nodeName === o.metadata.name) yield `${p.metadata.namespace}/${p.metadata.name}`;
    } else if (ev.resource === PVC && ev.type === 'DELETED') {
      this.volumes.dropClaim(o.metadata.uid);
    }
  }

  stop(): void {
    this.pods.clear();
  }

  /** The state of a pod (tests, logs). */
  state(namespace: string, name: string): PodState | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** What `kubectl logs` shows for a container (`previous`: the instance before the last restart). */
  logs(namespace: string, name: string, container: string | undefined, previous: boolean): string[] | undefined {
    const st = this.state(namespace, name);
    if (!st) return undefined;
    const all = [...st.init, ...st.main];
    const c = container ? all.find((x) => x.name === container) : st.main[0];
    if (!c) return undefined;
    if (previous) return c.previousLog;
    return visibleLog(c, Date.now());
  }

  containers(namespace: string, name: string): ContainerState[] {
    const st = this.state(namespace, name);
    return st ? [...st.init, ...st.main] : [];
  }

  private cleanup(key: string): void {
    const st = this.pods.get(key);
    if (!st) return;
    this.pods.delete(key);
    this.volumes.dropPod(st.uid);
    this.fleet?.stop(st.namespace, st.name);
    for (const set of this.blocked.values()) set.delete(key);
  }

  private allocateIP(node: string): string {
    let idx = this.nodeIndex.get(node);
    if (idx === undefined) this.nodeIndex.set(node, (idx = 100 + this.nodeIndex.size));
    const n = (this.podIPs.get(node) ?? 1) + 1;
    this.podIPs.set(node, n >= 254 ? 2 : n);
    return `10.244.${idx}.${n}`;
  }

  reconcile(key: string): number | void {
    const [ns, name] = splitKey(key);
    const pod = this.e.get(POD, ns, name);
    let st = this.pods.get(key);
    if (!pod || (st && st.uid !== pod.metadata.uid)) {
      this.cleanup(key);
      if (!pod) return;
      st = undefined;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const node = this.e.get(NODE, undefined, nodeName);
    if (!node) return;
    const now = Date.now();
    if (!st) {
      st = {
        uid: pod.metadata.uid,
        namespace: ns!,
        name,
        node: nodeName,
        seenAt: now + this.opts.stepDelayMs,
        startTime: rfc3339(now),
        ip: pod.spec?.hostNetwork ? hostIPOf(node) : this.allocateIP(nodeName),
        hostIP: hostIPOf(node) || nodeIP(this.nodeIndex.get(nodeName) ?? 0),
        init: ((pod.spec?.initContainers ?? []) as Obj[]).map((c) => newContainer(c, true)),
        main: ((pod.spec?.containers ?? []) as Obj[]).map((c) => newContainer(c, false)),
        transitions: new Map(),
      };
      // A pod that already carries a status from an earlier kubelet (persistence) keeps its start.
      if (pod.status?.startTime) st.startTime = pod.status.startTime;
      this.pods.set(key, st);
    }
    if (pod.metadata.deletionTimestamp) {
      this.fleet?.stop(st.namespace, st.name);
      return;
    }
    const wake = st.terminal ? undefined : this.advance(st, pod, node, now);
    const status = renderStatus(st, pod, (c) => this.isReady(st!, c, Date.now()), now);
    // Fields other components own (the resource-claim controller's) stay as they are.
    if (pod.status?.resourceClaimStatuses) status.resourceClaimStatuses = pod.status.resourceClaimStatuses;
    if (!st.terminal && (status.phase === 'Succeeded' || status.phase === 'Failed')) {
      st.terminal = status.phase;
      this.fleet?.stop(st.namespace, st.name);
    }
    this.e.writeStatus(POD, pod, status, MANAGER);
    return wake;
  }

  /** Moves the pod's containers on to `now`; returns ms until something is due next. */
  private advance(st: PodState, pod: Obj, node: Obj, now: number): number | undefined {
    if (now < st.seenAt) return st.seenAt - now;
    const due: number[] = [];
    const policy: string = pod.spec?.restartPolicy ?? 'Always';
    for (const c of st.init) {
      if (c.sidecar) {
        this.step(st, c, pod, node, 'Always', now, due);
        if (!(c.state === 'running' && this.isReady(st, c, now))) return soonest(due, now);
        continue;
      }
      if (c.state === 'terminated' && c.exitCode === 0) continue;
      this.step(st, c, pod, node, policy === 'Always' ? 'OnFailure' : policy, now, due);
      if (c.state === 'terminated' && c.exitCode === 0) continue;
      if (c.state === 'terminated' && policy === 'Never') {
        st.terminal = 'Failed';
        for (const m of st.main) {
          m.reason = 'PodInitializing';
        }
      }
      return soonest(due, now);
    }
    for (const c of st.main) {
      if (c.state === 'waiting' && c.reason === 'PodInitializing') c.reason = 'ContainerCreating';
      this.step(st, c, pod, node, policy, now, due);
    }
    return soonest(due, now);
  }

  private step(st: PodState, c: ContainerState, pod: Obj, node: Obj, policy: string, now: number, due: number[]): void {
    if (c.state === 'waiting') {
      if (c.nextStartAt !== undefined && now < c.nextStartAt) {
        due.push(c.nextStartAt);
        return;
      }
      this.start(st, c, pod, node, now, due);
    }
    if (c.state !== 'running' || !c.program || c.startedAt === undefined) return;
    const exit = c.program.exit;
    if (exit) {
      const at = c.startedAt + exit.at;
      if (now >= at) {
        this.terminate(st, c, exit.code, at);
        const restart = policy === 'Always' || (policy === 'OnFailure' && exit.code !== 0);
        if (restart) {
          c.lastTerminated = this.terminatedOf(c);
          c.previousLog = c.log;
          c.restartCount++;
          c.state = 'waiting';
          c.reason = 'CrashLoopBackOff';
          c.message = `back-off ${Math.round(backoff(this.opts.crashLoopBackoffMs, c.restartCount) / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
          c.nextStartAt = now + backoff(this.opts.crashLoopBackoffMs, c.restartCount);
          due.push(c.nextStartAt);
          this.e.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`, 'kubelet');
        }
        return;
      }
      due.push(at);
    }
    const readyAt = c.startedAt + c.program.readyAt;
    if (now < readyAt) due.push(readyAt);
  }

  private terminatedOf(c: ContainerState): Obj {
    return {
      exitCode: c.exitCode ?? 0,
      reason: c.reason,
      startedAt: rfc3339(c.startedAt ?? Date.now()),
      finishedAt: rfc3339(c.finishedAt ?? Date.now()),
      ...(c.containerID ? { containerID: c.containerID } : {}),
    };
  }

  private terminate(st: PodState, c: ContainerState, code: number, at: number): void {
    c.state = 'terminated';
    c.exitCode = code;
    c.finishedAt = at;
    c.reason = code === 0 ? 'Completed' : 'Error';
    delete c.message;
    c.log = c.program ? c.program.lines.map((l) => l.text) : [];
    if (c.program?.serve) this.fleet?.stop(st.namespace, st.name);
  }

  private start(st: PodState, c: ContainerState, pod: Obj, node: Obj, now: number, due: number[]): void {
    const strict = this.opts.missingReferences === 'error';
    const lookup = (kind: 'Secret' | 'ConfigMap', ns: string, name: string) => this.e.get(kind === 'Secret' ? SECRET : CONFIGMAP, ns, name);
    const key = `${st.namespace}/${st.name}`;
    const mounts = this.mounts(st, pod, c, strict);
    if ('error' in mounts) {
      c.reason = 'ContainerCreating';
      this.block(key, st.namespace);
      this.e.event(pod, 'Warning', 'FailedMount', mounts.error, 'kubelet');
      return;
    }
    const { env, error } = containerEnv(pod, c.spec, lookup, strict);
    if (error) {
      c.reason = 'CreateContainerConfigError';
      c.message = error;
      this.block(key, st.namespace);
      this.e.event(pod, 'Warning', 'Failed', `Error: ${error}`, 'kubelet');
      return;
    }
    this.blocked.get(st.namespace)?.delete(key);
    const image = String(c.spec.image ?? '');
    const nim = nimImage(this.catalogue, image);
    const fs = new ContainerFS(imageFiles(this.catalogue.matching(image), nim), mounts.mounts, c.spec.workingDir ?? '/');
    const gpu = gpuOfNode(node);
    const gpus = containerGpus(c.spec);
    const program = resolveProgram(
      this.catalogue,
      {
        image,
        command: ((c.spec.command ?? []) as string[]).map((s) => expandRefs(String(s), env)),
        args: ((c.spec.args ?? []) as string[]).map((s) => expandRefs(String(s), env)),
        env,
        restartPolicy: c.sidecar ? 'Always' : (pod.spec?.restartPolicy ?? 'Always'),
        hostname: pod.spec?.hostname ?? pod.metadata.name,
        gpus: gpu ? { ...gpu, count: gpus } : undefined,
      },
      fs,
      this.opts.timeScale,
    );
    if (program.pullError) {
      c.reason = c.reason === 'ErrImagePull' || c.reason === 'ImagePullBackOff' ? 'ImagePullBackOff' : 'ErrImagePull';
      c.message = program.pullError;
      c.nextStartAt = now + Math.max(1000, backoff(this.opts.crashLoopBackoffMs, 1));
      due.push(c.nextStartAt);
      this.e.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${program.pullError}`, 'kubelet');
      return;
    }
    c.pulled = true;
    c.program = program;
    c.fs = fs;
    c.env = env;
    c.state = 'running';
    c.reason = '';
    delete c.message;
    delete c.nextStartAt;
    c.startedAt = now;
    c.containerID = newContainerID();
    c.log = [];
    this.e.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, 'kubelet');
    this.e.event(pod, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
    this.e.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    if (program.serve?.role === 'server' && program.nim && this.fleet) {
      const d = program.serve.detail ?? {};
      this.fleet.ensure({
        namespace: st.namespace,
        pod: st.name,
        image: program.nim,
        model: String(d.model ?? program.nim.model),
        profile: String(d.profile ?? ''),
        profileName: String(d.profileName ?? ''),
        peftSource: String(d.peftSource ?? ''),
        fs,
        readyAt: now + program.readyAt,
      });
    }
  }

  private block(key: string, ns: string): void {
    let set = this.blocked.get(ns);
    if (!set) this.blocked.set(ns, (set = new Set()));
    set.add(key);
  }

  /** The container's mounts, or why a volume cannot be set up. */
  private mounts(st: PodState, pod: Obj, c: ContainerState, strict: boolean): { mounts: Mount[] } | { error: string } {
    const trees = new Map<string, FileTree>();
    for (const v of (pod.spec?.volumes ?? []) as Obj[]) {
      let tree: FileTree | undefined;
      if (v.persistentVolumeClaim) {
        const claim = this.e.get(PVC, st.namespace, v.persistentVolumeClaim.claimName);
        if (!claim) return { error: `MountVolume.SetUp failed for volume "${String(v.name)}" : persistentvolumeclaim "${String(v.persistentVolumeClaim.claimName)}" not found` };
        tree = this.volumes.claim(claim.metadata.uid);
      } else if (v.ephemeral) {
        const claim = this.e.get(PVC, st.namespace, `${st.name}-${String(v.name)}`);
        tree = claim ? this.volumes.claim(claim.metadata.uid) : this.volumes.emptyDir(st.uid, v.name);
      } else if (v.emptyDir) tree = this.volumes.emptyDir(st.uid, v.name);
      else if (v.hostPath) tree = this.volumes.hostPath(st.node, String(v.hostPath.path ?? '/'));
      else if (v.configMap || v.secret) {
        const kind = v.configMap ? 'ConfigMap' : 'Secret';
        const src = v.configMap ?? v.secret;
        const refName = String(src.name ?? src.secretName ?? '');
        const o = this.e.get(kind === 'Secret' ? SECRET : CONFIGMAP, st.namespace, refName);
        if (!o && !src.optional && strict) return { error: `MountVolume.SetUp failed for volume "${String(v.name)}" : ${kind.toLowerCase()} "${refName}" not found` };
        tree = new FileTree(o ? volumeData(o, kind, src.items) : {});
      } else tree = new FileTree();
      trees.set(v.name, tree);
    }
    const mounts: Mount[] = [];
    for (const m of (c.spec.volumeMounts ?? []) as Obj[]) {
      const tree = trees.get(m.name);
      if (!tree) continue;
      mounts.push({ path: String(m.mountPath), tree, sub: String(m.subPath ?? ''), readOnly: !!m.readOnly });
    }
    return { mounts };
  }

  /** Whether a running container passes its readiness check now. */
  private isReady(st: PodState, c: ContainerState, now: number): boolean {
    if (c.state !== 'running' || !c.program || c.startedAt === undefined) return false;
    const probe: Obj | undefined = c.spec.readinessProbe ?? c.spec.startupProbe;
    if (!probe) return true;
    if (!c.program.ready) return false;
    if (c.program.serve?.role === 'server' && c.program.nim) {
      const ep = this.fleet?.get(st.namespace, st.name);
      if (this.fleet && !ep?.ready) return false;
      if (!this.fleet && now < c.startedAt + c.program.readyAt) return false;
      const path = probe.httpGet?.path;
      if (path !== undefined && !NIM_OK_PATHS.has(String(path).replace(/\/+$/, ''))) return false;
      return true;
    }
    if (now < c.startedAt + c.program.readyAt) return false;
    if (probe.exec) return true;
    return c.program.listens;
  }
}

function hostIPOf(node: Obj): string {
  return ((node.status?.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address ?? '';
}

function backoff(base: number, restarts: number): number {
  return Math.min(300_000, base * 2 ** Math.max(0, restarts - 1));
}

function soonest(due: number[], now: number): number | undefined {
  if (due.length === 0) return undefined;
  return Math.max(1, Math.min(...due) - now);
}

export { nowRFC3339 };
