/**
 * Defaults kube-apiserver fills in on built-in kinds (the ones an operator sees when it reads back
 * what it wrote). Only fields that are absent are set.
 */
import type { Obj } from './store.js';

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = value;
}

function defaultContainer(c: Obj): void {
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = /:([^/@]+)$/.exec(image)?.[1];
  setDefault(c, 'imagePullPolicy', image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  for (const p of Array.isArray(c.ports) ? c.ports : []) setDefault(p, 'protocol', 'TCP');
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe || typeof probe !== 'object') continue;
    setDefault(probe, 'timeoutSeconds', 1);
    setDefault(probe, 'periodSeconds', 10);
    setDefault(probe, 'successThreshold', 1);
    setDefault(probe, 'failureThreshold', 3);
    if (probe.httpGet && typeof probe.httpGet === 'object') setDefault(probe.httpGet, 'scheme', 'HTTP');
  }
}

export function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) defaultContainer(c);
}

export function applyBuiltinDefaults(kind: string, obj: Obj): void {
  const spec = obj.spec;
  switch (kind) {
    case 'Pod':
      defaultPodSpec(spec);
      break;
    case 'Deployment':
      if (!spec) return;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      setDefault(spec, 'strategy', { type: 'RollingUpdate' });
      if (spec.strategy.type === 'RollingUpdate') setDefault(spec.strategy, 'rollingUpdate', {});
      if (spec.strategy.rollingUpdate) {
        setDefault(spec.strategy.rollingUpdate, 'maxUnavailable', '25%');
        setDefault(spec.strategy.rollingUpdate, 'maxSurge', '25%');
      }
      defaultPodSpec(spec.template?.spec);
      break;
    case 'StatefulSet':
      if (!spec) return;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      defaultPodSpec(spec.template?.spec);
      break;
    case 'Job':
      if (!spec) return;
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      if (spec.template?.spec) setDefault(spec.template.spec, 'restartPolicy', 'Never');
      defaultPodSpec(spec.template?.spec);
      break;
    case 'Service':
      if (!spec) return;
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      break;
    case 'PersistentVolumeClaim':
      if (spec) setDefault(spec, 'volumeMode', 'Filesystem');
      break;
    case 'Namespace':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      // A namespace is born Active and holds the `kubernetes` finalizer (spec.finalizers) that the
      // namespace controller removes once it has emptied the namespace.
      obj.spec = { ...(obj.spec ?? {}) };
      obj.spec.finalizers = [...new Set([...(Array.isArray(obj.spec.finalizers) ? obj.spec.finalizers : []), 'kubernetes'])];
      setDefault(obj, 'status', {});
      setDefault(obj.status, 'phase', 'Active');
      break;
    case 'Secret':
      setDefault(obj, 'type', 'Opaque');
      break;
    case 'HorizontalPodAutoscaler':
      if (spec) setDefault(spec, 'minReplicas', 1);
      break;
    default:
      break;
  }
}
