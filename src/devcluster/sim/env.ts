/**
 * A container's environment as the kubelet builds it: envFrom, env with values and references
 * (fieldRef, resourceFieldRef, secretKeyRef, configMapKeyRef), `$(VAR)` expansion; and the errors a
 * kubelet reports for references that do not resolve (CreateContainerConfigError).
 */
import type { Obj } from '../store.js';

export interface EnvResult {
  env: Map<string, string>;
  /** Why the container cannot be created (a missing Secret, ConfigMap or key). */
  error?: string;
}

export type Lookup = (kind: 'Secret' | 'ConfigMap', namespace: string, name: string) => Obj | undefined;

function dataOf(o: Obj, kind: 'Secret' | 'ConfigMap'): Record<string, string> {
  if (kind === 'ConfigMap') return { ...(o.data ?? {}), ...Object.fromEntries(Object.entries((o.binaryData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, string>)) out[k] = v;
  return out;
}

/** `$(VAR)` references expanded from `env`; `$$(VAR)` escapes one. */
export function expandRefs(s: string, env: Map<string, string>): string {
  return s.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$(') return '$(';
    return name !== undefined && env.has(name) ? env.get(name)! : m;
  });
}

function fieldRef(path: string, pod: Obj): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return String(pod.metadata?.[m[1]!]?.[m[2]!] ?? '');
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    default:
      return '';
  }
}

export function containerEnv(pod: Obj, c: Obj, lookup: Lookup, strict: boolean): EnvResult {
  const ns = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  let error: string | undefined;
  const fail = (msg: string) => {
    if (strict && !error) error = msg;
  };
  for (const src of (c.envFrom ?? []) as Obj[]) {
    const kind = src.secretRef ? 'Secret' : src.configMapRef ? 'ConfigMap' : undefined;
    const ref = src.secretRef ?? src.configMapRef;
    if (!kind || !ref) continue;
    const o = lookup(kind, ns, ref.name);
    if (!o) {
      if (!ref.optional) fail(`${kind.toLowerCase()} "${String(ref.name)}" not found`);
      continue;
    }
    for (const [k, v] of Object.entries(dataOf(o, kind))) env.set(`${src.prefix ?? ''}${k}`, v);
  }
  for (const e of (c.env ?? []) as Obj[]) {
    if (e.value !== undefined) {
      env.set(e.name, expandRefs(String(e.value), env));
      continue;
    }
    const from = e.valueFrom ?? {};
    if (from.fieldRef) env.set(e.name, fieldRef(String(from.fieldRef.fieldPath ?? ''), pod));
    else if (from.resourceFieldRef) {
      const r = from.resourceFieldRef.resource as string;
      const [kind, res] = r.split('.') as [string, string];
      env.set(e.name, String(c.resources?.[kind === 'limits' ? 'limits' : 'requests']?.[res] ?? '0'));
    } else if (from.secretKeyRef || from.configMapKeyRef) {
      const kind = from.secretKeyRef ? 'Secret' : 'ConfigMap';
      const ref = from.secretKeyRef ?? from.configMapKeyRef;
      const o = lookup(kind, ns, ref.name);
      if (!o) {
        if (!ref.optional) fail(`${kind.toLowerCase()} "${String(ref.name)}" not found`);
        continue;
      }
      const data = dataOf(o, kind);
      if (data[ref.key] === undefined) {
        if (!ref.optional) fail(`couldn't find key ${String(ref.key)} in ${kind} ${ns}/${String(ref.name)}`);
        continue;
      }
      env.set(e.name, data[ref.key]!);
    } else env.set(e.name, '');
  }
  return { env, ...(error ? { error } : {}) };
}

/** Data of a ConfigMap or Secret volume source (files by key, or by `items`). */
export function volumeData(o: Obj, kind: 'Secret' | 'ConfigMap', items: Obj[] | undefined): Record<string, string> {
  const data = dataOf(o, kind);
  if (!items?.length) return data;
  const out: Record<string, string> = {};
  for (const it of items) if (data[it.key] !== undefined) out[it.path ?? it.key] = data[it.key]!;
  return out;
}
