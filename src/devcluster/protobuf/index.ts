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
import { ProtobufError, WIRE_TYPE_NAMES, WireReader, WireType } from './wire.js';

export { ProtobufError } from './wire.js';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

type Raw = Map<number, unknown>;
type Json = Record<string, unknown>;

const SCALAR_WIRE: Record<string, number> = {
  string: WireType.LengthDelimited,
  bytes: WireType.LengthDelimited,
  bool: WireType.Varint,
  int32: WireType.Varint,
  int64: WireType.Varint,
  uint32: WireType.Varint,
  uint64: WireType.Varint,
  double: WireType.Fixed64,
  float: WireType.Fixed32,
};
const isScalar = (t: string): boolean => t in SCALAR_WIRE;

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

/** Messages whose Go types have their own protobuf and JSON marshalling. */
interface Special {
  /** The JSON value of the message's bytes. */
  decode(bytes: Uint8Array, path: string): unknown;
  /** The JSON value of the Go zero value. */
  zero: unknown;
}

// ---------------------------------------------------------------------------------------------------
// Special messages

/** time.Time{} (0001-01-01T00:00:00Z) in Unix seconds: Go prints it as null. */
const ZERO_TIME_SECONDS = -62135596800;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** metav1.Time: RFC 3339 in UTC, seconds only, as Time.MarshalJSON prints it. */
function formatTime(seconds: number, path: string): string | null {
  if (seconds === ZERO_TIME_SECONDS) return null;
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new ProtobufError(`${path}: time ${seconds}s since the epoch is out of range`);
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

/** Reads a small fixed-shape message: each field number -> its scalar type; returns field number -> value. */
function readFlat(bytes: Uint8Array, shape: Record<number, string>, path: string): Map<number, unknown> {
  const r = new WireReader(bytes);
  const out = new Map<number, unknown>();
  while (!r.done) {
    const [num, wt] = r.tag();
    const type = shape[num];
    if (type === undefined) {
      r.skip(num, wt);
      continue;
    }
    out.set(num, readScalar(r, type, wt, `${path}#${num}`));
  }
  return out;
}

// The quantity grammar of k8s.io/apimachinery/pkg/api/resource (ParseQuantity).
const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$/;

const SPECIALS: Record<string, Special> = {
  'meta.Time': {
    // Time.Unmarshal: empty bytes are the zero time; nanos are dropped (JSON has seconds only).
    decode: (bytes, path) => {
      if (bytes.length === 0) return null;
      const v = readFlat(bytes, { 1: 'int64', 2: 'int32' }, path);
      return formatTime((v.get(1) as number | undefined) ?? 0, path);
    },
    zero: null,
  },
  'resource.Quantity': {
    decode: (bytes, path) => {
      const s = readFlat(bytes, { 1: 'string' }, path).get(1) as string | undefined;
      if (s === undefined) return '0';
      if (!QUANTITY.test(s)) throw new ProtobufError(`${path}: quantity ${JSON.stringify(s)} must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
      return s;
    },
    zero: '0',
  },
  'intstr.IntOrString': {
    decode: (bytes, path) => {
      const v = readFlat(bytes, { 1: 'int64', 2: 'int32', 3: 'string' }, path);
      const type = (v.get(1) as number | undefined) ?? 0;
      if (type === 0) return (v.get(2) as number | undefined) ?? 0;
      if (type === 1) return (v.get(3) as string | undefined) ?? '';
      throw new ProtobufError(`${path}: impossible IntOrString.Type ${type}`);
    },
    zero: 0,
  },
  'meta.FieldsV1': {
    // FieldsV1.MarshalJSON prints Raw as it is: it must be JSON (a CBOR body is not supported here).
    decode: (bytes, path) => {
      const r = new WireReader(bytes);
      let raw: Uint8Array | undefined;
      while (!r.done) {
        const [num, wt] = r.tag();
        if (num !== 1) r.skip(num, wt);
        else {
          expectWire(wt, WireType.LengthDelimited, path);
          raw = r.bytes();
        }
      }
      if (raw === undefined) return null;
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
      } catch {
        throw new ProtobufError(`${path}: FieldsV1 is not valid JSON`);
      }
    },
    zero: null,
  },
};

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

function expectWire(got: number, want: number, path: string): void {
  if (got !== want) throw new ProtobufError(`${path}: wrong wire type ${WIRE_TYPE_NAMES[got] ?? got}, want ${WIRE_TYPE_NAMES[want]}`);
}

/** Reads one scalar into its JSON form (bytes as base64). */
function readScalar(r: WireReader, type: string, wt: number, path: string): unknown {
  expectWire(wt, SCALAR_WIRE[type]!, path);
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes': {
      const b = r.bytes();
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
    }
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    case 'uint64':
      return Number(r.varint());
    case 'double':
    case 'float': {
      const v = type === 'double' ? r.fixed64().getFloat64(0, true) : r.fixed32().getFloat32(0, true);
      if (!Number.isFinite(v)) throw new ProtobufError(`${path}: unsupported value ${v} (JSON has no NaN or infinity)`);
      return v;
    }
    default:
      throw new Error(`protobuf schema: unknown scalar ${type}`);
  }
}

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
