/**
 * The kubelet's view of one pod: its containers' states over time, and the pod status that follows
 * from them (phase, conditions, container statuses) in the shape kubelets write.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Obj } from '../store.js';
import { normalizeImage } from './catalogue.js';
import type { Program } from './programs.js';
import type { ContainerFS } from './vfs.js';

export interface ContainerState {
  name: string;
  spec: Obj;
  init: boolean;
  /** A native sidecar (init container with restartPolicy Always). */
  sidecar: boolean;
  state: 'waiting' | 'running' | 'terminated';
  reason: string;
  message?: string;
  program?: Program;
  fs?: ContainerFS;
  env?: Map<string, string>;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  restartCount: number;
  lastTerminated?: Obj;
  /** Earliest time of the next start (crash-loop back-off). */
  nextStartAt?: number;
  /** Whether the image has been pulled once. */
  pulled: boolean;
  containerID?: string;
  log: string[];
  previousLog?: string[];
}

export interface PodState {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  /** When the kubelet first saw the pod bound to its node. */
  seenAt: number;
  startTime: string;
  ip: string;
  hostIP: string;
  init: ContainerState[];
  main: ContainerState[];
  /** Condition type → [status, lastTransitionTime]. */
  transitions: Map<string, [string, string]>;
  /** Terminal phase reached: nothing more happens. */
  terminal?: 'Succeeded' | 'Failed';
  terminalReason?: string;
}

export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function newContainer(spec: Obj, init: boolean): ContainerState {
  return {
    name: spec.name,
    spec,
    init,
    sidecar: init && spec.restartPolicy === 'Always',
    state: 'waiting',
    reason: init ? 'PodInitializing' : 'ContainerCreating',
    restartCount: 0,
    pulled: false,
    log: [],
  };
}

export function newContainerID(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

function imageID(image: string): string {
  const ref = normalizeImage(image).replace(/:[^/:@]*$/, '').replace(/@.*$/, '');
  return `${ref}@sha256:${createHash('sha256').update(normalizeImage(image)).digest('hex')}`;
}

/** Whether a running container passes its readiness check now. */
export type ReadyCheck = (c: ContainerState) => boolean;

function containerStatus(c: ContainerState, ready: boolean): Obj {
  const s: Obj = {
    name: c.name,
    image: c.spec.image,
    imageID: c.pulled ? imageID(String(c.spec.image)) : '',
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready,
    restartCount: c.restartCount,
    started: c.state === 'running',
    state: {},
    lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
  };
  if (c.state === 'waiting') s.state = { waiting: { reason: c.reason, ...(c.message ? { message: c.message } : {}) } };
  else if (c.state === 'running') s.state = { running: { startedAt: rfc3339(c.startedAt!) } };
  else {
    s.state = {
      terminated: {
        exitCode: c.exitCode ?? 0,
        reason: c.reason,
        ...(c.message ? { message: c.message } : {}),
        startedAt: rfc3339(c.startedAt ?? Date.now()),
        finishedAt: rfc3339(c.finishedAt ?? Date.now()),
        ...(c.containerID ? { containerID: c.containerID } : {}),
      },
    };
  }
  return s;
}

function qosClass(spec: Obj): string {
  const cs: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** kubelet's phase rule. */
export function podPhase(st: PodState, restartPolicy: string): string {
  if (st.terminal) return st.terminal;
  const regularInit = st.init.filter((c) => !c.sidecar);
  const initPending = regularInit.some((c) => !(c.state === 'terminated' && c.exitCode === 0));
  if (initPending) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of st.main) {
    if (c.state === 'running') running++;
    else if (c.state === 'terminated') {
      stopped++;
      if (c.exitCode === 0) succeeded++;
    } else if (c.lastTerminated) running++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** The pod's status as the kubelet writes it. */
export function renderStatus(st: PodState, pod: Obj, isReady: ReadyCheck, now: number): Obj {
  const phase = podPhase(st, pod.spec?.restartPolicy ?? 'Always');
  const sandbox = now >= st.seenAt;
  const regularInit = st.init.filter((c) => !c.sidecar);
  const initIncomplete = st.init.filter((c) => (c.sidecar ? !(c.state === 'running' && isReady(c)) : !(c.state === 'terminated' && c.exitCode === 0)));
  const unready = st.main.filter((c) => !(c.state === 'running' && isReady(c)));
  const done = phase === 'Succeeded' || phase === 'Failed';
  const cond = (type: string, ok: boolean, reason?: string, message?: string): Obj => {
    const status = ok ? 'True' : 'False';
    const prev = st.transitions.get(type);
    const time = prev && prev[0] === status ? prev[1] : rfc3339(now);
    st.transitions.set(type, [status, time]);
    return { type, status, lastProbeTime: null, lastTransitionTime: time, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  };
  const names = (cs: ContainerState[]) => `[${cs.map((c) => c.name).join(' ')}]`;
  const initialized = regularInit.every((c) => c.state === 'terminated' && c.exitCode === 0) && initIncomplete.length === 0;
  const ready = !done && initialized && unready.length === 0;
  const readyReason = done ? 'PodCompleted' : unready.length ? 'ContainersNotReady' : initialized ? undefined : 'ContainersNotInitialized';
  const readyMsg = done ? undefined : unready.length ? `containers with unready status: ${names(unready)}` : initialized ? undefined : `containers with incomplete status: ${names(initIncomplete)}`;
  const conditions = [
    cond('PodReadyToStartContainers', sandbox && !done),
    cond('Initialized', initialized || done, initialized || done ? undefined : 'ContainersNotInitialized', initialized || done ? undefined : `containers with incomplete status: ${names(initIncomplete)}`),
    cond('Ready', ready, ready ? undefined : readyReason, ready ? undefined : readyMsg),
    cond('ContainersReady', ready, ready ? undefined : readyReason, ready ? undefined : readyMsg),
    cond('PodScheduled', true),
  ];
  const status: Obj = {
    phase,
    conditions,
    hostIP: st.hostIP,
    hostIPs: [{ ip: st.hostIP }],
    ...(sandbox ? { podIP: st.ip, podIPs: [{ ip: st.ip }] } : {}),
    startTime: st.startTime,
    ...(st.init.length ? { initContainerStatuses: st.init.map((c) => containerStatus(c, c.sidecar ? c.state === 'running' && isReady(c) : c.state === 'terminated' && c.exitCode === 0)) } : {}),
    containerStatuses: st.main.map((c) => containerStatus(c, !done && c.state === 'running' && isReady(c))),
    qosClass: qosClass(pod.spec ?? {}),
  };
  if (st.terminalReason) status.reason = st.terminalReason;
  return status;
}

/** The log lines a container has printed by `now`. */
export function visibleLog(c: ContainerState, now: number): string[] {
  if (!c.program) return c.log;
  if (c.state === 'terminated' || c.startedAt === undefined) return c.log.length ? c.log : c.program.lines.map((l) => l.text);
  const elapsed = now - c.startedAt;
  return c.program.lines.filter((l) => l.at <= elapsed).map((l) => l.text);
}
