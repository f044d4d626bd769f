/**
 * A small reader for the protobuf wire format (proto2/proto3 share it): varints, fixed 32/64-bit
 * values, length-delimited fields and (skipped) groups. It knows nothing about schemas.
 */

/**
 * A body the decoder cannot read. `unsupported` is true when the body is well-formed but names a kind
 * (or content encoding) the decoder has no schema for (a server may answer 415); false when malformed (400).
 */
export class ProtobufError extends Error {
  override name = 'ProtobufError';
  constructor(
    message: string,
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** Wire types: https://protobuf.dev/programming-guides/encoding/#structure */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

export const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

const UTF8 = new TextDecoder('utf-8'); // non-fatal: invalid sequences become U+FFFD, as Go's JSON encoder prints them

/** Sequential reader over one message's bytes. Offsets are relative to `buf`. */
export class WireReader {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads an unsigned varint of up to 64 bits (10 bytes). */
  varint(): bigint {
    // Fast path: up to 4 bytes (28 bits) fit a small integer exactly.
    let lo = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return BigInt(lo >>> 0);
    }
    let v = BigInt(lo >>> 0);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    throw new ProtobufError(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** A varint that must fit in a JS number (tags, lengths). */
  smallVarint(what: string): number {
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtobufError(`${what} ${v} out of range at offset ${this.pos}`);
    return Number(v);
  }

  fixed64(): DataView {
    return this.slice(8, 'fixed64 value');
  }

  fixed32(): DataView {
    return this.slice(4, 'fixed32 value');
  }

  /** The payload of a length-delimited field (a view into the buffer, not a copy). */
  bytes(): Uint8Array {
    const len = this.smallVarint('length');
    if (len > this.buf.length - this.pos) {
      throw new ProtobufError(`length ${len} at offset ${this.pos} runs past the end of the message (${this.buf.length - this.pos} bytes left)`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return UTF8.decode(this.bytes());
  }

  /** Reads a field key; returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const key = this.smallVarint('field key');
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (field <= 0) throw new ProtobufError(`illegal field number ${field} (wire type ${wt}) at offset ${this.pos}`);
    if (wt > 5) throw new ProtobufError(`illegal wire type ${wt} for field ${field} at offset ${this.pos}`);
    return [field, wt];
  }

  /** Skips the value of a field whose key was just read (unknown fields, as Go's generated code does). */
  skip(field: number, wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.slice(8, 'fixed64 value');
        return;
      case WireType.LengthDelimited:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.slice(4, 'fixed32 value');
        return;
      case WireType.StartGroup: {
        // Skip nested groups iteratively until the matching end-group key.
        const open = [field];
        while (open.length) {
          if (this.done) throw new ProtobufError(`unterminated group ${open[open.length - 1]}`);
          const [f, wt] = this.tag();
          if (wt === WireType.StartGroup) open.push(f);
          else if (wt === WireType.EndGroup) {
            if (open.pop() !== f) throw new ProtobufError(`mismatched end of group ${f} at offset ${this.pos}`);
          } else this.skip(f, wt);
        }
        return;
      }
      default:
        throw new ProtobufError(`unexpected ${WIRE_TYPE_NAMES[wireType] ?? wireType} key for field ${field} at offset ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ProtobufError(`unexpected end of message at offset ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  private slice(n: number, what: string): DataView {
    if (n > this.buf.length - this.pos) throw new ProtobufError(`truncated ${what} at offset ${this.pos}`);
    const v = new DataView(this.view.buffer, this.view.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }
}
