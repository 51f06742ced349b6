import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionProducerState, inSequence, type ProducerBatchHeader } from '../../../src/coordinator/producer/producer-state.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';

function batch(pid: bigint, epoch: number, firstSeq: number, count: number, txn = false): ProducerBatchHeader {
  return {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: firstSeq,
    lastSequence: (firstSeq + count - 1) % 0x80000000,
    isTransactional: txn,
    lastOffsetDelta: count - 1,
    maxTimestamp: 1000n,
  };
}

/** Checks then records at `offset`, like the log does; returns the duplicate answer if any. */
function produce(s: PartitionProducerState, h: ProducerBatchHeader, offset: bigint) {
  const dup = s.checkBatch(h);
  if (!dup) s.appendBatch(h, offset);
  return dup;
}

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KafkaError);
    return err.code;
  }
  return ErrorCode.NONE;
}

test('sequences wrap at int32 max', () => {
  assert.equal(inSequence(5, 6), true);
  assert.equal(inSequence(0x7fffffff, 0), true);
  assert.equal(inSequence(5, 7), false);
});

test('a duplicate of any of the last five batches gets its original offsets', () => {
  const s = new PartitionProducerState(() => 0);
  let off = 0n;
  for (let i = 0; i < 6; i++) {
    assert.equal(produce(s, batch(7n, 0, i * 2, 2), off), null);
    off += 2n;
  }
  // Batch 1 (seq 2-3 at offsets 2-3) is among the last five; batch 0 is not.
  assert.deepEqual(s.checkBatch(batch(7n, 0, 2, 2)), { baseOffset: 2n, lastOffset: 3n, timestamp: 1000n });
  assert.equal(code(() => s.checkBatch(batch(7n, 0, 0, 2))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(s.get(7n)!.batches.length, 5);
});

test('a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 3), 0n);
  assert.equal(code(() => s.checkBatch(batch(1n, 0, 4, 1))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(code(() => s.checkBatch(batch(1n, 0, 3, 1))), ErrorCode.NONE);
});

test('an older epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 3, 0, 1), 0n);
  assert.equal(code(() => s.checkBatch(batch(1n, 2, 1, 1))), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(code(() => s.checkBatch(batch(1n, 4, 5, 1))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  produce(s, batch(1n, 4, 0, 1), 1n);
  assert.equal(s.get(1n)!.producerEpoch, 4);
  assert.equal(s.get(1n)!.batches.length, 1);
});

test('an unknown producer may start at any sequence (no UNKNOWN_PRODUCER_ID since KIP-360)', () => {
  const s = new PartitionProducerState(() => 0);
  assert.equal(produce(s, batch(9n, 0, 42, 1), 0n), null);
  assert.equal(code(() => s.checkBatch(batch(9n, 0, 44, 1))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
});

test('sequence wraps from int32 max to 0 within an epoch', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0x7ffffffe, 2), 0n);
  assert.equal(s.get(1n)!.batches[0]!.lastSeq, 0x7fffffff);
  assert.equal(produce(s, batch(1n, 0, 0, 1), 2n), null);
});

test('a failed append is forgotten so its retry is appended, not answered as a duplicate', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 1), 0n);
  produce(s, batch(1n, 0, 1, 1), 1n);
  s.revertBatch(batch(1n, 0, 1, 1), 1n);
  assert.equal(s.checkBatch(batch(1n, 0, 1, 1)), null);
});

test('pipelined appends that fail oldest first are all forgotten, so no retry is answered as a duplicate', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 2), 0n);
  produce(s, batch(1n, 0, 2, 2), 2n);
  produce(s, batch(1n, 0, 4, 2), 4n);
  // The WAL refuses the last two (a write or a full WAL fails them together, in queue order).
  s.revertBatch(batch(1n, 0, 2, 2), 2n);
  s.revertBatch(batch(1n, 0, 4, 2), 4n);
  assert.equal(s.checkBatch(batch(1n, 0, 2, 2)), null, 'the retry of the first refused batch is appended');
  assert.deepEqual(s.get(1n)!.batches.map((b) => b.baseOffset), [0n]);
});

test('transactions: LSO, markers, aborted index, INVALID_TXN_STATE for non-transactional writes', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 2, true), 10n); // offsets 10-11
  produce(s, batch(2n, 0, 0, 1), 12n);
  assert.equal(s.lastStableOffset(13n), 10n);
  assert.equal(code(() => s.checkBatch(batch(1n, 0, 2, 1, false))), ErrorCode.INVALID_TXN_STATE);
  const ended = s.appendMarker(1n, 0, 0, 'abort', 13n);
  assert.deepEqual(ended, { producerId: 1n, firstOffset: 10n, lastOffset: 13n });
  // The marker is not yet below the high watermark: still unstable.
  assert.equal(s.lastStableOffset(13n), 10n);
  assert.equal(s.lastStableOffset(14n), 14n);
  assert.deepEqual(s.abortedTransactions(0n, 14n), [{ producerId: 1n, firstOffset: 10n }]);
  assert.deepEqual(s.abortedTransactions(14n, 20n), []);
  // Sequences continue after the marker in the same epoch.
  assert.equal(produce(s, batch(1n, 0, 2, 1, true), 14n), null);
  assert.equal(s.appendMarker(2n, 0, 0, 'commit', 15n), null, 'no transaction of producer 2 here');
});

test('markers fence older producer and coordinator epochs', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 5, 0, 1, true), 0n);
  s.appendMarker(1n, 6, 3, 'abort', 1n);
  assert.equal(code(() => s.checkBatch(batch(1n, 5, 1, 1, true))), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(code(() => s.checkMarker(1n, 6, 2)), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal(code(() => s.checkMarker(1n, 6, 3)), ErrorCode.NONE);
});

test('snapshots round-trip every field', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 2, true), 0n);
  s.appendMarker(1n, 0, 1, 'abort', 2n);
  produce(s, batch(2n, 1, 0, 1, true), 3n);
  produce(s, batch(3n, 0, 0, 1), 4n);
  const copy = PartitionProducerState.deserialize(s.serialize(), () => 0);
  assert.deepEqual(copy.entries(), s.entries());
  assert.equal(copy.lastOffset, 4n);
  assert.deepEqual(copy.abortedTransactions(0n, 10n), [{ producerId: 1n, firstOffset: 0n }]);
  assert.equal(copy.lastStableOffset(5n), 3n);
  assert.deepEqual(copy.checkBatch(batch(3n, 0, 0, 1)), { baseOffset: 4n, lastOffset: 4n, timestamp: 1000n });
  assert.throws(() => PartitionProducerState.deserialize(Buffer.from('{"v":99}')), /version 99/);
});

test('idle producers expire unless a transaction is open; head truncation forgets old producers', () => {
  let now = 0;
  const s = new PartitionProducerState(() => now);
  produce(s, batch(1n, 0, 0, 1), 0n);
  produce(s, batch(2n, 0, 0, 1, true), 1n);
  now = 1000;
  assert.equal(s.expireProducers(1000), 1);
  assert.equal(s.get(1n), undefined);
  assert.ok(s.get(2n));
  s.appendMarker(2n, 0, 0, 'commit', 2n);
  produce(s, batch(3n, 0, 0, 1), 3n);
  s.truncateHead(3n);
  assert.equal(s.get(2n), undefined);
  assert.ok(s.get(3n));
});

test('aborted transactions are listed by first offset, not by marker offset (kafkajs walks them in order)', () => {
  const s = new PartitionProducerState(() => 0);
  produce(s, batch(1n, 0, 0, 1, true), 0n); // producer 1 starts first...
  produce(s, batch(2n, 0, 0, 1, true), 1n);
  s.appendMarker(2n, 0, 0, 'abort', 2n); // ...but producer 2 aborts first
  s.appendMarker(1n, 0, 0, 'abort', 3n);
  assert.deepEqual(
    s.abortedTransactions(0n, 4n).map((t) => [t.producerId, t.firstOffset]),
    [
      [1n, 0n],
      [2n, 1n],
    ],
  );
});
