/**
 * `nimop validate`: validation of manifests with the API server's and the webhook's rules and
 * messages; offline, or with `--cluster` reading the facts the webhook reads.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseManifests } from '../api/manifests.js';
import { GROUP, kindDefinition } from '../api/v1alpha1/kinds.js';
import { validateObject, validatorFor } from '../api/validate.js';
import { causeReason, errorBody } from '../api/validation/index.js';
import { isPlainObject } from '../api/validation/structural.js';
import { Client, type ResourceRef } from '../runtime/client/client.js';
import { isNotFound, RestClient } from '../runtime/client/rest.js';
import { admissionCheck, type AdmissionFacts } from '../webhooks/rules/index.js';
import { VERSION } from './version.js';

export interface Problem {
  field: string;
  reason: string;
  message: string;
}

export interface DocumentResult {
  file: string;
  document: number;
  item?: number;
  line: number;
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  status: 'valid' | 'invalid' | 'skipped';
  reason?: string;
  errors: Problem[];
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// --cluster: what the webhook reads through the API, read here through the kubeconfig.

/** Facts of a cluster as the webhook sees them, read once per namespace. */
export interface ClusterView {
  /** The kubeconfig context's namespace: where an object without metadata.namespace goes. */
  namespace: string;
  facts(namespace: string): Promise<AdmissionFacts>;
  /** The stored object of that name, when the manifest would update one. */
  existing(kind: string, namespace: string, name: string): Promise<Record<string, unknown> | undefined>;
  close(): void;
}

const NODES: ResourceRef = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
const TIMEOUT_MS = 15_000;

/** Loads the kubeconfig (the file, else $KUBECONFIG or ~/.kube/config) and checks that the cluster answers. */
export async function connectCluster(kubeconfig?: string): Promise<ClusterView> {
  const kc = new KubeConfig();
  const source = kubeconfig ?? (process.env.KUBECONFIG || '~/.kube/config');
  let rest: RestClient;
  try {
    if (kubeconfig !== undefined) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
    rest = new RestClient(kc, { userAgent: `nimop-validate/${VERSION}` });
  } catch (e) {
    throw new Error(`cannot load the kubeconfig ${source}: ${(e as Error).message}`);
  }
  const where = `the cluster at ${rest.server.origin} (kubeconfig ${source})`;
  // A refused connection to a dual-stack host is an AggregateError without a message, but with a code.
  const why = (e: unknown) => (e as Error).message || (e as { code?: string }).code || String(e);
  const read = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw new Error(`cannot read ${what} from ${where}: ${why(e)}`);
    }
  };
  const client = new Client(rest);
  const get = <T>(path: string) => rest.request<T>({ method: 'GET', path, timeoutMs: TIMEOUT_MS });
  let version: { gitVersion?: string };
  try {
    version = await get<{ gitVersion?: string }>('/version');
  } catch (e) {
    rest.close();
    throw new Error(`cannot reach ${where}: ${why(e)}`);
  }
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  let nodes: Promise<AdmissionFacts['nodes']> | undefined;
  const caches = new Map<string, Promise<AdmissionFacts['nimCaches']>>();
  const ref = (kind: string): ResourceRef | undefined => {
    const def = kindDefinition(kind);
    return def ? { group: GROUP, version: 'v1alpha1', plural: def.plural, kind, namespaced: true } : undefined;
  };
  return {
    namespace,
    async facts(ns) {
      nodes ??= read('nodes', async () => (await client.list(NODES)).items as AdmissionFacts['nodes']);
      let c = caches.get(ns);
      if (!c) {
        // No NIMCache CRD (404) means no NIMCaches.
        c = read(`the NIMCaches of namespace ${ns}`, async () => {
          try {
            return (await client.list(ref('NIMCache')!, { namespace: ns })).items as AdmissionFacts['nimCaches'];
          } catch (e) {
            if (isNotFound(e)) return [];
            throw e;
          }
        });
        caches.set(ns, c);
      }
      const [n, nimCaches] = await Promise.all([nodes, c]);
      return { nodes: n, nimCaches, ...(version.gitVersion ? { serverVersion: version.gitVersion } : {}) };
    },
    async existing(kind, ns, name) {
      const r = ref(kind);
      if (!r) return undefined;
      return read(`${kind} ${ns}/${name}`, async () => {
        try {
          return await client.get<Record<string, unknown>>(r, ns, name);
        } catch (e) {
          if (isNotFound(e)) return undefined;
          throw e;
        }
      });
    },
    close: () => rest.close(),
  };
}

// ---------------------------------------------------------------------------------------------

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

function collect(path: string, recursive: boolean, top: boolean, out: string[], missing: string[]): void {
  if (path === '-') {
    out.push(path);
    return;
  }
  let st;
  try {
    st = statSync(path);
  } catch {
    missing.push(path);
    return;
  }
  if (st.isDirectory()) {
    if (!top && !recursive) return;
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      const cst = statSync(child);
      if (cst.isDirectory()) {
        if (recursive) collect(child, recursive, false, out, missing);
      } else if (MANIFEST_EXT.test(name)) out.push(child);
    }
  } else out.push(path);
}

/** The manifest files named by `paths` (a directory gives its .yaml, .yml and .json files), and the paths that do not exist. */
export function collectFiles(paths: string[], recursive: boolean): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const p of paths) collect(p, recursive, true, files, missing);
  return { files, missing };
}

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export interface ValidateFilesOptions {
  recursive: boolean;
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  strict?: boolean;
  /** What the cluster knows (`--cluster`); without it, rules that need cluster facts are skipped. */
  cluster?: ClusterView;
}

/** The existing object (on update) and the facts the webhook would read, for one object of ours. */
async function clusterContext(
  cluster: ClusterView | undefined,
  v: unknown,
  kind: string | undefined,
  namespace: string | undefined,
  name: string | undefined,
): Promise<{ old?: Record<string, unknown>; facts?: AdmissionFacts }> {
  if (!cluster || !kind || !isPlainObject(v) || validatorFor(kind) === undefined) return {};
  const ns = namespace ?? cluster.namespace;
  const old = name ? await cluster.existing(kind, ns, name) : undefined;
  const facts: AdmissionFacts = await cluster.facts(ns);
  return { ...(old ? { old } : {}), facts };
}

export async function validateFiles(paths: string[], opts: ValidateFilesOptions): Promise<{ results: DocumentResult[]; missing: string[] }> {
  const { files, missing } = collectFiles(paths, opts.recursive);
  const results: DocumentResult[] = [];
  for (const file of files) {
    const shown = file === '-' ? '<stdin>' : file;
    let text: string;
    try {
      text = readInput(file);
    } catch (e) {
      results.push({ file: shown, document: 0, line: 0, status: 'invalid', errors: [{ field: '', reason: 'ReadError', message: (e as Error).message }], warnings: [] });
      continue;
    }
    const parsed = parseManifests(text);
    for (const e of parsed.errors) {
      results.push({
        file: shown,
        document: e.index,
        line: e.line,
        status: 'invalid',
        errors: [{ field: '', reason: 'YAMLError', message: `line ${e.line}, column ${e.col}: ${e.message}` }],
        warnings: [],
      });
    }
    for (const doc of parsed.docs) {
      const v = doc.value;
      const meta = isPlainObject(v) && isPlainObject(v.metadata) ? v.metadata : {};
      const base: DocumentResult = {
        file: shown,
        document: doc.index,
        ...(doc.item !== undefined ? { item: doc.item } : {}),
        line: doc.line,
        apiVersion: isPlainObject(v) ? str(v.apiVersion) : undefined,
        kind: isPlainObject(v) ? str(v.kind) : undefined,
        namespace: str(meta.namespace),
        name: str(meta.name) ?? str(meta.generateName),
        status: 'valid',
        errors: [],
        warnings: [],
      };
      const group = base.apiVersion?.startsWith(`${GROUP}/`) ?? false;
      const ctx = group ? await clusterContext(opts.cluster, v, base.kind, base.namespace, str(meta.name)) : {};
      const verdict = validateObject(v, { fieldValidation: opts.fieldValidation, ...(ctx.old ? { old: ctx.old } : {}) });
      base.warnings = verdict.warnings;
      if (verdict.status === 'skipped') {
        base.status = 'skipped';
        base.reason = verdict.reason;
      } else if (verdict.status === 'invalid') {
        base.status = 'invalid';
        base.errors = verdict.errors.map((e) => ({ field: e.field, reason: causeReason(e), message: errorBody(e) }));
      } else {
        // The schema admits it: now the admission webhook's rules, on the defaulted object.
        const admission = admissionCheck(verdict.object, { strict: opts.strict ?? false, ...ctx });
        base.warnings = [...base.warnings, ...admission.warnings];
        if (admission.errors.length) {
          base.status = 'invalid';
          base.errors = admission.errors.map((e) => ({ field: e.field, reason: causeReason(e), message: errorBody(e) }));
        }
      }
      results.push(base);
    }
  }
  results.sort((a, b) => (a.file === b.file ? a.document - b.document || (a.item ?? 0) - (b.item ?? 0) : 0));
  return { results, missing };
}

function label(r: DocumentResult): string {
  const who = r.kind ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name ?? '<unnamed>'}` : 'document';
  const item = r.item !== undefined ? ` item ${r.item}` : '';
  return `${r.file}:${r.line}: document ${r.document}${item}: ${who}`;
}

export async function validateCommand(
  paths: string[],
  opts: { recursive: boolean; output: 'text' | 'json'; fieldValidation: 'Strict' | 'Warn' | 'Ignore'; strict?: boolean; cluster?: boolean; kubeconfig?: string },
): Promise<number> {
  if (paths.length === 0) {
    process.stderr.write('error: give manifests with -f FILE|DIR (or - for standard input)\n');
    return 2;
  }
  if (opts.kubeconfig !== undefined && !opts.cluster) {
    process.stderr.write('error: --kubeconfig is read only with --cluster; without --cluster nothing is read from a cluster\n');
    return 2;
  }
  let cluster: ClusterView | undefined;
  let outcome: { results: DocumentResult[]; missing: string[] };
  try {
    if (opts.cluster) cluster = await connectCluster(opts.kubeconfig);
    outcome = await validateFiles(paths, { recursive: opts.recursive, fieldValidation: opts.fieldValidation, strict: opts.strict ?? false, ...(cluster ? { cluster } : {}) });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    cluster?.close();
  }
  const { results, missing } = outcome;
  const count = (s: DocumentResult['status']) => results.filter((r) => r.status === s).length;
  const summary = { valid: count('valid'), invalid: count('invalid'), skipped: count('skipped'), missing: missing.length };
  if (opts.output === 'json') {
    process.stdout.write(`${JSON.stringify({ results, missing, summary }, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const m of missing) lines.push(`error: the path "${m}" does not exist`);
    for (const r of results) {
      if (r.status === 'valid') lines.push(`${label(r)}: valid`);
      else if (r.status === 'skipped') lines.push(`${label(r)}: skipped (${r.reason})`);
      else for (const e of r.errors) lines.push(`${label(r)}: ${e.field ? `${e.field}: ` : ''}${e.message}`);
      for (const w of r.warnings) lines.push(`${label(r)}: warning: ${w}`);
    }
    lines.push(`${summary.valid} valid, ${summary.invalid} invalid, ${summary.skipped} skipped`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return summary.invalid > 0 || missing.length > 0 ? 1 : 0;
}
