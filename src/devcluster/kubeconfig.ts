/** A kubeconfig that points kubectl and client libraries at the embedded control plane. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const CONTEXT = 'nimop-dev';

export function kubeconfigFor(server: string, namespace = 'default'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: CONTEXT, user: { token: 'nimop-dev-admin' } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace } }],
    'current-context': CONTEXT,
    preferences: {},
  };
}

export function writeKubeconfig(path: string, server: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(kubeconfigFor(server)), { mode: 0o600 });
}
