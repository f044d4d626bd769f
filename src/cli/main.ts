/** The `nimop` command: subcommands of the nim-operator. */
import { Command, CommanderError, Option } from 'commander';
import { crdsCommand } from './crds.js';
import { installCommand, type InstallCommandOptions } from './install.js';
import { devCommand, type DevOptions } from './dev.js';
import { migrateCommand } from './migrate.js';
import { runCommand, type RunOptions } from './run.js';
import { validateCommand } from './validate.js';
import { renderCommand, type RenderOptions } from './render.js';
import { VERSION } from './version.js';

export async function run(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('nimop')
    .description('nim-operator: serve AI models on Kubernetes declaratively (apps.nvidia.com/v1alpha1).')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('validate')
    .description(
      'Check manifests offline against the NIMCache, NIMService, NIMPipeline and NIMBuild schemas and rules, as the API server would.',
    )
    .addOption(
      new Option('-f, --filename <path>', 'file or directory of YAML/JSON manifests; "-" reads standard input; repeatable')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option('-R, --recursive', 'descend into subdirectories of directories given with -f', false)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(
      new Option('--field-validation <mode>', 'what unknown fields are: Strict (errors, as kubectl), Warn or Ignore')
        .choices(['Strict', 'Warn', 'Ignore'])
        .default('Strict'),
    )
    .option('--strict', 'refuse the sharp edges (floating image tags, emptyDir model storage …) instead of warning about them', false)
    .option('--cluster', 'also read what the webhook reads from the cluster: node labels, NIMCaches, the server version and, for updates, the existing objects', false)
    .option('--kubeconfig <path>', 'with --cluster: the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)')
    .argument('[paths...]', 'more files or directories (same as -f)')
    .action(async (paths: string[], opts: { filename?: string[]; recursive: boolean; output: 'text' | 'json'; fieldValidation: 'Strict' | 'Warn' | 'Ignore'; strict: boolean; cluster: boolean; kubeconfig?: string }) => {
      code = await validateCommand([...(opts.filename ?? []), ...paths], opts);
    });

  program
    .command('migrate')
    .description('Rewrite deprecated fields (spec.expose.ingress, spec.podAffinity) of NIMService and NIMPipeline manifests, keeping comments and key order.')
    .addOption(
      new Option('-f, --filename <path>', 'file or directory of YAML/JSON manifests; "-" reads standard input; repeatable')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option('-R, --recursive', 'descend into subdirectories of directories given with -f', false)
    .option('--in-place', 'rewrite the files that change instead of printing the result', false)
    .argument('[paths...]', 'more files or directories (same as -f)')
    .action(async (paths: string[], opts: { filename?: string[]; recursive: boolean; inPlace: boolean }) => {
      code = await migrateCommand([...(opts.filename ?? []), ...paths], opts);
    });

  program
    .command('render')
    .description('Print, without a cluster, the objects the operator would create for the NIMServices in the files (a NIMCache in the files is taken as Ready).')
    .requiredOption('-f, --filename <path...>', 'files or directories of manifests ("-" reads standard input)')
    .option('-R, --recursive', 'descend into subdirectories of directories given with -f', false)
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action((opts: RenderOptions) => {
      code = renderCommand(opts);
    });

  program
    .command('crds')
    .description('Write the CustomResourceDefinitions generated from the TypeScript API to deploy/crds/ (or print or check them).')
    .option('-d, --dir <dir>', 'directory to write to', 'deploy/crds')
    .option('--check', 'do not write: exit 1 if the files in --dir differ from what would be generated', false)
    .option('--stdout', 'print the CRDs as one YAML stream instead of writing files', false)
    .action((opts: { dir: string; check: boolean; stdout: boolean }) => {
      code = crdsCommand(opts);
    });

  // `nimop install --version V` is the image tag, not the program's --version: options after a
  // subcommand belong to it.
  program.enablePositionalOptions();
  program
    .command('install')
    .description('Print the manifests that install the operator in a cluster (CRDs, RBAC, Deployment, webhook), or write / check deploy/.')
    .option('--render', 'print the manifests as one YAML stream (the default)', false)
    .option('--write', 'write the kustomize base, components and Helm chart under --dir', false)
    .option('--check', 'do not write: exit 1 if the files under --dir differ from what would be generated', false)
    .option('-d, --dir <dir>', 'the deploy directory', 'deploy')
    .option('-n, --namespace <ns>', 'the operator\'s namespace', 'nim-operator')
    .option('--version <version>', 'the operator image\'s tag (default: this nimop\'s version)')
    .option('--image <image>', 'the operator image, in full (overrides --version)')
    .addOption(
      new Option('--component <name>', 'an optional part, as the kustomize components: cert-manager, servicemonitor, network-policy, without-webhook; repeatable')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option('--no-crds', 'leave out the CustomResourceDefinitions')
    .action((opts: InstallCommandOptions) => {
      code = installCommand(opts);
    });

  program
    .command('dev')
    .description('Run the embedded control plane (a Kubernetes-API-compatible server) on this machine, with the CRDs installed, for kubectl and the operator.')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '0')
    .option('--kubeconfig <path>', 'where to write a kubeconfig for it', '.nimop/kubeconfig')
    .option('--no-operator', 'run the control plane only')
    .option('--without <addons>', 'leave out add-ons installed by default, comma-separated: gateway-api, inference-extension, compute-domains, prometheus-operator, kserve')
    .option('--log-level <level>', 'the operator\'s log level (standard error): debug, info, warn or error', 'warn')
    .option('--no-webhook', 'do not run and register the operator\'s admission webhook')
    .option('--strict', 'the webhook refuses sharp edges instead of warning about them', false)
    .option('--no-simulation', 'serve the API only: no simulated nodes, pods, controllers or NIM endpoints')
    .option('--catalogue <file>', 'a YAML image catalogue tried before the built-in one (see docs/devcluster.md)')
    .option('--step-delay <ms>', 'how long each simulated step takes (scheduling, image pull, readiness); 0 is instant', '500')
    .option('--time-scale <n>', 'multiplies the catalogue\'s durations (model download and load); 0 is instant')
    .option('--data-dir <dir>', 'keep objects in this directory across restarts (snapshot plus append-only log)')
    .option('--faults <file>', 'inject faults described in a YAML or JSON file (see docs/devcluster.md)')
    .addOption(
      new Option('--fault <spec>', 'inject a fault, e.g. latency=200ms,verb=list or error=429,rate=0.1,retryAfter=2; repeatable').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(
      new Option('-f, --filename <path>', 'manifests to create once it is up; repeatable').argParser((v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        v,
      ]),
    )
    .action(async (opts: DevOptions) => {
      code = await devCommand(opts);
    });

  const env = process.env;
  program
    .command('run')
    .description('Run the operator against a Kubernetes cluster (in-cluster config, or --kubeconfig / $KUBECONFIG).')
    .option('--kubeconfig <path>', 'kubeconfig file; in-cluster config when unset', env.KUBECONFIG)
    .addOption(
      new Option('--namespace <ns>', 'namespace to watch; repeatable; all namespaces by default').argParser((v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        v,
      ]),
    )
    .option('--leader-elect', 'elect a leader among replicas with a Lease (only the leader reconciles)', env.LEADER_ELECT === 'true')
    .option('--leader-election-namespace <ns>', 'namespace of the Lease (default: the pod\'s namespace)', env.POD_NAMESPACE)
    .option('--metrics-bind-address <addr>', 'address of /metrics ("0" disables)', env.METRICS_BIND_ADDRESS ?? ':8080')
    .option('--health-probe-bind-address <addr>', 'address of /healthz and /readyz ("0" disables)', env.HEALTH_PROBE_BIND_ADDRESS ?? ':8081')
    .option('--max-concurrent-reconciles <n>', 'reconciles in parallel per controller', env.MAX_CONCURRENT_RECONCILES ?? '1')
    .option('--log-level <level>', 'debug, info, warn or error', env.LOG_LEVEL ?? 'info')
    .option('--enable-webhooks', 'serve the admission webhook (HTTPS)', /^(1|t|true)$/i.test(env.ENABLE_WEBHOOKS ?? ''))
    .option('--webhook-port <port>', 'port of the admission webhook', env.WEBHOOK_PORT ?? '9443')
    .option('--webhook-cert-dir <dir>', 'directory with tls.crt and tls.key (reloaded when they change)', env.WEBHOOK_CERT_DIR ?? '/tmp/k8s-webhook-server/serving-certs')
    .option('--webhook-cert-mode <mode>', 'provided: tls.crt/tls.key from --webhook-cert-dir; self: the operator makes, stores and rotates its own (see docs/webhook.md)', env.WEBHOOK_CERT_MODE ?? 'provided')
    .option('--webhook-service-name <name>', 'self mode: the webhook Service the certificate is for (<name>.<namespace>.svc)', env.WEBHOOK_SERVICE_NAME ?? 'nim-operator-webhook-service')
    .option('--webhook-secret-name <name>', 'self mode: the Secret of the operator namespace holding the CA and certificate', env.WEBHOOK_SECRET_NAME ?? 'nim-operator-webhook-certs')
    .option('--webhook-configuration-name <name>', 'self mode: the ValidatingWebhookConfiguration whose caBundle is kept current ("" leaves it alone)', env.WEBHOOK_CONFIGURATION_NAME ?? 'nim-operator-validating-webhook-configuration')
    .option('--webhook-cert-validity <duration>', 'self mode: validity of the serving certificate, renewed at 2/3 of it', env.WEBHOOK_CERT_VALIDITY ?? '8760h')
    .option('--webhook-ca-validity <duration>', 'self mode: validity of the CA, renewed at 2/3 of it', env.WEBHOOK_CA_VALIDITY ?? '87600h')
    .option('--webhook-cert-hosts <names>', 'self mode: more DNS names or IPs for the serving certificate, comma-separated', env.WEBHOOK_CERT_HOSTS ?? '')
    .option('--strict', 'the webhook refuses sharp edges instead of warning about them', env.STRICT_ADMISSION === 'true')
    .action(async (opts: RunOptions) => {
      code = await runCommand(opts);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return code;
}
