/** `nimop crds`: write, print or check the generated CRDs. */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCRDFiles } from '../api/crd.js';

export function crdsCommand(opts: { dir: string; check: boolean; stdout: boolean }): number {
  const files = renderCRDFiles();
  if (opts.stdout) {
    process.stdout.write(files.map((f) => f.text).join('---\n'));
    return 0;
  }
  if (opts.check) {
    const stale: string[] = [];
    for (const f of files) {
      const path = join(opts.dir, f.file);
      if (!existsSync(path)) stale.push(`${path}: missing`);
      else if (readFileSync(path, 'utf8') !== f.text) stale.push(`${path}: differs from the TypeScript API`);
    }
    const expected = new Set(files.map((f) => f.file));
    if (existsSync(opts.dir)) {
      for (const name of readdirSync(opts.dir)) {
        if (name.endsWith('.yaml') && !expected.has(name)) stale.push(`${join(opts.dir, name)}: not generated any more`);
      }
    }
    if (stale.length) {
      process.stderr.write(`CRDs are out of date (run \`npm run crds\`):\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write(`CRDs in ${opts.dir} match the TypeScript API (${files.length} files).\n`);
    return 0;
  }
  mkdirSync(opts.dir, { recursive: true });
  for (const f of files) writeFileSync(join(opts.dir, f.file), f.text);
  process.stdout.write(`wrote ${files.length} CRDs to ${opts.dir}\n`);
  return 0;
}
