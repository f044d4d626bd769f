/** Reading Kubernetes manifests: multi-document YAML (or JSON), with positions for every error. */
import { LineCounter, parseAllDocuments } from 'yaml';
import { isPlainObject } from './validation/structural.js';

export interface ManifestDoc {
  /** 1-based position of the document in its file (after expanding `kind: List`, the list's). */
  index: number;
  /** 1-based line of the document's first token. */
  line: number;
  value: unknown;
  /** For an item of a `kind: List`, its index in `items`. */
  item?: number;
}

export interface ManifestParseError {
  index: number;
  line: number;
  col: number;
  message: string;
}

export interface ParsedFile {
  docs: ManifestDoc[];
  errors: ManifestParseError[];
}

/**
 * Parses YAML the way kubectl does (YAML 1.1 scalars, so `on`/`yes` are booleans). Empty documents
 * are dropped; a `kind: List` is expanded into its items.
 */
export function parseManifests(text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const docs: ManifestDoc[] = [];
  const errors: ManifestParseError[] = [];
  const parsed = parseAllDocuments(text, { version: '1.1', lineCounter, prettyErrors: false, uniqueKeys: true });
  const all = Array.isArray(parsed) ? parsed : [parsed];
  let index = 0;
  for (const doc of all) {
    index++;
    const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
    const line = lineCounter.linePos(start).line;
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const pos = lineCounter.linePos(e.pos[0]);
        errors.push({ index, line: pos.line, col: pos.col, message: e.message.split('\n')[0]! });
      }
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) {
      index--;
      continue;
    }
    if (isPlainObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, i) => docs.push({ index, line, value: item, item: i }));
      continue;
    }
    docs.push({ index, line, value });
  }
  return { docs, errors };
}
