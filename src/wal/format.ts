// On-disk layout of WAL files. Pure: encodes frames into caller-owned buffers and scans file
// contents; no I/O.
//
// File:   [magic "SHWL"][version uint16][reserved uint16][file sequence uint64]   (FILE_HEADER_BYTES)
//         followed by frames, back to back.
// Frame:  [length uint32][crc32c uint32][type int8][topicId 16][partition int32]
//         [baseOffset int64][lastOffset int64][leaderEpoch int32][data]
//         `length` counts the bytes after the crc field (type .. end of data); the crc covers
//         exactly those bytes, so a torn, zeroed or flipped frame fails one of the two checks.
//         All integers are big-endian, as on the Kafka wire.

import { crc32c } from '@node-rs/crc32';

export const FILE_MAGIC = 0x5348574c; // "SHWL"
export const FILE_VERSION = 1;
export const FILE_HEADER_BYTES = 16;

/** Frame type 1: one produced record batch (the client's bytes, offsets already patched). */
export const FRAME_TYPE_BATCH = 1;
/** length + crc. */
export const FRAME_PREFIX_BYTES = 8;
/** type .. leaderEpoch: the smallest legal value of `length`. */
export const FRAME_BODY_HEADER_BYTES = 1 + 16 + 4 + 8 + 8 + 4;
export const FRAME_OVERHEAD_BYTES = FRAME_PREFIX_BYTES + FRAME_BODY_HEADER_BYTES;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** What the partition log appends: one record batch of one partition. */
export interface WalAppend {
  /** Topic id, a hyphenated lowercase uuid. */
  topicId: string;
  partition: number;
  baseOffset: bigint;
  /** Offset of the batch's last record (baseOffset + lastOffsetDelta); drives WAL trimming. */
  lastOffset: bigint;
  leaderEpoch: number;
  data: Buffer;
}

/** Where a frame lives: file sequence number and the frame's byte range in that file. */
export interface WalPosition {
  file: number;
  offset: number;
  /** Exclusive end of the frame. */
  end: number;
}

export interface WalRecord extends WalAppend {
  position: WalPosition;
}

export function fileName(seq: number): string {
  return `${String(seq).padStart(20, '0')}.wal`;
}

/** The sequence number of a WAL file name, or undefined for any other name. */
export function parseFileName(name: string): number | undefined {
  const m = /^(\d{20})\.wal$/.exec(name);
  if (!m) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

export function encodeFileHeader(seq: number): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  b.writeUInt32BE(FILE_MAGIC, 0);
  b.writeUInt16BE(FILE_VERSION, 4);
  b.writeBigUInt64BE(BigInt(seq), 8);
  return b;
}

export type FileHeaderCheck =
  | { ok: true }
  | { ok: false; kind: 'torn' | 'corrupt' | 'version'; reason: string };

export function checkFileHeader(buf: Buffer, seq: number): FileHeaderCheck {
  if (buf.length < FILE_HEADER_BYTES) {
    return { ok: false, kind: 'torn', reason: `file header torn (${buf.length} of ${FILE_HEADER_BYTES} bytes)` };
  }
  if (buf.readUInt32BE(0) !== FILE_MAGIC) return { ok: false, kind: 'corrupt', reason: 'bad magic' };
  const version = buf.readUInt16BE(4);
  if (version !== FILE_VERSION) {
    return { ok: false, kind: 'version', reason: `file format version ${version}, this build reads ${FILE_VERSION}` };
  }
  const stored = buf.readBigUInt64BE(8);
  if (stored !== BigInt(seq)) return { ok: false, kind: 'corrupt', reason: `header names file ${stored}` };
  return { ok: true };
}

/** Throws a TypeError/RangeError naming the bad field; called before anything is queued. */
export function validateAppend(rec: WalAppend): void {
  if (!Number.isInteger(rec.partition) || rec.partition < 0 || rec.partition > 0x7fffffff) {
    throw new RangeError(`WAL append: partition ${rec.partition} is not a non-negative int32`);
  }
  if (!Number.isInteger(rec.leaderEpoch) || rec.leaderEpoch < -1 || rec.leaderEpoch > 0x7fffffff) {
    throw new RangeError(`WAL append: leaderEpoch ${rec.leaderEpoch} is not an int32 >= -1`);
  }
  if (typeof rec.baseOffset !== 'bigint' || rec.baseOffset < INT64_MIN || rec.baseOffset > INT64_MAX) {
    throw new RangeError(`WAL append: baseOffset ${rec.baseOffset} is not an int64 bigint`);
  }
  if (typeof rec.lastOffset !== 'bigint' || rec.lastOffset < rec.baseOffset || rec.lastOffset > INT64_MAX) {
    throw new RangeError(`WAL append: lastOffset ${rec.lastOffset} must be an int64 bigint >= baseOffset`);
  }
  if (!Buffer.isBuffer(rec.data)) throw new TypeError('WAL append: data must be a Buffer');
}

export function frameSize(dataLength: number): number {
  return FRAME_OVERHEAD_BYTES + dataLength;
}

/**
 * Writes one frame at `at` and returns its end. The data is copied once, straight into the batch
 * buffer, and the crc is computed over the bytes in place.
 */
export function encodeFrame(buf: Buffer, at: number, rec: WalAppend, topicId: Buffer): number {
  const bodyLength = FRAME_BODY_HEADER_BYTES + rec.data.length;
  let p = at;
  buf.writeUInt32BE(bodyLength, p);
  p += FRAME_PREFIX_BYTES; // crc written last
  const bodyStart = p;
  buf.writeInt8(FRAME_TYPE_BATCH, p);
  p += 1;
  topicId.copy(buf, p);
  p += 16;
  buf.writeInt32BE(rec.partition, p);
  p += 4;
  buf.writeBigInt64BE(rec.baseOffset, p);
  p += 8;
  buf.writeBigInt64BE(rec.lastOffset, p);
  p += 8;
  buf.writeInt32BE(rec.leaderEpoch, p);
  p += 4;
  buf.set(rec.data, p);
  p += rec.data.length;
  buf.writeUInt32BE(crc32c(buf.subarray(bodyStart, p)), at + 4);
  return p;
}

export interface ScanResult {
  /** End of the longest valid prefix of frames. */
  end: number;
  /** Why the scan stopped before the end of the buffer; null when every byte was valid. */
  problem: string | null;
}

/**
 * Walks the frames of a file body from `start`, calling `visit` for each valid one (its `data` is a
 * view into `buf`, not a copy). Stops at the first frame that is torn, zeroed, longer than the bytes
 * left, of an unknown type, or fails its crc.
 */
export function scanFrames(
  buf: Buffer,
  file: number,
  start: number,
  visit?: (rec: WalRecord) => void,
): ScanResult {
  let at = start;
  while (at < buf.length) {
    const left = buf.length - at;
    if (left < FRAME_PREFIX_BYTES) return { end: at, problem: `torn frame header (${left} bytes)` };
    const length = buf.readUInt32BE(at);
    if (length < FRAME_BODY_HEADER_BYTES) {
      return { end: at, problem: length === 0 ? 'zeroed bytes' : `frame length ${length} below the minimum` };
    }
    if (length > left - FRAME_PREFIX_BYTES) {
      return { end: at, problem: `frame length ${length} runs past the end of the file (${left - FRAME_PREFIX_BYTES} bytes left)` };
    }
    const bodyStart = at + FRAME_PREFIX_BYTES;
    const end = bodyStart + length;
    if (crc32c(buf.subarray(bodyStart, end)) !== buf.readUInt32BE(at + 4)) return { end: at, problem: 'crc mismatch' };
    const type = buf.readInt8(bodyStart);
    if (type !== FRAME_TYPE_BATCH) return { end: at, problem: `unknown frame type ${type}` };
    if (visit) visit(decodeFrameBody(buf, bodyStart, end, { file, offset: at, end }));
    at = end;
  }
  return { end: at, problem: null };
}

function decodeFrameBody(buf: Buffer, bodyStart: number, end: number, position: WalPosition): WalRecord {
  let p = bodyStart + 1;
  const hex = buf.toString('hex', p, p + 16);
  p += 16;
  const topicId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const partition = buf.readInt32BE(p);
  const baseOffset = buf.readBigInt64BE(p + 4);
  const lastOffset = buf.readBigInt64BE(p + 12);
  const leaderEpoch = buf.readInt32BE(p + 20);
  const data = buf.subarray(p + 24, end);
  return { topicId, partition, baseOffset, lastOffset, leaderEpoch, data, position };
}
