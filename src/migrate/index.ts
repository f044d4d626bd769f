/**
 * `nimop migrate` on one file's text: each document is parsed into a yaml Document, rewritten in
 * place (./rewrite.ts) and printed again only if something changed. Documents that did not change
 * are copied from the input byte for byte, and so are the separators between documents.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type ToStringOptions } from 'yaml';
import { migrateObject } from './rewrite.js';

export { routerFromLegacy } from './ingress.js';
export { migrateObject, migrateServiceSpec } from './rewrite.js';

export interface MigrateResult {
  /** The rewritten text (the input itself when nothing changed or it could not be parsed). */
  output: string;
  changed: boolean;
  /** One line per rewrite: `file: document N: Kind ns/name: from → to`. */
  changes: string[];
  /** Deprecated fields left as they are, with the reason: `file: document N: Kind ns/name: warning: …`. */
  warnings: string[];
  /** Parse errors; when there are any, nothing is rewritten. */
  errors: string[];
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How the input writes YAML, so that a rewritten document looks like the ones around it. */
export function styleOf(text: string): ToStringOptions {
  // A sequence under a key, at the key's indentation (kubectl's style) or indented further.
  const flat = (text.match(/^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- /gm) ?? []).length;
  const nested = (text.match(/^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1 +- /gm) ?? []).length;
  const step = /^[^\s#][^\n]*:[ \t]*\r?\n( +)[^\s#-]/m.exec(text)?.[1]?.length;
  return {
    lineWidth: 0,
    indent: step && step >= 2 && step <= 8 ? step : 2,
    indentSeq: !(flat > nested),
    flowCollectionPadding: (text.match(/\{ [^\s}]/g) ?? []).length > (text.match(/\{[^\s}]/g) ?? []).length,
  };
}

function who(js: unknown): string {
  if (!isRec(js)) return 'document';
  const meta = isRec(js.metadata) ? js.metadata : {};
  const ns = typeof meta.namespace === 'string' && meta.namespace ? `${meta.namespace}/` : '';
  const name = typeof meta.name === 'string' && meta.name ? meta.name : '<unnamed>';
  return typeof js.kind === 'string' ? `${js.kind} ${ns}${name}` : 'document';
}

/** The document printed again, in the input's style (JSON stays JSON). */
function render(doc: Document, style: ToStringOptions, crlf: boolean): string {
  const root = doc.contents;
  const text = isMap(root) && root.flow ? `${JSON.stringify(doc.toJS({ maxAliasCount: 100 }), null, 2)}\n` : doc.toString(style);
  return crlf ? text.replace(/\r?\n/g, '\r\n') : text;
}

/** Migrates the deprecated fields of every document of `text`; `file` names it in the messages. */
export function migrateText(text: string, file: string): MigrateResult {
  const result: MigrateResult = { output: text, changed: false, changes: [], warnings: [], errors: [] };
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { version: '1.1', lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const docs = Array.isArray(parsed) ? parsed : [parsed];

  // Numbered as `nimop validate` numbers them: empty documents do not count.
  let index = 0;
  const numbered: { doc: Document; index: number }[] = [];
  for (const doc of docs) {
    index++;
    if (doc.errors.length) {
      const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line;
      for (const e of doc.errors) {
        const pos = lineCounter.linePos(e.pos[0]);
        result.errors.push(`${file}:${line}: document ${index}: line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]!}`);
      }
      continue;
    }
    if (doc.contents === null || doc.contents === undefined || (doc.contents as { value?: unknown }).value === null) index--;
    numbered.push({ doc, index });
  }
  if (result.errors.length) return result;

  const style = styleOf(text);
  const crlf = text.includes('\r\n');
  let out = '';
  let pos = 0;
  for (const { doc, index: n } of numbered) {
    const end = doc.range?.[2] ?? text.length;
    const js: unknown = doc.toJS({ maxAliasCount: 100 });
    const targets: { node: unknown; js: unknown; where: string }[] = [];
    const root = doc.contents;
    if (isRec(js) && js.kind === 'List' && Array.isArray(js.items) && isMap(root)) {
      const items = root.get('items', true);
      js.items.forEach((item, i) => targets.push({ node: isSeq(items) ? items.items[i] : undefined, js: item, where: ` item ${i}` }));
    } else targets.push({ node: root, js, where: '' });

    let changed = false;
    for (const t of targets) {
      const outcome = migrateObject(doc, t.node, t.js);
      const prefix = `${file}: document ${n}${t.where}: ${who(t.js)}`;
      for (const c of outcome.changes) result.changes.push(`${prefix}: ${c}`);
      for (const w of outcome.warnings) result.warnings.push(`${prefix}: warning: ${w}`);
      changed ||= outcome.changes.length > 0;
    }
    const region = text.slice(pos, end);
    // The line breaks and blank lines that ended the document in the input end it in the output too.
    const tail = /(?:\r?\n)(?:[ \t]*\r?\n)*$/.exec(region)?.[0] ?? '';
    out += changed ? render(doc, style, crlf).replace(/(?:\r?\n)+$/, '') + tail : region;
    result.changed ||= changed;
    pos = end;
  }
  out += text.slice(pos);
  if (result.changed) result.output = out;
  return result;
}
