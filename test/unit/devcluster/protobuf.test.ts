/**
 * The Kubernetes protobuf decoder, against real bodies: each kubectl generator command is run once
 * against a throwaway HTTP server that records what kubectl POSTs (protobuf), and once with
 * --dry-run=client -o json (what kubectl would send as JSON); the decoded body must equal the JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { decodeKubernetesProtobuf, hasProtobufSchema, ProtobufError } from '../../../src/devcluster/protobuf/index.js';

type Obj = Record<string, any>;

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';

// ---------------------------------------------------------------------------------------------------
// A fake API server: just enough discovery for kubectl to map kinds, and a recorder for POST bodies.

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
/** group/version -> [resource, kind, namespaced] */
const RESOURCES: Record<string, Array<[string, string, boolean]>> = {
  v1: [
    ['namespaces', 'Namespace', false],
    ['configmaps', 'ConfigMap', true],
    ['secrets', 'Secret', true],
    ['serviceaccounts', 'ServiceAccount', true],
    ['services', 'Service', true],
    ['pods', 'Pod', true],
    ['pods/log', 'Pod', true],
    ['resourcequotas', 'ResourceQuota', true],
  ],
  'apps/v1': [['deployments', 'Deployment', true]],
  'batch/v1': [
    ['jobs', 'Job', true],
    ['cronjobs', 'CronJob', true],
  ],
  'rbac.authorization.k8s.io/v1': [
    ['roles', 'Role', true],
    ['clusterroles', 'ClusterRole', false],
    ['rolebindings', 'RoleBinding', true],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ],
  'networking.k8s.io/v1': [['ingresses', 'Ingress', true]],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget', true]],
  'scheduling.k8s.io/v1': [['priorityclasses', 'PriorityClass', false]],
};

function resourceList(gv: string): Obj {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: RESOURCES[gv]!.map(([name, kind, namespaced]) => ({
      name,
      singularName: name.includes('/') ? '' : kind.toLowerCase(),
      namespaced,
      kind,
      verbs: name.includes('/') ? ['get'] : VERBS,
    })),
  };
}

function groupList(): Obj {
  const groups = Object.keys(RESOURCES)
    .filter((gv) => gv.includes('/'))
    .map((gv) => {
      const [group, version] = gv.split('/');
      return { name: group, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

interface Captured {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

let server: Server;
let captured: Captured[] = [];
let dir: string;
let kubeconfig: string;
let runs = 0;

function startServer(): Promise<number> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!;
      const send = (code: number, obj: unknown): void => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'POST') {
        captured.push({ method: req.method, url: req.url ?? '', contentType: String(req.headers['content-type']), body });
        // Echo the object back as JSON, so kubectl prints "... created".
        try {
          return send(201, req.headers['content-type'] === PROTOBUF ? decodeKubernetesProtobuf(body) : JSON.parse(body.toString()));
        } catch (e) {
          return send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(e), code: 500 });
        }
      }
      if (path === '/version') return send(200, { major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' });
      if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (path === '/apis') return send(200, groupList());
      if (path === '/api/v1') return send(200, resourceList('v1'));
      const gv = /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
      if (gv && RESOURCES[gv]) return send(200, resourceList(gv));
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', message: `${path} not found`, code: 404 });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function kubectl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, `cache-${++runs}`) };
    const child = spawn(KUBECTL, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * kubectl 1.33 (apimachinery v0.33) prints a zero metadata.creationTimestamp as null; from v0.34 the
 * field is tagged omitzero, so kube-apiserver's JSON omits it. That is the only difference expected.
 */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'creationTimestamp' && x === null) continue;
      out[k] = normalize(x);
    }
    return out;
  }
  return v;
}

/** Runs `kubectl <args>` for real (protobuf POST) and with --dry-run=client -o json; returns both. */
async function capture(args: string[]): Promise<{ decoded: Obj; expected: Obj; post: Captured }> {
  const dash = args.indexOf('--');
  const at = dash < 0 ? args.length : dash; // flags go before a container command
  const dry = await kubectl([...args.slice(0, at), '--dry-run=client', '-o', 'json', ...args.slice(at)]);
  assert.equal(dry.code, 0, `dry run of kubectl ${args.join(' ')}: ${dry.stderr}`);
  captured = [];
  const real = await kubectl(args);
  assert.equal(real.code, 0, `kubectl ${args.join(' ')}: ${real.stderr}`);
  const post = captured.find((c) => c.method === 'POST');
  assert.ok(post, `kubectl ${args.join(' ')} sent no POST`);
  return { decoded: decodeKubernetesProtobuf(post.body), expected: normalize(JSON.parse(dry.stdout)) as Obj, post };
}


describe('decodeKubernetesProtobuf: bodies from kubectl 1.33 generators', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimop-protobuf-'));
    const port = await startServer();
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: http://127.0.0.1:${port}`,
        '    insecure-skip-tls-verify: true',
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: fake, namespace: default}',
        'current-context: fake',
        'users:',
        '- name: fake',
        '  user: {}',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]));
    await writeFile(join(dir, 'greeting.txt'), 'hello\nworld\n');
    const pems = await generate([{ name: 'commonName', value: 'example.com' }], { keyType: 'ec', notAfterDate: new Date(Date.now() + 86_400_000) });
    await writeFile(join(dir, 'tls.crt'), pems.cert);
    await writeFile(join(dir, 'tls.key'), pems.private);
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const file = (name: string): string => join(dir, name);

  /** [title, args (file names are resolved lazily), extra checks] */
  const cases: Array<[string, () => string[], ((o: Obj) => void)?]> = [
    ['create namespace', () => ['create', 'namespace', 'team-a'], (o) => assert.deepEqual(o.metadata, { name: 'team-a' })],
    [
      'create configmap (data and binaryData)',
      () => ['create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast', '--from-literal=empty=', `--from-file=greeting.txt=${file('greeting.txt')}`, `--from-file=blob.bin=${file('blob.bin')}`],
      (o) => {
        assert.deepEqual(o.data, { empty: '', 'greeting.txt': 'hello\nworld\n', mode: 'fast' });
        assert.deepEqual(o.binaryData, { 'blob.bin': Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]).toString('base64') });
      },
    ],
    [
      'create secret generic',
      () => ['create', 'secret', 'generic', 'creds', '--from-literal=username=admin', '--from-literal=password=s3cr€t', '--from-literal=blank=', `--from-file=blob.bin=${file('blob.bin')}`, '--type=Opaque'],
      (o) => {
        assert.equal(o.type, 'Opaque');
        assert.equal(Buffer.from(o.data.password, 'base64').toString(), 's3cr€t');
        assert.equal(o.data.blank, '');
      },
    ],
    [
      'create secret docker-registry',
      () => ['create', 'secret', 'docker-registry', 'pull', '--docker-server=registry.example.com', '--docker-username=robot', '--docker-password=hunter2', '--docker-email=robot@example.com'],
      (o) => {
        assert.equal(o.type, 'kubernetes.io/dockerconfigjson');
        assert.ok(JSON.parse(Buffer.from(o.data['.dockerconfigjson'], 'base64').toString()).auths['registry.example.com']);
      },
    ],
    ['create secret tls', () => ['create', 'secret', 'tls', 'web-tls', `--cert=${file('tls.crt')}`, `--key=${file('tls.key')}`], (o) => assert.equal(o.type, 'kubernetes.io/tls')],
    ['create serviceaccount', () => ['create', 'serviceaccount', 'builder', '-n', 'team-a']],
    [
      'create role',
      () => ['create', 'role', 'reader', '-n', 'team-a', '--verb=get,list,watch', '--resource=pods,pods/log,deployments.apps', '--resource-name=web'],
      (o) => assert.deepEqual(o.rules[0].verbs, ['get', 'list', 'watch']),
    ],
    ['create clusterrole (resources)', () => ['create', 'clusterrole', 'pod-reader', '--verb=get,list', '--resource=pods,jobs.batch']],
    ['create clusterrole (non-resource URLs)', () => ['create', 'clusterrole', 'logs', '--verb=get', '--non-resource-url=/logs/*,/healthz']],
    [
      'create clusterrole (aggregation rule)',
      () => ['create', 'clusterrole', 'monitoring', '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true'],
      (o) => assert.deepEqual(o.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }] }),
    ],
    [
      'create rolebinding',
      () => ['create', 'rolebinding', 'readers', '-n', 'team-a', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=team-a:builder'],
      (o) => assert.equal(o.subjects.length, 3),
    ],
    ['create rolebinding (clusterrole)', () => ['create', 'rolebinding', 'viewers', '-n', 'team-a', '--clusterrole=view', '--user=bob']],
    ['create clusterrolebinding', () => ['create', 'clusterrolebinding', 'ops', '--clusterrole=cluster-admin', '--user=bob', '--group=ops', '--serviceaccount=kube-system:ops']],
    [
      'create service clusterip',
      () => ['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:https'],
      (o) => assert.deepEqual(o.spec.ports.map((p: Obj) => p.targetPort), [8080, 'https']),
    ],
    ['create service clusterip (headless)', () => ['create', 'service', 'clusterip', 'headless', '--clusterip=None']],
    ['create service nodeport', () => ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'], (o) => assert.equal(o.spec.ports[0].nodePort, 30080)],
    ['create service loadbalancer', () => ['create', 'service', 'loadbalancer', 'lb', '--tcp=80:8080']],
    ['create service externalname', () => ['create', 'service', 'externalname', 'ext', '--external-name=db.example.com', '--tcp=5432']],
    [
      'create deployment',
      () => ['create', 'deployment', 'web', '-n', 'team-a', '--image=nginx:1.27', '--replicas=3', '--port=80'],
      (o) => {
        assert.equal(o.spec.replicas, 3);
        assert.deepEqual(o.spec.template.spec.containers[0].ports, [{ containerPort: 80 }]);
        assert.deepEqual(o.spec.template.spec.containers[0].resources, {});
        assert.deepEqual(o.status, {});
      },
    ],
    ['create deployment (command)', () => ['create', 'deployment', 'sleeper', '--image=busybox', '--', 'sleep', '3600']],
    ['create deployment (several images)', () => ['create', 'deployment', 'pair', '--image=busybox', '--image=registry.example.com/team/alpine:3.20']],
    ['create job', () => ['create', 'job', 'once', '--image=busybox', '--', 'date']],
    [
      'create ingress',
      () => [
        'create', 'ingress', 'site', '-n', 'team-a', '--class=nginx',
        '--rule=foo.com/bar=svc1:8080,tls=foo-tls', '--rule=foo.com/files*=svc2:http', '--rule=/=svc3:80',
        '--default-backend=fallback:80', '--annotation=nginx.ingress.kubernetes.io/rewrite-target=/',
      ],
      (o) => {
        assert.equal(o.spec.ingressClassName, 'nginx');
        assert.deepEqual(o.spec.tls, [{ hosts: ['foo.com'], secretName: 'foo-tls' }]);
        assert.equal(o.spec.rules[0].http.paths[1].backend.service.port.name, 'http');
      },
    ],
    // Other generators whose kinds the decoder also knows.
    ['create cronjob', () => ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date']],
    ['create poddisruptionbudget (percent)', () => ['create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=50%'], (o) => assert.equal(o.spec.minAvailable, '50%')],
    ['create poddisruptionbudget (number)', () => ['create', 'poddisruptionbudget', 'web-pdb2', '--selector=app=web', '--max-unavailable=1'], (o) => assert.equal(o.spec.maxUnavailable, 1)],
    ['create priorityclass', () => ['create', 'priorityclass', 'high', '--value=1000', '--global-default=true', '--description=high priority', '--preemption-policy=Never']],
    [
      'create quota',
      () => ['create', 'quota', 'small', '--hard=cpu=1500m,memory=1Gi,pods=2', '--scopes=BestEffort,NotTerminating'],
      (o) => assert.deepEqual(o.spec.hard, { cpu: '1500m', memory: '1Gi', pods: '2' }),
    ],
  ];

  for (const [title, args, check] of cases) {
    test(title, async () => {
      const { decoded, expected, post } = await capture(args());
      assert.equal(post.contentType, PROTOBUF, 'kubectl sent protobuf');
      assert.deepStrictEqual(decoded, expected);
      // Same keys in the same order as Go's JSON encoder prints them.
      assert.equal(JSON.stringify(decoded), JSON.stringify(expected));
      check?.(decoded);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Hand-made bodies: what the generators never send (ownerReferences, managedFields, times, packed
// repeated scalars, unknown fields, merged messages) and malformed input.

function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}
const key = (n: number, wt: number): number[] => varint(n * 8 + wt);
/** A varint field. */
const vf = (n: number, v: number | bigint): number[] => [...key(n, 0), ...varint(v)];
/** A length-delimited field (string or message bytes). */
const lf = (n: number, payload: string | number[]): number[] => {
  const b = typeof payload === 'string' ? [...Buffer.from(payload)] : payload;
  return [...key(n, 2), ...varint(b.length), ...b];
};
const entry = (n: number, k: string, v: string | number[]): number[] => lf(n, [...lf(1, k), ...lf(2, v)]);
const envelope = (apiVersion: string, kind: string, raw: number[]): Uint8Array =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...lf(1, [...lf(1, apiVersion), ...lf(2, kind)]), ...lf(2, raw), ...lf(3, ''), ...lf(4, '')]);

const T = 1767323045; // 2026-01-02T03:04:05Z

describe('decodeKubernetesProtobuf: hand-made bodies', () => {
  test('ObjectMeta in full: ownerReferences, finalizers, managedFields, times', () => {
    const meta = [
      ...lf(1, 'web-7d4b9'),
      ...lf(2, 'web-'),
      ...lf(3, 'team-a'),
      ...lf(5, '0b6c1c9e-1111-2222-3333-444455556666'),
      ...lf(6, '42'),
      ...vf(7, 3),
      ...lf(8, [...vf(1, T), ...vf(2, 999_999)]), // nanos are dropped, as Time.Unmarshal does
      ...lf(9, [...vf(1, T + 60)]),
      ...vf(10, 30),
      ...entry(11, 'app', 'web'),
      ...entry(11, 'app', 'web2'), // a later map entry wins
      ...entry(12, 'note', ''),
      ...lf(13, [...lf(1, 'Deployment'), ...lf(3, 'web'), ...lf(4, 'uid-1'), ...lf(5, 'apps/v1'), ...vf(6, 1), ...vf(7, 0)]),
      ...lf(14, 'example.com/cleanup'),
      ...lf(14, 'foregroundDeletion'),
      ...lf(17, [...lf(1, 'kubectl'), ...lf(2, 'Update'), ...lf(3, 'apps/v1'), ...lf(4, [...vf(1, T)]), ...lf(6, 'FieldsV1'), ...lf(7, lf(1, '{"f:spec":{"f:replicas":{}}}')), ...lf(8, '')]),
    ];
    const o = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', [...lf(1, meta)]));
    assert.deepStrictEqual(o.metadata, {
      name: 'web-7d4b9',
      generateName: 'web-',
      namespace: 'team-a',
      uid: '0b6c1c9e-1111-2222-3333-444455556666',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2026-01-02T03:04:05Z',
      deletionTimestamp: '2026-01-02T03:05:05Z',
      deletionGracePeriodSeconds: 30,
      labels: { app: 'web2' },
      annotations: { note: '' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-1', controller: true, blockOwnerDeletion: false }],
      finalizers: ['example.com/cleanup', 'foregroundDeletion'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2026-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
    });
    // Non-pointer structs print even when absent from the wire; nil pointers and slices do not.
    assert.deepStrictEqual(o.spec, { selector: null, template: { metadata: {}, spec: { containers: null } }, strategy: {} });
    assert.deepStrictEqual(o.status, {});
  });

  test('IntOrString, Quantity, packed and unpacked repeated scalars, unknown fields, merged messages', () => {
    const container = [
      ...lf(1, 'app'),
      ...lf(8, [...entry(1, 'cpu', lf(1, '250m')), ...entry(2, 'memory', lf(1, '64Mi')), ...entry(2, 'nvidia.com/gpu', [])]),
      ...lf(10, [...lf(1, [...lf(2, [...lf(1, '/healthz'), ...lf(2, [...vf(1, 1), ...lf(3, 'http')])])]), ...vf(2, 0), ...vf(4, 10)]),
      ...vf(18, 1),
    ];
    const podSpec = [
      ...lf(2, container),
      ...lf(14, [...key(4, 2), ...varint(3), ...varint(1000), ...varint(5)]), // supplementalGroups, packed (3 bytes)
      ...lf(14, [...vf(4, 7)]), // and unpacked: the two occurrences merge
      ...vf(99, 12345), // unknown varint field
      ...key(98, 3), ...vf(1, 1), ...key(98, 4), // unknown group
      ...lf(97, 'unknown bytes'),
      ...[...key(96, 5), 1, 2, 3, 4],
      ...[...key(95, 1), 1, 2, 3, 4, 5, 6, 7, 8],
      ...vf(4, -1), // terminationGracePeriodSeconds: negative int64, 10-byte varint
    ];
    const spec = [
      ...vf(1, 0), // replicas present with zero: a non-nil pointer prints
      ...lf(3, [...lf(2, podSpec)]),
      ...lf(4, [...lf(1, 'RollingUpdate'), ...lf(2, [...lf(1, [...vf(1, 1), ...lf(3, '25%')]), ...lf(2, [...vf(1, 0), ...vf(2, 2)])])]),
    ];
    const o = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', [...lf(1, lf(1, 'web')), ...lf(2, spec)])) as Obj;
    assert.equal(o.spec.replicas, 0);
    assert.deepStrictEqual(o.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } });
    const pod = o.spec.template.spec;
    assert.deepStrictEqual(pod.securityContext, { supplementalGroups: [1000, 5, 7] });
    assert.equal(pod.terminationGracePeriodSeconds, -1);
    assert.deepStrictEqual(pod.containers, [
      {
        name: 'app',
        resources: { limits: { cpu: '250m' }, requests: { memory: '64Mi', 'nvidia.com/gpu': '0' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
        tty: true,
      },
    ]);
  });

  test('Service: IntOrString target ports, zero-valued required fields print, omitempty ones do not', () => {
    const port = [...lf(1, ''), ...lf(2, 'TCP'), ...vf(3, 0), ...lf(4, [...vf(1, 0), ...vf(2, 0), ...lf(3, '')]), ...vf(5, 0)];
    const o = decodeKubernetesProtobuf(envelope('v1', 'Service', [...lf(1, lf(1, 'svc')), ...lf(2, [...lf(1, port), ...lf(4, 'ClusterIP'), ...vf(13, 0)])])) as Obj;
    assert.deepStrictEqual(o.spec, { ports: [{ protocol: 'TCP', port: 0, targetPort: 0 }], type: 'ClusterIP' });
    assert.deepStrictEqual(o.status, { loadBalancer: {} });
  });

  test('Secret: bytes are base64, empty values stay empty strings', () => {
    const o = decodeKubernetesProtobuf(envelope('v1', 'Secret', [...lf(1, lf(1, 's')), ...entry(2, 'k', [0xff, 0x00]), ...entry(2, 'e', []), ...lf(3, 'Opaque')])) as Obj;
    assert.deepStrictEqual(o, { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's' }, data: { e: '', k: '/wA=' }, type: 'Opaque' });
  });

  test('hasProtobufSchema', () => {
    assert.equal(hasProtobufSchema('apps/v1', 'Deployment'), true);
    assert.equal(hasProtobufSchema('v1', 'Deployment'), false);
    assert.equal(hasProtobufSchema('apps/v1', 'StatefulSet'), false);
  });

  const rejects = (body: Uint8Array, pattern: RegExp, unsupported = false): void => {
    assert.throws(
      () => decodeKubernetesProtobuf(body),
      (e: unknown) => e instanceof ProtobufError && pattern.test(e.message) && e.unsupported === unsupported,
    );
  };

  test('kinds without a schema are refused, naming the kind', () => {
    rejects(envelope('apps/v1', 'StatefulSet', lf(1, lf(1, 'db'))), /no protobuf schema for StatefulSet \(apps\/v1\)/, true);
    rejects(envelope('example.com/v1', 'Widget', []), /no protobuf schema for Widget \(example\.com\/v1\)/, true);
  });

  test('malformed input is refused', () => {
    rejects(Uint8Array.from(Buffer.from('{"kind":"Namespace"}')), /magic/);
    rejects(Uint8Array.from([0x6b, 0x38, 0x73]), /magic/);
    rejects(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x05, 0x0a]), /envelope.*runs past the end/);
    rejects(Uint8Array.from([0x6b, 0x38, 0x73, 0x00]), /no apiVersion/);
    rejects(envelope('v1', 'Namespace', [...lf(1, [...lf(1, 'x').slice(0, -1)])]), /Namespace \(v1\).*runs past the end/);
    rejects(envelope('v1', 'Namespace', [...lf(1, [...vf(1, 5)])]), /Namespace \(v1\): Namespace\.metadata\.name: wrong wire type varint, want length-delimited/);
    rejects(envelope('v1', 'Namespace', [...key(1, 7)]), /illegal wire type 7/);
    rejects(envelope('v1', 'Namespace', [0x80, 0x80]), /unexpected end/);
    rejects(envelope('v1', 'ResourceQuota', [...lf(2, entry(1, 'cpu', lf(1, 'lots')))]), /quantity "lots"/);
    rejects(envelope('policy/v1', 'PodDisruptionBudget', [...lf(2, lf(1, [...vf(1, 2)]))]), /impossible IntOrString\.Type 2/);
    rejects(envelope('apps/v1', 'Deployment', [...lf(1, lf(17, lf(7, lf(1, 'not json'))))]), /FieldsV1 is not valid JSON/);
    const gz = Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...lf(1, [...lf(1, 'v1'), ...lf(2, 'Namespace')]), ...lf(3, 'gzip')]);
    rejects(gz, /content encoding "gzip" is not supported/, true);
  });
});
