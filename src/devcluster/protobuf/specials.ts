/** Messages whose Go types have their own protobuf and JSON marshalling (meta.Time, IntOrString, Quantity …). */
import { expectWire, readFlat } from './scalars.js';
import { ProtobufError, WireReader, WireType } from './wire.js';

export interface Special {
  /** The JSON value of the message's bytes. */
  decode(bytes: Uint8Array, path: string): unknown;
  /** The JSON value of the Go zero value. */
  zero: unknown;
}

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


// The quantity grammar of k8s.io/apimachinery/pkg/api/resource (ParseQuantity).
const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$/;

export const SPECIALS: Record<string, Special> = {
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
