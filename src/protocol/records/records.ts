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

/** A varint length followed by that many bytes; -1 is null. */
function lengthPrefixed(r: Reader, end: number, index: number, count: number, field: string): Buffer | null {
  const n = r.varint();
  if (r.error !== null) throw invalid(index, count, `${field} length: ${r.error}`);
  if (r.offset > end) throw invalid(index, count, `${field} length runs past the record's declared length`);
  if (n === -1) return null;
  if (n < -1) throw invalid(index, count, `negative ${field} length ${n}`);
  if (n > end - r.offset) throw invalid(index, count, `${field} length ${n} exceeds the ${end - r.offset} bytes left in the record`);
  return r.raw(n);
}

/**
 * Iterates `count` records in `data` (the uncompressed records region of a batch). Throws
 * RecordsError(INVALID_RECORD) on the first malformed record and when bytes are left over.
 */
export function* iterateRecords(data: Buffer, count: number): Generator<KafkaRecord, void, undefined> {
  if (count < 0) throw new RecordsError('INVALID_RECORD', `negative record count ${count}`);
  if (count > data.length / MIN_RECORD_SIZE) {
    throw new RecordsError(
      'INVALID_RECORD',
      `batch claims ${count} records but its ${data.length} record bytes can hold at most ${Math.floor(data.length / MIN_RECORD_SIZE)}`,
    );
  }
  const r = new Reader(data);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (r.error !== null) throw invalid(i, count, `length: ${r.error}`);
    if (length < 0 || length > r.remaining) {
      throw invalid(i, count, `length ${length} does not fit the ${r.remaining} bytes left`);
    }
    const end = r.offset + length;
    const attributes = r.int8();
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    if (r.error !== null) throw invalid(i, count, r.error);
    if (r.offset > end) throw invalid(i, count, `declared length ${length} is too short for its fixed fields`);
    const key = lengthPrefixed(r, end, i, count, 'key');
    const value = lengthPrefixed(r, end, i, count, 'value');
    const headerCount = r.varint();
    if (r.error !== null) throw invalid(i, count, `header count: ${r.error}`);
    // A header takes at least two bytes (an empty key and a null value).
    if (r.offset > end) throw invalid(i, count, `header count runs past the record's declared length ${length}`);
    if (headerCount < 0 || headerCount * 2 > end - r.offset) {
      throw invalid(i, count, `header count ${headerCount} does not fit the ${end - r.offset} bytes left`);
    }
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const k = lengthPrefixed(r, end, i, count, `header ${h} key`);
      if (k === null) throw invalid(i, count, `header ${h} has a null key`);
      headers[h] = { key: k.toString('utf8'), value: lengthPrefixed(r, end, i, count, `header ${h} value`) };
    }
    if (r.offset !== end) {
      throw invalid(i, count, `declared ${length} bytes but its fields take ${r.offset - (end - length)}`);
    }
    yield { attributes, timestampDelta, offsetDelta, key, value, headers };
  }
  if (r.remaining !== 0) {
    throw new RecordsError('INVALID_RECORD', `${r.remaining} bytes left after the batch's ${count} records`);
  }
}

/** Array form of `iterateRecords`. */
export function decodeRecords(data: Buffer, count: number): KafkaRecord[] {
  return Array.from(iterateRecords(data, count));
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
  const out: BatchRecord[] = [];
  for (const rec of iterateRecords(data, header.recordCount)) {
    out.push({
      ...rec,
      offset: baseOffset + BigInt(rec.offsetDelta),
      timestamp: logAppendTime ?? baseTimestamp + rec.timestampDelta,
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
