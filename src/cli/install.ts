/** `nimop install`: print the manifests that install the operator, or write / check deploy/. */
import { checkDeploy, renderInstall, writeDeploy } from '../install/files.js';
import { COMPONENTS, type Component } from '../install/manifests.js';
import { DEFAULT_NAMESPACE, IMAGE_REPOSITORY } from '../install/names.js';

export interface InstallCommandOptions {
  render?: boolean;
  write?: boolean;
  check?: boolean;
  dir: string;
  namespace?: string;
  version?: string;
  image?: string;
  component?: string[];
  crds: boolean;
}

export function installCommand(opts: InstallCommandOptions): number {
  const modes = [opts.render, opts.write, opts.check].filter(Boolean).length;
  if (modes > 1) {
    process.stderr.write('error: give one of --render, --write and --check\n');
    return 2;
  }
  if (opts.write) {
    const n = writeDeploy(opts.dir);
    process.stdout.write(`wrote ${n} files under ${opts.dir} (kustomize base and components, Helm chart)\n`);
    return 0;
  }
  if (opts.check) {
    const problems = checkDeploy(opts.dir);
    if (problems.length) {
      process.stderr.write(
        `the install manifests are out of date (run \`npm run manifests\`; delete the files not generated any more):\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    process.stdout.write(`the install manifests under ${opts.dir} match src/install/\n`);
    return 0;
  }
  const unknown = (opts.component ?? []).filter((c) => !COMPONENTS.includes(c as Component));
  if (unknown.length) {
    process.stderr.write(`error: unknown component ${unknown.join(', ')} (known: ${COMPONENTS.join(', ')})\n`);
    return 2;
  }
  const components = (opts.component ?? []) as Component[];
  if (components.includes('cert-manager') && components.includes('without-webhook')) {
    process.stderr.write('error: the cert-manager component makes the webhook\'s certificate; it does not go with without-webhook\n');
    return 2;
  }
  if (opts.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(opts.namespace)) {
    process.stderr.write(`error: --namespace: "${opts.namespace}" is not a valid namespace name\n`);
    return 2;
  }
  const image = opts.image ?? (opts.version ? `${IMAGE_REPOSITORY}:${opts.version.replace(/^v(?=\d)/, '')}` : undefined);
  process.stdout.write(
    renderInstall({ namespace: opts.namespace ?? DEFAULT_NAMESPACE, ...(image ? { image } : {}), components, crds: opts.crds }),
  );
  return 0;
}
