/**
 * Decodes Kubernetes protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf), as
 * kubectl's generator commands send them, into the JSON form kube-apiserver's JSON serializer prints.
 *
 * The body is the 4-byte magic "k8s\0" followed by a runtime.Unknown message:
 *   1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own message), 3 contentEncoding, 4 contentType.
 *
 * The object message is decoded as Go would (k8s.io/api's gogo-generated code), then printed with Go's
 * encoding/json rules: non-pointer fields are always on the wire (gogo writes them even when zero), so
 * it is the json tags that decide: omitempty drops zero scalars, nil pointers, nil slices and nil maps;
 * without omitempty they print as zero values or null; non-pointer structs always print ({} at least).
 * Proto `bytes` become base64, meta.Time an RFC 3339 string (or null when zero), IntOrString a number or
 * string, Quantity its string, FieldsV1 its embedded JSON. Unknown fields are skipped.
 */
import { KINDS, MESSAGES } from './schema.js';
import { SCALAR_WIRE, expectWire, isScalar, readFlat, readScalar } from './scalars.js';
import { SPECIALS } from './specials.js';
import { ProtobufError, WireReader, WireType } from './wire.js';

export { ProtobufError } from './wire.js';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

type Raw = Map<number, unknown>;
type Json = Record<string, unknown>;


interface Field {
  /** JSON name; '' for a Go field embedded with json:",inline". */
  json: string;
  num: number;
  /** A scalar name, or a qualified message name ("core.PodSpec"). */
  type: string;
  label: 'single' | 'repeated' | 'map';
  /** Map key scalar. */
  key: string;
  pointer: boolean;
  omitempty: boolean;
  omitzero: boolean;
}

interface Message {
  name: string;
  fields: Field[];
  byNum: Map<number, Field>;
}

// ---------------------------------------------------------------------------------------------------
// Schema

let compiled: Map<string, Message> | undefined;

/** Parses the table in schema.ts (once, on first use) and checks every type it names exists. */
function schema(): Map<string, Message> {
  if (compiled) return compiled;
  const out = new Map<string, Message>();
  for (const [pkg, messages] of Object.entries(MESSAGES)) {
    for (const [name, spec] of Object.entries(messages)) {
      const fields = spec.split(' ').map((f) => parseField(pkg, f, `${pkg}.${name}`));
      out.set(`${pkg}.${name}`, { name: `${pkg}.${name}`, fields, byNum: new Map(fields.map((f) => [f.num, f])) });
    }
  }
  for (const m of out.values()) {
    for (const f of m.fields) {
      if (!isScalar(f.type) && !out.has(f.type) && !(f.type in SPECIALS)) throw new Error(`protobuf schema: ${m.name}.${f.json} names unknown type ${f.type}`);
      if (f.omitzero && !isScalar(f.type) && !(f.type in SPECIALS)) throw new Error(`protobuf schema: omitzero on struct ${m.name}.${f.json} is not supported`);
    }
  }
  for (const [k, v] of Object.entries(KINDS)) if (!out.has(v)) throw new Error(`protobuf schema: kind ${k} names unknown message ${v}`);
  compiled = out;
  return out;
}

function parseField(pkg: string, spec: string, where: string): Field {
  const m = /^(\w*)=(\d+):(\*?)([^?!]+)([?!]*)$/.exec(spec);
  if (!m) throw new Error(`protobuf schema: cannot parse ${where} field ${spec}`);
  const [, json = '', num = '', ptr, typeSpec = '', flags = ''] = m;
  let label: Field['label'] = 'single';
  let type = typeSpec;
  let key = '';
  if (type.startsWith('[')) {
    label = 'repeated';
    type = type.slice(1, -1);
  } else if (type.startsWith('{')) {
    label = 'map';
    [key = '', type = ''] = type.slice(1, -1).split(',');
  }
  if (!isScalar(type) && !type.includes('.')) type = `${pkg}.${type}`;
  return { json, num: Number(num), type, label, key, pointer: ptr === '*', omitempty: flags.includes('?'), omitzero: flags.includes('!') };
}

/** True when the decoder has a schema for this kind. */
export function hasProtobufSchema(apiVersion: string, kind: string): boolean {
  return `${apiVersion} ${kind}` in KINDS;
}

// ---------------------------------------------------------------------------------------------------
// Wire -> Go-like values

/** Reads one value of any type: scalars and specials as JSON, messages as Raw. */
function readValue(r: WireReader, type: string, wt: number, path: string): unknown {
  if (isScalar(type)) return readScalar(r, type, wt, path);
  expectWire(wt, WireType.LengthDelimited, path);
  const special = SPECIALS[type];
  if (special) return special.decode(r.bytes(), path);
  return decodeInto(schema().get(type)!, r.bytes(), new Map(), path);
}

/** Decodes a message's bytes into `raw` (field number -> value), merging repeated occurrences as proto does. */
function decodeInto(msg: Message, bytes: Uint8Array, raw: Raw, path: string): Raw {
  const r = new WireReader(bytes);
  while (!r.done) {
    const [num, wt] = r.tag();
    const f = msg.byNum.get(num);
    if (!f) {
      if (wt === WireType.EndGroup) throw new ProtobufError(`${path}: unexpected end-group for field ${num}`);
      r.skip(num, wt);
      continue;
    }
    const fpath = f.json ? `${path}.${f.json}` : path;
    if (f.label === 'map') {
      expectWire(wt, WireType.LengthDelimited, fpath);
      const entry = new WireReader(r.bytes());
      let key: unknown;
      let value: unknown;
      while (!entry.done) {
        const [n, ewt] = entry.tag();
        if (n === 1) key = readScalar(entry, f.key, ewt, `${fpath}(key)`);
        else if (n === 2) value = readValue(entry, f.type, ewt, `${fpath}[${JSON.stringify(key ?? '')}]`);
        else entry.skip(n, ewt);
      }
      let map = raw.get(num) as Map<string, unknown> | undefined;
      if (!map) raw.set(num, (map = new Map()));
      map.set(String(key ?? zeroScalar(f.key)), value);
    } else if (f.label === 'repeated') {
      let list = raw.get(num) as unknown[] | undefined;
      const packed = wt === WireType.LengthDelimited && isScalar(f.type) && SCALAR_WIRE[f.type] !== WireType.LengthDelimited;
      if (packed) {
        const sub = new WireReader(r.bytes());
        while (!sub.done) (list ??= []).push(readScalar(sub, f.type, SCALAR_WIRE[f.type]!, `${fpath}[${list?.length ?? 0}]`));
      } else (list ??= []).push(readValue(r, f.type, wt, `${fpath}[${list?.length ?? 0}]`));
      if (list) raw.set(num, list);
    } else if (!isScalar(f.type) && !(f.type in SPECIALS)) {
      // A message field seen twice is merged into the first, as gogo's Unmarshal does.
      expectWire(wt, WireType.LengthDelimited, fpath);
      const prev = raw.get(num) as Raw | undefined;
      raw.set(num, decodeInto(schema().get(f.type)!, r.bytes(), prev ?? new Map(), fpath));
    } else {
      raw.set(num, readValue(r, f.type, wt, fpath));
    }
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------------
// Go-like values -> JSON (encoding/json rules)

function zeroScalar(type: string): unknown {
  if (type === 'string') return '';
  if (type === 'bool') return false;
  if (type === 'bytes') return null; // a nil []byte
  return 0;
}

const EMPTY: Raw = new Map();

/** JSON of the Go zero value of a non-pointer field. */
function zeroJSON(type: string): unknown {
  if (isScalar(type)) return zeroScalar(type);
  const special = SPECIALS[type];
  if (special) return special.zero;
  return toJSON(schema().get(type)!, EMPTY, {});
}

function elementJSON(type: string, v: unknown): unknown {
  if (v === undefined) return zeroJSON(type);
  if (isScalar(type) || type in SPECIALS) return v;
  return toJSON(schema().get(type)!, v as Raw, {});
}

/** Go sorts map keys by their bytes. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const isEmptyScalar = (v: unknown): boolean => v === '' || v === 0 || v === false || v === null;

function toJSON(msg: Message, raw: Raw, out: Json): Json {
  for (const f of msg.fields) {
    const v = raw.get(f.num);
    if (!f.json) {
      // json:",inline": the embedded struct's fields are printed in place.
      if (v !== undefined || !f.pointer) toJSON(schema().get(f.type)!, (v as Raw | undefined) ?? EMPTY, out);
      continue;
    }
    let j: unknown;
    if (v === undefined) {
      // nil pointer, nil slice, nil map
      if (f.pointer || f.label !== 'single') {
        if (!f.omitempty) out[f.json] = null;
        continue;
      }
      j = zeroJSON(f.type);
    } else if (f.label === 'map') {
      const map = v as Map<string, unknown>;
      const obj: Json = {};
      for (const k of [...map.keys()].sort(compareKeys)) obj[k] = elementJSON(f.type, map.get(k));
      j = obj;
    } else if (f.label === 'repeated') {
      j = (v as unknown[]).map((e) => elementJSON(f.type, e));
    } else {
      j = elementJSON(f.type, v);
    }
    if (!f.pointer && f.label === 'single') {
      // omitempty never drops a struct; omitzero drops a zero one (supported for Time and scalars).
      const leaf = isScalar(f.type) || f.type in SPECIALS;
      if (f.omitempty && isScalar(f.type) && isEmptyScalar(j)) continue;
      if (f.omitzero && leaf && (isScalar(f.type) ? isEmptyScalar(j) : j === SPECIALS[f.type]!.zero)) continue;
    }
    out[f.json] = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

/**
 * Decodes a Kubernetes protobuf body ("k8s\0" magic + runtime.Unknown envelope) into the object's JSON
 * form, as kube-apiserver's JSON serializer would print it. Throws ProtobufError (with a clear message
 * naming the apiVersion/kind) for kinds it has no schema for, and for malformed input.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): Record<string, unknown> {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw new ProtobufError('not a Kubernetes protobuf body: it does not start with the "k8s\\x00" magic');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = '';
  try {
    const r = new WireReader(body.subarray(MAGIC.length));
    while (!r.done) {
      const [num, wt] = r.tag();
      if (num === 1) {
        expectWire(wt, WireType.LengthDelimited, 'runtime.Unknown.typeMeta');
        const tm = readFlat(r.bytes(), { 1: 'string', 2: 'string' }, 'runtime.Unknown.typeMeta');
        apiVersion = (tm.get(1) as string | undefined) ?? apiVersion;
        kind = (tm.get(2) as string | undefined) ?? kind;
      } else if (num === 2) {
        expectWire(wt, WireType.LengthDelimited, 'runtime.Unknown.raw');
        raw = r.bytes();
      } else if (num === 3) {
        expectWire(wt, WireType.LengthDelimited, 'runtime.Unknown.contentEncoding');
        contentEncoding = r.string();
      } else r.skip(num, wt);
    }
  } catch (e) {
    if (e instanceof ProtobufError) throw new ProtobufError(`malformed Kubernetes protobuf envelope: ${e.message}`);
    throw e;
  }
  if (!apiVersion || !kind) {
    throw new ProtobufError(`Kubernetes protobuf envelope has no ${!apiVersion ? 'apiVersion' : 'kind'} (apiVersion=${JSON.stringify(apiVersion)}, kind=${JSON.stringify(kind)})`);
  }
  const what = `${kind} (${apiVersion})`;
  if (contentEncoding) throw new ProtobufError(`${what}: protobuf content encoding ${JSON.stringify(contentEncoding)} is not supported`, true);
  const name = KINDS[`${apiVersion} ${kind}`];
  if (!name) {
    const known = Object.keys(KINDS).map((k) => k.split(' ')[1]);
    throw new ProtobufError(`no protobuf schema for ${what}; send it as application/json (protobuf bodies are decoded only for ${known.join(', ')})`, true);
  }
  const msg = schema().get(name)!;
  let obj: Json;
  try {
    obj = toJSON(msg, decodeInto(msg, raw, new Map(), kind), {});
  } catch (e) {
    if (e instanceof ProtobufError) throw new ProtobufError(`malformed protobuf ${what}: ${e.message}`);
    throw e;
  }
  return { kind, apiVersion, ...obj };
}
