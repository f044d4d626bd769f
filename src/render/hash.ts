/**
 * Stable hashes for the change-detection annotations (inventory §2.0.3). Upstream hashes a Go dump
 * of the object; we hash canonical JSON (keys sorted) with the same FNV-1a-32 and the same
 * Kubernetes SafeEncodeString alphabet, so values look alike but are not bit-identical (§2.0.3
 * allows this: what matters is that an unchanged object hashes the same on every render).
 */

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a 32-bit of a UTF-8 string, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Kubernetes `rand.SafeEncodeString`: every character c becomes alphabet[c % 27]. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** JSON with object keys sorted at every level; undefined fields dropped. */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** The hash of any JSON value, as upstream's DeepHashObject formats it (decimal, safe-encoded). */
export function deepHash(value: unknown): string {
  return safeEncode(String(fnv1a32(canonicalJSON(value))));
}
