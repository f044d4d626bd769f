/** `nimop migrate`: rewrites deprecated fields of manifests, keeping everything else as written. */
import { readFileSync, writeFileSync } from 'node:fs';
import { migrateText } from '../migrate/index.js';
import { collectFiles } from './validate.js';

export interface MigrateOptions {
  recursive: boolean;
  inPlace: boolean;
}

/**
 * Prints the migrated manifests (files one after the other, separated by `---`), or with
 * `inPlace` rewrites the files that changed. Reports each change and each field left alone on
 * standard error. Exit code 0; 1 when a file cannot be read or parsed or a path does not exist
 * (such a file is not rewritten); 2 for a usage error.
 */
export async function migrateCommand(paths: string[], opts: MigrateOptions): Promise<number> {
  if (paths.length === 0) {
    process.stderr.write('error: give manifests with -f FILE|DIR (or - for standard input)\n');
    return 2;
  }
  if (opts.inPlace && paths.includes('-')) {
    process.stderr.write('error: --in-place cannot rewrite standard input; leave out --in-place to print the result\n');
    return 2;
  }
  const { files, missing } = collectFiles(paths, opts.recursive);
  const err: string[] = missing.map((m) => `error: the path "${m}" does not exist`);
  const printed: string[] = [];
  let failed = missing.length > 0;
  let rewritten = 0;
  for (const file of files) {
    const shown = file === '-' ? '<stdin>' : file;
    let text: string;
    try {
      text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
    } catch (e) {
      err.push(`error: ${shown}: ${(e as Error).message}`);
      failed = true;
      continue;
    }
    const r = migrateText(text, shown);
    if (r.errors.length) {
      err.push(...r.errors.map((e) => `error: ${e}`));
      failed = true;
      continue;
    }
    err.push(...r.changes, ...r.warnings);
    if (opts.inPlace) {
      if (r.changed) {
        writeFileSync(file, r.output);
        rewritten++;
      }
    } else printed.push(r.output);
  }
  if (opts.inPlace) err.push(`${rewritten} file${rewritten === 1 ? '' : 's'} rewritten`);
  // Files are joined as one YAML stream: each ends with a line break and the next starts a document.
  let body = '';
  for (const t of printed.filter((x) => x.trim() !== '')) {
    if (body !== '' && !t.startsWith('---')) body += '---\n';
    body += t.endsWith('\n') ? t : `${t}\n`;
  }
  if (body) process.stdout.write(body);
  if (err.length) process.stderr.write(`${err.join('\n')}\n`);
  return failed ? 1 : 0;
}
