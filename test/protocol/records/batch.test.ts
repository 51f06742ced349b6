import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_LENGTH_OFFSET,
  BatchHeader,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  computeBatchCrc,
  patchBatch,
  setLogAppendTime,
  splitBatches,
  validateBatch,
  validateProduceRecords,
  writeBatchCrc,
} from '../../../src/protocol/records/batch.js';
import { buildBatch, buildBatchSync } from '../../../src/protocol/records/build.js';
import { decodeRecords, readBatchRecords } from '../../../src/protocol/records/records.js';
import type { RecordsCheck } from '../../../src/protocol/records/errors.js';
import { KAFKAJS_BASE_TIMESTAMP, KAFKAJS_GOLDEN_HEX, kafkajsBatch } from './kafkajs-fixtures.js';

const CAP = 1 << 20;

function sample(n = 3): Buffer {
  return buildBatchSync({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: 1000 + i })),
  });
}

/** Applies `mutate`, then rewrites the CRC so only the structural rule under test fails. */
function withValidCrc(batch: Buffer, mutate: (b: Buffer) => void): Buffer {
  const b = Buffer.from(batch);
  mutate(b);
  writeBatchCrc(b);
  return b;
}

function assertFault(check: RecordsCheck, error: string, pattern: RegExp): void {
  assert.equal(check.ok, false, 'expected a validation failure');
  if (check.ok) return;
  assert.equal(check.error, error, check.message);
  assert.match(check.message, pattern);
}

test('header offsets match the v2 layout', () => {
  assert.deepEqual(
    [BATCH_LENGTH_OFFSET, MAGIC_OFFSET, CRC_OFFSET, ATTRIBUTES_OFFSET, LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET],
    [8, 16, 17, 21, 23, 35],
  );
  assert.deepEqual([PRODUCER_ID_OFFSET, BASE_SEQUENCE_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET], [43, 53, 57, 61]);
});

test('CRC-32C known answer', () => {
  assert.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283);
});

test('kafkajs golden batch: CRC, header fields and records agree', () => {
  const golden = Buffer.from(KAFKAJS_GOLDEN_HEX, 'hex');
  assert.equal(computeBatchCrc(golden), golden.readUInt32BE(CRC_OFFSET));
  assert.equal(computeBatchCrc(golden), 0xdc292e46);
  assert.deepEqual(validateBatch(golden), { ok: true });
  const h = new BatchHeader(golden);
  assert.equal(h.magic, 2);
  assert.equal(h.recordCount, 2);
  assert.equal(h.lastOffsetDelta, 1);
  assert.equal(h.baseTimestamp, BigInt(KAFKAJS_BASE_TIMESTAMP));
  assert.equal(h.maxTimestamp, BigInt(KAFKAJS_BASE_TIMESTAMP + 7));
  assert.equal(h.sizeInBytes, golden.length);
  const recs = decodeRecords(h.recordsData(), h.recordCount);
  assert.equal(recs[0].key?.toString(), 'key-1');
  assert.deepEqual(recs[0].headers.map((x) => [x.key, x.value?.toString()]), [['trace', 'abc']]);
  assert.equal(recs[1].key, null);
  assert.equal(recs[1].timestampDelta, 7n);
});

test('kafkajs encoder output (live) equals the captured golden bytes and our builder', async () => {
  const live = await kafkajsBatch(false);
  assert.equal(live.toString('hex'), KAFKAJS_GOLDEN_HEX);
  const ours = buildBatchSync({
    records: [
      { key: 'key-1', value: 'value-1', headers: [{ key: 'trace', value: 'abc' }], timestamp: KAFKAJS_BASE_TIMESTAMP },
      { key: null, value: 'value-2', timestamp: KAFKAJS_BASE_TIMESTAMP + 7 },
    ],
    // kafkajs's non-idempotent defaults
    partitionLeaderEpoch: 0,
    producerEpoch: 0,
    baseSequence: 0,
  });
  assert.equal(ours.toString('hex'), KAFKAJS_GOLDEN_HEX);
});

test('kafkajs gzip batch validates and decodes', async () => {
  const batch = await kafkajsBatch(true);
  assert.equal(new BatchHeader(batch).compression, 1);
  assert.deepEqual(validateBatch(batch), { ok: true });
  const recs = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
  assert.deepEqual(
    recs.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()]),
    [
      [0n, BigInt(KAFKAJS_BASE_TIMESTAMP), 'key-1', 'value-1'],
      [1n, BigInt(KAFKAJS_BASE_TIMESTAMP + 7), null, 'value-2'],
    ],
  );
});

test('patchBatch sets base offset and leader epoch in place and keeps the CRC valid', () => {
  const batch = sample();
  const crcBefore = batch.readUInt32BE(CRC_OFFSET);
  const view = batch.subarray(0); // a view, as a produce request slice would be
  patchBatch(view, 123456789012n, 42);
  const h = new BatchHeader(batch);
  assert.equal(h.baseOffset, 123456789012n);
  assert.equal(h.partitionLeaderEpoch, 42);
  assert.equal(h.lastOffset, 123456789014n);
  assert.equal(h.crc, crcBefore);
  assert.deepEqual(validateBatch(batch), { ok: true });
});

test('setLogAppendTime sets the timestamp type and max timestamp and recomputes the CRC', async () => {
  const batch = sample();
  setLogAppendTime(batch, 1_800_000_000_000n);
  const h = new BatchHeader(batch);
  assert.equal(h.timestampType, 'LogAppendTime');
  assert.equal(h.maxTimestamp, 1_800_000_000_000n);
  assert.deepEqual(validateBatch(batch), { ok: true });
  const recs = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
  assert.ok(recs.every((r) => r.timestamp === 1_800_000_000_000n));
});

test('splitBatches walks concatenated batches', () => {
  const a = sample(1);
  const b = sample(4);
  const both = Buffer.concat([a, b]);
  const split = splitBatches(both);
  assert.ok(split.ok);
  assert.deepEqual(split.batches, [
    { start: 0, end: a.length },
    { start: a.length, end: a.length + b.length },
  ]);
  const empty = splitBatches(Buffer.alloc(0));
  assert.ok(empty.ok);
  assert.equal(empty.batches.length, 0);
});

test('splitBatches refuses a truncated tail, stray bytes and an undersized length', () => {
  const a = sample(2);
  assertFault(splitBatches(Buffer.concat([a, a.subarray(0, 30)])), 'CORRUPT_MESSAGE', /declares \d+ bytes but only 30 remain/);
  assertFault(splitBatches(Buffer.concat([a, Buffer.alloc(5)])), 'CORRUPT_MESSAGE', /5 stray bytes/);
  const tiny = Buffer.alloc(20);
  tiny.writeInt32BE(3, BATCH_LENGTH_OFFSET);
  assertFault(splitBatches(tiny), 'CORRUPT_MESSAGE', /less than the minimum record overhead/);
});

test('validateBatch: CRC mismatch is CORRUPT_MESSAGE', () => {
  const batch = sample();
  batch[batch.length - 2] ^= 0xff;
  assertFault(validateBatch(batch), 'CORRUPT_MESSAGE', /stored crc = \d+, computed crc = \d+/);
  const b2 = sample();
  b2.writeUInt32BE((b2.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
  assertFault(validateBatch(b2), 'CORRUPT_MESSAGE', /crc/);
});

test('validateBatch: batchLength that does not match the bytes is CORRUPT_MESSAGE', () => {
  const batch = sample();
  assertFault(validateBatch(batch.subarray(0, batch.length - 1)), 'CORRUPT_MESSAGE', /length field says/);
  assertFault(validateBatch(Buffer.concat([batch, Buffer.alloc(1)])), 'CORRUPT_MESSAGE', /length field says/);
  assertFault(validateBatch(batch.subarray(0, 10)), 'CORRUPT_MESSAGE', /too short/);
});

test('validateBatch: a header shorter than 61 bytes is CORRUPT_MESSAGE', () => {
  const b = Buffer.alloc(40);
  b.writeInt32BE(28, BATCH_LENGTH_OFFSET);
  b.writeInt8(2, MAGIC_OFFSET);
  assertFault(validateBatch(b), 'CORRUPT_MESSAGE', /shorter than the 61-byte v2 header/);
});

test('validateBatch: magic 0/1 is INVALID_RECORD, unknown magic is CORRUPT_MESSAGE', () => {
  for (const magic of [0, 1]) {
    const b = withValidCrc(sample(), (x) => x.writeInt8(magic, MAGIC_OFFSET));
    assertFault(validateBatch(b, { produceVersion: 9 }), 'INVALID_RECORD', /version 9 are only allowed to contain record batches with magic version 2/);
  }
  const b = withValidCrc(sample(), (x) => x.writeInt8(3, MAGIC_OFFSET));
  assertFault(validateBatch(b), 'CORRUPT_MESSAGE', /invalid magic 3/);
});

test('validateBatch: negative record count, empty batch and count/lastOffsetDelta mismatch are INVALID_RECORD', () => {
  const negative = withValidCrc(sample(), (b) => b.writeInt32BE(-1, RECORDS_COUNT_OFFSET));
  assertFault(validateBatch(negative), 'INVALID_RECORD', /invalid reported count.*-1/);

  const empty = withValidCrc(buildBatchSync({ records: [] }), (b) => b.writeInt32BE(0, LAST_OFFSET_DELTA_OFFSET));
  assertFault(validateBatch(empty), 'INVALID_RECORD', /invalid reported count for record batch: 0/);

  const noRecords = buildBatchSync({ records: [] }); // lastOffsetDelta -1
  assertFault(validateBatch(noRecords), 'INVALID_RECORD', /invalid offset range/);

  const mismatch = withValidCrc(sample(3), (b) => b.writeInt32BE(1, LAST_OFFSET_DELTA_OFFSET));
  assertFault(validateBatch(mismatch), 'INVALID_RECORD', /lastOffsetDelta 1 but 3 records/);

  const tooMany = withValidCrc(sample(3), (b) => {
    b.writeInt32BE(1000, RECORDS_COUNT_OFFSET);
    b.writeInt32BE(999, LAST_OFFSET_DELTA_OFFSET);
  });
  assertFault(validateBatch(tooMany), 'INVALID_RECORD', /claims 1000 records/);
});

test('validateBatch: a control batch from a client is INVALID_RECORD, from the coordinator it passes', () => {
  const b = withValidCrc(sample(1), (x) => x.writeInt16BE(x.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET));
  assertFault(validateBatch(b), 'INVALID_RECORD', /not allowed to write control records/);
  assert.deepEqual(validateBatch(b, { origin: 'coordinator' }), { ok: true });
});

test('validateBatch: compression codes 5-7 are INVALID_RECORD; zstd before produce v7 is UNSUPPORTED_COMPRESSION_TYPE', () => {
  for (const code of [5, 6, 7]) {
    const b = withValidCrc(sample(), (x) => x.writeInt16BE(code, ATTRIBUTES_OFFSET));
    assertFault(validateBatch(b), 'INVALID_RECORD', new RegExp(`unknown compression type id ${code}`));
  }
  const zstd = withValidCrc(sample(), (x) => x.writeInt16BE(4, ATTRIBUTES_OFFSET));
  assertFault(validateBatch(zstd, { produceVersion: 6 }), 'UNSUPPORTED_COMPRESSION_TYPE', /version 6 are not allowed to use ZStandard/);
  assert.deepEqual(validateBatch(zstd, { produceVersion: 7 }), { ok: true });
});

test('validateBatch: an idempotent batch without a sequence is INVALID_RECORD', () => {
  const b = buildBatchSync({ records: [{ value: 'x' }], producerId: 7n, producerEpoch: 0, baseSequence: -1 });
  assertFault(validateBatch(b), 'INVALID_RECORD', /invalid sequence number -1 in record batch with producerId 7/);
  const ok = withValidCrc(b, (x) => x.writeInt32BE(0, BASE_SEQUENCE_OFFSET));
  assert.deepEqual(validateBatch(ok), { ok: true });
});

test('validateBatch: maxBatchBytes gives MESSAGE_TOO_LARGE', () => {
  const b = sample(10);
  assertFault(validateBatch(b, { maxBatchBytes: 100 }), 'MESSAGE_TOO_LARGE', /max\.message\.bytes \(100\)/);
  assert.deepEqual(validateBatch(b, { maxBatchBytes: b.length }), { ok: true });
});

test('validateProduceRecords applies the produce v3+ rules', () => {
  const one = sample(2);
  const ok = validateProduceRecords(one, { produceVersion: 9 });
  assert.ok(ok.ok);
  assert.deepEqual(ok.batch, { start: 0, end: one.length });
  assertFault(validateProduceRecords(Buffer.alloc(0), { produceVersion: 9 }), 'INVALID_RECORD', /at least one record batch/);
  assertFault(validateProduceRecords(Buffer.concat([one, one]), { produceVersion: 9 }), 'INVALID_RECORD', /exactly one record batch/);
  const legacy = withValidCrc(one, (x) => x.writeInt8(1, MAGIC_OFFSET));
  assertFault(validateProduceRecords(legacy, { produceVersion: 3 }), 'INVALID_RECORD', /magic version 2/);
  const bad = Buffer.from(one);
  bad[bad.length - 1] ^= 1;
  assertFault(validateProduceRecords(bad), 'CORRUPT_MESSAGE', /crc/);
});

test('BatchHeader refuses a buffer shorter than the header', () => {
  assert.throws(() => new BatchHeader(Buffer.alloc(60)), /fewer than the 61-byte v2 header/);
  const b = Buffer.concat([Buffer.alloc(5), sample()]);
  assert.equal(new BatchHeader(b, 5).recordCount, 3);
});

test('header accessors read every field', async () => {
  const b = await buildBatch({
    records: [{ value: 'a', timestamp: 50 }, { value: 'b', timestamp: 40 }],
    baseOffset: 10n,
    partitionLeaderEpoch: 3,
    transactional: true,
    producerId: 99n,
    producerEpoch: 4,
    baseSequence: 2147483647,
    compression: 'gzip',
  });
  const h = new BatchHeader(b);
  assert.deepEqual(
    [h.baseOffset, h.partitionLeaderEpoch, h.isTransactional, h.isControl, h.hasDeleteHorizon, h.producerId, h.producerEpoch],
    [10n, 3, true, false, false, 99n, 4],
  );
  assert.equal(h.baseTimestamp, 50n);
  assert.equal(h.maxTimestamp, 50n);
  assert.equal(h.compression, 1);
  assert.equal(h.lastSequence, 0); // wraps past int32 max like Kafka
  assert.equal(h.nextOffset, 12n);
});
