// Encoding v2 batches from records: the broker's own control batches (transaction markers) and
// test fixtures. Client batches are never re-encoded (DESIGN.md), so this is off the hot path.

import { Writer } from '../primitives.js';
import {
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CompressionType,
  MAGIC_V2,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  compressionName,
  writeBatchCrc,
  type TimestampType,
} from './batch.js';
import { compress, type Codec, type CompressOptions } from './compression.js';
import { ControlRecordType, encodeControlKey, encodeEndTxnMarkerValue, type TxnMarker } from './control.js';
import { writeRecord, type RecordInput } from './records.js';

export interface BuildBatchOptions {
  records: readonly RecordInput[];
  baseOffset?: bigint; // default 0
  partitionLeaderEpoch?: number; // default -1
  compression?: Codec; // default 'none'
  snappyFraming?: CompressOptions['snappyFraming'];
  timestampType?: TimestampType; // default CreateTime
  transactional?: boolean;
  control?: boolean;
  producerId?: bigint; // default -1 (not idempotent)
  producerEpoch?: number; // default -1
  baseSequence?: number; // default -1
  /** Default: the first record's timestamp, else now. */
  baseTimestamp?: bigint | number;
}

interface EncodedRecords {
  bytes: Buffer;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
}

function encodeRecords(opts: BuildBatchOptions): EncodedRecords {
  const first = opts.records[0]?.timestamp;
  const baseTimestamp = BigInt(opts.baseTimestamp ?? first ?? Date.now());
  let maxTimestamp = opts.records.length === 0 ? baseTimestamp : -1n;
  const out = new Writer(1024);
  const scratch = new Writer(256);
  opts.records.forEach((rec, i) => {
    const ts = rec.timestamp === undefined ? baseTimestamp : BigInt(rec.timestamp);
    if (ts > maxTimestamp) maxTimestamp = ts;
    writeRecord(out, scratch, rec, i, ts - baseTimestamp);
  });
  return { bytes: out.finish(), baseTimestamp, maxTimestamp };
}

function codecCode(codec: Codec | undefined): number {
  if (codec === undefined) return CompressionType.none;
  if (typeof codec === 'number') return codec;
  return CompressionType[codec];
}

function assemble(opts: BuildBatchOptions, enc: EncodedRecords, recordsData: Buffer, codec: number): Buffer {
  let attributes = codec;
  if (opts.timestampType === 'LogAppendTime') attributes |= TIMESTAMP_TYPE_MASK;
  if (opts.transactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (opts.control) attributes |= CONTROL_FLAG_MASK;
  const w = new Writer(RECORDS_OFFSET + recordsData.length);
  w.int64(opts.baseOffset ?? 0n);
  w.int32(0); // batchLength, filled below
  w.int32(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
  w.int8(MAGIC_V2);
  w.uint32(0); // crc, filled below
  w.int16(attributes);
  w.int32(opts.records.length - 1);
  w.int64(enc.baseTimestamp);
  w.int64(enc.maxTimestamp);
  w.int64(opts.producerId ?? NO_PRODUCER_ID);
  w.int16(opts.producerEpoch ?? NO_PRODUCER_EPOCH);
  w.int32(opts.baseSequence ?? NO_SEQUENCE);
  w.int32(opts.records.length);
  w.raw(recordsData);
  const batch = w.finish();
  batch.writeInt32BE(batch.length - BATCH_LENGTH_OFFSET - 4, BATCH_LENGTH_OFFSET);
  writeBatchCrc(batch);
  return batch;
}

/** Encodes a batch, compressing the records when `compression` says so. */
export async function buildBatch(opts: BuildBatchOptions): Promise<Buffer> {
  const codec = codecCode(opts.compression);
  const enc = encodeRecords(opts);
  const data =
    codec === CompressionType.none ? enc.bytes : await compress(codec, enc.bytes, { snappyFraming: opts.snappyFraming });
  return assemble(opts, enc, data, codec);
}

/** Synchronous form of `buildBatch` for uncompressed batches. */
export function buildBatchSync(opts: BuildBatchOptions): Buffer {
  const codec = codecCode(opts.compression);
  if (codec !== CompressionType.none) {
    throw new Error(`buildBatchSync cannot compress (${compressionName(codec) ?? codec}); use buildBatch`);
  }
  const enc = encodeRecords(opts);
  return assemble(opts, enc, enc.bytes, codec);
}

export interface ControlBatchOptions {
  marker: TxnMarker;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  timestamp?: bigint | number; // default now
}

/**
 * A transaction marker batch: transactional + control, no sequence, one record whose key is the
 * ControlRecordType and whose value is the EndTransactionMarker. Never compressed.
 */
export function buildControlBatch(opts: ControlBatchOptions): Buffer {
  const type = opts.marker === 'commit' ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
  return buildBatchSync({
    records: [
      {
        key: encodeControlKey(type),
        value: encodeEndTxnMarkerValue(opts.coordinatorEpoch),
        timestamp: opts.timestamp ?? Date.now(),
      },
    ],
    baseOffset: opts.baseOffset,
    partitionLeaderEpoch: opts.partitionLeaderEpoch,
    transactional: true,
    control: true,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: NO_SEQUENCE,
  });
}
