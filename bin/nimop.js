#!/usr/bin/env node
// The nimop command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run automatically by `npm ci` and `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('nimop: dist/ is missing; run `npm run build` in the nim-operator checkout first.\n');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
