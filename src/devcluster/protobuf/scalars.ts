/** Protobuf scalars as kube-apiserver's JSON prints them, and small fixed-shape messages. */
import { ProtobufError, WIRE_TYPE_NAMES, WireReader, WireType } from './wire.js';

export const SCALAR_WIRE: Record<string, number> = {
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
export const isScalar = (t: string): boolean => t in SCALAR_WIRE;

export function expectWire(got: number, want: number, path: string): void {
  if (got !== want) throw new ProtobufError(`${path}: wrong wire type ${WIRE_TYPE_NAMES[got] ?? got}, want ${WIRE_TYPE_NAMES[want]}`);
}


/** Reads one scalar into its JSON form (bytes as base64). */
export function readScalar(r: WireReader, type: string, wt: number, path: string): unknown {
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

/** Reads a small fixed-shape message: each field number -> its scalar type; returns field number -> value. */
export function readFlat(bytes: Uint8Array, shape: Record<number, string>, path: string): Map<number, unknown> {
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
