/** Tokenizer and parser for the simulated shell (shell.ts): a POSIX sh subset, to an AST. */

export type Segment =
  | { kind: 'lit'; text: string }
  | { kind: 'var'; name: string; fallback?: Word }
  | { kind: 'subst'; script: string };
export type Word = Segment[];

export interface Redirect {
  fd: number;
  append: boolean;
  target: Word;
}

export type Node =
  | { type: 'list'; items: Node[] }
  | { type: 'andor'; first: Node; rest: ['&&' | '||', Node][] }
  | { type: 'pipeline'; negate: boolean; commands: Node[] }
  | { type: 'simple'; assigns: { name: string; value: Word }[]; words: Word[]; redirects: Redirect[] }
  | { type: 'if'; branches: [Node, Node][]; otherwise?: Node }
  | { type: 'while'; until: boolean; cond: Node; body: Node }
  | { type: 'for'; name: string; items: Word[]; body: Node }
  | { type: 'group'; body: Node };

type Token = { t: 'word'; w: Word; raw: string } | { t: 'op'; v: string };

const OPS = ['&&', '||', ';;', '>>', '2>&1', '2>>', '2>', '1>>', '1>', '&>', ';', '|', '&', '(', ')', '>', '<', '\n'];
/** Operators that end a word (a digit inside a word does not start a redirect). */
const WORD_ENDS = OPS.filter((o) => !/^[0-9]/.test(o));

/** Reads `$(…)` from position i (just after `$(`); returns the inner text and the end position. */
function balanced(src: string, i: number): [string, number] {
  let depth = 1;
  let j = i;
  let quote = '';
  for (; j < src.length; j++) {
    const ch = src[j]!;
    if (quote) {
      if (ch === '\\' && quote === '"') j++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '\\') j++;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return [src.slice(i, j), j + 1];
  }
  throw new Error('unterminated $(');
}

/** Reads a `$…` expansion at src[i] === '$'; returns the segment and the next position. */
function dollar(src: string, i: number): [Segment, number] {
  const next = src[i + 1];
  if (next === '(') {
    const [inner, end] = balanced(src, i + 2);
    return [{ kind: 'subst', script: inner }, end];
  }
  if (next === '{') {
    const close = src.indexOf('}', i + 2);
    if (close < 0) throw new Error('unterminated ${');
    const body = src.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9?#$@*])(?::?[-=]([\s\S]*))?$/.exec(body);
    if (!m) return [{ kind: 'lit', text: '' }, close + 1];
    return [{ kind: 'var', name: m[1]!, ...(m[2] !== undefined ? { fallback: [{ kind: 'lit', text: m[2] }] } : {}) }, close + 1];
  }
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9?#$@*])/.exec(src.slice(i + 1));
  if (!m) return [{ kind: 'lit', text: '$' }, i + 1];
  return [{ kind: 'var', name: m[0] }, i + 1 + m[0].length];
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '\\' && src[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op === '\n' ? ';' : op });
      i += op.length;
      continue;
    }
    // A word: until unquoted whitespace or an operator.
    const w: Word = [];
    let lit = '';
    const start = i;
    const flush = () => {
      if (lit) w.push({ kind: 'lit', text: lit });
      lit = '';
    };
    while (i < src.length) {
      const c = src[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
      if (WORD_ENDS.some((o) => src.startsWith(o, i))) break;
      if (c === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new Error('unterminated quote');
        lit += src.slice(i + 1, end);
        if (end === i + 1) w.push({ kind: 'lit', text: '' });
        i = end + 1;
      } else if (c === '"') {
        i++;
        let any = false;
        while (i < src.length && src[i] !== '"') {
          const d = src[i]!;
          any = true;
          if (d === '\\' && '"\\$`\n'.includes(src[i + 1] ?? '')) {
            if (src[i + 1] !== '\n') lit += src[i + 1];
            i += 2;
          } else if (d === '$') {
            flush();
            const [seg, end] = dollar(src, i);
            w.push(seg);
            i = end;
          } else if (d === '`') {
            flush();
            const end = src.indexOf('`', i + 1);
            w.push({ kind: 'subst', script: src.slice(i + 1, end) });
            i = end + 1;
          } else {
            lit += d;
            i++;
          }
        }
        if (src[i] !== '"') throw new Error('unterminated quote');
        if (!any) w.push({ kind: 'lit', text: '' });
        i++;
      } else if (c === '\\') {
        lit += src[i + 1] ?? '';
        i += 2;
      } else if (c === '$') {
        flush();
        const [seg, end] = dollar(src, i);
        w.push(seg);
        i = end;
      } else if (c === '`') {
        flush();
        const end = src.indexOf('`', i + 1);
        if (end < 0) throw new Error('unterminated `');
        w.push({ kind: 'subst', script: src.slice(i + 1, end) });
        i = end + 1;
      } else {
        lit += c;
        i++;
      }
    }
    flush();
    if (i === start) {
      // A character that is neither a word nor an operator: take it literally.
      w.push({ kind: 'lit', text: src[i]! });
      i++;
    }
    out.push({ t: 'word', w, raw: src.slice(start, i) });
  }
  return out;
}

const TERMINATORS = new Set(['then', 'elif', 'else', 'fi', 'do', 'done']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token | undefined {
    return this.toks[this.i];
  }

  private keyword(): string | undefined {
    const t = this.peek();
    if (t?.t !== 'word' || t.w.length !== 1 || t.w[0]!.kind !== 'lit') return undefined;
    return t.w[0]!.text;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }

  private expectKeyword(k: string): void {
    if (this.keyword() !== k) throw new Error(`expected "${k}"`);
    this.i++;
  }

  private skipSeparators(): void {
    while (this.isOp(';') || this.isOp('&')) this.i++;
  }

  list(closing?: string): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t) break;
      const k = this.keyword();
      if (k && TERMINATORS.has(k)) break;
      if (t.t === 'op' && (t.v === ')' || t.v === ';;')) break;
      if (closing && k === closing) break;
      items.push(this.andOr());
    }
    return { type: 'list', items };
  }

  private andOr(): Node {
    const first = this.pipeline();
    const rest: ['&&' | '||', Node][] = [];
    while (this.isOp('&&') || this.isOp('||')) {
      const op = (this.toks[this.i++] as { v: '&&' | '||' }).v;
      while (this.isOp(';')) this.i++;
      rest.push([op, this.pipeline()]);
    }
    return { type: 'andor', first, rest };
  }

  private pipeline(): Node {
    let negate = false;
    if (this.keyword() === '!') {
      negate = true;
      this.i++;
    }
    const commands = [this.command()];
    while (this.isOp('|')) {
      this.i++;
      commands.push(this.command());
    }
    return { type: 'pipeline', negate, commands };
  }

  private command(): Node {
    const k = this.keyword();
    if (k === 'if') return this.ifClause();
    if (k === 'while' || k === 'until') return this.whileClause(k === 'until');
    if (k === 'for') return this.forClause();
    if (k === '{') {
      this.i++;
      const body = this.list('}');
      this.expectKeyword('}');
      return { type: 'group', body };
    }
    if (this.isOp('(')) {
      this.i++;
      const body = this.list();
      if (!this.isOp(')')) throw new Error('expected ")"');
      this.i++;
      return { type: 'group', body };
    }
    return this.simple();
  }

  private ifClause(): Node {
    this.expectKeyword('if');
    const branches: [Node, Node][] = [];
    let cond = this.list();
    this.expectKeyword('then');
    branches.push([cond, this.list()]);
    let otherwise: Node | undefined;
    for (;;) {
      const k = this.keyword();
      if (k === 'elif') {
        this.i++;
        cond = this.list();
        this.expectKeyword('then');
        branches.push([cond, this.list()]);
      } else if (k === 'else') {
        this.i++;
        otherwise = this.list();
      } else break;
    }
    this.expectKeyword('fi');
    return { type: 'if', branches, ...(otherwise ? { otherwise } : {}) };
  }

  private whileClause(until: boolean): Node {
    this.i++;
    const cond = this.list();
    this.expectKeyword('do');
    const body = this.list();
    this.expectKeyword('done');
    return { type: 'while', until, cond, body };
  }

  private forClause(): Node {
    this.i++;
    const name = this.keyword();
    if (!name) throw new Error('expected a name after "for"');
    this.i++;
    const items: Word[] = [];
    if (this.keyword() === 'in') {
      this.i++;
      while (this.peek()?.t === 'word' && this.keyword() !== 'do') items.push((this.toks[this.i++] as { w: Word }).w);
    }
    this.skipSeparators();
    this.expectKeyword('do');
    const body = this.list();
    this.expectKeyword('done');
    return { type: 'for', name, items, body };
  }

  private simple(): Node {
    const assigns: { name: string; value: Word }[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if (t.t === 'op') {
        const redirect = /^([12]?)(>>?)$|^(&>)$|^(<)$/.exec(t.v);
        if (redirect) {
          this.i++;
          const target = this.peek();
          if (target?.t !== 'word') throw new Error(`expected a file after "${t.v}"`);
          this.i++;
          if (!redirect[4]) redirects.push({ fd: redirect[1] === '2' ? 2 : 1, append: redirect[2] === '>>', target: target.w });
          continue;
        }
        if (t.v === '2>&1') {
          this.i++;
          continue;
        }
        break;
      }
      const head = t.w[0];
      if (words.length === 0 && head?.kind === 'lit') {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(head.text);
        if (m) {
          this.i++;
          const value: Word = [...(m[2] ? [{ kind: 'lit' as const, text: m[2] }] : []), ...t.w.slice(1)];
          assigns.push({ name: m[1]!, value });
          continue;
        }
      }
      const k = this.keyword();
      if (words.length === 0 && k && TERMINATORS.has(k)) break;
      words.push(t.w);
      this.i++;
    }
    return { type: 'simple', assigns, words, redirects };
  }

  done(): boolean {
    return this.i >= this.toks.length;
  }

  rest(): string {
    const t = this.peek();
    return t ? (t.t === 'op' ? t.v : t.raw) : '';
  }
}

export function parseScript(src: string): Node {
  const p = new Parser(tokenize(src));
  const node = p.list();
  if (!p.done()) throw new Error(`unexpected "${p.rest()}"`);
  return node;
}
