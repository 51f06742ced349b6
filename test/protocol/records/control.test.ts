import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchHeader, NO_SEQUENCE, validateBatch } from '../../../src/protocol/records/batch.js';
import { buildControlBatch } from '../../../src/protocol/records/build.js';
import {
  ControlRecordType,
  decodeControlKey,
  decodeEndTxnMarker,
  encodeControlKey,
  encodeEndTxnMarkerValue,
} from '../../../src/protocol/records/control.js';
import { decodeRecords } from '../../../src/protocol/records/records.js';

for (const marker of ['commit', 'abort'] as const) {
  test(`${marker} marker batch builds and parses`, () => {
    const batch = buildControlBatch({ marker, producerId: 4242n, producerEpoch: 7, coordinatorEpoch: 19, baseOffset: 300n, timestamp: 1_700_000_000_123n });
    const h = new BatchHeader(batch);
    assert.equal(h.isControl, true);
    assert.equal(h.isTransactional, true);
    assert.equal(h.producerId, 4242n);
    assert.equal(h.producerEpoch, 7);
    assert.equal(h.baseSequence, NO_SEQUENCE);
    assert.equal(h.recordCount, 1);
    assert.equal(h.baseOffset, 300n);
    assert.equal(h.maxTimestamp, 1_700_000_000_123n);
    // The broker may write it; a client may not.
    assert.deepEqual(validateBatch(batch, { origin: 'coordinator' }), { ok: true });
    assert.equal(validateBatch(batch).ok, false);

    const [rec] = decodeRecords(h.recordsData(), h.recordCount);
    assert.deepEqual([...rec.key!], [0, 0, 0, marker === 'commit' ? 1 : 0]);
    assert.deepEqual([...rec.value!], [0, 0, 0, 0, 0, 19]);
    assert.deepEqual(decodeEndTxnMarker(rec.key, rec.value), { marker, coordinatorEpoch: 19 });
  });
}

test('control keys of other types decode but are not transaction markers', () => {
  const key = encodeControlKey(ControlRecordType.LEADER_CHANGE);
  assert.deepEqual(decodeControlKey(key), { version: 0, type: 2 });
  assert.throws(() => decodeEndTxnMarker(key, encodeEndTxnMarkerValue(1)), /type 2 is not a transaction marker/);
});

test('malformed control records are INVALID_RECORD', () => {
  assert.throws(() => decodeControlKey(null), { errorName: 'INVALID_RECORD' });
  assert.throws(() => decodeControlKey(Buffer.alloc(3)), /at least 4 bytes, got 3/);
  assert.throws(() => decodeEndTxnMarker(encodeControlKey(1), Buffer.alloc(5)), /at least 6 bytes, got 5/);
  // Later value versions may append fields; the known prefix still decodes.
  const v1 = Buffer.concat([encodeEndTxnMarkerValue(5), Buffer.from([0, 1])]);
  v1.writeInt16BE(1, 0);
  assert.deepEqual(decodeEndTxnMarker(encodeControlKey(0), v1), { marker: 'abort', coordinatorEpoch: 5 });
});
