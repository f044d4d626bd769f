/**
 * The operator as an installation runs it, but in this process: the generated install manifests
 * (what `nimop install --render --component without-webhook` prints) applied with kubectl, a token
 * of the generated ServiceAccount from the TokenRequest API (`kubectl create token`), and a Manager
 * whose kubeconfig holds only that token, talking HTTPS to the control plane, so every request it
 * makes is authorized by RBAC against the generated ClusterRole and leader-election Role.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { setupControllers } from '../../src/controllers/index.js';
import type { ControllerContext } from '../../src/controllers/context.js';
import type { PolicyRule, UserInfo } from '../../src/devcluster/authz/types.js';
import { CONTEXT, kubeconfigFor } from '../../src/devcluster/kubeconfig.js';
import { resolveServiceAddress } from '../../src/devcluster/sim/index.js';
import { installObjects } from '../../src/install/manifests.js';
import { NAMES } from '../../src/install/names.js';
import { inspectorFromLabels } from '../../src/nim/inspect.js';
import { leaderElection } from '../../src/runtime/leader.js';
import { Manager } from '../../src/runtime/manager.js';
import { createLogger } from '../../src/runtime/observability.js';
import { startOperatorWebhook, type OperatorWebhook } from '../../src/webhooks/operator.js';
import { selfSignedCertificate } from '../../src/webhooks/server.js';
import type { SimCluster } from './sim.js';

export const OPERATOR_NAMESPACE = 'nim-operator';
export const OPERATOR_USER: UserInfo = {
  username: `system:serviceaccount:${OPERATOR_NAMESPACE}:${NAMES.serviceAccount}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NAMESPACE}`, 'system:authenticated'],
};
/** The audit's keys of the two generated roles. */
export const CLUSTER_ROLE_KEY = `ClusterRole/${NAMES.clusterRole}`;
export const LEADER_ROLE_KEY = `Role/${OPERATOR_NAMESPACE}/${NAMES.leaderElectionRole}`;
export const LEASE_NAME = 'a0715c6e.nvidia.com';

export interface Installed {
  /** The rules as stored in the cluster after the apply (not as the code meant them). */
  clusterRole: PolicyRule[];
  leaderRole: PolicyRule[];
  /** A kubeconfig whose only credential is the ServiceAccount's token, for the https URL. */
  kubeconfig: string;
}

async function ok(c: SimCluster, args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Applies the generated installation (server-side, as docs/install.md says) but for its Deployment,
 * whose place this process takes; the webhook's registration and Service are left out (the
 * `without-webhook` component): no pod here is behind that Service, so the API server could not call
 * it. The RBAC is the same with or without that component. Then asks for a token of the operator's
 * ServiceAccount.
 */
export async function installGenerated(c: SimCluster): Promise<Installed> {
  const objects = installObjects({ components: ['without-webhook'] }).filter((o) => o.kind !== 'Deployment');
  await ok(c, ['apply', '--server-side', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
  const token = (await ok(c, ['create', 'token', NAMES.serviceAccount, '-n', OPERATOR_NAMESPACE, '--duration', '2h'])).trim();
  const kubeconfig = join(c.dir, 'operator-sa-kubeconfig');
  // client-go sends a token only over https; the control plane serves TLS on the same port.
  const config = { ...kubeconfigFor(c.cp.url.replace('http://', 'https://')), users: [{ name: CONTEXT, user: { token } }] };
  writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });
  const clusterRole = c.get('rbac.authorization.k8s.io/clusterroles', undefined, NAMES.clusterRole);
  const leaderRole = c.get('rbac.authorization.k8s.io/roles', OPERATOR_NAMESPACE, NAMES.leaderElectionRole);
  if (!clusterRole || !leaderRole) throw new Error('the generated ClusterRole or leader-election Role was not stored');
  return { clusterRole: clusterRole.rules as PolicyRule[], leaderRole: leaderRole.rules as PolicyRule[], kubeconfig };
}

export interface OperatorAsServiceAccount {
  manager: Manager;
  ctx: ControllerContext;
  webhook: OperatorWebhook;
  stop(): Promise<void>;
}

/**
 * What the generated Deployment runs (`nimop run --leader-elect`, ENABLE_WEBHOOKS=true, the
 * webhook's certificate mounted from a Secret): every controller, leader election on (the Lease in
 * the operator's namespace, default timings: the leader renews every 2 s) and the admission webhook
 * in its default `provided` certificate mode, its files written here as the Secret mount would
 * hold them; on a Manager that authenticates with the token only. Resolves once the caches are
 * synced; the controllers start when the Lease is taken.
 */
export async function startOperatorAs(c: SimCluster, kubeconfig: string): Promise<OperatorAsServiceAccount> {
  const manager = new Manager({
    kubeconfig,
    userAgent: 'nim-operator/rbac-test',
    logger: createLogger(process.env.NIMOP_TEST_LOG ?? 'silent'),
    gracefulShutdownMs: 5_000,
  });
  manager.useLeaderElection(leaderElection(manager.client, { namespace: OPERATOR_NAMESPACE, name: LEASE_NAME }));
  const ctx = setupControllers(manager, {
    resolveService: (ns, svc, port) => resolveServiceAddress(c.cp, ns, svc, port),
    // nimop dev answers image inspection from the simulation's catalogue, as here.
    inspector: inspectorFromLabels((image) => c.sim.imageLabels(image)),
    pollMs: 200,
  });
  const certDir = join(c.dir, 'webhook-certs');
  mkdirSync(certDir, { recursive: true });
  const pair = await selfSignedCertificate([`${NAMES.webhookService}.${OPERATOR_NAMESPACE}.svc`], ['127.0.0.1']);
  writeFileSync(join(certDir, 'tls.crt'), pair.cert);
  writeFileSync(join(certDir, 'tls.key'), pair.key);
  const webhook = await startOperatorWebhook(manager, { port: 0, host: '127.0.0.1', strict: false, log: manager.log, certMode: 'provided', certDir });
  await ctx.apis.start(1_000);
  await manager.start();
  let stopped: Promise<void> | undefined;
  return {
    manager,
    ctx,
    webhook,
    stop() {
      stopped ??= (async () => {
        ctx.apis.stop();
        await webhook.stop();
        await manager.stop();
      })();
      return stopped;
    },
  };
}
