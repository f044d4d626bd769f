/**
 * A small evaluator for the part of Go's text/template (with Helm's functions) that our chart's
 * templates use, so the chart can be rendered and checked without helm: text, `{{ pipeline }}`,
 * `{{- … -}}` whitespace trimming, if / else if / else / with / end, fields of `.` and `$`,
 * string, number and boolean literals, parentheses, and the functions toYaml, indent, nindent,
 * default, quote, required, eq, ne, and, or, not. Anything else is an error, not a guess.
 */
import { stringify } from 'yaml';

type Value = unknown;
interface Pipe { cmds: Operand[][] }
type Operand =
  | { t: 'field'; root: boolean; path: string[] }
  | { t: 'lit'; v: Value }
  | { t: 'ident'; name: string }
  | { t: 'pipe'; pipe: Pipe };
type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; pipe: Pipe }
  | { t: 'if' | 'with'; branches: { cond: Pipe; body: Node[] }[]; otherwise?: Node[] };

export class TemplateError extends Error {}

/** Renders `src` with `data` as `.` (and `$`). */
export function renderTemplate(src: string, data: Value, name = 'template'): string {
  const nodes = parse(tokenize(src, name), name);
  return run(nodes, data, data, name);
}

interface Token { text?: string; action?: string; line: number }

function tokenize(src: string, name: string): Token[] {
  const out: Token[] = [];
  const re = /\{\{(- )?([\s\S]*?)( -)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    if (text) out.push({ text, line: lineAt(src, last) });
    const action = m[2]!.trim();
    if (action.startsWith('-') || action.endsWith('-')) throw new TemplateError(`${name}:${lineAt(src, m.index)}: write "{{- " and " -}}" with a space`);
    if (!/^\/\*[\s\S]*\*\/$/.test(action)) out.push({ action, line: lineAt(src, m.index) });
    trimNext = Boolean(m[3]);
    last = m.index + m[0].length;
  }
  let tail = src.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail) out.push({ text: tail, line: lineAt(src, last) });
  return out;
}

const lineAt = (src: string, index: number) => src.slice(0, index).split('\n').length;

function parse(tokens: Token[], name: string): Node[] {
  let i = 0;
  const block = (stops: RegExp): { nodes: Node[]; stop?: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      const where = `${name}:${tok.line}`;
      if (tok.text !== undefined) {
        nodes.push({ t: 'text', s: tok.text });
        continue;
      }
      const a = tok.action!;
      if (stops.test(a)) return { nodes, stop: a };
      const kw = /^(if|with)\s+([\s\S]+)$/.exec(a);
      if (kw) {
        const node: Node = { t: kw[1] as 'if' | 'with', branches: [] };
        let cond = parsePipe(kw[2]!, where);
        for (;;) {
          const part = block(/^(else\b.*|end)$/s);
          node.branches.push({ cond, body: part.nodes });
          if (!part.stop) throw new TemplateError(`${where}: {{ ${a} }} has no {{ end }}`);
          if (part.stop === 'end') break;
          const elseIf = /^else\s+if\s+([\s\S]+)$/.exec(part.stop);
          if (elseIf && node.t === 'if') {
            cond = parsePipe(elseIf[1]!, where);
            continue;
          }
          if (part.stop !== 'else') throw new TemplateError(`${where}: unsupported {{ ${part.stop} }}`);
          const rest = block(/^end$/);
          if (!rest.stop) throw new TemplateError(`${where}: {{ else }} has no {{ end }}`);
          node.otherwise = rest.nodes;
          break;
        }
        nodes.push(node);
        continue;
      }
      if (/^(else|end)\b/.test(a)) throw new TemplateError(`${where}: unexpected {{ ${a} }}`);
      if (/^(range|define|template|block|include)\b/.test(a) || /^\$\w*\s*:?=/.test(a)) throw new TemplateError(`${where}: {{ ${a} }} is outside the supported subset`);
      nodes.push({ t: 'out', pipe: parsePipe(a, where) });
    }
    return { nodes };
  };
  const { nodes, stop } = block(/^(else\b.*|end)$/s);
  if (stop) throw new TemplateError(`${name}: unexpected {{ ${stop} }}`);
  return nodes;
}

function parsePipe(src: string, where: string): Pipe {
  const toks = src.match(/"(?:[^"\\]|\\.)*"|\(|\)|\||[^\s()|]+/g) ?? [];
  let i = 0;
  const pipe = (): Pipe => {
    const cmds: Operand[][] = [[]];
    while (i < toks.length) {
      const t = toks[i++]!;
      if (t === ')') {
        i--;
        break;
      }
      if (t === '|') {
        cmds.push([]);
        continue;
      }
      let op: Operand;
      if (t === '(') {
        op = { t: 'pipe', pipe: pipe() };
        if (toks[i++] !== ')') throw new TemplateError(`${where}: unbalanced parentheses in "${src}"`);
      } else if (t.startsWith('"')) op = { t: 'lit', v: JSON.parse(t) as string };
      else if (/^-?\d+(\.\d+)?$/.test(t)) op = { t: 'lit', v: Number(t) };
      else if (t === 'true' || t === 'false') op = { t: 'lit', v: t === 'true' };
      else if (t === 'nil') op = { t: 'lit', v: undefined };
      else if (t === '.' || t === '$') op = { t: 'field', root: t === '$', path: [] };
      else if (/^(\$)?(\.[A-Za-z_]\w*)+$/.test(t)) op = { t: 'field', root: t.startsWith('$'), path: t.replace(/^\$/, '').slice(1).split('.') };
      else if (/^[A-Za-z_]\w*$/.test(t)) op = { t: 'ident', name: t };
      else throw new TemplateError(`${where}: cannot read "${t}" in "${src}"`);
      cmds[cmds.length - 1]!.push(op);
    }
    if (cmds.some((c) => c.length === 0)) throw new TemplateError(`${where}: empty command in "${src}"`);
    return { cmds };
  };
  const p = pipe();
  if (i !== toks.length) throw new TemplateError(`${where}: unexpected ")" in "${src}"`);
  return p;
}

/** Empty as Go templates (and Sprig's `default`) see it. */
export function isEmpty(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

const indentText = (n: number, s: string) => {
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, `\n${pad}`);
};

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  toYaml: (v) => (v === undefined || v === null ? 'null' : stringify(v, { lineWidth: 0, aliasDuplicateObjects: false }).replace(/\n$/, '')),
  indent: (n, s) => indentText(Number(n), String(s)),
  nindent: (n, s) => `\n${indentText(Number(n), String(s))}`,
  default: (def, v) => (isEmpty(v) ? def : v),
  quote: (...vs) => vs.map((v) => JSON.stringify(v === undefined || v === null ? '' : String(v))).join(' '),
  required: (msg, v) => {
    if (v === undefined || v === null || v === '') throw new TemplateError(String(msg));
    return v;
  },
  eq: (a, ...bs) => bs.some((b) => b === a),
  ne: (a, b) => a !== b,
  and: (...vs) => vs.find((v) => isEmpty(v)) ?? vs[vs.length - 1],
  or: (...vs) => vs.find((v) => !isEmpty(v)) ?? vs[vs.length - 1],
  not: (v) => isEmpty(v),
};

function field(base: Value, path: string[], where: string): Value {
  let v = base;
  for (const [k, key] of path.entries()) {
    if (v === undefined || v === null) {
      if (k === 0) return undefined;
      throw new TemplateError(`${where}: nil pointer evaluating .${path.slice(0, k).join('.')}.${key}`);
    }
    if (typeof v !== 'object' || Array.isArray(v)) throw new TemplateError(`${where}: cannot read .${key} of a ${Array.isArray(v) ? 'list' : typeof v}`);
    v = (v as Record<string, Value>)[key];
  }
  return v;
}

function evalPipe(p: Pipe, dot: Value, root: Value, where: string): Value {
  let piped: Value;
  p.cmds.forEach((cmd, n) => {
    const operand = (o: Operand): Value => {
      if (o.t === 'lit') return o.v;
      if (o.t === 'field') return field(o.root ? root : dot, o.path, where);
      if (o.t === 'pipe') return evalPipe(o.pipe, dot, root, where);
      const fn = FUNCS[o.name];
      if (!fn) throw new TemplateError(`${where}: function "${o.name}" is not supported`);
      return fn();
    };
    const [head, ...rest] = cmd;
    if (head!.t === 'ident') {
      const fn = FUNCS[head!.name];
      if (!fn) throw new TemplateError(`${where}: function "${head!.name}" is not supported`);
      const args = rest.map(operand);
      piped = n > 0 ? fn(...args, piped) : fn(...args);
    } else {
      if (rest.length || n > 0) throw new TemplateError(`${where}: only a function can take arguments`);
      piped = operand(head!);
    }
  });
  return piped;
}

function print(v: Value, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new TemplateError(`${where}: cannot print a map or list (use toYaml)`);
  return String(v);
}

function run(nodes: Node[], dot: Value, root: Value, name: string): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') out += print(evalPipe(n.pipe, dot, root, name), name);
    else {
      let done = false;
      for (const b of n.branches) {
        const v = evalPipe(b.cond, dot, root, name);
        if (!isEmpty(v)) {
          out += run(b.body, n.t === 'with' ? v : dot, root, name);
          done = true;
          break;
        }
      }
      if (!done && n.otherwise) out += run(n.otherwise, dot, root, name);
    }
  }
  return out;
}
