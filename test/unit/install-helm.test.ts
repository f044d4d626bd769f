/**
 * The Helm chart, without helm: our evaluator of the template subset the chart uses, then the chart
 * rendered with its default values equals `kubectl kustomize` of deploy/ with the cert-manager
 * component (helm's namespace is its own), and each value maps onto the matching component.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderChart, renderChartTemplates } from '../../src/install/chart-render.js';
import { renderTemplate, TemplateError } from '../../src/install/gotemplate.js';
import type { Component } from '../../src/install/manifests.js';
import { diffObjectSets, parseStream } from '../../src/install/yaml.js';
import { KUBECTL } from '../helpers/devcluster.js';
import { spawnCollect } from '../helpers/process.js';
import { REPO } from '../helpers/upstream.js';

type Obj = Record<string, any>;
const DEPLOY = join(REPO, 'deploy');
const CHART = join(DEPLOY, 'helm', 'nim-operator');
const RELEASE = { name: 'nim-operator', namespace: 'nim-operator' };

async function kustomize(components: Component[]): Promise<Obj[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nimop-helm-'));
  try {
    const rel = relative(dir, DEPLOY);
    writeFileSync(join(dir, 'kustomization.yaml'), `resources: [${rel}]\ncomponents:\n${components.map((c) => `  - ${rel}/components/${c}\n`).join('')}`);
    const p = spawnCollect(KUBECTL, ['kustomize', dir]);
    assert.equal(await p.done, 0, p.err());
    // Helm does not make the release's namespace (helm install --create-namespace does).
    return parseStream(p.out()).filter((o) => o.kind !== 'Namespace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the template evaluator: fields, pipelines, trimming, if / else if / else, with, and Helm\'s functions', () => {
  const data = { Values: { a: { b: 'x', n: 3, list: [1, 2], empty: {}, on: true, off: false }, s: 'secret' }, Release: { Namespace: 'ns' } };
  const r = (t: string) => renderTemplate(t, data);
  assert.equal(r('v: {{ .Values.a.b }}/{{ .Release.Namespace }}'), 'v: x/ns');
  assert.equal(r('a:\n  {{- if .Values.a.on }}\n  b: 1\n  {{- end }}\n  c: 2'), 'a:\n  b: 1\n  c: 2');
  assert.equal(r('a:\n  {{- if .Values.a.off }}\n  b: 1\n  {{- end }}\n  c: 2'), 'a:\n  c: 2');
  assert.equal(r('{{ if eq .Values.a.b "y" }}Y{{ else if eq .Values.a.b "x" }}X{{ else }}Z{{ end }}'), 'X');
  assert.equal(r('{{ if and .Values.a.on (eq .Values.a.n 3) (not .Values.a.off) }}yes{{ end }}'), 'yes');
  assert.equal(r('k:\n  {{- with .Values.a.list }}\n  l:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}'), 'k:\n  l:\n    - 1\n    - 2');
  assert.equal(r('{{- with .Values.a.empty }}gone{{ end }}kept'), 'kept');
  assert.equal(r('{{ .Values.missing | default "d" }} {{ .Values.a.b | quote }} {{ .Values.a.n }}'), 'd "x" 3');
  assert.equal(r('x  {{- /* a comment */ -}}  y'), 'xy');
  assert.throws(() => r('{{ .Values.s | required "s is required" }}{{ .Values.none | required "none is required" }}'), /none is required/);
  assert.throws(() => r('{{ range .Values.a.list }}{{ end }}'), TemplateError);
  assert.throws(() => r('{{ include "x" . }}'), /outside the supported subset/);
  assert.throws(() => r('{{ .Values.a.b | upper }}'), /function "upper" is not supported/);
  assert.throws(() => r('{{ if .Values.a.on }}open'), /has no \{\{ end \}\}/);
  assert.throws(() => r('{{ .Values.nothing.deeper }}'), /nil pointer evaluating \.Values\.nothing\.deeper/);
});

test('Chart.yaml: version and appVersion are package.json\'s; the CRDs under crds/ are deploy/crds', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Obj;
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.version, pkg.version);
  assert.equal(chart.appVersion, pkg.version);
  const crds = readdirSync(join(DEPLOY, 'crds')).sort();
  assert.deepEqual(readdirSync(join(CHART, 'crds')).sort(), crds);
  for (const f of crds) assert.equal(readFileSync(join(CHART, 'crds', f), 'utf8'), readFileSync(join(DEPLOY, 'crds', f), 'utf8'), f);
  assert.match(readFileSync(join(CHART, 'README.md'), 'utf8'), /kubectl apply --server-side -f deploy\/helm\/nim-operator\/crds\//);
});

test('the chart with its default values renders what kubectl kustomize renders with the cert-manager component', async () => {
  const helm = renderChart(CHART, { release: RELEASE, includeCRDs: true });
  assert.deepEqual(diffObjectSets(helm, await kustomize(['cert-manager'])), []);
});

test('each chart value maps onto its kustomize component', async () => {
  const cases: { values: Obj; components: Component[] }[] = [
    { values: { operator: { admissionController: { enabled: false } } }, components: ['without-webhook'] },
    { values: { metrics: { serviceMonitor: { enabled: true } }, networkPolicy: { enabled: true } }, components: ['cert-manager', 'servicemonitor', 'network-policy'] },
  ];
  for (const c of cases) {
    const helm = renderChart(CHART, { release: RELEASE, values: c.values, includeCRDs: true });
    assert.deepEqual(diffObjectSets(helm, await kustomize(c.components)), [], JSON.stringify(c.values));
  }
});

test('values reach the objects: namespace, image, replicas, log level, scheduling, secret-mode TLS', () => {
  const objs = renderChart(CHART, {
    release: { name: 'x', namespace: 'ops' },
    values: {
      operator: {
        replicas: 3,
        image: { repository: 'mirror.local/nim-operator', tag: '9.9.9', pullSecrets: [{ name: 'regcred' }] },
        log: { level: 'debug' },
        nodeSelector: { pool: 'system' },
        tolerations: null,
        podAnnotations: { a: 'b' },
        admissionController: { tls: { mode: 'secret', secret: { name: 'my-tls', caBundle: 'Q0E=' } } },
      },
    },
  }) as Obj[];
  const d = objs.find((o) => o.kind === 'Deployment')!;
  const pod = d.spec.template.spec;
  assert.equal(d.metadata.namespace, 'ops');
  assert.equal(d.spec.replicas, 3);
  assert.equal(pod.containers[0].image, 'mirror.local/nim-operator:9.9.9');
  assert.ok(pod.containers[0].args.includes('--log-level=debug'));
  assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
  assert.deepEqual(pod.nodeSelector, { pool: 'system' });
  assert.equal(pod.tolerations, undefined);
  assert.deepEqual(d.spec.template.metadata.annotations, { a: 'b' });
  assert.equal(pod.volumes.find((v: Obj) => v.name === 'webhook-certs').secret.secretName, 'my-tls');
  assert.ok(!objs.some((o) => o.kind === 'Certificate' || o.kind === 'Issuer'));
  const vwc = objs.find((o) => o.kind === 'ValidatingWebhookConfiguration')!;
  assert.equal(vwc.metadata.annotations, undefined);
  assert.ok(vwc.webhooks.every((w: Obj) => w.clientConfig.caBundle === 'Q0E=' && w.clientConfig.service.namespace === 'ops'));
  assert.equal(objs.find((o) => o.kind === 'ClusterRoleBinding')!.subjects[0].namespace, 'ops');
  assert.throws(() => renderChartTemplates(CHART, { values: { operator: { admissionController: { tls: { mode: 'secret' } } } } }), /caBundle is required when tls.mode is secret/);
});

test('cert-manager with a ClusterIssuer: no self-signed Issuer, the Certificate names the issuer', () => {
  const tls = (certManager: Obj) => ({ values: { operator: { admissionController: { tls: { certManager } } } } });
  const objs = renderChart(CHART, tls({ issuerType: 'clusterissuer', issuerName: 'corp-ca' })) as Obj[];
  assert.ok(!objs.some((o) => o.kind === 'Issuer'));
  assert.deepEqual(objs.find((o) => o.kind === 'Certificate')!.spec.issuerRef, { kind: 'ClusterIssuer', name: 'corp-ca' });
  assert.throws(() => renderChart(CHART, tls({ issuerType: 'issuer' })), /issuerName is required/);
});

test('values.yaml holds the upstream-style keys, documented', () => {
  const text = readFileSync(join(CHART, 'values.yaml'), 'utf8');
  const v = parse(text) as Obj;
  for (const path of ['operator.replicas', 'operator.image.repository', 'operator.image.tag', 'operator.resources', 'operator.nodeSelector', 'operator.tolerations', 'operator.affinity', 'operator.log.level', 'operator.admissionController.enabled', 'operator.admissionController.tls.mode', 'metrics.serviceMonitor.enabled']) {
    assert.notEqual(path.split('.').reduce<any>((o, k) => o?.[k], v), undefined, path);
  }
  assert.match(text, /# .*tls\.mode cert-manager/);
});
