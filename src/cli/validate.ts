/** `nimop validate`: offline validation of manifests, with the API server's rules and messages. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifests } from '../api/manifests.js';
import { validateObject } from '../api/validate.js';
import { causeReason, errorBody } from '../api/validation/index.js';
import { isPlainObject } from '../api/validation/structural.js';
import { admissionCheck } from '../webhooks/rules/index.js';

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

export function validateFiles(paths: string[], opts: { recursive: boolean; fieldValidation: 'Strict' | 'Warn' | 'Ignore'; strict?: boolean }): {
  results: DocumentResult[];
  missing: string[];
} {
  const files: string[] = [];
  const missing: string[] = [];
  for (const p of paths) collect(p, opts.recursive, true, files, missing);
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
      const verdict = validateObject(v, { fieldValidation: opts.fieldValidation });
      base.warnings = verdict.warnings;
      if (verdict.status === 'skipped') {
        base.status = 'skipped';
        base.reason = verdict.reason;
      } else if (verdict.status === 'invalid') {
        base.status = 'invalid';
        base.errors = verdict.errors.map((e) => ({ field: e.field, reason: causeReason(e), message: errorBody(e) }));
      } else {
        // The schema admits it: now the admission webhook's rules, on the defaulted object.
        const admission = admissionCheck(verdict.object, { strict: opts.strict ?? false });
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
  opts: { recursive: boolean; output: 'text' | 'json'; fieldValidation: 'Strict' | 'Warn' | 'Ignore'; strict?: boolean },
): Promise<number> {
  if (paths.length === 0) {
    process.stderr.write('error: give manifests with -f FILE|DIR (or - for standard input)\n');
    return 2;
  }
  const { results, missing } = validateFiles(paths, opts);
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
