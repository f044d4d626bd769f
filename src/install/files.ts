/**
 * The files under deploy/ that `nimop install --write` generates (everything but deploy/crds/, which
 * `nimop crds` writes): the kustomize base and components, the top kustomization, the Helm chart.
 * `--check` compares them with what would be generated, like `nimop crds --check`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { renderCRDFiles } from '../api/crd.js';
import { chartFiles, CHART_NAME } from './helm.js';
import { baseFiles, componentFiles, installDocs, plainSettings, type FileSpec, type InstallOptions } from './manifests.js';
import { NAMES, WEBHOOK_CERT_DIR } from './names.js';
import { GENERATED_HEADER, yamlStream } from './yaml.js';

export interface GeneratedFile {
  /** Relative to the deploy directory. */
  path: string;
  text: string;
}

/** The directories (under deploy/) whose every file is generated: a file not generated any more is stale. */
export const GENERATED_DIRS = ['base', 'components', 'helm'];

const KUSTOMIZATION = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' };
const COMPONENT = { apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component' };

const yamlFile = (value: unknown, comment = '') => GENERATED_HEADER + comment + stringify(value, { lineWidth: 0 });
const objectsFile = (f: FileSpec, dir: string): GeneratedFile => ({ path: `${dir}/${f.path}`, text: GENERATED_HEADER + yamlStream(f.docs) });

/** Strategic-merge patches that turn the webhook off (no configuration, no Service, no certificate mount). */
function withoutWebhookPatches(namespace: string): { patch: string }[] {
  const del = (apiVersion: string, kind: string, name: string, ns?: string) =>
    stringify({ $patch: 'delete', apiVersion, kind, metadata: { name, ...(ns ? { namespace: ns } : {}) } });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAMES.deployment, namespace },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: NAMES.container,
              env: [{ name: 'ENABLE_WEBHOOKS', value: 'false' }],
              volumeMounts: [{ $patch: 'delete', mountPath: WEBHOOK_CERT_DIR }],
            },
          ],
          volumes: [{ $patch: 'delete', name: 'webhook-certs' }],
        },
      },
    },
  };
  return [
    { patch: del('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', NAMES.webhookConfiguration) },
    { patch: del('v1', 'Service', NAMES.webhookService, namespace) },
    { patch: stringify(deployment) },
  ];
}

/** Every generated file, paths relative to deploy/. */
export function deployFiles(): GeneratedFile[] {
  // The files hold every optional part; kustomize components (and Helm values) choose among them.
  const s = plainSettings({ components: ['cert-manager', 'servicemonitor', 'network-policy'] });
  const base = baseFiles(s);
  const files: GeneratedFile[] = [
    {
      path: 'kustomization.yaml',
      text: yamlFile(
        { ...KUSTOMIZATION, resources: [...renderCRDFiles().map((f) => `crds/${f.file}`), 'base'] },
        '# `kubectl apply --server-side -k deploy/`: the CRDs (from `nimop crds`), then the operator (base/).\n' +
          '# Optional parts are kustomize components under components/ (see docs/install.md).\n',
      ),
    },
    ...base.map((f) => objectsFile(f, 'base')),
    { path: 'base/kustomization.yaml', text: yamlFile({ ...KUSTOMIZATION, resources: base.map((f) => f.path) }) },
  ];
  for (const [name, specs] of Object.entries(componentFiles(s))) {
    files.push(...specs.map((f) => objectsFile(f, `components/${name}`)));
    files.push({ path: `components/${name}/kustomization.yaml`, text: yamlFile({ ...COMPONENT, resources: specs.map((f) => f.path) }) });
  }
  files.push({
    path: 'components/without-webhook/kustomization.yaml',
    text: yamlFile({ ...COMPONENT, patches: withoutWebhookPatches(s.namespace) }, '# Runs the operator without its admission webhook (no certificate needed).\n'),
  });
  files.push(...chartFiles().map((f) => ({ path: `helm/${CHART_NAME}/${f.path}`, text: f.text })));
  return files;
}

/** `nimop install --render`: the CRDs and every object, as one YAML stream. */
export function renderInstall(opts: InstallOptions & { crds?: boolean } = {}): string {
  const crds = opts.crds === false ? [] : renderCRDFiles().map((f) => f.text);
  return [...crds, yamlStream(installDocs(opts))].join('---\n');
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** What differs between `dir` and the generated files (empty when in sync). */
export function checkDeploy(dir: string): string[] {
  const files = deployFiles();
  const problems: string[] = [];
  for (const f of files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) problems.push(`${path}: missing`);
    else if (readFileSync(path, 'utf8') !== f.text) problems.push(`${path}: differs from what src/install/ generates`);
  }
  const expected = new Set(files.map((f) => f.path));
  for (const sub of GENERATED_DIRS) {
    for (const path of listFiles(join(dir, sub))) {
      if (!expected.has(relative(dir, path).split('\\').join('/'))) problems.push(`${path}: not generated any more`);
    }
  }
  return problems;
}

export function writeDeploy(dir: string): number {
  const files = deployFiles();
  for (const f of files) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path) || readFileSync(path, 'utf8') !== f.text) writeFileSync(path, f.text);
  }
  return files.length;
}
