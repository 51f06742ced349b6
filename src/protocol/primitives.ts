// Wire primitives of the Kafka protocol: a Reader with a sticky error and a growable Writer.
// Pure, no I/O. int64 values are bigint; everything else that fits in a double is a number.
//
// The Reader never throws on short or malformed input: the first problem is remembered in
// `error`, later reads return zero values, and the caller checks `error` once at the end.
// That keeps generated decoders straight-line and makes truncated frames cheap to reject.

export class ProtocolError extends Error {}

const EMPTY = Buffer.alloc(0);

export interface TaggedField {
  tag: number;
  data: Buffer;
}

export class Reader {
  offset: number;
  error: string | null = null;

  constructor(readonly buf: Buffer, offset = 0, readonly end = buf.length) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(message: string): void {
    if (this.error === null) this.error = `${message} at byte ${this.offset}`;
    this.offset = this.end;
  }

  /** Throws the sticky error, if any, as a ProtocolError. */
  check(): void {
    if (this.error !== null) throw new ProtocolError(this.error);
  }

  private need(n: number): boolean {
    if (this.offset + n > this.end) {
      this.fail(`need ${n} bytes, have ${this.end - this.offset}`);
      return false;
    }
    return true;
  }

  int8(): number {
    if (!this.need(1)) return 0;
    return this.buf.readInt8(this.offset++);
  }
  uint8(): number {
    if (!this.need(1)) return 0;
    return this.buf[this.offset++];
  }
  int16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  uint16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uint32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    if (!this.need(8)) return 0n;
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  float64(): number {
    if (!this.need(8)) return 0;
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }

  /** Unsigned LEB128 varint up to 32 bits. */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (!this.need(1)) return 0;
      const b = this.buf[this.offset++];
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
    this.fail('varint longer than 5 bytes');
    return 0;
  }
  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }
  /** Zig-zag signed varlong (64 bits). */
  varlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (!this.need(1)) return 0n;
      const b = this.buf[this.offset++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (result >> 1n) ^ -(result & 1n);
      shift += 7n;
    }
    this.fail('varlong longer than 10 bytes');
    return 0n;
  }
  /**
   * Zig-zag signed varlong as a number when it is a safe integer (|v| <= 2^53 - 1), else as a
   * bigint. Record deltas are nearly always small, and skipping bigint work there matters on
   * per-record paths. Malformed input sets the sticky error and gives 0, as varlong() does.
   */
  varlongNumber(): number | bigint {
    const buf = this.buf;
    const start = this.offset;
    // Up to 8 bytes (56 bits) in two 28-bit halves, so every step stays exact in int32/double.
    const stop = Math.min(start + 8, this.end);
    let lo = 0;
    let hi = 0;
    let pos = start;
    while (pos < stop) {
      const b = buf[pos];
      const at = pos - start;
      pos++;
      if (at < 4) lo |= (b & 0x7f) << (7 * at);
      else hi += (b & 0x7f) * 2 ** (7 * (at - 4));
      if ((b & 0x80) !== 0) continue;
      // u = hi * 2^28 + lo; the magnitude u >>> 1 must stay below 2^53 to be exact.
      if (hi < 2 ** 26) {
        const magnitude = hi * 2 ** 27 + (lo >>> 1);
        const v = (lo & 1) === 0 ? magnitude : -magnitude - 1;
        if (Number.isSafeInteger(v)) {
          this.offset = pos;
          return v;
        }
      }
      break;
    }
    // Long, large, truncated or malformed: the bigint reader decides, with its own errors.
    this.offset = start;
    const big = this.varlong();
    return this.error === null ? big : 0;
  }

  uuid(): string {
    if (!this.need(16)) return ZERO_UUID;
    const hex = this.buf.toString('hex', this.offset, this.offset + 16);
    this.offset += 16;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** A length that must fit in what is left; -1 means null. */
  private length(n: number, what: string): number {
    if (n < -1) {
      this.fail(`negative ${what} length ${n}`);
      return -2;
    }
    if (n > this.end - this.offset) {
      this.fail(`${what} length ${n} exceeds the ${this.end - this.offset} bytes left`);
      return -2;
    }
    return n;
  }

  private utf8(n: number): string {
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
  private slice(n: number): Buffer {
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  string(): string {
    const n = this.length(this.int16(), 'string');
    return n < 0 ? '' : this.utf8(n);
  }
  nullableString(): string | null {
    const n = this.length(this.int16(), 'string');
    return n === -1 ? null : n < 0 ? '' : this.utf8(n);
  }
  compactString(): string {
    const n = this.length(this.uvarint() - 1, 'string');
    return n < 0 ? '' : this.utf8(n);
  }
  compactNullableString(): string | null {
    const n = this.length(this.uvarint() - 1, 'string');
    return n === -1 ? null : n < 0 ? '' : this.utf8(n);
  }
  bytes(): Buffer {
    const n = this.length(this.int32(), 'bytes');
    return n < 0 ? EMPTY : this.slice(n);
  }
  nullableBytes(): Buffer | null {
    const n = this.length(this.int32(), 'bytes');
    return n === -1 ? null : n < 0 ? EMPTY : this.slice(n);
  }
  compactBytes(): Buffer {
    const n = this.length(this.uvarint() - 1, 'bytes');
    return n < 0 ? EMPTY : this.slice(n);
  }
  compactNullableBytes(): Buffer | null {
    const n = this.length(this.uvarint() - 1, 'bytes');
    return n === -1 ? null : n < 0 ? EMPTY : this.slice(n);
  }
  /** Raw bytes of a known length (e.g. a tagged field body). */
  raw(n: number): Buffer {
    if (!this.need(n)) return EMPTY;
    return this.slice(n);
  }

  /**
   * Array length: -1 is null. Each element takes at least one byte on the wire, so a count larger
   * than the bytes left is malformed; checking it here stops a 2-billion-element allocation.
   */
  arrayLength(): number {
    return this.length(this.int32(), 'array');
  }
  compactArrayLength(): number {
    return this.length(this.uvarint() - 1, 'array');
  }

  /** Reads a tagged-field section, calling `known` for each tag; unknown tags are returned raw. */
  taggedFields(known?: (tag: number, r: Reader, size: number) => boolean): TaggedField[] | undefined {
    const count = this.uvarint();
    if (count > this.remaining) {
      this.fail(`tagged field count ${count} exceeds the bytes left`);
      return undefined;
    }
    let unknown: TaggedField[] | undefined;
    let last = -1;
    for (let i = 0; i < count && this.error === null; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      if (tag <= last) {
        this.fail(`tagged fields out of order (tag ${tag} after ${last})`);
        break;
      }
      last = tag;
      if (size > this.remaining) {
        this.fail(`tagged field ${tag} size ${size} exceeds the bytes left`);
        break;
      }
      const start = this.offset;
      if (known && known(tag, this, size)) {
        if (this.offset !== start + size && this.error === null) {
          this.fail(`tagged field ${tag} declared ${size} bytes but used ${this.offset - start}`);
        }
      } else {
        (unknown ??= []).push({ tag, data: this.raw(size) });
      }
    }
    return unknown;
  }
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (hex.length !== 32 || !/^[0-9a-fA-F]+$/.test(hex)) throw new ProtocolError(`invalid uuid ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export interface WriterOptions {
  /**
   * `raw` byte strings at least this long are kept by reference instead of copied (0: never):
   * a Fetch response's record batches go to the socket as they are. The caller must not change
   * such a buffer until the output is written, and must read the output with `finishChunks()`
   * (or `finish()`, which then copies everything into one buffer). `offset` counts only the
   * bytes copied into `buf`; `length` counts all.
   */
  referenceFrom?: number;
}

/** Growable big-endian buffer writer. */
export class Writer {
  buf: Buffer;
  offset = 0;
  private readonly referenceFrom: number;
  /** Buffers kept by reference, each with the position in `buf` where it sits in the output. */
  private refs: { at: number; data: Buffer }[] | null = null;
  private refBytes = 0;

  constructor(initialSize = 256, opts: WriterOptions = {}) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.referenceFrom = opts.referenceFrom ?? 0;
  }

  /** Bytes of output so far, referenced buffers included. */
  get length(): number {
    return this.offset + this.refBytes;
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  /** The bytes written so far (a view, not a copy, unless buffers were kept by reference). */
  finish(): Buffer {
    if (this.refs === null) return this.buf.subarray(0, this.offset);
    return Buffer.concat(this.finishChunks(), this.length);
  }

  /** The output as a list of buffers to write in order (views, no copies). */
  finishChunks(): Buffer[] {
    if (this.refs === null) return [this.buf.subarray(0, this.offset)];
    const out: Buffer[] = [];
    let pos = 0;
    for (const r of this.refs) {
      if (r.at > pos) out.push(this.buf.subarray(pos, r.at));
      out.push(r.data);
      pos = r.at;
    }
    if (this.offset > pos) out.push(this.buf.subarray(pos, this.offset));
    return out;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
  }
  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.offset++] = v;
  }
  int16(v: number): void {
    this.ensure(2);
    this.offset = this.buf.writeInt16BE(v, this.offset);
  }
  uint16(v: number): void {
    this.ensure(2);
    this.offset = this.buf.writeUInt16BE(v, this.offset);
  }
  int32(v: number): void {
    this.ensure(4);
    this.offset = this.buf.writeInt32BE(v, this.offset);
  }
  uint32(v: number): void {
    this.ensure(4);
    this.offset = this.buf.writeUInt32BE(v, this.offset);
  }
  int64(v: bigint): void {
    this.ensure(8);
    this.offset = this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.offset);
  }
  float64(v: number): void {
    this.ensure(8);
    this.offset = this.buf.writeDoubleBE(v, this.offset);
  }
  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }
  uvarint(v: number): void {
    this.ensure(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.offset++] = v;
  }
  varint(v: number): void {
    this.uvarint((v << 1) ^ (v >> 31));
  }
  varlong(v: bigint): void {
    this.ensure(10);
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (u >= 0x80n) {
      this.buf[this.offset++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.offset++] = Number(u);
  }
  uuid(v: string): void {
    const b = uuidToBytes(v);
    this.ensure(16);
    b.copy(this.buf, this.offset);
    this.offset += 16;
  }
  raw(b: Uint8Array): void {
    if (this.referenceFrom > 0 && b.length >= this.referenceFrom) {
      const data = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      (this.refs ??= []).push({ at: this.offset, data });
      this.refBytes += b.length;
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }

  private utf8(s: string, lengthPrefix: (n: number) => void): void {
    const n = Buffer.byteLength(s);
    lengthPrefix(n);
    this.ensure(n);
    this.offset += this.buf.write(s, this.offset, 'utf8');
  }
  string(s: string): void {
    this.utf8(s, (n) => this.int16(n));
  }
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }
  compactString(s: string): void {
    this.utf8(s, (n) => this.uvarint(n + 1));
  }
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }
  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.raw(b);
  }
  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }
  compactBytes(b: Uint8Array): void {
    this.uvarint(b.length + 1);
    this.raw(b);
  }
  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }
  arrayLength(n: number | null): void {
    this.int32(n === null ? -1 : n);
  }
  compactArrayLength(n: number | null): void {
    this.uvarint(n === null ? 0 : n + 1);
  }

  /** Writes a tagged field whose body is produced by `body` into a scratch writer. */
  taggedField(tag: number, body: (w: Writer) => void): void {
    const scratch = new Writer(64);
    body(scratch);
    this.uvarint(tag);
    this.uvarint(scratch.offset);
    this.raw(scratch.finish());
  }

  /** Reserves 4 bytes for a size prefix; `fillSize` later writes the byte count since the mark. */
  markSize(): number {
    this.ensure(4);
    const at = this.offset;
    this.offset += 4;
    return at;
  }
  fillSize(at: number): void {
    let n = this.offset - at - 4;
    if (this.refs !== null) for (const r of this.refs) if (r.at >= at + 4) n += r.data.length;
    this.buf.writeInt32BE(n, at);
  }
}

/** Bytes the unsigned varint encoding of `v` takes. */
export function uvarintSize(v: number): number {
  v >>>= 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}
