/** A child process whose output is collected, for tests that run commands asynchronously. */
import { spawn, type SpawnOptions } from 'node:child_process';

export function spawnCollect(cmd: string, args: string[], opts: SpawnOptions = {}) {
  const child = spawn(cmd, args, opts);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, done, out: () => out, err: () => err };
}
