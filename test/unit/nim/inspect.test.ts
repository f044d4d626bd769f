/**
 * Image inspection (inventory §2.1.5): image references, pull-secret credentials, and the registry
 * client against a small OCI registry served by this test (token auth, indexes, attestations).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inspectorFromLabels, parseDockerConfig, protocolOf, resolveProtocol, type DockerConfig } from '../../../src/nim/inspect.js';
import { RegistryInspector, credentialsFor, parseChallenge, parseImageRef } from '../../../src/nim/registry.js';

describe('image references', () => {
  test('Docker Hub short names, registries with ports, tags and digests', () => {
    assert.deepEqual(parseImageRef('busybox'), { registry: 'docker.io', host: 'registry-1.docker.io', repository: 'library/busybox', reference: 'latest' });
    assert.deepEqual(parseImageRef('nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0'), { registry: 'nvcr.io', host: 'nvcr.io', repository: 'nim/meta/llama-3.1-8b-instruct', reference: '1.12.0' });
    assert.deepEqual(parseImageRef('localhost:5000/a/b'), { registry: 'localhost:5000', host: 'localhost:5000', repository: 'a/b', reference: 'latest' });
    const d = `sha256:${'a'.repeat(64)}`;
    assert.equal(parseImageRef(`index.docker.io/org/img:1@${d}`).reference, d);
    assert.equal(parseImageRef('org/img:2').repository, 'org/img');
    assert.throws(() => parseImageRef(''), /invalid image reference/);
  });
});

describe('pull secret credentials', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  test('the first secret with an entry for the host; Docker Hub names are one host; auth is base64 user:password', () => {
    const secrets: DockerConfig[] = [
      { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } },
      { auths: { 'nvcr.io': { username: '$oauthtoken', password: 'nvapi-x' } } },
      { auths: { 'nvcr.io': { username: 'second', password: 'no' } } },
    ];
    assert.deepEqual(credentialsFor('docker.io', secrets), { username: 'hub', password: 'pw' });
    assert.deepEqual(credentialsFor('nvcr.io', secrets), { username: '$oauthtoken', password: 'nvapi-x' });
    assert.equal(credentialsFor('ghcr.io', secrets), undefined);
    assert.throws(() => credentialsFor('x.io', [{ auths: { 'x.io': { auth: b64('nocolon') } } }]), /malformed auth/);
  });
  test('a Secret\'s .dockerconfigjson value and a WWW-Authenticate challenge parse', () => {
    assert.deepEqual(parseDockerConfig(b64('{"auths":{"nvcr.io":{"auth":"eDp5"}}}')), { auths: { 'nvcr.io': { auth: 'eDp5' } } });
    assert.deepEqual(parseChallenge('Bearer realm="https://a/token",service="reg",scope="repository:x:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://a/token', service: 'reg', scope: 'repository:x:pull' },
    });
  });
});

// ---- a registry of our own ---------------------------------------------------------------------

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

interface Stored {
  type: string;
  body: Buffer;
}

class Registry {
  server!: Server;
  host = '';
  readonly objects = new Map<string, Stored>();
  readonly requests: string[] = [];
  /** 'bearer' (token with credentials), 'anonymous' (token without), 'basic'. */
  auth: 'bearer' | 'anonymous' | 'basic' = 'bearer';
  readonly token = 'tok-123';
  readonly creds = 'robot:s3cret';
  corrupt = new Set<string>();

  /** Stores an image with these labels; returns its manifest. */
  image(repo: string, labels: Record<string, string>, mediaType = OCI_MANIFEST): { digest: string; body: Buffer } {
    const config = json({ architecture: 'amd64', os: 'linux', config: { Labels: labels } });
    const cd = sha(config);
    this.objects.set(`/v2/${repo}/blobs/${cd}`, { type: 'application/octet-stream', body: config });
    const manifest = json({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length }, layers: [] });
    const md = sha(manifest);
    this.objects.set(`/v2/${repo}/manifests/${md}`, { type: mediaType, body: manifest });
    return { digest: md, body: manifest };
  }

  tag(repo: string, tag: string, stored: Stored): void {
    this.objects.set(`/v2/${repo}/manifests/${tag}`, stored);
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (this.auth === 'basic') return h === `Basic ${Buffer.from(this.creds).toString('base64')}`;
    return h === `Bearer ${this.token}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push(url.pathname);
      if (url.pathname === '/token') {
        const basic = req.headers.authorization === `Basic ${Buffer.from(this.creds).toString('base64')}`;
        if (this.auth === 'bearer' && !basic) return void res.writeHead(401).end();
        if (url.searchParams.get('service') !== 'test-registry' || !url.searchParams.get('scope')?.startsWith('repository:')) return void res.writeHead(400).end();
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: this.token }));
      }
      if (!this.authorized(req)) {
        const challenge = this.auth === 'basic' ? 'Basic realm="test"' : `Bearer realm="http://${this.host}/token",service="test-registry"`;
        return void res.writeHead(401, { 'WWW-Authenticate': challenge }).end();
      }
      const o = this.objects.get(url.pathname);
      if (!o) return void res.writeHead(404).end();
      const body = this.corrupt.has(url.pathname) ? Buffer.concat([o.body, Buffer.from(' ')]) : o.body;
      res.writeHead(200, { 'Content-Type': o.type }).end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

describe('the registry client', () => {
  const reg = new Registry();
  let secrets: { auths: Record<string, { auth: string }> }[];
  const inspector = new RegistryInspector({ timeoutMs: 5_000 });
  before(async () => {
    await reg.start();
    secrets = [{ auths: { [reg.host]: { auth: Buffer.from(reg.creds).toString('base64') } } }];
    const native = { 'com.nvidia.nim.model_download_protocol': 'native-v1', 'org.opencontainers.image.version': '2.0.0' };
    const single = reg.image('nim/single', native, DOCKER_MANIFEST);
    reg.tag('nim/single', '1.0', { type: DOCKER_MANIFEST, body: single.body });
    const amd = reg.image('nim/multi', { ...native, arch: 'amd64' });
    const arm = reg.image('nim/multi', { ...native, arch: 'arm64' });
    const index = (manifests: unknown[]) => ({ type: OCI_INDEX, body: json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }) });
    reg.tag('nim/multi', '1.0', index([
      { mediaType: OCI_MANIFEST, digest: amd.digest, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: OCI_MANIFEST, digest: arm.digest, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: OCI_MANIFEST, digest: 'sha256:attestation', annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
      { mediaType: OCI_MANIFEST, digest: 'sha256:unknown', platform: { os: 'unknown', architecture: 'unknown' } },
    ]));
    const legacy = reg.image('nim/mixed', {});
    const newer = reg.image('nim/mixed', native);
    reg.tag('nim/mixed', '1.0', index([
      { mediaType: OCI_MANIFEST, digest: legacy.digest, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: OCI_MANIFEST, digest: newer.digest, platform: { os: 'linux', architecture: 'arm64' } },
    ]));
  });
  after(() => reg.server.close());

  test('a single-platform image: bearer token earned with the pull secret, config labels read', async () => {
    const labels = await inspector.labels(`${reg.host}/nim/single:1.0`, secrets);
    assert.equal(labels['com.nvidia.nim.model_download_protocol'], 'native-v1');
    assert.equal(protocolOf(labels), 'native');
    assert.ok(reg.requests.includes('/token'));
  });
  test('an index: every real platform is read (attestations and unknown platforms skipped); shared labels returned', async () => {
    reg.requests.length = 0;
    const labels = await inspector.labels(`${reg.host}/nim/multi:1.0`, secrets);
    assert.deepEqual(labels, { 'com.nvidia.nim.model_download_protocol': 'native-v1', 'org.opencontainers.image.version': '2.0.0' });
    assert.ok(!reg.requests.some((p) => p.includes('attestation') || p.includes('unknown')), reg.requests.join(' '));
    const perPlatform = await inspector.platformLabels(`${reg.host}/nim/multi:1.0`, secrets);
    assert.deepEqual(perPlatform.map((l) => l.arch), ['amd64', 'arm64']);
  });
  test('platforms that disagree on the protocol are an error, which resolveProtocol turns into legacy', async () => {
    await assert.rejects(inspector.labels(`${reg.host}/nim/mixed:1.0`, secrets), /disagree on com\.nvidia\.nim\.model_download_protocol/);
    const errors: unknown[] = [];
    assert.equal(await resolveProtocol(inspector, `${reg.host}/nim/mixed:1.0`, secrets, (e) => errors.push(e)), 'legacy');
    assert.equal(errors.length, 1);
  });
  test('without a matching secret the token is asked for anonymously (refused here), and that is an error', async () => {
    await assert.rejects(inspector.labels(`${reg.host}/nim/single:1.0`, []), /token request .* failed: 401/);
    reg.auth = 'anonymous';
    try {
      assert.equal(protocolOf(await inspector.labels(`${reg.host}/nim/single:1.0`, [])), 'native');
    } finally {
      reg.auth = 'bearer';
    }
  });
  test('a basic-auth registry gets the credentials; without them it is an error', async () => {
    reg.auth = 'basic';
    try {
      assert.equal(protocolOf(await inspector.labels(`${reg.host}/nim/single:1.0`, secrets)), 'native');
      await assert.rejects(inspector.labels(`${reg.host}/nim/single:1.0`, []), /asks for credentials/);
    } finally {
      reg.auth = 'bearer';
    }
  });
  test('content that does not match its digest is refused; a missing image is a 404 error', async () => {
    const blob = [...reg.objects.keys()].find((k) => k.startsWith('/v2/nim/single/blobs/'))!;
    reg.corrupt.add(blob);
    try {
      await assert.rejects(inspector.labels(`${reg.host}/nim/single:1.0`, secrets), /does not match its digest/);
    } finally {
      reg.corrupt.delete(blob);
    }
    await assert.rejects(inspector.labels(`${reg.host}/nim/none:1.0`, secrets), /404/);
  });
});

describe('other inspectors', () => {
  test('inspectorFromLabels answers from a function (nimop dev: the simulation\'s catalogue)', async () => {
    const i = inspectorFromLabels((image) => (image.includes('native') ? { 'com.nvidia.nim.model_download_protocol': 'native-v1' } : ({} as Record<string, string>)));
    assert.equal(await resolveProtocol(i, 'nvcr.io/nim/native:1', []), 'native');
    assert.equal(await resolveProtocol(i, 'nvcr.io/nim/other:1', []), 'legacy');
    assert.equal(await resolveProtocol(undefined, 'nvcr.io/nim/native:1', []), 'legacy', 'no inspector: legacy');
  });
});
