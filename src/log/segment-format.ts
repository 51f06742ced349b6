// The segment object: a partition's record batches, back to back exactly as produced (so a range of
// it is a valid Fetch records field), followed by a footer index and a fixed trailer.
//
//   [batch 0][batch 1]...[batch n-1]
//   [index entry]*n      baseOffset int64, position uint32, maxTimestamp int64   (20 bytes each)
//   [trailer]            magic "SHSG" uint32, version uint16, reserved uint16,
//                        indexPosition uint32, entryCount uint32, crc32c uint32   (20 bytes)
//
// The CRC covers the index entries and the trailer up to the CRC, so a reader that fetched the
// object's end can trust the index before using it to range-read batches. Integers big-endian.
// Pure: no I/O.
import { crc32c } from '@node-rs/crc32';
import { randomBytes } from 'node:crypto';
import { BatchHeader } from '../protocol/records/index.js';

export const SEGMENT_MAGIC = 0x53485347; // "SHSG"
export const SEGMENT_VERSION = 1;
export const INDEX_ENTRY_BYTES = 20;
export const TRAILER_BYTES = 20;

export interface SegmentIndexEntry {
  baseOffset: bigint;
  /** Byte position of the batch in the object. */
  position: number;
  maxTimestamp: bigint;
}

export interface SegmentIndex {
  entries: SegmentIndexEntry[];
  /** End of the batch data = start of the index; the last batch ends here. */
  dataEnd: number;
}

export interface EncodedSegment {
  body: Buffer;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  index: SegmentIndex;
}

export class SegmentFormatError extends Error {
  override readonly name = 'SegmentFormatError';
}

/** `topics/<topicId>/<partition>/<baseOffset 20 digits>-<epoch>-<random>.seg`; unique so retries are safe. */
export function segmentKey(topicId: string, partition: number, baseOffset: bigint, leaderEpoch: number): string {
  return `${partitionPrefix(topicId, partition)}${baseOffset.toString().padStart(20, '0')}-${leaderEpoch}-${randomBytes(6).toString('hex')}.seg`;
}

export function partitionPrefix(topicId: string, partition: number): string {
  return `topics/${topicId}/${partition}/`;
}

/** The topic id and partition of a segment key, or null for any other key. */
export function parseSegmentKey(key: string): { topicId: string; partition: number; baseOffset: bigint } | null {
  const m = /^topics\/([0-9a-f-]{36})\/(\d+)\/(\d{20})-\d+-[0-9a-f]+\.seg$/.exec(key);
  if (!m) return null;
  return { topicId: m[1], partition: Number(m[2]), baseOffset: BigInt(m[3]) };
}

/** Builds one object from whole, offset-patched batches in offset order. */
export function encodeSegment(batches: readonly Buffer[]): EncodedSegment {
  if (batches.length === 0) throw new SegmentFormatError('a segment needs at least one batch');
  let dataBytes = 0;
  for (const b of batches) dataBytes += b.length;
  const total = dataBytes + batches.length * INDEX_ENTRY_BYTES + TRAILER_BYTES;
  if (total > 0xffffffff) throw new SegmentFormatError(`segment of ${total} bytes exceeds the 4 GiB format limit`);
  const body = Buffer.allocUnsafe(total);
  const entries: SegmentIndexEntry[] = [];
  let pos = 0;
  let maxTimestamp = -1n;
  let lastOffset = -1n;
  for (const b of batches) {
    b.copy(body, pos);
    const h = new BatchHeader(b);
    const ts = h.maxTimestamp;
    entries.push({ baseOffset: h.baseOffset, position: pos, maxTimestamp: ts });
    if (ts > maxTimestamp) maxTimestamp = ts;
    lastOffset = h.lastOffset;
    pos += b.length;
  }
  const indexPosition = pos;
  for (const e of entries) {
    body.writeBigInt64BE(e.baseOffset, pos);
    body.writeUInt32BE(e.position, pos + 8);
    body.writeBigInt64BE(e.maxTimestamp, pos + 12);
    pos += INDEX_ENTRY_BYTES;
  }
  body.writeUInt32BE(SEGMENT_MAGIC, pos);
  body.writeUInt16BE(SEGMENT_VERSION, pos + 4);
  body.writeUInt16BE(0, pos + 6);
  body.writeUInt32BE(indexPosition, pos + 8);
  body.writeUInt32BE(entries.length, pos + 12);
  body.writeUInt32BE(crc32c(body.subarray(indexPosition, pos + 16)) >>> 0, pos + 16);
  return { body, baseOffset: entries[0].baseOffset, lastOffset, maxTimestamp, index: { entries, dataEnd: indexPosition } };
}

/** Bytes the index and trailer take for `entryCount` batches. */
export function footerBytes(entryCount: number): number {
  return entryCount * INDEX_ENTRY_BYTES + TRAILER_BYTES;
}

/**
 * Parses the trailer at the end of `tail`, which holds the object's last bytes (`objectSize` in all).
 * Returns the index, or the number of bytes from the end needed when `tail` is too short.
 */
export function decodeFooter(tail: Buffer, objectSize: number, key: string): SegmentIndex | { need: number } {
  if (tail.length < TRAILER_BYTES) throw new SegmentFormatError(`segment ${key}: ${tail.length} bytes is too short for the trailer`);
  const t = tail.length - TRAILER_BYTES;
  const magic = tail.readUInt32BE(t);
  if (magic !== SEGMENT_MAGIC) throw new SegmentFormatError(`segment ${key}: bad trailer magic 0x${magic.toString(16)} (not a StreamHouse segment, or truncated)`);
  const version = tail.readUInt16BE(t + 4);
  if (version !== SEGMENT_VERSION) throw new SegmentFormatError(`segment ${key}: format version ${version} is not supported (expected ${SEGMENT_VERSION}); upgrade StreamHouse`);
  const indexPosition = tail.readUInt32BE(t + 8);
  const count = tail.readUInt32BE(t + 12);
  const need = footerBytes(count);
  if (indexPosition + need !== objectSize) {
    throw new SegmentFormatError(`segment ${key}: index at ${indexPosition} with ${count} entries does not end at the object size ${objectSize}`);
  }
  if (tail.length < need) return { need };
  const start = tail.length - need;
  const crc = crc32c(tail.subarray(start, tail.length - 4)) >>> 0;
  if (crc !== tail.readUInt32BE(t + 16)) throw new SegmentFormatError(`segment ${key}: index CRC mismatch (object corrupt)`);
  const entries: SegmentIndexEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const p = start + i * INDEX_ENTRY_BYTES;
    entries[i] = { baseOffset: tail.readBigInt64BE(p), position: tail.readUInt32BE(p + 8), maxTimestamp: tail.readBigInt64BE(p + 12) };
  }
  return { entries, dataEnd: indexPosition };
}

/** Index of the batch holding `offset`: the last entry whose baseOffset <= offset (0 if none). */
export function findEntry(index: SegmentIndex, offset: bigint): number {
  let lo = 0;
  let hi = index.entries.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.entries[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** End position of batch `i`. */
export function entryEnd(index: SegmentIndex, i: number): number {
  return i + 1 < index.entries.length ? index.entries[i + 1].position : index.dataEnd;
}
