import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMetadataStore } from '../../../src/metadata/index.js';
import type { MetadataStore } from '../../../src/metadata/types.js';
import { TxnCoordinator, type MarkerWriter } from '../../../src/coordinator/txn/txn-coordinator.js';
import { ProducerIdManager } from '../../../src/coordinator/txn/producer-id-manager.js';
import type { TxnPartition } from '../../../src/coordinator/txn/txn-metadata.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';

class RecordingMarkers implements MarkerWriter {
  written: { topic: string; partition: number; producerId: bigint; epoch: number; marker: string }[] = [];
  failing = false;
  async writeMarker(p: TxnPartition, producerId: bigint, epoch: number, _ce: number, marker: 'commit' | 'abort') {
    if (this.failing) throw new Error('log unavailable');
    this.written.push({ topic: p.topic, partition: p.partition, producerId, epoch, marker });
  }
}

async function setup(store?: MetadataStore, now = () => Date.now()) {
  store ??= await openMetadataStore('sqlite::memory:');
  const markers = new RecordingMarkers();
  const coord = new TxnCoordinator({
    kv: store.kv,
    producerIds: new ProducerIdManager(store.producerIds, 10),
    offsets: store.offsets,
    markers,
    topicId: async (name) => (name === 'missing' ? null : `id-${name}`),
    log: silentLogger(),
    now,
    config: { abortCheckIntervalMs: 3_600_000 },
  });
  await coord.start();
  return { store, markers, coord };
}

const T = (name: string, ...partitions: number[]) => ({ name, partitions });

test('idempotent producers get distinct ids from the store, epoch 0', async () => {
  const { coord, store } = await setup();
  const a = await coord.initProducerId(null, 0, null);
  const b = await coord.initProducerId(null, 0, null);
  assert.equal(a.error, ErrorCode.NONE);
  assert.equal(a.producerEpoch, 0);
  assert.notEqual(a.producerId, b.producerId);
  await coord.stop();
  await store.close();
});

test('transactional InitProducerId bumps the epoch and fences the previous instance', async () => {
  const { coord, store } = await setup();
  assert.equal((await coord.initProducerId('t', 0, null)).error, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await coord.initProducerId('', 1000, null)).error, ErrorCode.INVALID_REQUEST);
  const first = await coord.initProducerId('t', 60_000, null);
  assert.equal(first.producerEpoch, 0);
  const second = await coord.initProducerId('t', 60_000, null);
  assert.equal(second.producerId, first.producerId);
  assert.equal(second.producerEpoch, 1);
  const r = await coord.addPartitions('t', first.producerId, 0, [T('a', 0)]);
  assert.equal(r.get('a')!.get(0), ErrorCode.PRODUCER_FENCED);
  // KIP-360: the current producer may ask again with its id and epoch: bump; a retry of that does not bump twice.
  const third = await coord.initProducerId('t', 60_000, { producerId: second.producerId, producerEpoch: 1 });
  assert.equal(third.producerEpoch, 2);
  const retry = await coord.initProducerId('t', 60_000, { producerId: second.producerId, producerEpoch: 1 });
  assert.equal(retry.producerEpoch, 2);
  const stale = await coord.initProducerId('t', 60_000, { producerId: second.producerId, producerEpoch: 0 });
  assert.equal(stale.error, ErrorCode.PRODUCER_FENCED);
  await coord.stop();
  await store.close();
});

test('commit writes markers to every partition and applies staged offsets', async () => {
  const { coord, store, markers } = await setup();
  const { producerId: pid } = await coord.initProducerId('t', 60_000, null);
  const added = await coord.addPartitions('t', pid, 0, [T('a', 0, 1), T('b', 0)]);
  assert.deepEqual([...added.get('a')!.values()], [0, 0]);
  await assert.rejects(coord.verifyTransactionalProduce('t', pid, 0, 'id-c', 0), (e: KafkaError) => e.code === ErrorCode.INVALID_TXN_STATE);
  await coord.verifyTransactionalProduce('t', pid, 0, 'id-a', 1);
  assert.equal(
    await coord.txnOffsetCommit('t', 'g', pid, 0, [{ topic: 'in', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }], ErrorCode.INVALID_TXN_STATE),
    ErrorCode.INVALID_TXN_STATE,
    'the group was not added yet',
  );
  assert.equal(await coord.addOffsets('t', pid, 0, 'g'), ErrorCode.NONE);
  assert.equal(
    await coord.txnOffsetCommit('t', 'g', pid, 0, [{ topic: 'in', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }], ErrorCode.INVALID_TXN_STATE),
    ErrorCode.NONE,
  );
  assert.equal(await coord.hasPendingOffsets('g', 'in', 0), true);
  assert.deepEqual(await store.offsets.fetchOffsets('g'), []);
  assert.equal(await coord.endTxn('t', pid, 0, true), ErrorCode.NONE);
  assert.deepEqual(markers.written.map((m) => `${m.topic}-${m.partition}:${m.marker}`).sort(), ['a-0:commit', 'a-1:commit', 'b-0:commit']);
  assert.equal((await store.offsets.fetchOffsets('g'))[0]!.offset, 5n);
  assert.equal(coord.get('t')!.state, 'CompleteCommit');
  // A retried commit is fine; an abort now is not.
  assert.equal(await coord.endTxn('t', pid, 0, true), ErrorCode.NONE);
  assert.equal(await coord.endTxn('t', pid, 0, false), ErrorCode.INVALID_TXN_STATE);
  assert.equal(await coord.endTxn('t', pid + 1n, 0, false), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  await coord.stop();
  await store.close();
});

test('abort discards staged offsets; unknown topics fail only their own partitions', async () => {
  const { coord, store, markers } = await setup();
  const { producerId: pid } = await coord.initProducerId('t', 60_000, null);
  const r = await coord.addPartitions('t', pid, 0, [T('a', 0), T('missing', 0)]);
  assert.equal(r.get('a')!.get(0), ErrorCode.OPERATION_NOT_ATTEMPTED);
  assert.equal(r.get('missing')!.get(0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await coord.addPartitions('t', pid, 0, [T('a', 0)]);
  await coord.addOffsets('t', pid, 0, 'g');
  await coord.txnOffsetCommit('t', 'g', pid, 0, [{ topic: 'in', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }], 48);
  assert.equal(await coord.endTxn('t', pid, 0, false), ErrorCode.NONE);
  assert.deepEqual(markers.written.map((m) => m.marker), ['abort']);
  assert.deepEqual(await store.offsets.fetchOffsets('g'), []);
  assert.equal(await coord.endTxn('t', pid, 0, false), ErrorCode.NONE, 'retried abort');
  await coord.stop();
  await store.close();
});

test('a new instance during an open transaction aborts it with a bumped epoch (CONCURRENT_TRANSACTIONS, then success)', async () => {
  const { coord, store, markers } = await setup();
  const { producerId: pid } = await coord.initProducerId('t', 60_000, null);
  await coord.addPartitions('t', pid, 0, [T('a', 0)]);
  assert.equal((await coord.initProducerId('t', 60_000, null)).error, ErrorCode.CONCURRENT_TRANSACTIONS);
  await coord.settled();
  assert.deepEqual(markers.written, [{ topic: 'a', partition: 0, producerId: pid, epoch: 1, marker: 'abort' }]);
  const again = await coord.initProducerId('t', 60_000, null);
  assert.equal(again.error, ErrorCode.NONE);
  assert.equal(again.producerEpoch, 2);
  assert.equal(await coord.endTxn('t', pid, 0, true), ErrorCode.PRODUCER_FENCED, 'the zombie is fenced');
  await coord.stop();
  await store.close();
});

test('timed-out transactions are aborted and their producer fenced', async () => {
  let now = 1_000_000;
  const { coord, store, markers } = await setup(undefined, () => now);
  const { producerId: pid } = await coord.initProducerId('t', 1000, null);
  await coord.addPartitions('t', pid, 0, [T('a', 0)]);
  now += 1001;
  await coord.tick();
  await new Promise((r) => setTimeout(r, 20));
  await coord.settled();
  assert.equal(coord.get('t')!.state, 'CompleteAbort');
  assert.equal(markers.written[0]!.marker, 'abort');
  assert.equal(await coord.endTxn('t', pid, 0, true), ErrorCode.PRODUCER_FENCED);
  await coord.stop();
  await store.close();
});

test('a restart in PrepareCommit completes the commit; markers failing keeps it prepared', async () => {
  const { coord, store, markers } = await setup();
  const { producerId: pid } = await coord.initProducerId('t', 60_000, null);
  await coord.addPartitions('t', pid, 0, [T('a', 0)]);
  markers.failing = true;
  assert.equal(await coord.endTxn('t', pid, 0, true), ErrorCode.NONE);
  assert.equal(coord.get('t')!.state, 'PrepareCommit');
  assert.equal((await coord.initProducerId('t', 60_000, null)).error, ErrorCode.CONCURRENT_TRANSACTIONS);
  await coord.stop();
  // "Restart": a new coordinator over the same store.
  const second = await setup(store);
  await second.coord.settled();
  await new Promise((r) => setTimeout(r, 20));
  await second.coord.settled();
  assert.deepEqual(second.markers.written.map((m) => m.marker), ['commit']);
  assert.equal(second.coord.get('t')!.state, 'CompleteCommit');
  await second.coord.stop();
  await store.close();
});

test('verify-only reports partitions outside the transaction as abortable', async () => {
  const { coord, store } = await setup();
  const { producerId: pid } = await coord.initProducerId('t', 60_000, null);
  await coord.addPartitions('t', pid, 0, [T('a', 0)]);
  const r = await coord.verifyPartitions('t', pid, 0, [T('a', 0, 1)], ErrorCode.TRANSACTION_ABORTABLE);
  assert.equal(r.get('a')!.get(0), ErrorCode.NONE);
  assert.equal(r.get('a')!.get(1), ErrorCode.TRANSACTION_ABORTABLE);
  assert.equal(coord.get('t')!.partitions.length, 1, 'verification adds nothing');
  await coord.stop();
  await store.close();
});
