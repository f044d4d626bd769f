/**
 * Service account tokens: JWTs with kube-apiserver's claims (`iss`, `sub`, `aud`, `exp`, `iat`,
 * `nbf`, `jti` and the `kubernetes.io` claim naming the namespace, service account and bound object),
 * signed with HS256 by a key each control plane draws at random when it starts and never writes
 * anywhere. Nothing is stored per token; a token does not outlive the control plane that issued it
 * (not even with --data-dir). kube-apiserver signs with RS256 and publishes its keys; clients do not
 * verify either, they send the token back.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** kube-apiserver's default issuer, and its API audience (what a token must be for to be accepted). */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES = [ISSUER];

export interface ObjectRef {
  name: string;
  uid: string;
}

export interface TokenClaims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: ObjectRef;
    pod?: ObjectRef;
    secret?: ObjectRef;
    node?: ObjectRef;
    warnafter?: number;
  };
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export class TokenSigner {
  private readonly key = randomBytes(32);
  readonly kid = randomBytes(24).toString('base64url');

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }

  /** A signed token for a service account, valid from `nowSeconds` for `expirationSeconds`. */
  issue(opts: {
    namespace: string;
    serviceAccount: ObjectRef;
    audiences: string[];
    nowSeconds: number;
    expirationSeconds: number;
    bound?: { kind: 'pod' | 'secret' | 'node'; ref: ObjectRef };
  }): { token: string; claims: TokenClaims } {
    const claims: TokenClaims = {
      aud: opts.audiences,
      exp: opts.nowSeconds + opts.expirationSeconds,
      iat: opts.nowSeconds,
      iss: ISSUER,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: opts.namespace,
        ...(opts.bound ? { [opts.bound.kind]: opts.bound.ref } : {}),
        serviceaccount: opts.serviceAccount,
      },
      nbf: opts.nowSeconds,
      sub: `system:serviceaccount:${opts.namespace}:${opts.serviceAccount.name}`,
    };
    const head = `${b64({ alg: 'HS256', kid: this.kid })}.${b64(claims)}`;
    return { token: `${head}.${this.mac(head).toString('base64url')}`, claims };
  }

  /** The claims of a token this signer issued (signature checked, times not), else undefined. */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const sig = Buffer.from(parts[2]!, 'base64url');
    const want = this.mac(`${parts[0]}.${parts[1]}`);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
      const k8s = claims['kubernetes.io'];
      if (typeof claims.exp !== 'number' || !Array.isArray(claims.aud) || !k8s?.namespace || !k8s.serviceaccount?.name) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
