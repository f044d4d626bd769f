/**
 * The SSH key MPI uses between the pods of a multi-node group (inventory §2.2.8 "MPI mode").
 * Rendering is pure, so the key is made here, once, by the controller: it generates one when Secret
 * `<name>-ssh-pk` does not exist yet, and afterwards passes the stored key back as
 * `facts.sshPrivateKey`, so the key never changes while the NIMService lives.
 */
import { generateKeyPairSync } from 'node:crypto';

/** The key of Secret `<name>-ssh-pk` that holds the private key. */
export const SSH_PRIVATE_KEY_FIELD = 'private.key';

/** A fresh RSA-2048 private key, PEM-encoded in PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`). */
export function generateSSHKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** The PEM key stored in a `<name>-ssh-pk` Secret as read from the cluster; undefined when absent. */
export function sshKeyFromSecret(secret: { data?: Record<string, string> } | undefined): string | undefined {
  const encoded = secret?.data?.[SSH_PRIVATE_KEY_FIELD];
  if (!encoded) return undefined;
  const pem = Buffer.from(encoded, 'base64').toString('utf8');
  return pem.includes('PRIVATE KEY') ? pem : undefined;
}
