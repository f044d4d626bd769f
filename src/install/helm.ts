/**
 * The Helm chart deploy/helm/nim-operator, generated from the same object builders as the kustomize
 * base (manifests.ts): the builders are given Helm markers instead of values, and the markers are
 * turned into template actions (`{{ .Values.… }}`, `with` + `toYaml`, `if` blocks) in the text.
 * values.yaml is made of the same defaults, so the chart rendered with its defaults is the kustomize
 * base with the cert-manager component (checked by test/unit/install-helm.test.ts).
 */
import { Document, isMap, isScalar } from 'yaml';
import { renderCRDFiles } from '../api/crd.js';
import { VERSION } from '../cli/version.js';
import { baseFiles, componentFiles, DEFAULTS, type FileSpec, type Flag, type Settings } from './manifests.js';
import { IMAGE_REPOSITORY, NAMES } from './names.js';
import { GENERATED_HEADER, yamlStream } from './yaml.js';

export const CHART_NAME = 'nim-operator';

type Marker = { kind: 'raw' | 'with' | 'if'; text: string };

/** Placeholders in the objects, replaced by template actions once the objects are YAML text. */
class Markers {
  private readonly table = new Map<string, Marker>();
  private add(kind: Marker['kind'], text: string): string {
    const id = `__TPL_${this.table.size}__`;
    this.table.set(id, { kind, text });
    return id;
  }
  /** `{{ expr }}` in place of the value (unquoted). */
  raw = (expr: string) => this.add('raw', `{{ ${expr} }}`);
  /** Template text in place of the value (unquoted). */
  text = (tpl: string) => this.add('raw', tpl);
  /** `key: value` only when `expr` is not empty, the value printed with toYaml. */
  with = (expr: string) => this.add('with', expr);
  /** A map key whose entries (or a list item whose content) exist only when `expr` holds. */
  when = (expr: string) => this.add('if', expr);

  expand(text: string): string {
    const lines = text.split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const block = /^(\s*)(- )?(__TPL_\d+__):$/.exec(line);
      if (block && this.table.get(block[3]!)?.kind === 'if') {
        const ind = block[1]!;
        const col = ind.length + (block[2] ? 2 : 0);
        const body: string[] = [];
        while (i + 1 < lines.length && lines[i + 1]!.trim() && indentOf(lines[i + 1]!) > col) body.push(lines[++i]!.slice(2));
        if (!body.length) throw new Error(`an empty conditional block at "${line}"`);
        if (block[2]) body[0] = `${ind}- ${body[0]!.slice(ind.length + 2)}`;
        out.push(`${ind}{{- if ${this.table.get(block[3]!)!.text} }}`, this.expand(body.join('\n')), `${ind}{{- end }}`);
        continue;
      }
      const withKey = /^(\s*)(- )?([^\s#][^:]*): (__TPL_\d+__)$/.exec(line);
      if (withKey && this.table.get(withKey[4]!)?.kind === 'with') {
        if (withKey[2]) throw new Error(`a with-block cannot open a list item: "${line}"`);
        const ind = withKey[1]!;
        const expr = this.table.get(withKey[4]!)!.text;
        out.push(`${ind}{{- with ${expr} }}`, `${ind}${withKey[3]}:`, `${ind}  {{- toYaml . | nindent ${ind.length + 2} }}`, `${ind}{{- end }}`);
        continue;
      }
      out.push(line);
    }
    return out.join('\n').replace(/"(__TPL_\d+__)"|'(__TPL_\d+__)'|(__TPL_\d+__)/g, (_, a, b, c) => {
      const m = this.table.get((a ?? b ?? c) as string);
      if (!m || m.kind !== 'raw') throw new Error(`marker ${a ?? b ?? c} left in the template`);
      return m.text;
    });
  }
}

const indentOf = (line: string) => line.length - line.trimStart().length;

const V = '.Values.operator';
const AC = `${V}.admissionController`;

/** When each optional part is rendered, as a template condition. */
export const HELM_CONDITIONS: Record<Flag, string> = {
  webhook: `${AC}.enabled`,
  caInjection: `eq ${AC}.tls.mode "cert-manager"`,
  certManager: `and ${AC}.enabled (eq ${AC}.tls.mode "cert-manager")`,
  selfSignedIssuer: `and ${AC}.enabled (eq ${AC}.tls.mode "cert-manager") (eq ${AC}.tls.certManager.issuerType "selfsigned")`,
  secretCA: `eq ${AC}.tls.mode "secret"`,
  serviceMonitor: '.Values.metrics.serviceMonitor.enabled',
  networkPolicy: '.Values.networkPolicy.enabled',
};

function helmSettings(m: Markers): Settings {
  const issuerType = `${AC}.tls.certManager.issuerType`;
  return {
    namespace: '{{ .Release.Namespace }}',
    image: m.text(`{{ ${V}.image.repository }}:{{ ${V}.image.tag | default .Chart.AppVersion }}`),
    imagePullPolicy: m.raw(`${V}.image.pullPolicy`),
    replicas: m.raw(`${V}.replicas`),
    logLevel: `{{ ${V}.log.level }}`,
    imagePullSecrets: m.with(`${V}.image.pullSecrets`),
    resources: m.with(`${V}.resources`),
    nodeSelector: m.with(`${V}.nodeSelector`),
    tolerations: m.with(`${V}.tolerations`),
    affinity: m.with(`${V}.affinity`),
    podAnnotations: m.with(`${V}.podAnnotations`),
    podSecurityContext: m.with(`${V}.podSecurityContext`),
    containerSecurityContext: m.with(`${V}.containerSecurityContext`),
    webhookEnabled: m.raw(`${AC}.enabled | quote`),
    webhookSecretName: m.raw(`${AC}.tls.secret.name | default "${NAMES.webhookSecret}"`),
    caBundle: m.raw(`${AC}.tls.secret.caBundle | required "operator.admissionController.tls.secret.caBundle is required when tls.mode is secret" | quote`),
    issuerKind: m.text(`{{ if eq ${issuerType} "clusterissuer" }}ClusterIssuer{{ else }}Issuer{{ end }}`),
    issuerName: m.text(
      `{{ if eq ${issuerType} "selfsigned" }}${NAMES.issuer}{{ else }}{{ ${AC}.tls.certManager.issuerName | required "operator.admissionController.tls.certManager.issuerName is required unless issuerType is selfsigned" }}{{ end }}`,
    ),
    metricsServiceType: m.raw('.Values.metricsService.type'),
    serviceMonitorInterval: m.raw('.Values.metrics.serviceMonitor.interval'),
    entriesWhen: (flag, entries) => ({ [m.when(HELM_CONDITIONS[flag])]: entries }),
    itemWhen: (flag, item) => [{ [m.when(HELM_CONDITIONS[flag])]: item }],
    optional: (key, value) => ({ [key]: value }),
    rendered: () => true,
  };
}

/** The chart's default values, from the same defaults as the kustomize base. */
export function chartValues(): Record<string, unknown> {
  return {
    operator: {
      replicas: DEFAULTS.replicas,
      image: { repository: IMAGE_REPOSITORY, tag: '', pullPolicy: DEFAULTS.pullPolicy, pullSecrets: DEFAULTS.imagePullSecrets },
      log: { level: DEFAULTS.logLevel },
      resources: DEFAULTS.resources,
      nodeSelector: DEFAULTS.nodeSelector,
      tolerations: DEFAULTS.tolerations,
      affinity: DEFAULTS.affinity,
      podAnnotations: DEFAULTS.podAnnotations,
      podSecurityContext: DEFAULTS.podSecurityContext,
      containerSecurityContext: DEFAULTS.containerSecurityContext,
      admissionController: {
        enabled: true,
        tls: { mode: 'cert-manager', certManager: { issuerType: 'selfsigned', issuerName: '' }, secret: { name: '', caBundle: '' } },
      },
    },
    metricsService: { type: DEFAULTS.metricsServiceType },
    metrics: { serviceMonitor: { enabled: false, interval: DEFAULTS.serviceMonitorInterval } },
    networkPolicy: { enabled: false },
  };
}

const VALUE_COMMENTS: Record<string, string> = {
  'operator.replicas': 'Replicas of the operator; one leads (a Lease), all serve the webhook.',
  'operator.image.tag': 'Empty: the chart\'s appVersion.',
  'operator.image.pullSecrets': 'e.g. [{name: my-registry}] for a private mirror.',
  'operator.log.level': 'debug, info, warn or error (--log-level).',
  'operator.tolerations': 'May run on control-plane nodes.',
  'operator.affinity': 'Spread the replicas over nodes.',
  'operator.admissionController':
    'The validating webhook for NIMCache and NIMService. It needs a serving certificate:\n' +
    ' tls.mode cert-manager: a Certificate (and a self-signed Issuer unless issuerType is issuer or\n' +
    '   clusterissuer with issuerName); cert-manager injects the CA into the webhook configuration.\n' +
    ' tls.mode secret: an existing kubernetes.io/tls Secret (tls.secret.name) and its CA, base64 (tls.secret.caBundle).',
  'metrics.serviceMonitor': 'A Prometheus Operator ServiceMonitor for the metrics Service (needs its CRD).',
  networkPolicy: 'Admit only webhook calls and metrics scrapes from namespaces labelled metrics=enabled.',
};

function valuesYaml(): string {
  const doc = new Document(chartValues(), { aliasDuplicateObjects: false });
  for (const [path, comment] of Object.entries(VALUE_COMMENTS)) {
    const keys = path.split('.');
    const parent = keys.length > 1 ? doc.getIn(keys.slice(0, -1), true) : doc.contents;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === keys[keys.length - 1]) : undefined;
    if (!pair || !isScalar(pair.key)) throw new Error(`values.yaml has no ${path}`);
    pair.key.commentBefore = comment.split('\n').map((l) => ` ${l}`).join('\n');
  }
  return GENERATED_HEADER + doc.toString({ lineWidth: 0 });
}

function template(m: Markers, f: FileSpec): string {
  let text = m.expand(yamlStream(f.docs));
  if (f.when) text = `{{- if ${HELM_CONDITIONS[f.when]} }}\n${text}{{- end }}\n`;
  return GENERATED_HEADER + text;
}

const CHART_YAML = () =>
  `${GENERATED_HEADER}apiVersion: v2
name: ${CHART_NAME}
description: A Kubernetes operator that serves AI inference declaratively (NIMCache, NIMService, NIMPipeline, NIMBuild; apps.nvidia.com/v1alpha1).
type: application
version: ${VERSION}
appVersion: "${VERSION}"
`;

const NOTES = `nim-operator {{ .Chart.AppVersion }} is installed in the namespace {{ .Release.Namespace }}.

  kubectl -n {{ .Release.Namespace }} rollout status deployment/${NAMES.deployment}

Helm installs the CRDs (crds/) on the first install only. Before every upgrade, apply the new ones:

  kubectl apply --server-side -f <chart>/crds/
`;

const README = `# nim-operator Helm chart

Generated by \`nimop install --write\` from \`src/install/\`; see \`docs/install.md\` for the whole guide.

    helm install nim-operator deploy/helm/nim-operator --namespace nim-operator --create-namespace

The default values need cert-manager (the webhook's certificate). Without it, either set
\`operator.admissionController.tls.mode=secret\` with your own certificate, or
\`operator.admissionController.enabled=false\`.

**CRDs are not upgraded by Helm.** Helm installs \`crds/\` on the first install and never touches them
again. Before \`helm upgrade\`, apply the CRDs of the new version:

    kubectl apply --server-side -f deploy/helm/nim-operator/crds/
    helm upgrade nim-operator deploy/helm/nim-operator --namespace nim-operator

Uninstalling leaves the CRDs (and so every NIMCache and NIMService) in place: delete the NIM objects
first, while the operator still runs to remove their finalizers.
`;

/** Every file of the chart, relative to deploy/helm/nim-operator/. */
export function chartFiles(): { path: string; text: string }[] {
  const m = new Markers();
  const s = helmSettings(m);
  // The namespace is Helm's (--namespace, --create-namespace), not the chart's.
  const base = baseFiles(s).filter((f) => f.path !== 'namespace.yaml');
  const components = Object.entries(componentFiles(s)).flatMap(([name, files]) => files.map((f) => ({ ...f, path: `${name}/${f.path}` })));
  const templates = [...base, ...components].map((f) => ({ path: `templates/${f.path.replace(/\//g, '-')}`, text: template(m, f) }));
  return [
    { path: 'Chart.yaml', text: CHART_YAML() },
    { path: 'values.yaml', text: valuesYaml() },
    { path: 'README.md', text: README },
    { path: 'templates/NOTES.txt', text: NOTES },
    ...templates,
    ...renderCRDFiles().map((f) => ({ path: `crds/${f.file}`, text: f.text })),
  ];
}
