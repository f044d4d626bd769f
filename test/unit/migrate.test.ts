/** `nimop migrate` rewrites: deprecated fields out, comments, key order and other documents kept. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests } from '../../src/api/manifests.js';
import { validateObject } from '../../src/api/validate.js';
import { migrateText } from '../../src/migrate/index.js';
import { admissionCheck } from '../../src/webhooks/rules/index.js';

const SERVICE = `# Llama, published through the legacy ingress
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct  # the model
    tag: "1.8.4"
  authSecret: ngc-api-secret
  storage:
    nimCache:
      name: llama
  # keep the pods near the RAG server
  podAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 10
      podAffinityTerm:
        labelSelector:
          matchLabels:
            app: rag
        topologyKey: kubernetes.io/hostname
  resources:
    limits:
      nvidia.com/gpu: 1
  expose:
    service:
      type: ClusterIP
      port: 8000
    # the public endpoint
    ingress:
      enabled: true
      annotations:
        nginx.ingress.kubernetes.io/proxy-body-size: "0"
      spec:
        ingressClassName: nginx
        rules:
        - host: llama.ai.example.com
          http:
            paths:
            - path: /
              pathType: Prefix
              backend:
                service:
                  name: llama
                  port:
                    name: api
        tls:
        - hosts:
          - llama.ai.example.com
          secretName: llama-tls
  replicas: 1
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:   {name: web}   # odd spacing, kept
spec:
  replicas:   2
`;

/** Every object of the text passes schema, CEL and webhook rules; returns their warnings. */
function assertValid(text: string): string[] {
  const warnings: string[] = [];
  for (const doc of parseManifests(text).docs) {
    const v = validateObject(doc.value);
    if (v.status === 'skipped') continue;
    assert.equal(v.status, 'valid', JSON.stringify(v.errors));
    const a = admissionCheck(v.object);
    assert.deepEqual(a.errors, []);
    warnings.push(...v.warnings, ...a.warnings);
  }
  return warnings;
}

describe('migrateText', () => {
  test('a NIMService: both deprecated fields rewritten in place, comments and key order kept, one report line each', () => {
    const r = migrateText(SERVICE, 'svc.yaml');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.changes, [
      'svc.yaml: document 1: NIMService ai/llama: spec.podAffinity → spec.affinity.podAffinity',
      'svc.yaml: document 1: NIMService ai/llama: spec.expose.ingress → spec.expose.router.ingress',
    ]);
    assert.equal(
      r.output,
      `# Llama, published through the legacy ingress
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: llama
  namespace: ai
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.1-8b-instruct # the model
    tag: "1.8.4"
  authSecret: ngc-api-secret
  storage:
    nimCache:
      name: llama
  # keep the pods near the RAG server
  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        podAffinityTerm:
          labelSelector:
            matchLabels:
              app: rag
          topologyKey: kubernetes.io/hostname
  resources:
    limits:
      nvidia.com/gpu: 1
  expose:
    service:
      type: ClusterIP
      port: 8000
    # the public endpoint
    router:
      hostDomainName: example.com
      annotations:
        nginx.ingress.kubernetes.io/proxy-body-size: "0"
      ingress:
        ingressClass: nginx
        tlsSecretName: llama-tls
  replicas: 1
`,
    );
    // Before: the deprecation warning; after: valid with nothing to say about the ingress.
    assert.ok(assertValid(SERVICE).some((w) => w.includes('spec.expose.ingress is deprecated')));
    assert.deepEqual(assertValid(r.output), []);
  });

  test('other documents and separators are copied byte for byte; a file without deprecated fields is unchanged', () => {
    const text = `${DEPLOYMENT}---\n# between\n${SERVICE}\n---\n${DEPLOYMENT}...\n`;
    const r = migrateText(text, 'all.yaml');
    assert.equal(r.changed, true);
    assert.ok(r.output.startsWith(`${DEPLOYMENT}---\n# between\n# Llama`), r.output);
    assert.ok(r.output.endsWith(`  replicas: 1\n\n---\n${DEPLOYMENT}...\n`), r.output);
    assert.equal(r.changes.length, 2);
    assert.ok(r.changes.every((c) => c.startsWith('all.yaml: document 2: NIMService ai/llama: ')));

    const untouched = migrateText(`${DEPLOYMENT}---\n${r.output}`, 'again.yaml');
    assert.equal(untouched.changed, false);
    assert.equal(untouched.output, `${DEPLOYMENT}---\n${r.output}`);
    assert.deepEqual(untouched.changes, []);
  });

  test('indented sequences and CRLF line endings are kept in a rewritten document', () => {
    const indented = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: a
spec:
  image: {repository: nvcr.io/nim/x, tag: "1.0"}
  storage: {pvc: {name: models}}
  tolerations:
    - key: nvidia.com/gpu
      operator: Exists
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: zone
`;
    const r1 = migrateText(indented, 'x.yaml');
    assert.match(r1.output, /\n {2}tolerations:\n {4}- key: nvidia.com\/gpu\n/);
    assert.match(r1.output, /\n {4}podAffinity:\n {6}requiredDuringSchedulingIgnoredDuringExecution:\n {8}- topologyKey: zone\n$/);
    const r2 = migrateText(SERVICE.replace(/\n/g, '\r\n'), 'crlf.yaml');
    assert.equal(r2.changes.length, 2);
    assert.ok(!/[^\r]\n/.test(r2.output), 'every line ends with CRLF');
  });

  test('podAffinity beside an affinity: moved into it; the same podAffinity twice: the deprecated one removed', () => {
    const svc = (extra: string) => `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: a
spec:
  image: {repository: nvcr.io/nim/x, tag: "1.0"}
  storage: {pvc: {name: models}}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: gpu, operator: Exists}
${extra}  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: zone
      labelSelector: {matchLabels: {app: b}}
`;
    const moved = migrateText(svc(''), 'a.yaml');
    assert.deepEqual(moved.changes, ['a.yaml: document 1: NIMService a: spec.podAffinity → spec.affinity.podAffinity']);
    assert.match(moved.output, /affinity:\n {4}nodeAffinity:[\s\S]*operator: Exists}\n {4}podAffinity:\n {6}requiredDuringSchedulingIgnoredDuringExecution:\n {6}- topologyKey: zone\n/);
    assert.ok(!/^ {2}podAffinity:/m.test(moved.output));
    assertValid(moved.output);

    const twice = svc('').replace('    nodeAffinity:', '    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - topologyKey: zone\n        labelSelector: {matchLabels: {app: b}}\n    nodeAffinity:');
    const dedup = migrateText(twice, 'b.yaml');
    assert.deepEqual(dedup.changes, ['b.yaml: document 1: NIMService a: spec.podAffinity → removed (spec.affinity.podAffinity already says the same)']);
    assert.equal((dedup.output.match(/podAffinity:/g) ?? []).length, 1);

    const differs = migrateText(twice.replace('app: b}}\n    nodeAffinity', 'app: c}}\n    nodeAffinity'), 'c.yaml');
    assert.deepEqual(differs.changes, []);
    assert.equal(differs.changed, false);
    assert.deepEqual(differs.warnings, [
      'c.yaml: document 1: NIMService a: warning: spec.podAffinity: left as is: spec.affinity.podAffinity is set too and differs; merge them by hand (spec.podAffinity is ignored)',
    ]);
  });

  test('NIMPipeline services: each spec.services[].spec rewritten, with the service name in the router host', () => {
    const pipeline = `apiVersion: apps.nvidia.com/v1alpha1
kind: NIMPipeline
metadata:
  name: rag
  namespace: ai
spec:
  services:
  - name: embed    # the embedder
    enabled: true
    spec:
      image: {repository: nvcr.io/nim/embed, tag: "1.0"}
      authSecret: ngc-api-secret
      storage: {pvc: {name: models}}
      podAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
        - topologyKey: zone
          labelSelector: {matchLabels: {app: rag}}
  - name: llm
    enabled: true
    spec:
      image: {repository: nvcr.io/nim/llm, tag: "1.0"}
      authSecret: ngc-api-secret
      storage: {pvc: {name: models}}
      expose:
        service: {port: 9000}
        ingress:
          enabled: true
          spec:
            ingressClassName: traefik
            rules:
            - host: llm.ai.apps.example.org
              http:
                paths:
                - {path: /, pathType: Prefix, backend: {service: {name: llm, port: {number: 9000}}}}
`;
    const r = migrateText(pipeline, 'rag.yaml');
    assert.deepEqual(r.changes, [
      'rag.yaml: document 1: NIMPipeline ai/rag: spec.services[0].spec.podAffinity → spec.services[0].spec.affinity.podAffinity',
      'rag.yaml: document 1: NIMPipeline ai/rag: spec.services[1].spec.expose.ingress → spec.services[1].spec.expose.router.ingress',
    ]);
    assert.match(r.output, /- name: embed # the embedder\n/);
    assert.match(r.output, /\n {6}affinity:\n {8}podAffinity:\n/);
    assert.match(r.output, /\n {8}service: {port: 9000}\n {8}router:\n {10}hostDomainName: apps.example.org\n {10}ingress:\n {12}ingressClass: traefik\n$/);
    assertValid(r.output);
  });

  test('an ingress the router cannot express is left as is, with a warning naming the document and the field', () => {
    const twoPaths = SERVICE.replace(
      '            - path: /\n',
      '            - path: /v1\n              pathType: Prefix\n              backend: {service: {name: llama, port: {name: api}}}\n            - path: /\n',
    );
    const text = `${DEPLOYMENT}---\n${twoPaths.replace(/ {2}podAffinity:[\s\S]*?(?= {2}resources:)/, '')}`;
    const r = migrateText(text, 'odd.yaml');
    assert.deepEqual(r.changes, []);
    assert.equal(r.changed, false);
    assert.equal(r.output, text);
    assert.deepEqual(r.warnings, [
      'odd.yaml: document 2: NIMService ai/llama: warning: spec.expose.ingress: left as is: its rule has 2 paths, and the router makes exactly one (/)',
    ]);

    const otherHost = migrateText(SERVICE.replace(/llama\.ai\.example\.com/g, 'chat.example.com'), 'host.yaml');
    assert.deepEqual(otherHost.changes, ['host.yaml: document 1: NIMService ai/llama: spec.podAffinity → spec.affinity.podAffinity']);
    assert.match(otherHost.warnings[0]!, /spec\.expose\.ingress: left as is: its host chat\.example\.com is not of the router's form llama\.ai\.<hostDomainName>$/);
    assert.match(otherHost.output, /\n {4}ingress:\n {6}enabled: true\n/);
  });

  test('a router that is already set: merged when compatible, left alone when it has an ingress', () => {
    const withRouter = SERVICE.replace('    # the public endpoint\n', '    router:\n      hostDomainName: example.com\n');
    const merged = migrateText(withRouter, 'r.yaml');
    assert.ok(merged.changes.includes('r.yaml: document 1: NIMService ai/llama: spec.expose.ingress → spec.expose.router.ingress'));
    assert.match(merged.output, /\n {4}router:\n {6}hostDomainName: example.com\n {6}annotations:\n {8}nginx[^\n]*\n {6}ingress:\n {8}ingressClass: nginx\n {8}tlsSecretName: llama-tls\n {2}replicas: 1\n$/);
    assertValid(merged.output);

    const both = migrateText(SERVICE.replace('    # the public endpoint\n', '    router:\n      hostDomainName: example.com\n      ingress: {ingressClass: nginx}\n'), 'both.yaml');
    assert.match(both.warnings.join('\n'), /spec\.expose\.ingress: left as is: spec\.expose\.router\.ingress is set too/);
  });

  test('a file that is not YAML: errors with line and column, nothing rewritten', () => {
    const r = migrateText(`${SERVICE}---\nkind: [broken\n`, 'bad.yaml');
    assert.equal(r.changed, false);
    assert.equal(r.errors.length > 0, true);
    assert.match(r.errors[0]!, /^bad\.yaml:\d+: document 2: line \d+, column \d+: /);
  });

  test('a kind: List and other kinds of objects', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${SERVICE.replace(/^#.*\n/, '').trimEnd().replace(/\n/g, '\n  ')}\n`;
    const r = migrateText(list, 'list.yaml');
    assert.deepEqual(
      r.changes.map((c) => c.split(': ').slice(0, 3).join(': ')),
      ['list.yaml: document 1 item 0: NIMService ai/llama', 'list.yaml: document 1 item 0: NIMService ai/llama'],
    );
    assertValid(r.output);
    const other = 'apiVersion: example.com/v1\nkind: NIMService\nspec:\n  podAffinity: {}\n';
    assert.equal(migrateText(other, 'o.yaml').changed, false);
  });
});
