/**
 * A small POSIX-shell interpreter for simulated containers: enough of `sh -c` for what pods run in
 * practice — `;`, `&&`, `||`, pipes, `> file`, `$VAR`, `$(…)`, `if/elif/else`, `while`, `for`,
 * `exit`, `set -e` — with the usual utilities as builtins (commands.ts) and the image's tools.
 * Time is simulated: `sleep 5` advances the script's clock instead of waiting.
 */
import { parseScript, type Node, type Word } from './shell-parse.js';
import type { ContainerFS } from './vfs.js';

export interface Line {
  /** Milliseconds after the container started. */
  at: number;
  text: string;
}

/** What a command does when it runs. */
export interface CommandResult {
  /** Standard output (and error) text. */
  out?: string;
  /** Lines printed over time: [ms after the command started, text]. */
  timed?: [number, string][];
  code: number;
  /** Simulated time the command took (already scaled). */
  durationMs?: number;
  /** Runs until the container is stopped (sleep infinity, a server). */
  forever?: boolean;
  /** The process became a long-running server of this kind (a NIM endpoint, a worker …). */
  serve?: ServeSpec;
}

export interface ServeSpec {
  role: 'server' | 'worker';
  /** Anything the caller attached (the NIM endpoint's model, profile …). */
  detail?: Record<string, unknown>;
  /** Milliseconds after start when it turns ready (scaled). */
  readyAfterMs: number;
}

export interface ShellContext {
  fs: ContainerFS;
  env: Map<string, string>;
  /** Multiplies `sleep` durations. */
  timeScale: number;
  hostname: string;
  /** ms after container start at which the command runs (for tools that record timestamps). */
  clock: number;
  stdin: string;
  /** Other commands the image has (NIM tools, huggingface-cli …). */
  tools: Map<string, Tool>;
  /** The shell's builtins and utilities. */
  builtins: Map<string, Tool>;
  /** The GPUs the container was given, for nvidia-smi. */
  gpus: { product: string; count: number; memoryMiB: number } | undefined;
}

export type Tool = (argv: string[], ctx: ShellContext) => CommandResult;

export interface ScriptResult {
  lines: Line[];
  code: number;
  /** ms after start when the script ended (or went on forever). */
  endMs: number;
  forever: boolean;
  serve?: ServeSpec;
}

class Exit {
  constructor(readonly code: number) {}
}
class Forever {
  constructor(readonly serve?: ServeSpec) {}
}

interface State {
  ctx: ShellContext;
  vars: Map<string, string>;
  clock: number;
  lines: Line[];
  errexit: boolean;
  /** Capturing output ($(…)) instead of logging it. */
  capture?: string[];
}

function emit(s: State, text: string, at = s.clock): void {
  if (s.capture) {
    s.capture.push(text);
    return;
  }
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  for (const p of parts) s.lines.push({ at, text: p });
}

function expandVar(s: State, name: string): string {
  if (name === '?') return String(s.vars.get('?') ?? '0');
  if (name === 'HOSTNAME' && !s.vars.has(name)) return s.ctx.hostname;
  return s.vars.get(name) ?? '';
}

function expandWord(s: State, w: Word): string {
  let out = '';
  for (const seg of w) {
    if (seg.kind === 'lit') out += seg.text;
    else if (seg.kind === 'var') {
      const v = expandVar(s, seg.name);
      out += v === '' && seg.fallback !== undefined ? expandWord(s, seg.fallback) : v;
    } else if (seg.kind === 'subst') {
      const captured: string[] = [];
      const sub: State = { ...s, vars: new Map(s.vars), capture: captured };
      try {
        runNode(sub, parseScript(seg.script));
      } catch (e) {
        if (!(e instanceof Exit) && !(e instanceof Forever)) throw e;
      }
      s.clock = sub.clock;
      out += captured.join('').replace(/\n+$/, '');
    }
  }
  return out;
}

function runSimple(s: State, node: Extract<Node, { type: 'simple' }>, stdin: string): { code: number; out: string } {
  const argv = node.words.map((w) => expandWord(s, w));
  for (const a of node.assigns) {
    const v = expandWord(s, a.value);
    if (argv.length === 0) s.vars.set(a.name, v);
  }
  if (argv.length === 0) return { code: 0, out: '' };
  const name = argv[0]!;
  if (name === 'exit') throw new Exit(Number(argv[1] ?? s.vars.get('?') ?? 0) & 255);
  if (name === 'set') {
    for (const a of argv.slice(1)) {
      if (/^-[a-z]*e/.test(a)) s.errexit = true;
      if (/^\+[a-z]*e/.test(a)) s.errexit = false;
    }
    return { code: 0, out: '' };
  }
  if (name === 'export') {
    for (const a of argv.slice(1)) {
      const i = a.indexOf('=');
      if (i > 0) s.vars.set(a.slice(0, i), a.slice(i + 1));
    }
    return { code: 0, out: '' };
  }
  if (name === 'exec') {
    if (argv.length === 1) return { code: 0, out: '' };
    const r = runSimple(s, { ...node, words: node.words.slice(1) }, stdin);
    throw new Exit(r.code);
  }
  const ctx: ShellContext = { ...s.ctx, env: new Map(s.vars), clock: s.clock, stdin };
  const base = name.split('/').pop() ?? name;
  const tool = s.ctx.builtins.get(base) ?? s.ctx.tools.get(base) ?? s.ctx.tools.get(name);
  let r: CommandResult;
  if (name === 'sh' || name === 'bash' || base === 'sh' || base === 'bash') r = nestedShell(s, argv);
  else if (tool) r = tool(argv, ctx);
  else r = { code: 127, out: `sh: ${name}: not found\n` };
  let out = r.out ?? '';
  for (const [dt, text] of r.timed ?? []) {
    if (s.capture || node.redirects.length) out += `${text}\n`;
    else emit(s, text, s.clock + dt);
  }
  s.clock += r.durationMs ?? 0;
  if (r.forever || r.serve) {
    if (out) emit(s, out);
    throw new Forever(r.serve);
  }
  return { code: r.code, out: redirect(s, node, out) };
}

/** Applies `> file`, `>> file` and `2>/dev/null`; returns what still goes to the log. */
function redirect(s: State, node: Extract<Node, { type: 'simple' }>, out: string): string {
  let rest = out;
  for (const r of node.redirects) {
    if (r.fd === 2) continue;
    const target = expandWord(s, r.target);
    if (target === '/dev/null') rest = '';
    else if (target === '/dev/stdout' || target === '/dev/stderr') continue;
    else {
      s.ctx.fs.write(target, rest, r.append);
      rest = '';
    }
  }
  return rest;
}

function nestedShell(s: State, argv: string[]): CommandResult {
  const i = argv.indexOf('-c');
  if (i < 0 || argv[i + 1] === undefined) return { code: 0 };
  const sub: State = { ...s, vars: new Map(s.vars), lines: [], capture: [] };
  const r = execute(sub, argv[i + 1]!);
  return { code: r.code, out: sub.capture!.join(''), durationMs: sub.clock - s.clock, ...(r.forever ? { forever: true } : {}), ...(r.serve ? { serve: r.serve } : {}) };
}

function runPipeline(s: State, node: Extract<Node, { type: 'pipeline' }>): number {
  let stdin = '';
  let code = 0;
  for (const [i, cmd] of node.commands.entries()) {
    const last = i === node.commands.length - 1;
    if (cmd.type === 'simple') {
      const r = runSimple(s, cmd, stdin);
      code = r.code;
      if (last) {
        if (r.out) emit(s, r.out);
      } else stdin = r.out;
    } else {
      code = runNode(s, cmd);
      stdin = '';
    }
  }
  if (node.negate) code = code === 0 ? 1 : 0;
  return code;
}

function runNode(s: State, node: Node, inCondition = false): number {
  let code = 0;
  switch (node.type) {
    case 'list':
      for (const item of node.items) code = runNode(s, item, inCondition);
      break;
    case 'andor': {
      code = runNode(s, node.first, true);
      for (const [op, next] of node.rest) {
        if ((op === '&&' && code === 0) || (op === '||' && code !== 0)) code = runNode(s, next, true);
      }
      if (s.errexit && !inCondition && code !== 0 && node.rest.length === 0) throw new Exit(code);
      break;
    }
    case 'pipeline':
      code = runPipeline(s, node);
      if (s.errexit && !inCondition && code !== 0) throw new Exit(code);
      break;
    case 'simple':
      code = runPipeline(s, { type: 'pipeline', negate: false, commands: [node] });
      break;
    case 'if': {
      code = 0;
      let done = false;
      for (const [cond, body] of node.branches) {
        if (runNode(s, cond, true) === 0) {
          code = runNode(s, body, inCondition);
          done = true;
          break;
        }
      }
      if (!done && node.otherwise) code = runNode(s, node.otherwise, inCondition);
      break;
    }
    case 'while': {
      const literal = node.cond.type === 'list' && isLiteralTrue(node.cond);
      for (let i = 0; ; i++) {
        const c = runNode(s, node.cond, true);
        if ((c === 0) === node.until) break;
        code = runNode(s, node.body, inCondition);
        // `while true` (or a loop that never ends by itself) runs until the container stops.
        if (literal || i > 1000) throw new Forever();
      }
      break;
    }
    case 'for':
      for (const w of node.items) {
        s.vars.set(node.name, expandWord(s, w));
        code = runNode(s, node.body, inCondition);
      }
      break;
    case 'group':
      code = runNode(s, node.body, inCondition);
      break;
  }
  s.vars.set('?', String(code));
  return code;
}

function isLiteralTrue(n: Node): boolean {
  if (n.type === 'list') return n.items.length === 1 && isLiteralTrue(n.items[0]!);
  if (n.type === 'andor') return n.rest.length === 0 && isLiteralTrue(n.first);
  if (n.type === 'pipeline') return n.commands.length === 1 && !n.negate && isLiteralTrue(n.commands[0]!);
  if (n.type === 'simple') {
    const w = n.words[0];
    return n.words.length === 1 && w !== undefined && w.length === 1 && w[0]!.kind === 'lit' && (w[0]!.text === 'true' || w[0]!.text === ':');
  }
  return false;
}

function execute(s: State, script: string): { code: number; forever: boolean; serve?: ServeSpec } {
  let ast: Node;
  try {
    ast = parseScript(script);
  } catch (e) {
    emit(s, `sh: syntax error: ${(e as Error).message}`);
    return { code: 2, forever: false };
  }
  try {
    return { code: runNode(s, ast), forever: false };
  } catch (e) {
    if (e instanceof Exit) return { code: e.code, forever: false };
    if (e instanceof Forever) return { code: 0, forever: true, ...(e.serve ? { serve: e.serve } : {}) };
    throw e;
  }
}

function newState(ctx: ShellContext): State {
  return { ctx, vars: new Map(ctx.env), clock: ctx.clock, lines: [], errexit: false };
}

/** Runs a script (the argument of `sh -c`). */
export function runScript(script: string, ctx: ShellContext): ScriptResult {
  const s = newState(ctx);
  const r = execute(s, script);
  return { lines: s.lines, code: r.code, endMs: s.clock, forever: r.forever, ...(r.serve ? { serve: r.serve } : {}) };
}

/** Runs a command given as an argv (a container's command and args, without a shell). */
export function runArgv(argv: string[], ctx: ShellContext): ScriptResult {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return runScript(quoted, ctx);
}
