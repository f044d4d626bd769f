/**
 * Pods' `log` subresource from the simulated kubelets, with kube's answers for containers that
 * have not started, unknown containers, `previous`, `tailLines`, `limitBytes` and `timestamps`.
 */
import { badRequest } from '../errors.js';
import type { Obj } from '../store.js';
import type { Kubelet } from './kubelet.js';

const WAITING: Record<string, string> = {
  ErrImagePull: 'trying and failing to pull image',
  ImagePullBackOff: 'image can\'t be pulled',
};

export function podLogs(kubelet: Kubelet, pod: Obj, q: URLSearchParams): string | undefined {
  const ns: string = pod.metadata.namespace;
  const name: string = pod.metadata.name;
  const specs: Obj[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  let container = q.get('container') ?? undefined;
  if (!container) {
    const main: Obj[] = pod.spec?.containers ?? [];
    if (main.length !== 1) {
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${main.map((c) => c.name).join(' ')}]${pod.spec?.initContainers?.length ? ` or one of the init containers: [${(pod.spec.initContainers as Obj[]).map((c) => c.name).join(' ')}]` : ''}`);
    }
    container = main[0]!.name as string;
  }
  if (!specs.some((c) => c.name === container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const states = kubelet.containers(ns, name);
  if (states.length === 0) {
    if (!pod.spec?.nodeName) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    return undefined;
  }
  const c = states.find((x) => x.name === container)!;
  const previous = q.get('previous') === 'true';
  if (previous && !c.previousLog) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  if (!previous && c.state === 'waiting' && !c.lastTerminated && c.startedAt === undefined) {
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${WAITING[c.reason] ?? c.reason}`);
  }
  let lines = kubelet.logs(ns, name, container, previous) ?? [];
  if (!previous && c.state === 'waiting' && c.lastTerminated) lines = c.log;
  const tail = q.get('tailLines');
  if (tail !== null && /^\d+$/.test(tail)) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  if (q.get('timestamps') === 'true') {
    const start = c.startedAt ?? Date.now();
    const at = c.program?.lines ?? [];
    lines = lines.map((l, i) => `${new Date(start + (at[i]?.at ?? 0)).toISOString().replace('Z', '000000Z')} ${l}`);
  }
  let text = lines.length ? `${lines.join('\n')}\n` : '';
  const limit = q.get('limitBytes');
  if (limit !== null && /^\d+$/.test(limit)) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
  return text;
}
