/**
 * Authentication and authorization of the embedded control plane, as kube-apiserver does them with
 * `--authorization-mode=RBAC` (docs/devcluster.md, "Authentication and authorization"):
 *
 * - a request without a bearer token, or with the kubeconfig's token, is the cluster admin
 *   (`nimop-dev-admin`, group system:masters: everything is allowed);
 * - a token from the TokenRequest API (`kubectl create token <sa>`) is the service account
 *   `system:serviceaccount:<ns>:<name>` with groups system:serviceaccounts,
 *   system:serviceaccounts:<ns> and system:authenticated, while it has not expired, its account
 *   (and bound object) exist, and it is for the API's audience; any other token is 401;
 * - `Impersonate-User`/`-Group`/`-Uid`/`-Extra-*` headers act as another user, when the requester
 *   may (`impersonate` on users, groups, serviceaccounts …; the admin always may);
 * - every user but system:masters is authorized by RBAC (rbac.ts), 403 with kube's message if not,
 *   and each decision is recorded in the audit (audit.ts): `cp.authz.audit()`, `GET /nimop/authz/audit`.
 */
import type { IncomingMessage } from 'node:http';
import { kubeconfigFor } from '../kubeconfig.js';
import { sendJson, type AdminHandler, type AdminRouter } from '../admin.js';
import { ApiError, badRequest, internal, methodNotAllowed } from '../errors.js';
import { parseBody, readBody } from '../http-util.js';
import type { Objects } from '../objects.js';
import type { Registry } from '../registry.js';
import type { Store } from '../store.js';
import { AuthzAudit, type AuditFilter, type AuditReport } from './audit.js';
import { bootstrapPolicy } from './bootstrap.js';
import { forbidden, forbiddenCreateOnApply, unauthorized } from './errors.js';
import { authorize, type Decision } from './rbac.js';
import { requestAttributes } from './request-info.js';
import { serveAuthz, type Served } from './reviews.js';
import { tokenRequest } from './token-request.js';
import { API_AUDIENCES, TokenSigner } from './tokens.js';
import {
  ADMIN_USER,
  AUTHENTICATED,
  UNAUTHENTICATED,
  isMaster,
  parseServiceAccountUsername,
  serviceAccountGroups,
  serviceAccountUsername,
  type Attributes,
  type UserInfo,
} from './types.js';

export type { AuditReport, AllowedEntry, DeniedEntry, AuditFilter } from './audit.js';
export { acceptTls } from './tls.js';
export type { UserInfo, Attributes } from './types.js';

/** The bearer token of the kubeconfig `writeKubeconfig` writes: the cluster admin's. */
const ADMIN_TOKEN = String((kubeconfigFor('http://127.0.0.1') as { users: Array<{ user: { token: string } }> }).users[0]!.user.token);

const EXTRA = 'authentication.kubernetes.io';

/**
 * Installs authz in a control plane: kube's default ClusterRoles and bindings (bootstrap.ts, after
 * a restore from disk) and the `/nimop/authz/…` admin endpoints.
 */
export function installAuthz(cp: { store: Store; objects: Objects; registry: Registry; admin: AdminRouter }): Authz {
  const authz = new Authz(cp.store, cp.registry);
  bootstrapPolicy(cp.objects, cp.registry);
  cp.admin.register('authz', authz.adminHandler());
  return authz;
}

export class Authz {
  /** The clock tokens are issued and checked by (ms since the epoch); a test may move it forward. */
  now: () => number = () => Date.now();
  readonly signer = new TokenSigner();
  /** The audiences a token must have one of to be accepted as a bearer token of this API. */
  readonly apiAudiences = API_AUDIENCES;
  private readonly log = new AuthzAudit();
  private readonly users = new WeakMap<IncomingMessage, UserInfo>();

  constructor(
    readonly store: Store,
    private readonly registry: Registry,
  ) {}

  /** Authenticates, applies impersonation and authorizes an API request; throws 401/403 ApiErrors. */
  check(req: IncomingMessage, url: URL): UserInfo {
    const user = this.impersonate(req, this.authenticate(req));
    this.users.set(req, user);
    if (isMaster(user)) return user;
    const a = requestAttributes(req.method ?? 'GET', url, user);
    this.enforce(a);
    if (a.verb === 'patch' && !a.subresource && /apply-patch/.test(String(req.headers['content-type'] ?? '')) && !this.exists(a)) {
      this.enforce({ ...a, verb: 'create' }, true);
    }
    return user;
  }

  /** Whether the object a request names is stored (a server-side apply of a missing one creates it). */
  private exists(a: Attributes): boolean {
    const t = this.registry.get(a.apiGroup, a.apiVersion, a.resource);
    return !t || this.store.get(`${t.group}/${t.plural}`, t.namespaced ? a.namespace : undefined, a.name) !== undefined;
  }

  /** The user a request was authenticated as (after impersonation); the admin if it was not checked. */
  userOf(req: IncomingMessage): UserInfo {
    return this.users.get(req) ?? ADMIN_USER;
  }

  /** An authorization decision (for access reviews: not recorded in the audit). */
  decide(a: Attributes): Decision {
    return authorize(this.store, a);
  }

  /**
   * Decides, records the decision in the audit, and throws 403 on a denial. `createOnApply`: the
   * extra `create` check of a server-side apply that creates its object, whose 403 carries only
   * the authorizer's reason, as kube-apiserver's patch handler words it.
   */
  private enforce(a: Attributes, createOnApply = false): void {
    const d = authorize(this.store, a);
    if (d.allowed) {
      if (d.source) this.log.recordAllowed(a, d.source);
      return;
    }
    const err = createOnApply ? forbiddenCreateOnApply(a, d.reason) : forbidden(a, d.reason);
    this.log.recordDenied(a, err.message);
    throw err;
  }

  private authenticate(req: IncomingMessage): UserInfo {
    const m = /^bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? '').trim());
    const token = m?.[1]?.trim();
    if (!token || token === ADMIN_TOKEN) return ADMIN_USER;
    const result = this.authenticateToken(token);
    if (!result) throw unauthorized();
    return result.user;
  }

  /**
   * The service account a token stands for, and the audiences it was accepted for (those of
   * `audiences`, by default the API's, that the token has); undefined when it is not valid now.
   */
  authenticateToken(token: string, audiences: string[] = this.apiAudiences): { user: UserInfo; audiences: string[] } | undefined {
    const claims = this.signer.verify(token);
    if (!claims) return undefined;
    const now = Math.floor(this.now() / 1000);
    if (now >= claims.exp || now < claims.nbf - 60) return undefined;
    const accepted = audiences.filter((a) => claims.aud.includes(a));
    if (!accepted.length) return undefined;
    const k8s = claims['kubernetes.io'];
    const sa = this.store.get('/serviceaccounts', k8s.namespace, k8s.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k8s.serviceaccount.uid || sa.metadata.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = {};
    for (const [claim, key, namespaced] of [['pod', '/pods', true], ['secret', '/secrets', true], ['node', '/nodes', false]] as const) {
      const ref = k8s[claim];
      if (!ref) continue;
      const obj = this.store.get(key, namespaced ? k8s.namespace : undefined, ref.name);
      if (!obj || obj.metadata.uid !== ref.uid || obj.metadata.deletionTimestamp) return undefined;
      if (claim !== 'secret') {
        extra[`${EXTRA}/${claim}-name`] = [ref.name];
        extra[`${EXTRA}/${claim}-uid`] = [ref.uid];
      }
    }
    extra[`${EXTRA}/credential-id`] = [`JTI=${claims.jti}`];
    const user: UserInfo = {
      username: serviceAccountUsername(k8s.namespace, k8s.serviceaccount.name),
      uid: k8s.serviceaccount.uid,
      groups: [...serviceAccountGroups(k8s.namespace), AUTHENTICATED],
      extra,
    };
    return { user, audiences: accepted };
  }

  /** The impersonation filter: the user the `Impersonate-*` headers name, if the requester may act as it. */
  private impersonate(req: IncomingMessage, requester: UserInfo): UserInfo {
    const h = req.headersDistinct;
    const asUser = h['impersonate-user']?.[0];
    const asGroups = h['impersonate-group'] ?? [];
    const asUid = h['impersonate-uid']?.[0];
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(h)) {
      if (k.startsWith('impersonate-extra-') && v) extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = v;
    }
    const hasExtra = Object.keys(extra).length > 0;
    if (asUser === undefined && !asGroups.length && asUid === undefined && !hasExtra) return requester;
    if (!asUser) throw internal('requested impersonation of groups, uid or extra without impersonating a user');
    const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest' | 'path' | 'apiVersion' | 'subresource'> & { subresource?: string }) => {
      if (isMaster(requester)) return;
      this.enforce({ user: requester, verb: 'impersonate', resourceRequest: true, path: '', apiVersion: '', subresource: '', ...a });
    };
    const sa = parseServiceAccountUsername(asUser);
    if (sa) check({ namespace: sa.namespace, apiGroup: '', resource: 'serviceaccounts', name: sa.name });
    else check({ namespace: '', apiGroup: '', resource: 'users', name: asUser });
    for (const g of asGroups) check({ namespace: '', apiGroup: '', resource: 'groups', name: g });
    if (asUid !== undefined) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'uids', name: asUid });
    for (const [k, vs] of Object.entries(extra)) {
      for (const v of vs) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });
    }
    const groups = asGroups.length ? [...asGroups] : sa ? serviceAccountGroups(sa.namespace) : [];
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
    return { username: asUser, groups, ...(asUid ? { uid: asUid } : {}), ...(hasExtra ? { extra } : {}) };
  }

  /** Serves the TokenRequest subresource and the review kinds; undefined for other resources. */
  serve(req: IncomingMessage, r: Parameters<typeof serveAuthz>[2], method: string): Promise<Served | undefined> {
    return serveAuthz(this, req, r, method);
  }

  /** Issues a token for a service account as the TokenRequest API does (for tests and tools). */
  issueToken(namespace: string, name: string, opts: { expirationSeconds?: number; audiences?: string[] } = {}): { token: string; expirationTimestamp: string } {
    const spec = { ...(opts.expirationSeconds !== undefined ? { expirationSeconds: opts.expirationSeconds } : {}), ...(opts.audiences ? { audiences: opts.audiences } : {}) };
    const out = tokenRequest(this, namespace, name, { spec }).body as { status: { token: string; expirationTimestamp: string } };
    return out.status;
  }

  /** What RBAC allowed and denied, per user, and which rules were used (audit.ts). */
  audit(filter: AuditFilter = {}): AuditReport {
    return this.log.report(filter);
  }

  resetAudit(): void {
    this.log.reset();
  }

  /**
   * `/nimop/authz/audit`: GET the audit (`?user=` one user's entries), DELETE to start afresh;
   * `POST /nimop/authz/token` `{"namespace", "name", "expirationSeconds"?, "audiences"?}` issues a token.
   */
  adminHandler(): AdminHandler {
    return async (req, res, rest, method) => {
      if (rest.length === 1 && rest[0] === 'audit') {
        if (method === 'GET') {
          const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user');
          return sendJson(res, 200, this.audit(user ? { user } : {}));
        }
        if (method === 'DELETE') {
          this.resetAudit();
          return sendJson(res, 200, this.audit());
        }
        throw methodNotAllowed(`${method} is not supported on /nimop/authz/audit`);
      }
      if (rest.length === 1 && rest[0] === 'token') {
        if (method !== 'POST') throw methodNotAllowed('use POST /nimop/authz/token');
        const body = (parseBody(await readBody(req), String(req.headers['content-type'] ?? 'application/json')) ?? {}) as Record<string, unknown>;
        if (typeof body.namespace !== 'string' || typeof body.name !== 'string') throw badRequest('namespace and name are required');
        const opts = {
          ...(typeof body.expirationSeconds === 'number' ? { expirationSeconds: body.expirationSeconds } : {}),
          ...(Array.isArray(body.audiences) ? { audiences: body.audiences.map(String) } : {}),
        };
        return sendJson(res, 201, this.issueToken(body.namespace, body.name, opts));
      }
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    };
  }
}
