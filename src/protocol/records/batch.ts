// Record batch v2 (magic 2): header layout, a zero-copy header view, splitting a records field
// into batches, the broker-side validation rules, and in-place patches.
//
// Produced batches are stored and served as the client's bytes (DESIGN.md, "never re-encode on
// the hot path"). Everything here reads fixed header offsets and runs one native CRC-32C over
// the batch; nothing allocates per record.

import { crc32c } from '@node-rs/crc32';
import { RECORDS_OK, fault, RecordsError, type RecordsCheck, type RecordsFault } from './errors.js';
import { legacyMessageFault } from './legacy.js';

// Header layout. Offsets are from the start of the batch.
export const BASE_OFFSET_OFFSET = 0; // int64
export const BATCH_LENGTH_OFFSET = 8; // int32: bytes after this field
export const PARTITION_LEADER_EPOCH_OFFSET = 12; // int32
export const MAGIC_OFFSET = 16; // int8
export const CRC_OFFSET = 17; // uint32, CRC-32C of ATTRIBUTES_OFFSET..end
export const ATTRIBUTES_OFFSET = 21; // int16
export const LAST_OFFSET_DELTA_OFFSET = 23; // int32
export const BASE_TIMESTAMP_OFFSET = 27; // int64
export const MAX_TIMESTAMP_OFFSET = 35; // int64
export const PRODUCER_ID_OFFSET = 43; // int64
export const PRODUCER_EPOCH_OFFSET = 51; // int16
export const BASE_SEQUENCE_OFFSET = 53; // int32
export const RECORDS_COUNT_OFFSET = 57; // int32
export const RECORDS_OFFSET = 61;

/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
/** Size of a v2 header, i.e. of a batch with no record bytes. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** Kafka's smallest legal entry in a records field (a v0 message): shorter sizes are corruption. */
export const MIN_ENTRY_BATCH_LENGTH = 14;

export const MAGIC_V2 = 2;

// Attribute bits.
export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08; // set: LogAppendTime
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const CompressionType = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionType;
export type CompressionCode = (typeof CompressionType)[CompressionName];
const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The codec name for an attributes compression code, or undefined for 5..7. */
export function compressionName(code: number): CompressionName | undefined {
  return COMPRESSION_NAMES[code];
}

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1n;

/** Produce v7 introduced zstd (KIP-110); older requests may not carry it. */
export const MIN_PRODUCE_VERSION_FOR_ZSTD = 7;

/**
 * A read-only view of a v2 batch header at `start` of `buf`. Fields are read on access, so
 * constructing one copies nothing. The constructor only checks that the fixed header fits.
 */
export class BatchHeader {
  constructor(
    readonly buf: Buffer,
    readonly start = 0,
  ) {
    if (buf.length - start < RECORD_BATCH_OVERHEAD) {
      throw new RecordsError(
        'CORRUPT_MESSAGE',
        `record batch at byte ${start} has ${buf.length - start} bytes, fewer than the ${RECORD_BATCH_OVERHEAD}-byte v2 header`,
      );
    }
  }

  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(this.start + BASE_OFFSET_OFFSET);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.start + BATCH_LENGTH_OFFSET);
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.start + PARTITION_LEADER_EPOCH_OFFSET);
  }
  get magic(): number {
    return this.buf.readInt8(this.start + MAGIC_OFFSET);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.start + CRC_OFFSET);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.start + ATTRIBUTES_OFFSET);
  }
  get compression(): number {
    return this.attributes & COMPRESSION_CODEC_MASK;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime';
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_FLAG_MASK) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.start + LAST_OFFSET_DELTA_OFFSET);
  }
  get baseTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.start + BASE_TIMESTAMP_OFFSET);
  }
  get maxTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.start + MAX_TIMESTAMP_OFFSET);
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.start + PRODUCER_ID_OFFSET);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.start + PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.start + BASE_SEQUENCE_OFFSET);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.start + RECORDS_COUNT_OFFSET);
  }

  /** Whole batch size on the wire, per its length field. */
  get sizeInBytes(): number {
    return LOG_OVERHEAD + this.batchLength;
  }
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  get nextOffset(): bigint {
    return this.lastOffset + 1n;
  }
  /** Sequence of the last record; wraps at int32 like Kafka's DefaultRecordBatch.lastSequence. */
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base === NO_SEQUENCE) return NO_SEQUENCE;
    return (base + this.lastOffsetDelta) % 0x80000000;
  }

  /** The record bytes (compressed when `compression` is not 0), as a view. */
  recordsData(): Buffer {
    return this.buf.subarray(this.start + RECORDS_OFFSET, this.start + this.sizeInBytes);
  }

  /** All fields as a plain object, for logs and tests. */
  toJSON(): BatchHeaderFields {
    return {
      baseOffset: this.baseOffset,
      batchLength: this.batchLength,
      partitionLeaderEpoch: this.partitionLeaderEpoch,
      magic: this.magic,
      crc: this.crc,
      attributes: this.attributes,
      lastOffsetDelta: this.lastOffsetDelta,
      baseTimestamp: this.baseTimestamp,
      maxTimestamp: this.maxTimestamp,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
      recordCount: this.recordCount,
    };
  }
}

export interface BatchHeaderFields {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** CRC-32C of attributes..end of the batch starting at `start`, as the header stores it. */
export function computeBatchCrc(buf: Buffer, start = 0, end = buf.length): number {
  return crc32c(buf.subarray(start + ATTRIBUTES_OFFSET, end)) >>> 0;
}

/** Recomputes and stores the CRC of the batch that is exactly `buf`. */
export function writeBatchCrc(buf: Buffer): void {
  buf.writeUInt32BE(computeBatchCrc(buf), CRC_OFFSET);
}

// ---------------------------------------------------------------------------------------------
// Splitting a records field

/** Byte range [start, end) of one batch inside a records field. */
export interface BatchRange {
  start: number;
  end: number;
}

export type SplitResult = { ok: true; batches: BatchRange[] } | RecordsFault;

/**
 * Walks the concatenated batches of a records field by their length fields only (any magic),
 * so the caller can validate each. A trailing partial batch is corruption: Kafka silently
 * drops such a tail on append, but a produce carrying one means the client or the network
 * broke the frame, and accepting part of it would hide that.
 */
export function splitBatches(buf: Buffer): SplitResult {
  const batches: BatchRange[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const left = buf.length - pos;
    if (left < LOG_OVERHEAD) {
      return fault(
        'CORRUPT_MESSAGE',
        `records end with ${left} stray bytes at byte ${pos}, too few for a batch's offset and length`,
      );
    }
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_ENTRY_BATCH_LENGTH) {
      return fault(
        'CORRUPT_MESSAGE',
        `batch at byte ${pos} declares length ${batchLength}, less than the minimum record overhead ${MIN_ENTRY_BATCH_LENGTH}`,
      );
    }
    const size = LOG_OVERHEAD + batchLength;
    if (size > left) {
      return fault(
        'CORRUPT_MESSAGE',
        `batch at byte ${pos} declares ${size} bytes but only ${left} remain in the records (truncated request?)`,
      );
    }
    batches.push({ start: pos, end: pos + size });
    pos += size;
  }
  return { ok: true, batches };
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Who is appending, after Kafka's AppendOrigin: only client batches get the client rules. */
export type AppendOrigin = 'client' | 'coordinator' | 'replication';

export interface ValidateBatchOptions {
  /** Default 'client': control batches, empty batches and bad sequences are refused. */
  origin?: AppendOrigin;
  /** Produce request version; below 7 a zstd batch is UNSUPPORTED_COMPRESSION_TYPE. */
  produceVersion?: number;
  /** The topic's max.message.bytes; a larger batch is MESSAGE_TOO_LARGE. */
  maxBatchBytes?: number;
}

/**
 * Checks one batch that is exactly `batch` (a view from `splitBatches` is fine). Order follows
 * Kafka: framing and magic, CRC, codec, then LogValidator's client rules. Never decompresses.
 */
export function validateBatch(batch: Buffer, opts: ValidateBatchOptions = {}): RecordsCheck {
  const size = batch.length;
  if (size < MAGIC_OFFSET + 1) {
    return fault('CORRUPT_MESSAGE', `record batch of ${size} bytes is too short to hold its magic byte`);
  }
  const batchLength = batch.readInt32BE(BATCH_LENGTH_OFFSET);
  if (batchLength + LOG_OVERHEAD !== size) {
    return fault(
      'CORRUPT_MESSAGE',
      `record batch length field says ${batchLength + LOG_OVERHEAD} bytes but the batch has ${size}`,
    );
  }
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    if (magic === 0 || magic === 1) return legacyMessageFault(magic, opts.produceVersion);
    return fault('CORRUPT_MESSAGE', `invalid magic ${magic} in record batch (expected 2)`);
  }
  if (size < RECORD_BATCH_OVERHEAD) {
    return fault(
      'CORRUPT_MESSAGE',
      `record batch of ${size} bytes is shorter than the ${RECORD_BATCH_OVERHEAD}-byte v2 header`,
    );
  }
  if (opts.maxBatchBytes !== undefined && size > opts.maxBatchBytes) {
    return fault(
      'MESSAGE_TOO_LARGE',
      `record batch of ${size} bytes exceeds the topic's max.message.bytes (${opts.maxBatchBytes}); send smaller batches or raise the limit`,
    );
  }
  const stored = batch.readUInt32BE(CRC_OFFSET);
  const computed = computeBatchCrc(batch);
  if (stored !== computed) {
    return fault(
      'CORRUPT_MESSAGE',
      `record batch is corrupt (stored crc = ${stored}, computed crc = ${computed})`,
    );
  }
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_CODEC_MASK;
  if (codec > CompressionType.zstd) {
    return fault('INVALID_RECORD', `unknown compression type id ${codec} in record batch attributes`);
  }
  if (
    codec === CompressionType.zstd &&
    opts.produceVersion !== undefined &&
    opts.produceVersion < MIN_PRODUCE_VERSION_FOR_ZSTD
  ) {
    return fault(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `Produce requests with version ${opts.produceVersion} are not allowed to use ZStandard compression; upgrade the client to produce v7+`,
    );
  }
  if ((opts.origin ?? 'client') !== 'client') return RECORDS_OK;

  const lastOffsetDelta = batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
  const count = batch.readInt32BE(RECORDS_COUNT_OFFSET);
  if (lastOffsetDelta < 0) {
    return fault('INVALID_RECORD', `batch has an invalid offset range: lastOffsetDelta ${lastOffsetDelta}`);
  }
  if (count <= 0) {
    return fault('INVALID_RECORD', `invalid reported count for record batch: ${count} (a produced batch needs at least one record)`);
  }
  if (lastOffsetDelta !== count - 1) {
    return fault(
      'INVALID_RECORD',
      `inconsistent batch offset range: lastOffsetDelta ${lastOffsetDelta} but ${count} records (expected ${count - 1})`,
    );
  }
  // Each uncompressed record takes at least 7 bytes; a larger count cannot be true.
  if (codec === CompressionType.none && count > (size - RECORD_BATCH_OVERHEAD) / MIN_RECORD_SIZE) {
    return fault(
      'INVALID_RECORD',
      `batch claims ${count} records but holds only ${size - RECORD_BATCH_OVERHEAD} record bytes`,
    );
  }
  if (attributes & CONTROL_FLAG_MASK) {
    return fault('INVALID_RECORD', 'Clients are not allowed to write control records');
  }
  // The high word's sign is the int64's sign; reading a bigint here would cost more than the rest.
  const hasProducerId = batch.readInt32BE(PRODUCER_ID_OFFSET) >= 0;
  const baseSequence = batch.readInt32BE(BASE_SEQUENCE_OFFSET);
  if (hasProducerId && baseSequence < 0) {
    return fault(
      'INVALID_RECORD',
      `invalid sequence number ${baseSequence} in record batch with producerId ${batch.readBigInt64BE(PRODUCER_ID_OFFSET)}`,
    );
  }
  return RECORDS_OK;
}

/** Smallest encoded record: length, attributes, timestamp and offset deltas, key, value, headers. */
export const MIN_RECORD_SIZE = 7;

export type ProduceRecordsResult = { ok: true; batch: BatchRange } | RecordsFault;

/**
 * The rules of Kafka's ProduceRequest.validateRecords plus `validateBatch`, for one partition's
 * `records` field: produce v3+ (all Kafka 4 accepts) carries exactly one v2 batch per partition.
 */
export function validateProduceRecords(records: Buffer, opts: ValidateBatchOptions = {}): ProduceRecordsResult {
  const v = opts.produceVersion ?? 3;
  // The common case, one batch filling the field, needs no walk.
  if (records.length >= LOG_OVERHEAD && records.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD === records.length) {
    const magic = records.length > MAGIC_OFFSET ? records.readInt8(MAGIC_OFFSET) : -1;
    if (magic === MAGIC_V2) {
      const check = validateBatch(records, opts);
      return check.ok ? { ok: true, batch: { start: 0, end: records.length } } : check;
    }
  }
  const split = splitBatches(records);
  if (!split.ok) return split;
  if (split.batches.length === 0) {
    return fault('INVALID_RECORD', `Produce requests with version ${v} must have at least one record batch per partition`);
  }
  const range = split.batches[0];
  const batch = records.subarray(range.start, range.end);
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    if (magic === 0 || magic === 1) return legacyMessageFault(magic, v);
    return fault('CORRUPT_MESSAGE', `invalid magic ${magic} in record batch (expected 2)`);
  }
  if (split.batches.length > 1) {
    return fault(
      'INVALID_RECORD',
      `Produce requests with version ${v} are only allowed to contain exactly one record batch per partition (got ${split.batches.length})`,
    );
  }
  const check = validateBatch(batch, opts);
  return check.ok ? { ok: true, batch: range } : check;
}

// ---------------------------------------------------------------------------------------------
// In-place patches

/**
 * Stamps the broker-assigned base offset and the leader epoch into a validated batch. Neither
 * field is covered by the CRC, so the client's checksum stays valid.
 */
export function patchBatch(batch: Buffer, baseOffset: bigint, leaderEpoch: number): void {
  batch.writeBigInt64BE(baseOffset, BASE_OFFSET_OFFSET);
  batch.writeInt32BE(leaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * For LogAppendTime topics: marks the batch's timestamps as broker time and sets maxTimestamp,
 * which consumers then report for every record. Both fields are under the CRC, so it is
 * recomputed (the one re-hash the design allows).
 */
export function setLogAppendTime(batch: Buffer, timestamp: bigint | number): void {
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  batch.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, ATTRIBUTES_OFFSET);
  batch.writeBigInt64BE(BigInt(timestamp), MAX_TIMESTAMP_OFFSET);
  writeBatchCrc(batch);
}
