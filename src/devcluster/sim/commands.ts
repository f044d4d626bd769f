/**
 * The utilities a simulated shell offers (echo, cat, ls, test, sleep …), with GNU coreutils'
 * messages. They read and write the container's simulated files.
 */
import type { CommandResult, ShellContext, Tool } from './shell.js';

const ok = (out = ''): CommandResult => ({ code: 0, out });
const fail = (code: number, out: string): CommandResult => ({ code, out: out.endsWith('\n') ? out : `${out}\n` });

function human(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return v === 0 ? '0' : `${Math.max(4, Math.ceil(v / 1024) * 4)}.0K`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

function echo(argv: string[]): CommandResult {
  let args = argv.slice(1);
  let newline = true;
  let escapes = false;
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    if (args[0].includes('n')) newline = false;
    if (args[0].includes('e')) escapes = true;
    args = args.slice(1);
  }
  let text = args.join(' ');
  if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return ok(newline ? `${text}\n` : text);
}

function printf(argv: string[]): CommandResult {
  const fmt = argv[1] ?? '';
  const args = argv.slice(2);
  let i = 0;
  const out = fmt
    .replace(/%([sd%])/g, (_m, t: string) => (t === '%' ? '%' : String(args[i++] ?? '')))
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
  return ok(out);
}

function test(argv: string[], ctx: ShellContext): CommandResult {
  let args = argv.slice(1);
  if (argv[0] === '[') {
    if (args[args.length - 1] !== ']') return fail(2, "sh: [: missing ']'");
    args = args.slice(0, -1);
  }
  const evalExpr = (a: string[]): boolean => {
    if (a[0] === '!') return !evalExpr(a.slice(1));
    const oi = a.findIndex((x) => x === '-a' || x === '-o');
    if (oi > 0) return a[oi] === '-a' ? evalExpr(a.slice(0, oi)) && evalExpr(a.slice(oi + 1)) : evalExpr(a.slice(0, oi)) || evalExpr(a.slice(oi + 1));
    if (a.length === 0) return false;
    if (a.length === 1) return a[0] !== '';
    if (a.length === 2) {
      const [op, v = ''] = a;
      switch (op) {
        case '-n':
          return v !== '';
        case '-z':
          return v === '';
        case '-f':
          return ctx.fs.isFile(v);
        case '-d':
          return ctx.fs.isDir(v);
        case '-e':
        case '-r':
        case '-w':
        case '-x':
          return ctx.fs.isFile(v) || ctx.fs.isDir(v);
        case '-s':
          return (ctx.fs.read(v) ?? '').length > 0 || (ctx.fs.isDir(v) && ctx.fs.list(v).length > 0);
        default:
          return false;
      }
    }
    const [l = '', op, r = ''] = a;
    switch (op) {
      case '=':
      case '==':
        return l === r;
      case '!=':
        return l !== r;
      case '-eq':
        return Number(l) === Number(r);
      case '-ne':
        return Number(l) !== Number(r);
      case '-gt':
        return Number(l) > Number(r);
      case '-ge':
        return Number(l) >= Number(r);
      case '-lt':
        return Number(l) < Number(r);
      case '-le':
        return Number(l) <= Number(r);
      default:
        return false;
    }
  };
  return { code: evalExpr(args) ? 0 : 1 };
}

function cat(argv: string[], ctx: ShellContext): CommandResult {
  const files = argv.slice(1).filter((a) => !a.startsWith('-') || a === '-');
  if (files.length === 0) return ok(ctx.stdin);
  let out = '';
  let code = 0;
  for (const f of files) {
    if (f === '-') {
      out += ctx.stdin;
      continue;
    }
    const text = ctx.fs.read(f);
    if (text === undefined) {
      out += ctx.fs.isDir(f) ? `cat: ${f}: Is a directory\n` : `cat: ${f}: No such file or directory\n`;
      code = 1;
    } else out += text;
  }
  return { code, out };
}

function ls(argv: string[], ctx: ShellContext): CommandResult {
  const flags = argv.slice(1).filter((a) => a.startsWith('-')).join('');
  const paths = argv.slice(1).filter((a) => !a.startsWith('-'));
  let out = '';
  let code = 0;
  for (const p of paths.length ? paths : ['.']) {
    if (ctx.fs.isFile(p)) {
      out += `${p}\n`;
      continue;
    }
    if (!ctx.fs.isDir(p)) {
      out += `ls: cannot access '${p}': No such file or directory\n`;
      code = 2;
      continue;
    }
    const names = ctx.fs.list(p).filter((n) => flags.includes('a') || flags.includes('A') || !n.startsWith('.'));
    if (flags.includes('a')) names.unshift('.', '..');
    if (paths.length > 1) out += `${p}:\n`;
    if (names.length) out += `${names.join('\n')}\n`;
  }
  return { code, out };
}

function du(argv: string[], ctx: ShellContext): CommandResult {
  const flags = argv.slice(1).filter((a) => a.startsWith('-')).join('');
  const paths = argv.slice(1).filter((a) => !a.startsWith('-'));
  let out = '';
  for (const p of paths.length ? paths : ['.']) {
    if (!ctx.fs.isDir(p) && !ctx.fs.isFile(p)) return fail(1, `du: cannot access '${p}': No such file or directory`);
    const n = ctx.fs.size(p);
    out += `${flags.includes('h') ? human(n) : String(Math.ceil(n / 1024))}\t${p}\n`;
  }
  return ok(out);
}

function sleep(argv: string[], ctx: ShellContext): CommandResult {
  const arg = argv[1] ?? '0';
  if (arg === 'infinity' || arg === 'inf') return { code: 0, forever: true };
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(arg);
  if (!m) return fail(1, `sleep: invalid time interval '${arg}'`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  // A sleep of more than a day in a loop-free script is a way to say "forever".
  if (seconds >= 86400) return { code: 0, forever: true };
  return { code: 0, durationMs: seconds * 1000 * ctx.timeScale };
}

function nvidiaSmi(argv: string[], ctx: ShellContext): CommandResult {
  const g = ctx.gpus;
  if (!g || g.count === 0) return fail(6, 'No devices were found');
  const name = g.product.replace(/^NVIDIA-/, 'NVIDIA ').replace(/-/g, ' ');
  const ids = Array.from({ length: g.count }, (_, i) => `GPU ${i}: ${name} (UUID: GPU-${ctx.hostname.replace(/[^a-z0-9]/gi, '').slice(0, 8).padEnd(8, '0')}-0000-0000-0000-${String(i).padStart(12, '0')})`);
  if (argv.includes('-L')) return ok(`${ids.join('\n')}\n`);
  const rows = Array.from({ length: g.count }, (_, i) => `|   ${i}  ${name.padEnd(30)} On  |      0MiB / ${String(g.memoryMiB).padStart(6)}MiB |      0%      Default |`);
  return ok(`${['+-----------------------------------------------------------------------------------------+', '| NVIDIA-SMI 550.90.07              Driver Version: 550.90.07      CUDA Version: 12.4     |', ...rows, '+-----------------------------------------------------------------------------------------+'].join('\n')}\n`);
}

function fileOps(argv: string[], ctx: ShellContext): CommandResult {
  const name = argv[0]!.split('/').pop();
  const paths = argv.slice(1).filter((a) => !a.startsWith('-'));
  for (const p of paths) {
    let done = true;
    if (name === 'mkdir') done = ctx.fs.mkdir(p);
    else if (name === 'touch') done = ctx.fs.isFile(p) || ctx.fs.write(p, '');
    else if (name === 'rm') done = ctx.fs.remove(p);
    if (!done) return fail(1, `${name}: cannot ${name === 'rm' ? 'remove' : 'create'} '${p}': Read-only file system`);
  }
  if (name === 'cp' && paths.length >= 2) {
    const src = ctx.fs.read(paths[0]!);
    if (src === undefined) return fail(1, `cp: cannot stat '${paths[0]}': No such file or directory`);
    const dest = ctx.fs.isDir(paths[1]!) ? `${paths[1]}/${paths[0]!.split('/').pop()}` : paths[1]!;
    if (!ctx.fs.write(dest, src)) return fail(1, `cp: cannot create regular file '${dest}': Read-only file system`);
  }
  return ok();
}

function filter(argv: string[], ctx: ShellContext): CommandResult {
  const name = argv[0]!.split('/').pop();
  const lines = ctx.stdin.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const n = Number((argv.find((a) => /^-?\d+$/.test(a.replace(/^-n/, ''))) ?? '-10').replace(/^-n?/, '')) || 10;
  if (name === 'tail' && argv.includes('-f')) return { code: 0, forever: true };
  if (name === 'grep') {
    const pat = argv.slice(1).find((a) => !a.startsWith('-')) ?? '';
    const kept = lines.filter((l) => l.includes(pat));
    return { code: kept.length ? 0 : 1, out: kept.length ? `${kept.join('\n')}\n` : '' };
  }
  if (name === 'tee') {
    for (const f of argv.slice(1).filter((a) => !a.startsWith('-'))) ctx.fs.write(f, ctx.stdin, argv.includes('-a'));
    return ok(ctx.stdin);
  }
  const kept = name === 'head' ? lines.slice(0, n) : lines.slice(-n);
  return ok(kept.length ? `${kept.join('\n')}\n` : '');
}

export function builtins(): Map<string, Tool> {
  const m = new Map<string, Tool>();
  const add = (names: string[], t: Tool) => names.forEach((n) => m.set(n, t));
  add(['true', ':'], () => ok());
  add(['false'], () => ({ code: 1 }));
  add(['echo'], echo);
  add(['printf'], printf);
  add(['test', '['], test);
  add(['cat'], cat);
  add(['ls'], ls);
  add(['du'], du);
  add(['sleep'], sleep);
  add(['mkdir', 'touch', 'rm', 'cp', 'chmod', 'chown', 'ln'], fileOps);
  add(['tail', 'head', 'grep', 'tee', 'sort', 'uniq', 'wc', 'awk', 'sed', 'cut', 'tr', 'xargs'], (argv, ctx) =>
    ['tail', 'head', 'grep', 'tee'].includes(argv[0]!.split('/').pop()!) ? filter(argv, ctx) : ok(ctx.stdin),
  );
  add(['pwd'], (_a, ctx) => ok(`${ctx.fs.cwd}\n`));
  add(['cd', 'umask', 'ulimit', 'trap', 'wait', 'source', '.', 'update-ca-certificates', 'sync'], () => ok());
  add(['env', 'printenv'], (argv, ctx) =>
    argv[1] ? (ctx.env.has(argv[1]) ? ok(`${ctx.env.get(argv[1])}\n`) : { code: 1 }) : ok([...ctx.env].map(([k, v]) => `${k}=${v}\n`).join('')),
  );
  add(['hostname'], (_a, ctx) => ok(`${ctx.hostname}\n`));
  add(['whoami'], () => ok('nim\n'));
  add(['id'], () => ok('uid=1000(nim) gid=2000 groups=2000\n'));
  add(['nproc'], () => ok('8\n'));
  add(['date'], (argv, ctx) => {
    const d = new Date(Date.now() + ctx.clock);
    return ok(`${argv.some((a) => a.startsWith('-I')) ? d.toISOString().replace(/\.\d{3}Z$/, '+00:00') : d.toUTCString()}\n`);
  });
  // The simulated network always answers.
  add(['wget', 'curl', 'nc', 'ping', 'nslookup'], () => ok());
  add(['nvidia-smi'], nvidiaSmi);
  return m;
}
