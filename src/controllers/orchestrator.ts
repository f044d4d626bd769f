/** Which platform the cluster runs on, from node labels (§2.0.6); the first node with a known label wins. */
import type { Json } from '../runtime/client/rest.js';

const MARKERS: [string, string][] = [
  ['node.vmware.com/tkg', 'TKGS'],
  ['vsphere-tanzu', 'TKGS'],
  ['node.openshift.io/os_id', 'OpenShift'],
  ['cloud.google.com/gke-nodepool', 'GKE'],
  ['eks.amazonaws.com/nodegroup', 'EKS'],
  ['kubernetes.azure.com/cluster', 'AKS'],
  ['oke.oraclecloud.com/cluster', 'OKE'],
  ['ezmeral.hpe.com/cluster', 'Ezmeral'],
  ['rke.cattle.io/version', 'RKE'],
];

export function detectOrchestrator(nodes: Json[]): string {
  for (const n of nodes) {
    const labels = n.metadata?.labels ?? {};
    for (const [label, name] of MARKERS) if (label in labels) return name;
  }
  return 'Kubernetes';
}
