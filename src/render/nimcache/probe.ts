/**
 * The manifest probe: Pod `<cache>-pod` that prints the image's model manifest to its log, which the
 * operator reads through the `pods/log` subresource (inventory §2.1.3).
 *
 * Difference from upstream: upstream's pod prints and then sleeps forever, and the operator reads
 * the log as soon as the pod is Running, which can be before `cat` has written everything. Ours
 * prints and exits (`restartPolicy: Never`), and the log is read once the pod has Succeeded, when
 * it is complete; a pod that fails says so instead of being waited on forever.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMCache } from '../../api/v1alpha1/kinds.js';
import { activeSource } from '../../nim/source.js';
import {
  CONTAINER_NAME, SERVICE_ACCOUNT, childMeta, containerSecurityContext, nodeSelector, podLabels, podSecurityContext, probePodName,
  pullSecrets, resources, tolerations, type Container, type NIMCacheFacts,
} from './common.js';

/** Where NIM images keep their manifest, tried in order. */
export const MANIFEST_PATHS = ['/opt/nim/etc/default/model_manifest.yaml', '/etc/nim/config/model_manifest.yaml'];
/** What the probe prints for an image without a manifest (a model-free NIM). */
export const NO_MANIFEST = 'model_manifest.yaml not found';

export const PROBE_SCRIPT = `if [ -f ${MANIFEST_PATHS[0]} ]; then cat ${MANIFEST_PATHS[0]}; elif [ -f ${MANIFEST_PATHS[1]} ]; then cat ${MANIFEST_PATHS[1]}; else echo "${NO_MANIFEST}"; fi`;

export function renderProbePod(c: NIMCache, facts: NIMCacheFacts = {}): Wire<V1Pod> {
  const src = activeSource(c.spec);
  const meta: Wire<V1Pod>['metadata'] = childMeta(c, probePodName(c), podLabels(c));
  if (facts.orchestrator === 'OpenShift') meta!.annotations = { 'openshift.io/required-scc': 'nonroot' };
  const security = containerSecurityContext(c);
  if (facts.orchestrator === 'TKGS') security.seccompProfile = { type: 'RuntimeDefault' };
  const container: Container = {
    name: CONTAINER_NAME,
    image: src?.modelPuller ?? '',
    command: ['sh', '-c', PROBE_SCRIPT],
    securityContext: security,
  };
  const res = resources(c);
  if (res) container.resources = res;
  const spec: NonNullable<Wire<V1Pod>['spec']> = {
    restartPolicy: 'Never',
    serviceAccountName: SERVICE_ACCOUNT,
    securityContext: podSecurityContext(c, facts, false),
    nodeSelector: nodeSelector(c),
    containers: [container],
  };
  const tol = tolerations(c);
  if (tol) spec.tolerations = tol;
  if (c.spec.runtimeClassName) spec.runtimeClassName = c.spec.runtimeClassName;
  const secrets = pullSecrets(src?.pullSecret);
  if (secrets) spec.imagePullSecrets = secrets;
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec };
}
