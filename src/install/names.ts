/**
 * Names and labels of the objects that install the operator. One place, because the kustomize base,
 * `nimop install --render`, the Helm chart and the docs all spell them the same way.
 */
import { WEBHOOK_CONFIGURATION_NAME } from '../webhooks/server.js';
import { VERSION } from '../cli/version.js';

export const DEFAULT_NAMESPACE = 'nim-operator';
export const IMAGE_REPOSITORY = 'ghcr.io/nim-operator/nim-operator';
export const DEFAULT_IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;

export const NAMES = {
  serviceAccount: 'nim-operator',
  clusterRole: 'nim-operator-role',
  clusterRoleBinding: 'nim-operator-rolebinding',
  leaderElectionRole: 'nim-operator-leader-election-role',
  leaderElectionRoleBinding: 'nim-operator-leader-election-rolebinding',
  deployment: 'nim-operator',
  container: 'manager',
  metricsService: 'nim-operator-metrics-service',
  webhookService: 'nim-operator-webhook-service',
  webhookConfiguration: WEBHOOK_CONFIGURATION_NAME,
  webhookSecret: 'nim-operator-webhook-server-cert',
  certificate: 'nim-operator-serving-cert',
  issuer: 'nim-operator-selfsigned-issuer',
  serviceMonitor: 'nim-operator-metrics-monitor',
  networkPolicy: 'nim-operator-ingress',
} as const;

/** Ports of the operator's container (`nimop run` defaults). */
export const PORTS = { metrics: 8080, health: 8081, webhook: 9443 } as const;

/** Where `nimop run` reads the webhook's tls.crt and tls.key (its --webhook-cert-dir default). */
export const WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

/** Labels on every object we install. */
export const COMMON_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'nim-operator',
  'app.kubernetes.io/part-of': 'nim-operator',
};

/** The operator's pods: what its Deployment, Services, ServiceMonitor and NetworkPolicy select. */
export const SELECTOR_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'nim-operator',
  'control-plane': 'controller-manager',
};

export const labels = (extra: Record<string, string> = {}): Record<string, string> => ({ ...COMMON_LABELS, ...extra });
