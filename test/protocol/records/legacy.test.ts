import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from '@node-rs/crc32';
import { splitBatches, validateBatch, validateProduceRecords } from '../../../src/protocol/records/batch.js';
import { buildBatchSync } from '../../../src/protocol/records/build.js';
import { isLegacyMessageSet, legacyMessageFault, messageFormatOf } from '../../../src/protocol/records/legacy.js';

/** A magic 0 or 1 message-set entry as pre-0.11 clients write it (CRC-32 over magic..end). */
function legacyMessage(magic: 0 | 1, key: string | null, value: string): Buffer {
  const body: Buffer[] = [Buffer.from([magic, 0])];
  if (magic === 1) {
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(1_600_000_000_000n);
    body.push(ts);
  }
  for (const field of [key, value]) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(field === null ? -1 : Buffer.byteLength(field));
    body.push(len);
    if (field !== null) body.push(Buffer.from(field));
  }
  const rest = Buffer.concat(body);
  const head = Buffer.alloc(16);
  head.writeBigInt64BE(0n, 0);
  head.writeInt32BE(4 + rest.length, 8);
  head.writeUInt32BE(crc32(rest) >>> 0, 12);
  return Buffer.concat([head, rest]);
}

test('message format is read from byte 16 in every layout', () => {
  assert.equal(messageFormatOf(legacyMessage(0, 'k', 'v')), 0);
  assert.equal(messageFormatOf(legacyMessage(1, null, 'v')), 1);
  assert.equal(messageFormatOf(buildBatchSync({ records: [{ value: 'v' }] })), 2);
  assert.equal(messageFormatOf(Buffer.alloc(10)), undefined);
  assert.equal(isLegacyMessageSet(legacyMessage(1, 'k', 'v')), true);
  assert.equal(isLegacyMessageSet(buildBatchSync({ records: [{ value: 'v' }] })), false);
});

test('a v0/v1 message set is refused with INVALID_RECORD, as Kafka 4 does', () => {
  for (const magic of [0, 1] as const) {
    const set = Buffer.concat([legacyMessage(magic, 'k', 'v'), legacyMessage(magic, null, 'w')]);
    const split = splitBatches(set); // framing is shared, so the walk still works
    assert.ok(split.ok);
    assert.equal(split.batches.length, 2);
    const first = set.subarray(split.batches[0].start, split.batches[0].end);
    const check = validateBatch(first, { produceVersion: 8 });
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.equal(check.error, 'INVALID_RECORD');
      assert.equal(check.code, 87);
      assert.match(check.message, /^Produce requests with version 8 are only allowed to contain record batches with magic version 2/);
      assert.match(check.message, new RegExp(`message format v${magic}`));
      assert.match(check.message, /Upgrade the client/);
    }
    const produce = validateProduceRecords(set, { produceVersion: 3 });
    assert.equal(produce.ok, false);
    if (!produce.ok) assert.equal(produce.error, 'INVALID_RECORD');
  }
});

test('legacyMessageFault without a produce version says 3+', () => {
  assert.match(legacyMessageFault(1).message, /version 3\+ are only allowed/);
});
