/**
 * Serving certificates the operator makes for its own admission webhook: a small private CA and a
 * leaf signed by it for the webhook Service's DNS names and IPs. The CA (base64, as
 * `clientConfig.caBundle` wants it) goes into the ValidatingWebhookConfiguration.
 */
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface ServingCertificate {
  /** The leaf certificate, PEM. */
  cert: string;
  /** The leaf's private key, PEM. */
  key: string;
  /** The CA certificate, PEM, base64-encoded: the value of a webhook's `clientConfig.caBundle`. */
  caBundle: string;
}

/** A certificate and its private key, PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

const DAY = 86_400_000;
/** PEM text ending in a newline, so that PEMs can be concatenated into a bundle. */
const nl = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);
const HOUR = 3_600_000;
const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };

/** How far back a certificate's validity starts, for clocks a little behind ours: a tenth of its validity, at most an hour. */
export function backdateMs(validityMs: number): number {
  return Math.min(HOUR, Math.floor(validityMs / 10));
}

/** Splits names into DNS names and IP addresses (for subjectAltName), dropping blanks and duplicates. */
export function splitHosts(names: string[]): { hosts: string[]; ips: string[] } {
  const all = [...new Set(names.map((n) => n.trim()).filter(Boolean))];
  return { hosts: all.filter((n) => !isIP(n)), ips: all.filter((n) => isIP(n)) };
}

/**
 * A new CA, valid from a little before `now` for `validityMs`. Its common name is unique, so that
 * a client holding the old and the new CA of a rotation never confuses them when building a chain.
 */
export async function createCA(validityMs: number, now = Date.now()): Promise<KeyPair> {
  const notBeforeDate = new Date(now - backdateMs(validityMs));
  const ca = await generate([{ name: 'commonName', value: `nimop-webhook-ca@${Math.floor(now / 1000)}-${randomBytes(4).toString('hex')}` }], {
    ...common,
    notBeforeDate,
    notAfterDate: new Date(now + validityMs),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: nl(ca.cert), key: nl(ca.private) };
}

/**
 * A serving certificate for `hosts` (DNS names) and `ips`, signed by `ca`, valid for `validityMs`
 * but never beyond the CA. The first host (or IP) is the subject's common name.
 */
export async function issueServingCertificate(ca: KeyPair, hosts: string[], ips: string[], validityMs: number, now = Date.now()): Promise<KeyPair> {
  const cn = hosts[0] ?? ips[0];
  if (!cn) throw new Error('a serving certificate needs at least one host name or IP address');
  const caEnd = Date.parse(new X509Certificate(ca.cert).validTo);
  const leaf = await generate([{ name: 'commonName', value: cn }], {
    ...common,
    notBeforeDate: new Date(now - backdateMs(validityMs)),
    notAfterDate: new Date(Math.min(now + validityMs, caEnd)),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...hosts.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: nl(leaf.cert), key: nl(leaf.private) };
}

/**
 * Makes a CA and a serving certificate for `hosts` (DNS names) and `ips`. The first host (or IP)
 * is the subject's common name. Valid from an hour ago (clock skew) for `validDays` (365).
 */
export async function selfSignedCertificate(hosts: string[], ips: string[], validDays = 365): Promise<ServingCertificate> {
  const now = Date.now();
  // The CA outlives the leaf by a little, so a rotation of the leaf alone stays trusted.
  const ca = await createCA((validDays + 30) * DAY, now);
  const leaf = await issueServingCertificate(ca, hosts, ips, validDays * DAY, now);
  return { cert: leaf.cert, key: leaf.key, caBundle: Buffer.from(ca.cert).toString('base64') };
}

// ---------------------------------------------------------------------------------------------
// Reading certificates back

/** The PEM certificates of a bundle, in order. */
export function splitPems(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}

/** What rotation needs to know about a certificate. */
export interface CertInfo {
  pem: string;
  x509: X509Certificate;
  notBefore: number;
  notAfter: number;
  /** SHA-256 fingerprint, the certificate's identity. */
  fingerprint: string;
  /** DNS names and IPs of its subjectAltName. */
  names: string[];
}

/** A parsed certificate, or undefined when the text is not one. */
export function certInfo(pem: string | undefined): CertInfo | undefined {
  if (!pem) return undefined;
  try {
    const x509 = new X509Certificate(pem);
    const names = (x509.subjectAltName ?? '')
      .split(', ')
      .map((s) => s.replace(/^(DNS|IP Address):/, ''))
      .filter(Boolean);
    return { pem, x509, notBefore: Date.parse(x509.validFrom), notAfter: Date.parse(x509.validTo), fingerprint: x509.fingerprint256, names };
  } catch {
    return undefined;
  }
}

/** Whether `key` (PEM) is the private key of `cert`. */
export function keyMatches(cert: CertInfo, key: string | undefined): boolean {
  if (!key) return false;
  try {
    return cert.x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

/** Whether `leaf` was signed by `ca`. */
export function signedBy(leaf: CertInfo, ca: CertInfo): boolean {
  try {
    return leaf.x509.checkIssued(ca.x509) && leaf.x509.verify(ca.x509.publicKey);
  } catch {
    return false;
  }
}
