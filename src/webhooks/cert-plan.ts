/**
 * When the webhook's self-made certificates are renewed, as a pure decision over what the Secret
 * holds, the clock and which CAs the API server already trusts; and the renewal itself.
 *
 * - The serving certificate is renewed at two thirds of its lifetime, when its names change, or
 *   when it is unusable (missing, expired, key mismatch, not signed by a CA of the bundle).
 * - The CA is renewed at two thirds of its lifetime. The new CA goes first in the bundle; the old
 *   one stays there until it expires, so certificates it signed stay trusted during the overlap.
 * - A serving certificate is signed by a new CA only once the API server trusts it (its caBundle
 *   holds it): the bundle is distributed first, the certificate follows. Only a certificate that
 *   cannot be used anyway is replaced at once.
 */
import { isIP } from 'node:net';
import { certInfo, createCA, issueServingCertificate, keyMatches, signedBy, splitHosts, splitPems, type CertInfo, type KeyPair } from './certs.js';

/** The Secret's four values, PEM. */
export interface CertMaterial {
  /** `ca.crt`: the CAs to trust, the current one first. */
  bundle: string;
  /** `ca.key`: the current CA's key. */
  caKey: string;
  /** `tls.crt` and `tls.key`: the serving certificate. */
  cert: string;
  key: string;
}

export interface CertPolicy {
  /** DNS names and IPs the serving certificate is for. */
  names: string[];
  servingValidityMs: number;
  caValidityMs: number;
}

export interface CertPlan {
  /** Why a new CA is needed, if it is. */
  newCA?: string;
  /** Why a new serving certificate is needed, if it is (and may be made now). */
  newLeaf?: string;
  /** A serving certificate due for renewal waits until the API server trusts the current CA. */
  waitingForTrust?: boolean;
  /** Fingerprints of expired CAs dropped from the bundle. */
  dropped: string[];
  /** When to look again if nothing changes (ms since the epoch). */
  nextCheckAt: number;
}

/** Whether anything must be written. */
export const planChanges = (p: CertPlan): boolean => Boolean(p.newCA || p.newLeaf || p.dropped.length);

/** The point of a certificate's lifetime at which it is renewed: two thirds of the way. */
export function renewAt(c: Pick<CertInfo, 'notBefore' | 'notAfter'>): number {
  return c.notBefore + Math.floor(((c.notAfter - c.notBefore) * 2) / 3);
}

/** How soon to look again while a renewal waits for the API server to trust a new CA. */
const TRUST_RECHECK_MS = 5_000;

function coversExactly(leaf: CertInfo, names: string[]): boolean {
  const wanted = [...new Set(names)];
  if (leaf.names.length !== wanted.length) return false;
  return wanted.every((n) => (isIP(n) ? leaf.x509.checkIP(n) !== undefined : leaf.x509.checkHost(n, { wildcards: false }) === n));
}

/**
 * What to renew. `trusted(fingerprint)` says whether the API server trusts a CA; undefined means
 * nobody is known to call (no webhook configuration to keep current), so every CA counts as trusted.
 */
export function planCertificates(m: CertMaterial | undefined, policy: CertPolicy, now: number, trusted?: (fingerprint: string) => boolean): CertPlan {
  const bundle = splitPems(m?.bundle ?? '').map((p) => certInfo(p)).filter((c): c is CertInfo => c !== undefined);
  const current = bundle[0];
  const dropped: string[] = [];
  let newCA: string | undefined;
  if (!current) newCA = 'there is no CA';
  else if (current.notAfter <= now) newCA = 'the CA has expired';
  else if (!current.x509.ca || !keyMatches(current, m?.caKey)) newCA = 'the CA key does not match the CA certificate';
  else if (now >= renewAt(current)) newCA = 'the CA is two thirds through its lifetime';
  // CAs kept besides the current one: unexpired, once each.
  const seen = new Set<string>();
  const kept: CertInfo[] = [];
  for (const [i, c] of bundle.entries()) {
    if (seen.has(c.fingerprint)) continue;
    seen.add(c.fingerprint);
    if (c.notAfter <= now) {
      if (i > 0) dropped.push(c.fingerprint);
      continue;
    }
    if (i > 0 || newCA) kept.push(c);
  }
  const signer = newCA ? undefined : current;
  const signerTrusted = !trusted || (signer !== undefined && trusted(signer.fingerprint));
  const leaf = certInfo(m?.cert);
  const issuer = leaf && [...(signer ? [signer] : []), ...kept].find((ca) => signedBy(leaf, ca));
  let hard: string | undefined;
  let soft: string | undefined;
  if (!leaf) hard = 'there is no serving certificate';
  else if (leaf.notAfter <= now) hard = 'the serving certificate has expired';
  else if (!keyMatches(leaf, m?.key)) hard = 'the serving key does not match the serving certificate';
  else if (!issuer) hard = 'the serving certificate is not signed by a CA of the bundle';
  else if (!coversExactly(leaf, policy.names)) hard = 'the serving certificate is not for the names wanted';
  else if (now >= renewAt(leaf)) soft = 'the serving certificate is two thirds through its lifetime';
  else if (issuer !== signer) soft = 'the serving certificate is signed by the previous CA';
  const plan: CertPlan = { dropped, nextCheckAt: Number.POSITIVE_INFINITY };
  if (newCA) plan.newCA = newCA;
  // A new CA is trusted by nobody yet: the serving certificate follows once the bundle is out.
  if (hard || (soft && !newCA && signerTrusted) || (soft && newCA && !trusted)) plan.newLeaf = (hard ?? soft)!;
  else if (soft) plan.waitingForTrust = true;
  const times = [
    ...(current && !newCA ? [renewAt(current)] : []),
    ...(leaf && !plan.newLeaf ? [renewAt(leaf)] : []),
    ...kept.filter((c) => c !== current).map((c) => c.notAfter),
    ...(plan.waitingForTrust ? [now + TRUST_RECHECK_MS] : []),
  ];
  plan.nextCheckAt = Math.min(...times, Number.POSITIVE_INFINITY);
  return plan;
}

/** Carries out a plan: the Secret's new values (the same values when the plan changes nothing). */
export async function renewCertificates(m: CertMaterial | undefined, plan: CertPlan, policy: CertPolicy, now: number): Promise<CertMaterial> {
  const bundle = splitPems(m?.bundle ?? '').map((p) => certInfo(p)).filter((c): c is CertInfo => c !== undefined);
  const dropped = new Set(plan.dropped);
  const seen = new Set<string>();
  let pems: string[] = [];
  for (const c of bundle) {
    if (dropped.has(c.fingerprint) || seen.has(c.fingerprint) || (plan.newCA && c.notAfter <= now)) continue;
    seen.add(c.fingerprint);
    pems.push(c.pem);
  }
  let ca: KeyPair = { cert: pems[0] ?? '', key: m?.caKey ?? '' };
  if (plan.newCA) {
    ca = await createCA(policy.caValidityMs, now);
    pems = [ca.cert, ...pems];
  }
  let leaf: KeyPair = { cert: m?.cert ?? '', key: m?.key ?? '' };
  if (plan.newLeaf) {
    const { hosts, ips } = splitHosts(policy.names);
    leaf = await issueServingCertificate(ca, hosts, ips, policy.servingValidityMs, now);
  }
  return { bundle: pems.join(''), caKey: ca.key, cert: leaf.cert, key: leaf.key };
}
