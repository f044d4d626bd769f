/**
 * `nimop render -f FILE … [-o yaml|json]`: the plan view. Prints, without a cluster, the children
 * the operator would apply for each NIMService in the files — through the very render functions the
 * controller calls. A NIMCache in the same files is taken as Ready, with the profiles its status
 * (or else its spec) names; objects are defaulted by the CRD schemas first, as the API server would.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { parseManifests } from '../api/manifests.js';
import type { NIMCache, NIMService } from '../api/v1alpha1/kinds.js';
import { formatFieldError, validateObject } from '../api/validate.js';
import { renderNIMService } from '../render/nimservice/index.js';
import { renderKServe } from '../render/nimservice/kserve.js';
import { collectFiles } from './validate.js';
import { VERSION } from './version.js';

export interface RenderOptions {
  filename: string[];
  recursive: boolean;
  output: string;
}

type Obj = Record<string, any>;

/** The NIMCache as the controller would see it once Ready (a status made up from what it names). */
export function assumeReady(cache: NIMCache): NIMCache {
  const name = cache.metadata.name ?? '';
  const named = cache.spec.source?.ngc?.model?.profiles ?? [];
  const profiles = cache.status?.profiles ?? named.filter((p) => p !== 'all').map((id) => ({ name: id, config: {} }));
  return { ...cache, status: { ...(cache.status ?? {}), state: 'Ready', pvc: cache.status?.pvc ?? cache.spec.storage.pvc?.name ?? `${name}-pvc`, profiles } } as NIMCache;
}

/** What the plan view shows instead of a private key. */
export const SSH_KEY_PLACEHOLDER = '(an RSA key the operator generates once and keeps in this Secret)';

export function renderCommand(opts: RenderOptions): number {
  if (!['yaml', 'json'].includes(opts.output)) {
    process.stderr.write(`error: -o must be yaml or json, got "${opts.output}"\n`);
    return 2;
  }
  const { files, missing } = collectFiles(opts.filename, opts.recursive);
  for (const m of missing) process.stderr.write(`error: ${m}: no such file or directory\n`);
  if (missing.length) return 1;
  const services: { file: string; svc: NIMService }[] = [];
  const caches = new Map<string, NIMCache>();
  let failed = false;
  for (const file of files) {
    const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
    const parsed = parseManifests(text);
    for (const e of parsed.errors) {
      process.stderr.write(`${file}:${e.line}:${e.col}: ${e.message}\n`);
      failed = true;
    }
    for (const doc of parsed.docs) {
      const raw = doc.value as Obj;
      if (raw?.kind !== 'NIMService' && raw?.kind !== 'NIMCache') continue;
      const v = validateObject(raw);
      if (v.status !== 'valid') {
        for (const e of v.errors) process.stderr.write(`${file}:${doc.line}: document ${doc.index}: ${String(raw.kind)} ${String(raw.metadata?.name ?? '')}: ${formatFieldError(e)}\n`);
        failed = true;
        continue;
      }
      const o = v.object as Obj;
      o.metadata = { namespace: 'default', uid: `uid-${String(o.metadata?.name)}`, generation: 1, ...(o.metadata ?? {}) };
      if (o.kind === 'NIMCache') caches.set(`${o.metadata.namespace}/${o.metadata.name}`, assumeReady(o as NIMCache));
      else services.push({ file, svc: o as NIMService });
    }
  }
  const out: Obj[] = [];
  for (const { file, svc } of services) {
    const cacheName = svc.spec.storage?.nimCache?.name;
    const nimCache = cacheName ? caches.get(`${svc.metadata.namespace}/${cacheName}`) : undefined;
    let r;
    try {
      // The SSH key of a multi-node MPI service is made once by the operator: a placeholder here.
      const facts = { operatorVersion: VERSION, sshPrivateKey: SSH_KEY_PLACEHOLDER, ...(nimCache ? { nimCache } : {}) };
      // The platform decides, as in the controller: KServe gets an InferenceService (in KServe's
      // built-in default mode when the spec's annotation names none: no cluster is read here).
      r = svc.spec.inferencePlatform === 'kserve' ? renderKServe(svc, facts) : renderNIMService(svc, facts);
    } catch (e) {
      process.stderr.write(`${file}: NIMService ${String(svc.metadata.name)}: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    if (r.blocked) process.stderr.write(`${file}: NIMService ${svc.metadata.namespace}/${String(svc.metadata.name)}: no Deployment yet: ${r.blocked.message} (${r.blocked.reason}); put the NIMCache in the files to see it\n`);
    out.push(...(r.children as Obj[]));
  }
  if (opts.output === 'json') process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : { apiVersion: 'v1', kind: 'List', items: out }, null, 2)}\n`);
  else process.stdout.write(out.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
  if (!services.length) process.stderr.write('no NIMService in the files\n');
  return failed ? 1 : 0;
}
