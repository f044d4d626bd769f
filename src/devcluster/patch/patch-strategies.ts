/**
 * Which fields of Kubernetes' built-in types a strategic merge patch merges rather than replaces,
 * keyed `Model.field` with the `@kubernetes/client-node` model name (`V1PodSpec.containers`).
 *
 * These are the `patchStrategy` / `patchMergeKey` struct tags of the Go types in k8s.io/api (and
 * ObjectMeta's in k8s.io/apimachinery, the CRD schema's in apiextensions-apiserver, APIService's
 * in kube-aggregator), restricted to the models client-node has. A Go type that embeds another
 * inline (EphemeralContainer embeds EphemeralContainerCommon) has the tags under its own name here.
 *
 * - `strategy: 'merge'` on a list: items are matched by `mergeKey` and merged; without a
 *   `mergeKey` the list holds primitives and is merged as a set (`ObjectMeta.finalizers`).
 * - `strategy: 'replace'` on an object: the patch value replaces it whole (PDB `spec.selector`).
 * - `retainKeys`: clients send a `$retainKeys` directive for the field; the server honours that
 *   directive wherever it appears, so this is recorded as a fact and not consulted.
 *
 * Everything absent here has no strategy: objects and maps merge key by key, lists are replaced
 * whole. Lists that are replaced this way include PodSpec.tolerations, Container.args/command,
 * Container.envFrom, Service spec.ipFamilies, HPA v2 spec.metrics, RBAC rules and subjects,
 * Ingress rules and tls, Job podFailurePolicy rules, and LabelSelector.matchExpressions.
 */

export interface FieldPatchStrategy {
  strategy?: 'merge' | 'replace';
  mergeKey?: string;
  retainKeys?: boolean;
}

export const PATCH_STRATEGIES: Readonly<Record<string, FieldPatchStrategy>> = {
  'V1APIServiceStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1CSINodeSpec.drivers': { strategy: 'merge', mergeKey: 'name' },
  'V1ComponentStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1Container.env': { strategy: 'merge', mergeKey: 'name' },
  'V1Container.ports': { strategy: 'merge', mergeKey: 'containerPort' },
  'V1Container.volumeDevices': { strategy: 'merge', mergeKey: 'devicePath' },
  'V1Container.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'V1ContainerStatus.allocatedResourcesStatus': { strategy: 'merge', mergeKey: 'name' },
  'V1ContainerStatus.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'V1DaemonSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1DeploymentSpec.strategy': { retainKeys: true },
  'V1DeploymentStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1EphemeralContainer.env': { strategy: 'merge', mergeKey: 'name' },
  'V1EphemeralContainer.ports': { strategy: 'merge', mergeKey: 'containerPort' },
  'V1EphemeralContainer.volumeDevices': { strategy: 'merge', mergeKey: 'devicePath' },
  'V1EphemeralContainer.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'V1FlowSchemaStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1JSONSchemaProps.x-kubernetes-validations': { strategy: 'merge', mergeKey: 'rule' },
  'V1JobStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1MutatingWebhook.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1MutatingWebhookConfiguration.webhooks': { strategy: 'merge', mergeKey: 'name' },
  'V1NamespaceStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1NodeSpec.podCIDRs': { strategy: 'merge' },
  'V1NodeStatus.addresses': { strategy: 'merge', mergeKey: 'type' },
  'V1NodeStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ObjectMeta.finalizers': { strategy: 'merge' },
  'V1ObjectMeta.ownerReferences': { strategy: 'merge', mergeKey: 'uid' },
  'V1PersistentVolumeClaimStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1PodDisruptionBudgetSpec.selector': { strategy: 'replace' },
  'V1PodDisruptionBudgetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1PodSpec.containers': { strategy: 'merge', mergeKey: 'name' },
  'V1PodSpec.ephemeralContainers': { strategy: 'merge', mergeKey: 'name' },
  'V1PodSpec.hostAliases': { strategy: 'merge', mergeKey: 'ip' },
  'V1PodSpec.imagePullSecrets': { strategy: 'merge', mergeKey: 'name' },
  'V1PodSpec.initContainers': { strategy: 'merge', mergeKey: 'name' },
  'V1PodSpec.resourceClaims': { strategy: 'merge', mergeKey: 'name', retainKeys: true },
  'V1PodSpec.schedulingGates': { strategy: 'merge', mergeKey: 'name' },
  'V1PodSpec.topologySpreadConstraints': { strategy: 'merge', mergeKey: 'topologyKey' },
  'V1PodSpec.volumes': { strategy: 'merge', mergeKey: 'name', retainKeys: true },
  'V1PodStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1PodStatus.hostIPs': { strategy: 'merge', mergeKey: 'ip' },
  'V1PodStatus.podIPs': { strategy: 'merge', mergeKey: 'ip' },
  'V1PodStatus.resourceClaimStatuses': { strategy: 'merge', mergeKey: 'name', retainKeys: true },
  'V1PriorityLevelConfigurationStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ReplicaSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ReplicationControllerStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ResourceClaimStatus.reservedFor': { strategy: 'merge', mergeKey: 'uid' },
  'V1ServiceAccount.secrets': { strategy: 'merge', mergeKey: 'name' },
  'V1ServiceCIDRStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ServiceSpec.ports': { strategy: 'merge', mergeKey: 'port' },
  'V1ServiceStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1StatefulSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1ValidatingAdmissionPolicySpec.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1ValidatingAdmissionPolicySpec.variables': { strategy: 'merge', mergeKey: 'name' },
  'V1ValidatingWebhook.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1ValidatingWebhookConfiguration.webhooks': { strategy: 'merge', mergeKey: 'name' },
  'V1alpha1MutatingAdmissionPolicySpec.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1alpha1ValidatingAdmissionPolicySpec.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1alpha1ValidatingAdmissionPolicySpec.variables': { strategy: 'merge', mergeKey: 'name' },
  'V1beta1MutatingAdmissionPolicySpec.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1beta1ResourceClaimStatus.reservedFor': { strategy: 'merge', mergeKey: 'uid' },
  'V1beta1ServiceCIDRStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1beta1ValidatingAdmissionPolicySpec.matchConditions': { strategy: 'merge', mergeKey: 'name' },
  'V1beta1ValidatingAdmissionPolicySpec.variables': { strategy: 'merge', mergeKey: 'name' },
  'V1beta2ResourceClaimStatus.reservedFor': { strategy: 'merge', mergeKey: 'uid' },
  'V1beta3FlowSchemaStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V1beta3PriorityLevelConfigurationStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'V2HorizontalPodAutoscalerStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
};
