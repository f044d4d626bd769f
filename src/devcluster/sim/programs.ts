/**
 * What a container does, from the catalogue: its log over time, whether and when it exits and
 * with what code, when it turns ready, and whether it serves a NIM endpoint.
 */
import { builtins } from './commands.js';
import type { Catalogue, CatalogueEntry, RunRuleSpec } from './catalogue.js';
import { nimImage, MANIFEST_PATH, type NimImage } from './nim-image.js';
import { downloadToCache, entrypoint, huggingfaceCli, nimTools } from './nim-tools.js';
import { runArgv, type Line, type ServeSpec, type ShellContext, type Tool } from './shell.js';
import { FileTree, type ContainerFS } from './vfs.js';

export interface Program {
  lines: Line[];
  /** Exit code and when (ms after start); absent: runs until stopped. */
  exit?: { code: number; at: number };
  /** The image cannot be pulled. */
  pullError?: string;
  serve?: ServeSpec;
  /** The NIM image, when the container serves one. */
  nim?: NimImage;
  /** Answers its readiness probe while it runs. */
  ready: boolean;
  /** ms after start when it turns ready. */
  readyAt: number;
  /** Listens on its ports (HTTP, TCP and gRPC probes can succeed). */
  listens: boolean;
}

export interface ContainerRun {
  image: string;
  command: string[];
  args: string[];
  env: Map<string, string>;
  /** The container's own restart behaviour: the pod's, or Always for a native sidecar. */
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  hostname: string;
  gpus: { product: string; count: number; memoryMiB: number } | undefined;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);
const MODEL_FREE: NimImage = { image: '', kind: 'llm', model: '', release: '', format: 'none', profiles: [], downloadMs: 2000, loadMs: 0, buildMs: 0, maxModelLen: 0 };
const base = (p: string | undefined) => (p ?? '').split('/').pop() ?? '';

function expandEnv(text: string, env: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, k: string) => env.get(k) ?? '');
}

function ruleMatches(rule: RunRuleSpec, c: ContainerRun): boolean {
  const w = rule.when;
  if (!w) return true;
  if (w.command !== undefined && !new RegExp(w.command).test([...c.command, ...c.args].join(' '))) return false;
  if (w.restartPolicy && w.restartPolicy !== c.restartPolicy) return false;
  for (const [k, re] of Object.entries(w.env ?? {})) if (!new RegExp(re).test(c.env.get(k) ?? '')) return false;
  return true;
}

type Behaviour = Pick<RunRuleSpec, 'log' | 'exit' | 'afterMs' | 'ready' | 'readyAfterMs' | 'pullError'>;

function hasBehaviour(b: Behaviour): boolean {
  return b.log !== undefined || b.exit !== undefined || b.afterMs !== undefined || b.ready !== undefined || b.readyAfterMs !== undefined || b.pullError !== undefined;
}

function fromBehaviour(b: Behaviour, c: ContainerRun, scale: number): Program {
  if (b.pullError) return { lines: [], pullError: b.pullError, ready: false, readyAt: 0, listens: false };
  const lines = b.log ? expandEnv(b.log, c.env).replace(/\n$/, '').split('\n').map((text) => ({ at: 0, text })) : [];
  const at = (b.afterMs ?? 0) * scale;
  return {
    lines,
    ...(b.exit !== undefined ? { exit: { code: b.exit, at } } : {}),
    ready: b.ready ?? true,
    readyAt: (b.readyAfterMs ?? 0) * scale,
    listens: b.ready ?? true,
  };
}

/** What a container of an unknown image does: runs to completion in a Job, else keeps running. */
function generic(c: ContainerRun): Program {
  if (c.restartPolicy !== 'Always') return { lines: [], exit: { code: 0, at: 0 }, ready: true, readyAt: 0, listens: false };
  return { lines: [], ready: true, readyAt: 0, listens: true };
}

/** Tools an image's entry names (beyond a NIM's own). */
function namedTools(entries: CatalogueEntry[]): Map<string, Tool> {
  const m = new Map<string, Tool>();
  for (const e of entries) {
    for (const t of e.tools ?? []) {
      if (t === 'huggingface-cli') m.set(t, (argv, ctx) => huggingfaceCli(argv, ctx));
      // Without a model manifest, download-to-cache only fetches by --model-uri.
      if (t === 'download-to-cache') m.set(t, (argv, ctx) => downloadToCache(MODEL_FREE, argv, ctx));
    }
  }
  return m;
}

/** The image's own files (for `cat`), with a NIM's manifest where NIM images keep it. */
export function imageFiles(entries: CatalogueEntry[], nim: NimImage | undefined): FileTree {
  const files: Record<string, string> = {};
  for (const e of [...entries].reverse()) Object.assign(files, e.files ?? {});
  if (nim?.manifestText) files[MANIFEST_PATH] = nim.manifestText;
  return new FileTree(Object.fromEntries(Object.entries(files).map(([p, c]) => [p.replace(/^\//, ''), c])));
}

export function resolveProgram(catalogue: Catalogue, c: ContainerRun, fs: ContainerFS, timeScale: number): Program {
  const entries = catalogue.matching(c.image);
  for (const e of entries) {
    for (const rule of e.run ?? []) if (ruleMatches(rule, c)) return fromBehaviour(rule, c, timeScale);
  }
  const pull = entries.find((e) => e.pullError)?.pullError;
  if (pull) return { lines: [], pullError: pull, ready: false, readyAt: 0, listens: false };
  const nim = nimImage(catalogue, c.image);
  const shell = entries.find((e) => e.shell !== undefined)?.shell ?? !!nim;
  const tools = new Map([...namedTools(entries), ...(nim ? nimTools(nim) : [])]);
  const ctx: ShellContext = {
    fs,
    env: c.env,
    timeScale,
    hostname: c.hostname,
    clock: 0,
    stdin: '',
    tools,
    builtins: shell ? builtins() : new Map(),
    gpus: c.gpus,
  };
  const words = [...c.command, ...c.args];
  const defaults = entries.find((e) => hasBehaviour(e));
  let result;
  if (words.length === 0) {
    if (nim) {
      const r = entrypoint(nim, ctx);
      result = runArgvResult(r, ctx);
    } else return defaults ? fromBehaviour(defaults, c, timeScale) : generic(c);
  } else if ((shell && SHELLS.has(base(words[0]))) || tools.has(base(words[0])) || (shell && ctx.builtins.has(base(words[0])))) {
    result = runArgv(words, ctx);
  } else if (nim) {
    // An entrypoint script of the image we do not know by name: the NIM server.
    result = runArgvResult(entrypoint(nim, ctx), ctx);
  } else return defaults ? fromBehaviour(defaults, c, timeScale) : generic(c);
  const program: Program = {
    lines: result.lines,
    ready: true,
    readyAt: result.serve ? result.serve.readyAfterMs : result.endMs,
    listens: result.serve !== undefined,
    ...(result.serve ? { serve: result.serve } : {}),
    ...(result.serve?.role === 'server' && nim ? { nim } : {}),
  };
  if (!result.forever) program.exit = { code: result.code, at: result.endMs };
  return program;
}

/** A tool's result run as if it were the whole command line. */
function runArgvResult(r: ReturnType<Tool>, ctx: ShellContext): ReturnType<typeof runArgv> {
  const lines: Line[] = [];
  for (const [dt, text] of r.timed ?? []) lines.push({ at: dt, text });
  if (r.out) for (const text of r.out.replace(/\n$/, '').split('\n')) lines.push({ at: 0, text });
  lines.sort((a, b) => a.at - b.at);
  const forever = !!(r.forever || r.serve);
  void ctx;
  return { lines, code: r.code, endMs: r.durationMs ?? 0, forever, ...(r.serve ? { serve: r.serve } : {}) };
}
