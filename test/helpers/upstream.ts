/** Access to ../shared/upstream (upstream CRDs and samples), read by the compatibility tests only. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the shared folder is: $NIMOP_SHARED, or ../shared beside the checkout. */
export const SHARED = process.env.NIMOP_SHARED ?? resolve(REPO, '..', 'shared');
export const UPSTREAM = join(SHARED, 'upstream', 'config');

export function requireUpstream(): void {
  if (!existsSync(UPSTREAM)) {
    throw new Error(`upstream reference data not found at ${UPSTREAM} (set NIMOP_SHARED to the shared/ folder)`);
  }
}

export function upstreamCRD(plural: string): Record<string, any> {
  return parse(readFileSync(join(UPSTREAM, 'crd', 'bases', `apps.nvidia.com_${plural}.yaml`), 'utf8'));
}

export function listFiles(dir: string, ext = /\.ya?ml$/): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

export function rel(p: string, base = UPSTREAM): string {
  return relative(base, p);
}
