/** Label and field selectors in the string syntax of the list and watch query parameters. */
import { badRequest } from './errors.js';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Selector = (labels: Record<string, string>) => boolean;

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseTerm(term: string): Requirement {
  let m = /^(!)?\s*([^\s!=(),]+)$/.exec(term);
  if (m) return { key: checkKey(m[2]!), op: m[1] ? '!exists' : 'exists' };
  m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s,()]*)$/.exec(term);
  if (m) return { key: checkKey(m[1]!), op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] };
  m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values };
  }
  throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  return key;
}

/** Parses a label selector such as `app=web,tier in (a,b),!canary`. Empty matches everything. */
export function parseLabelSelector(s: string | null | undefined): Selector {
  if (!s) return () => true;
  const reqs = splitTerms(s).map(parseTerm);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'in':
          return has && r.values.includes(labels[r.key]!);
        case 'notin':
          return !has || !r.values.includes(labels[r.key]!);
      }
    });
}

/** Parses a field selector (`metadata.name=x,status.phase!=Running`) into a predicate over field values. */
export function parseFieldSelector(
  s: string | null | undefined,
  supported: (field: string) => boolean,
): (fields: (field: string) => string | undefined) => boolean {
  if (!s) return () => true;
  const reqs = splitTerms(s).map((term) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1]!;
    if (!supported(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, neg: m[2] === '!=', value: m[3]! };
  });
  return (fields) => reqs.every((r) => ((fields(r.field) ?? '') === r.value) !== r.neg);
}

/** The labels selected by a LabelSelector object (matchLabels and matchExpressions). */
export function labelSelectorObject(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): Selector {
  const terms: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) terms.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'exists') terms.push(e.key);
    else if (op === 'doesnotexist') terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${op} (${(e.values ?? []).join(',')})`);
  }
  return parseLabelSelector(terms.join(','));
}
