/**
 * A small client of the OCI distribution API (registry v2) that reads an image's config labels:
 * resolve the reference, follow an image index to every real platform (attestations and `unknown`
 * platforms skipped), fetch each platform's config blob and read `config.Labels`. Authentication
 * answers the registry's challenge: a bearer token from the realm it names (with the pull secret's
 * credentials, or anonymously), or basic credentials. Everything fetched by digest is checked
 * against that digest.
 */
import { createHash } from 'node:crypto';
import { MODEL_DOWNLOAD_PROTOCOL_LABEL, type DockerConfig, type ImageInspector } from './inspect.js';

export interface ImageRef {
  /** Registry as written in the reference (docker.io for Docker Hub images). */
  registry: string;
  /** Host the API is served from (registry-1.docker.io for Docker Hub). */
  host: string;
  repository: string;
  /** A tag or a digest. */
  reference: string;
}

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** Parses an image reference as Docker does (`busybox` → docker.io/library/busybox:latest). */
export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  if (!rest || /\s/.test(rest)) throw new Error(`invalid image reference "${image}"`);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry = 'docker.io';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!rest) throw new Error(`invalid image reference "${image}"`);
  if (DOCKER_HUB.includes(registry) && !rest.includes('/')) rest = `library/${rest}`;
  const host = DOCKER_HUB.includes(registry) ? 'registry-1.docker.io' : registry;
  return { registry: DOCKER_HUB.includes(registry) ? 'docker.io' : registry, host, repository: rest, reference: digest ?? tag ?? 'latest' };
}

function normalizeHost(host: string): string {
  const h = host.replace(/^https?:\/\//, '');
  const i = h.indexOf('/');
  return i >= 0 ? h.slice(0, i) : h;
}

/** Credentials for a registry from pull secrets: the first secret with an entry for its host (Docker Hub's names are one host). */
export function credentialsFor(registry: string, secrets: DockerConfig[]): { username: string; password: string } | undefined {
  const target = normalizeHost(registry);
  const aliases = DOCKER_HUB.includes(target) ? DOCKER_HUB : [target];
  for (const cfg of secrets) {
    for (const [host, entry] of Object.entries(cfg.auths ?? {})) {
      if (!aliases.includes(normalizeHost(host))) continue;
      if (entry.username || entry.password) return { username: entry.username ?? '', password: entry.password ?? '' };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i < 0) throw new Error(`malformed auth entry for registry ${target}`);
        return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      }
      return undefined;
    }
  }
  return undefined;
}

/** Parses a `WWW-Authenticate` header: scheme and parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header);
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g;
  for (let x = re.exec(m?.[2] ?? ''); x; x = re.exec(m?.[2] ?? '')) params[x[1]!.toLowerCase()] = x[2] ?? x[3] ?? '';
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

export interface RegistryInspectorOptions {
  /** Hosts spoken to over plain HTTP; default: localhost and 127.0.0.1 (with any port). */
  plainHttp?: (host: string) => boolean;
  /** Per request (ms); default 15 s. */
  timeoutMs?: number;
  userAgent?: string;
  fetch?: typeof fetch;
}

const defaultPlainHttp = (host: string) => /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);

function checkDigest(digest: string, body: Buffer, what: string): void {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' || !hex) return;
  const got = createHash('sha256').update(body).digest('hex');
  if (got !== hex) throw new Error(`${what} does not match its digest ${digest}`);
}

/** One inspection: a repository on a registry, with the token it earned. */
class Session {
  private authorization?: string;

  constructor(
    private readonly ref: ImageRef,
    private readonly creds: { username: string; password: string } | undefined,
    private readonly opts: Required<Omit<RegistryInspectorOptions, 'fetch'>> & { fetch: typeof fetch },
  ) {}

  private url(path: string): string {
    const scheme = this.opts.plainHttp(this.ref.host) ? 'http' : 'https';
    return `${scheme}://${this.ref.host}/v2/${this.ref.repository}/${path}`;
  }

  private async send(url: string, accept: string[], authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent };
    if (accept.length) headers.Accept = accept.join(', ');
    if (authorization) headers.Authorization = authorization;
    return this.opts.fetch(url, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'follow' });
  }

  private basic(): string | undefined {
    return this.creds ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}` : undefined;
  }

  /** Earns an Authorization value from a 401's challenge. */
  private async authorize(res: Response): Promise<string> {
    const { scheme, params } = parseChallenge(res.headers.get('www-authenticate') ?? '');
    if (scheme === 'basic') {
      const basic = this.basic();
      if (!basic) throw new Error(`registry ${this.ref.registry} asks for credentials and no pull secret has any for it`);
      return basic;
    }
    if (scheme !== 'bearer' || !params.realm) throw new Error(`registry ${this.ref.registry} answered 401 without a usable challenge`);
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope || `repository:${this.ref.repository}:pull`);
    const basic = this.basic();
    const t = await this.opts.fetch(realm, { headers: { 'User-Agent': this.opts.userAgent, ...(basic ? { Authorization: basic } : {}) }, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    if (!t.ok) throw new Error(`token request to ${realm.origin} failed: ${t.status} ${t.statusText}`);
    const body = (await t.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token response of ${realm.origin} has no token`);
    return `Bearer ${token}`;
  }

  /** GET with authentication; resolves with the body and its media type. */
  async get(path: string, accept: string[], what: string): Promise<{ body: Buffer; type: string }> {
    const url = this.url(path);
    let res = await this.send(url, accept, this.authorization);
    if (res.status === 401) {
      this.authorization = await this.authorize(res);
      res = await this.send(url, accept, this.authorization);
    }
    if (!res.ok) throw new Error(`${what}: ${res.status} ${res.statusText}`.trim());
    const body = Buffer.from(await res.arrayBuffer());
    return { body, type: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }
}

export class RegistryInspector implements ImageInspector {
  private readonly opts: Required<Omit<RegistryInspectorOptions, 'fetch'>> & { fetch: typeof fetch };

  constructor(opts: RegistryInspectorOptions = {}) {
    this.opts = {
      plainHttp: opts.plainHttp ?? defaultPlainHttp,
      timeoutMs: opts.timeoutMs ?? 15_000,
      userAgent: opts.userAgent ?? 'nim-operator',
      fetch: opts.fetch ?? fetch,
    };
  }

  /** The config labels of each platform of an image (one entry for a single-platform image). */
  async platformLabels(image: string, pullSecrets: DockerConfig[]): Promise<Record<string, string>[]> {
    const ref = parseImageRef(image);
    const s = new Session(ref, credentialsFor(ref.registry, pullSecrets), this.opts);
    const top = await s.get(`manifests/${ref.reference}`, [...INDEX_TYPES, ...MANIFEST_TYPES], `manifest of ${image}`);
    if (ref.reference.includes(':')) checkDigest(ref.reference, top.body, `manifest of ${image}`);
    const doc = JSON.parse(top.body.toString('utf8')) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor };
    const type = doc.mediaType || top.type;
    if (INDEX_TYPES.includes(type) || Array.isArray(doc.manifests)) {
      const out: Record<string, string>[] = [];
      for (const d of doc.manifests ?? []) {
        if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
        if (d.platform && (d.platform.os === 'unknown' || d.platform.architecture === 'unknown')) continue;
        const m = await s.get(`manifests/${d.digest}`, MANIFEST_TYPES, `platform manifest ${d.digest} of ${image}`);
        checkDigest(d.digest, m.body, `platform manifest of ${image}`);
        out.push(await this.configLabels(s, JSON.parse(m.body.toString('utf8')) as { config?: Descriptor }, image));
      }
      return out;
    }
    return [await this.configLabels(s, doc, image)];
  }

  private async configLabels(s: Session, manifest: { config?: Descriptor }, image: string): Promise<Record<string, string>> {
    const digest = manifest.config?.digest;
    if (!digest) throw new Error(`a manifest of ${image} names no config blob`);
    const blob = await s.get(`blobs/${digest}`, [], `config blob ${digest} of ${image}`);
    checkDigest(digest, blob.body, `config blob of ${image}`);
    const config = JSON.parse(blob.body.toString('utf8')) as { config?: { Labels?: Record<string, string> | null } };
    return { ...(config.config?.Labels ?? {}) };
  }

  /** The labels all platforms share; the platforms must agree on the download protocol. */
  async labels(image: string, pullSecrets: DockerConfig[]): Promise<Record<string, string>> {
    const all = await this.platformLabels(image, pullSecrets);
    if (all.length === 0) throw new Error(`image ${image} has no platform images`);
    const protocols = new Set(all.map((l) => l[MODEL_DOWNLOAD_PROTOCOL_LABEL] ?? ''));
    if (protocols.size > 1) {
      throw new Error(`the platforms of ${image} disagree on ${MODEL_DOWNLOAD_PROTOCOL_LABEL}: ${[...protocols].map((p) => `"${p}"`).join(', ')}`);
    }
    const [first, ...rest] = all;
    return Object.fromEntries(Object.entries(first!).filter(([k, v]) => rest.every((l) => l[k] === v)));
  }
}
