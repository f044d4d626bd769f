// Runs the nimop command from the TypeScript sources (no build needed), for npm scripts.
import { run } from '../src/cli/main.js';

process.exitCode = await run(process.argv.slice(2));
