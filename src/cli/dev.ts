/** `nimop dev`: the embedded control plane on this machine, with our CRDs installed. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allCRDs } from '../api/crd.js';
import { parseManifests } from '../api/manifests.js';
import { ApiError } from '../devcluster/errors.js';
import { writeKubeconfig } from '../devcluster/kubeconfig.js';
import { ControlPlane } from '../devcluster/server.js';
import type { Obj } from '../devcluster/store.js';

export interface DevOptions {
  port: string;
  kubeconfig: string;
  operator: boolean;
  filename?: string[];
}

/** Creates the objects of manifest files (as `kubectl create -f`); returns one line per object. */
export function createFromFiles(cp: ControlPlane, files: string[]): string[] {
  const lines: string[] = [];
  for (const file of files) {
    const parsed = parseManifests(readFileSync(file, 'utf8'));
    for (const e of parsed.errors) lines.push(`${file}:${e.line}:${e.col}: ${e.message}`);
    for (const doc of parsed.docs) {
      const o = doc.value as Obj;
      const t = cp.registry.byKind(String(o?.apiVersion), String(o?.kind));
      if (!t) {
        lines.push(`${file}: document ${doc.index}: no resource type for ${String(o?.apiVersion)} ${String(o?.kind)}`);
        continue;
      }
      try {
        const r = cp.objects.create(t, t.namespaced ? (o.metadata?.namespace ?? 'default') : undefined, o, { fieldManager: 'nimop', fieldValidation: 'Strict' });
        lines.push(`${t.kind.toLowerCase()}${t.group ? `.${t.group}` : ''}/${r.object.metadata.name} created`);
      } catch (e) {
        lines.push(`${file}: document ${doc.index}: ${e instanceof ApiError ? e.message : String(e)}`);
      }
    }
  }
  return lines;
}

export async function devCommand(opts: DevOptions): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port must be a port number, got "${opts.port}"\n`);
    return 2;
  }
  const cp = new ControlPlane({ port });
  try {
    await cp.start();
  } catch (e) {
    process.stderr.write(`error: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  for (const crd of allCRDs()) cp.objects.create(crdType, undefined, crd as Obj, { fieldManager: 'nimop' });
  const kubeconfig = resolve(opts.kubeconfig);
  writeKubeconfig(kubeconfig, cp.url);
  const out: string[] = [
    `nimop dev: embedded control plane listening on ${cp.url} (Kubernetes ${'v1.34'} API)`,
    `CRDs installed: ${allCRDs().map((c) => (c.metadata as Obj).name).join(', ')}`,
    `Point kubectl at it:  export KUBECONFIG=${kubeconfig}`,
    '                      kubectl get nimservices,nimcaches -A',
  ];
  if (opts.operator) out.push('The operator is not part of nimop dev yet: only the control plane runs.');
  if (opts.filename?.length) out.push(...createFromFiles(cp, opts.filename));
  out.push('Press Ctrl-C to stop.');
  process.stdout.write(`${out.join('\n')}\n`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await cp.stop();
  process.stdout.write('nimop dev: stopped\n');
  return 0;
}
