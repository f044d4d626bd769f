/**
 * Facts about Kubernetes types that the client-node model generator does not keep, restored here
 * so that the embedded schemas behave as kube-apiserver's do:
 *
 * - QUANTITY_FIELDS: fields typed `resource.Quantity` in Kubernetes (an int-or-string with the
 *   quantity pattern); the generator types them as plain strings.
 * - FIELD_MARKERS: the `+listType`, `+listMapKey` and `+structType` markers of the Go types, which
 *   decide how server-side apply merges a list or an object, and their `+default` markers. Keys are
 *   `Model` (the type itself) or `Model.field`.
 */
import type { JSONSchemaProps } from './schemas.js';

export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export const QUANTITY_FIELDS: ReadonlySet<string> = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1ResourceFieldSelector.divisor',
  'V2MetricTarget.value',
  'V2MetricTarget.averageValue',
  'V2MetricValueStatus.value',
  'V2MetricValueStatus.averageValue',
  'V2HPAScalingRules.tolerance',
]);

const atomicList: JSONSchemaProps = { 'x-kubernetes-list-type': 'atomic' };
const atomicStruct: JSONSchemaProps = { 'x-kubernetes-map-type': 'atomic' };

export const FIELD_MARKERS: Readonly<Record<string, JSONSchemaProps>> = {
  // types declared +structType=atomic
  V1LabelSelector: atomicStruct,
  V1NodeSelector: atomicStruct,
  V1NodeSelectorTerm: atomicStruct,
  V1ConfigMapKeySelector: atomicStruct,
  V1SecretKeySelector: atomicStruct,
  V1ObjectFieldSelector: atomicStruct,
  V1ResourceFieldSelector: atomicStruct,
  V1FileKeySelector: atomicStruct,
  V1ServiceBackendPort: atomicStruct,
  V1TypedLocalObjectReference: atomicStruct,
  V1LocalObjectReference: atomicStruct,
  // lists
  'V1LabelSelector.matchExpressions': atomicList,
  'V1LabelSelectorRequirement.values': atomicList,
  'V1NodeSelector.nodeSelectorTerms': atomicList,
  'V1NodeSelectorTerm.matchExpressions': atomicList,
  'V1NodeSelectorTerm.matchFields': atomicList,
  'V1NodeSelectorRequirement.values': atomicList,
  'V1NodeAffinity.preferredDuringSchedulingIgnoredDuringExecution': atomicList,
  'V1PodAffinity.requiredDuringSchedulingIgnoredDuringExecution': atomicList,
  'V1PodAffinity.preferredDuringSchedulingIgnoredDuringExecution': atomicList,
  'V1PodAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution': atomicList,
  'V1PodAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution': atomicList,
  'V1PodAffinityTerm.namespaces': atomicList,
  'V1PodAffinityTerm.matchLabelKeys': atomicList,
  'V1PodAffinityTerm.mismatchLabelKeys': atomicList,
  'V1ExecAction.command': atomicList,
  'V1HTTPGetAction.httpHeaders': atomicList,
  'V1IngressSpec.tls': atomicList,
  'V1IngressSpec.rules': atomicList,
  'V1IngressTLS.hosts': atomicList,
  'V1HTTPIngressRuleValue.paths': atomicList,
  'V2HPAScalingRules.policies': atomicList,
  'V1ResourceRequirements.claims': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  'V1Container.ports': {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
  },
  'V1Container.env': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  'V1Container.volumeMounts': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['mountPath'] },
  'V1PodSpec.containers': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  'V1PodSpec.initContainers': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  'V1PodSpec.volumes': { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  'V1PodSpec.tolerations': atomicList,
  // +default markers
  'V1ConfigMapKeySelector.name': { default: '' },
  'V1SecretKeySelector.name': { default: '' },
  'V1ConfigMapEnvSource.name': { default: '' },
  'V1SecretEnvSource.name': { default: '' },
  'V1LocalObjectReference.name': { default: '' },
  'V1FileKeySelector.optional': { default: false },
  'V1GRPCAction.service': { default: '' },
  'V1ContainerPort.protocol': { default: 'TCP' },
  'V1ServicePort.protocol': { default: 'TCP' },
};
