// Records inside a v2 batch, for the features that need them (compaction, schema validation,
// console views). The hot produce path never comes here.
//
// Record =>
//   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//   key varint-length bytes (-1 null), value varint-length bytes (-1 null),
//   headers: count varint, then per header key varint-length string, value varint-length bytes (-1 null)
//
// Decoding is bounded by the bytes given: a declared count or length that cannot fit is refused
// before any work, and every problem surfaces as a RecordsError(INVALID_RECORD) naming the
// record and the field, never as a RangeError from deep inside a Buffer read.

import { Reader, Writer } from '../primitives.js';
import { RecordsError } from './errors.js';
import { BatchHeader, MIN_RECORD_SIZE, compressionName } from './batch.js';
import { decompress } from './compression.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record as encoded; key, value and header values are views into the decoded bytes. */
export interface KafkaRecord {
  attributes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A record with the batch's base offset and timestamp applied. */
export interface BatchRecord extends KafkaRecord {
  offset: bigint;
  timestamp: bigint;
}

function invalid(index: number, count: number, what: string): RecordsError {
  return new RecordsError('INVALID_RECORD', `record ${index} of ${count}: ${what}`);
}

/** Header positions whose keys are remembered across records; later headers are decoded each time. */
const MAX_CACHED_HEADER_KEYS = 8;

/**
 * Reads the records of one records region, one at a time, into its own fields. Callers build
 * their result objects from those fields in one literal, so every record object has one shape
 * and nothing is copied or spread. Schema validation decodes every produced record through here.
 */
class RecordCursor {
  private readonly r: Reader;
  private readonly count: number;
  private index = 0;
  attributes = 0;
  /** A number when it is a safe integer (always, for real producers), else a bigint. */
  timestampDelta: number | bigint = 0;
  offsetDelta = 0;
  key: Buffer | null = null;
  value: Buffer | null = null;
  headers: RecordHeader[] = [];
  private readonly keyCache: Array<{ start: number; length: number; key: string }> = [];

  constructor(data: Buffer, count: number) {
    if (count < 0) throw new RecordsError('INVALID_RECORD', `negative record count ${count}`);
    if (count > data.length / MIN_RECORD_SIZE) {
      throw new RecordsError(
        'INVALID_RECORD',
        `batch claims ${count} records but its ${data.length} record bytes can hold at most ${Math.floor(data.length / MIN_RECORD_SIZE)}`,
      );
    }
    this.r = new Reader(data);
    this.count = count;
  }

  /** Reads the next record; false once all are read (and checked to fill the region exactly). */
  next(): boolean {
    const r = this.r;
    const i = this.index;
    const count = this.count;
    if (i === count) {
      if (r.remaining !== 0) {
        throw new RecordsError('INVALID_RECORD', `${r.remaining} bytes left after the batch's ${count} records`);
      }
      return false;
    }
    const length = r.varint();
    if (r.error !== null) throw invalid(i, count, `length: ${r.error}`);
    if (length < 0 || length > r.remaining) {
      throw invalid(i, count, `length ${length} does not fit the ${r.remaining} bytes left`);
    }
    const end = r.offset + length;
    this.attributes = r.int8();
    this.timestampDelta = r.varlongNumber();
    this.offsetDelta = r.varint();
    if (r.error !== null) throw invalid(i, count, r.error);
    if (r.offset > end) throw invalid(i, count, `declared length ${length} is too short for its fixed fields`);
    this.key = this.lengthPrefixed(end, 'key');
    this.value = this.lengthPrefixed(end, 'value');
    const headerCount = r.varint();
    if (r.error !== null) throw invalid(i, count, `header count: ${r.error}`);
    if (r.offset > end) throw invalid(i, count, `header count runs past the record's declared length ${length}`);
    // A header takes at least two bytes (an empty key and a null value).
    if (headerCount < 0 || headerCount * 2 > end - r.offset) {
      throw invalid(i, count, `header count ${headerCount} does not fit the ${end - r.offset} bytes left`);
    }
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = this.length(end, 'key', h);
      if (keyLength === -1) throw invalid(i, count, `header ${h} has a null key`);
      const key = this.headerKey(h, r.offset, keyLength);
      r.offset += keyLength;
      headers.push({ key, value: this.lengthPrefixed(end, 'value', h) });
    }
    this.headers = headers;
    if (r.offset !== end) {
      throw invalid(i, count, `declared ${length} bytes but its fields take ${r.offset - (end - length)}`);
    }
    this.index = i + 1;
    return true;
  }

  /**
   * The header key at `start`. Producers send the same few keys on every record, so the string
   * decoded for header `h` of an earlier record is reused when the bytes match.
   */
  private headerKey(h: number, start: number, length: number): string {
    const buf = this.r.buf;
    if (h < this.keyCache.length) {
      const cached = this.keyCache[h];
      if (cached.length === length) {
        let same = true;
        for (let b = 0; b < length && same; b++) same = buf[start + b] === buf[cached.start + b];
        if (same) return cached.key;
      }
    }
    const key = buf.toString('utf8', start, start + length);
    if (h < this.keyCache.length) this.keyCache[h] = { start, length, key };
    else if (h === this.keyCache.length && h < MAX_CACHED_HEADER_KEYS) this.keyCache.push({ start, length, key });
    return key;
  }

  /** A varint length that fits before `end`; -1 is null. `header` is -1 outside the headers. */
  private length(end: number, field: string, header: number): number {
    const r = this.r;
    const n = r.varint();
    if (r.error === null && r.offset <= end && n >= -1 && n <= end - r.offset) return n;
    const name = header < 0 ? field : `header ${header} ${field}`;
    const i = this.index;
    if (r.error !== null) throw invalid(i, this.count, `${name} length: ${r.error}`);
    if (r.offset > end) throw invalid(i, this.count, `${name} length runs past the record's declared length`);
    if (n < -1) throw invalid(i, this.count, `negative ${name} length ${n}`);
    throw invalid(i, this.count, `${name} length ${n} exceeds the ${end - r.offset} bytes left in the record`);
  }

  /** A varint length followed by that many bytes, as a view; -1 is null. */
  private lengthPrefixed(end: number, field: string, header = -1): Buffer | null {
    const n = this.length(end, field, header);
    if (n === -1) return null;
    const r = this.r;
    const start = r.offset;
    r.offset = start + n;
    return r.buf.subarray(start, start + n);
  }
}

/**
 * Iterates `count` records in `data` (the uncompressed records region of a batch). Throws
 * RecordsError(INVALID_RECORD) on the first malformed record and when bytes are left over.
 */
export function* iterateRecords(data: Buffer, count: number): Generator<KafkaRecord, void, undefined> {
  const c = new RecordCursor(data, count);
  while (c.next()) {
    yield {
      attributes: c.attributes,
      timestampDelta: toBigInt(c.timestampDelta),
      offsetDelta: c.offsetDelta,
      key: c.key,
      value: c.value,
      headers: c.headers,
    };
  }
}

/** Array form of `iterateRecords`. */
export function decodeRecords(data: Buffer, count: number): KafkaRecord[] {
  const c = new RecordCursor(data, count);
  const out: KafkaRecord[] = [];
  while (c.next()) {
    out.push({
      attributes: c.attributes,
      timestampDelta: toBigInt(c.timestampDelta),
      offsetDelta: c.offsetDelta,
      key: c.key,
      value: c.value,
      headers: c.headers,
    });
  }
  return out;
}

export interface ReadRecordsOptions {
  /** Cap on the decompressed record bytes (compression bombs). Required: there is no safe default. */
  maxUncompressedBytes: number;
}

/** The uncompressed records region of a whole batch (a view when it is not compressed). */
export async function batchRecordsData(batch: Buffer, opts: ReadRecordsOptions): Promise<Buffer> {
  const header = new BatchHeader(batch);
  const data = header.recordsData();
  const codec = compressionName(header.compression);
  if (codec === undefined) {
    throw new RecordsError('INVALID_RECORD', `unknown compression type id ${header.compression} in record batch attributes`);
  }
  return codec === 'none' ? data : decompress(codec, data, opts.maxUncompressedBytes);
}

/** Offset and timestamp deltas are small and repeat in every batch: their bigints are made once. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

function toBigInt(n: number | bigint): bigint {
  if (typeof n === 'bigint') return n;
  return n >= 0 && n < SMALL_BIGINTS.length ? SMALL_BIGINTS[n] : BigInt(n);
}

/**
 * Decodes every record of a whole batch, decompressing under the cap, with absolute offsets and
 * timestamps (LogAppendTime batches report maxTimestamp for every record, as Kafka does).
 */
export async function readBatchRecords(batch: Buffer, opts: ReadRecordsOptions): Promise<BatchRecord[]> {
  const header = new BatchHeader(batch);
  const data = await batchRecordsData(batch, opts);
  const baseOffset = header.baseOffset;
  const baseTimestamp = header.baseTimestamp;
  const logAppendTime = header.timestampType === 'LogAppendTime' ? header.maxTimestamp : null;
  const c = new RecordCursor(data, header.recordCount);
  const out: BatchRecord[] = [];
  while (c.next()) {
    const timestampDelta = toBigInt(c.timestampDelta);
    out.push({
      attributes: c.attributes,
      timestampDelta,
      offsetDelta: c.offsetDelta,
      key: c.key,
      value: c.value,
      headers: c.headers,
      offset: baseOffset + toBigInt(c.offsetDelta),
      timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding (for the batch builder)

export type Bytes = Uint8Array | string;

export interface RecordInput {
  key?: Bytes | null;
  value?: Bytes | null;
  headers?: ReadonlyArray<{ key: string; value: Bytes | null }>;
  /** Absolute timestamp in ms; the builder turns it into a delta. */
  timestamp?: bigint | number;
}

function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

function writeNullable(w: Writer, b: Bytes | null | undefined): void {
  if (b === null || b === undefined) {
    w.varint(-1);
    return;
  }
  const bytes = toBytes(b);
  w.varint(bytes.length);
  w.raw(bytes);
}

/**
 * Appends one record to `out`. `scratch` is reused across calls to measure the body, whose
 * length must precede it.
 */
export function writeRecord(
  out: Writer,
  scratch: Writer,
  rec: RecordInput,
  offsetDelta: number,
  timestampDelta: bigint,
  attributes = 0,
): void {
  scratch.offset = 0;
  scratch.int8(attributes);
  scratch.varlong(timestampDelta);
  scratch.varint(offsetDelta);
  writeNullable(scratch, rec.key);
  writeNullable(scratch, rec.value);
  const headers = rec.headers ?? [];
  scratch.varint(headers.length);
  for (const h of headers) {
    writeNullable(scratch, h.key);
    writeNullable(scratch, h.value);
  }
  out.varint(scratch.offset);
  out.raw(scratch.finish());
}
