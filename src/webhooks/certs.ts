/**
 * Serving certificates the operator makes for its own admission webhook: a small private CA and a
 * leaf signed by it for the webhook Service's DNS names and IPs. The CA (base64, as
 * `clientConfig.caBundle` wants it) goes into the ValidatingWebhookConfiguration.
 */
import { generate } from 'selfsigned';

export interface ServingCertificate {
  /** The leaf certificate, PEM. */
  cert: string;
  /** The leaf's private key, PEM. */
  key: string;
  /** The CA certificate, PEM, base64-encoded: the value of a webhook's `clientConfig.caBundle`. */
  caBundle: string;
}

const DAY = 86_400_000;

/**
 * Makes a CA and a serving certificate for `hosts` (DNS names) and `ips`. The first host (or IP)
 * is the subject's common name. Valid from an hour ago (clock skew) for `validDays` (365).
 */
export async function selfSignedCertificate(hosts: string[], ips: string[], validDays = 365): Promise<ServingCertificate> {
  const cn = hosts[0] ?? ips[0];
  if (!cn) throw new Error('a serving certificate needs at least one host name or IP address');
  const notBeforeDate = new Date(Date.now() - 3_600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + validDays * DAY);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256', notBeforeDate };
  const ca = await generate([{ name: 'commonName', value: `nimop-webhook-ca@${Math.floor(Date.now() / 1000)}` }], {
    ...common,
    // The CA outlives the leaf by a little, so a rotation of the leaf alone stays trusted.
    notAfterDate: new Date(notAfterDate.getTime() + 30 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: cn }], {
    ...common,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
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
  return { cert: leaf.cert, key: leaf.private, caBundle: Buffer.from(ca.cert).toString('base64') };
}
