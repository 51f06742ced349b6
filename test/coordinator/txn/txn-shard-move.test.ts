// The transaction coordinator in cluster mode without a cluster: two coordinators ("agents" A and
// B) over one store, with shard leases in the store taken as the test says. Only the shard's holder
// serves a transactional id; a new holder loads the shard and finishes a prepared commit; the old
// holder's late writes are fenced on the lease epoch; TxnOffsetCommit and KIP-890 verification work
// on an agent that does not coordinate the transaction (they read it from the store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMetadataStore } from '../../../src/metadata/index.js';
import type { MetadataStore } from '../../../src/metadata/types.js';
import { TxnCoordinator, type MarkerWriter } from '../../../src/coordinator/txn/txn-coordinator.js';
import { ProducerIdManager } from '../../../src/coordinator/txn/producer-id-manager.js';
import type { TxnPartition } from '../../../src/coordinator/txn/txn-metadata.js';
import { shardLeaseResource, type ShardPlacement } from '../../../src/coordinator/group/shard.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';

const SHARDS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Shard ownership over real leases, as LeaseManager keeps them. */
class LeasePlacement implements ShardPlacement {
  private readonly epochs = new Map<number, number>();
  constructor(
    readonly agentId: string,
    private readonly store: MetadataStore,
  ) {}
  async take(shard: number, ttlMs: number): Promise<void> {
    const lease = await this.store.leases.acquire(shardLeaseResource(shard), this.agentId, ttlMs);
    assert.ok(lease, `shard ${shard} is free for ${this.agentId}`);
    this.epochs.set(shard, lease.epoch);
  }
  /** Forgets the shard locally (a lease the agent has not noticed losing stays "owned"). */
  drop(shard: number): void {
    this.epochs.delete(shard);
  }
  coordinatorNode(): number | null {
    return null;
  }
  ownsShard(shard: number): boolean {
    return this.epochs.has(shard);
  }
  fence(shard: number) {
    return { resource: shardLeaseResource(shard), holder: this.agentId, epoch: this.epochs.get(shard) ?? -1 };
  }
  coordinatorEpoch(shard: number): number {
    return this.epochs.get(shard) ?? -1;
  }
}

class RecordingMarkers implements MarkerWriter {
  written: { partition: number; marker: string; coordinatorEpoch: number }[] = [];
  async writeMarker(p: TxnPartition, _pid: bigint, _epoch: number, coordinatorEpoch: number, marker: 'commit' | 'abort') {
    this.written.push({ partition: p.partition, marker, coordinatorEpoch });
  }
}

async function agent(store: MetadataStore, agentId: string) {
  const placement = new LeasePlacement(agentId, store);
  const markers = new RecordingMarkers();
  const coord = new TxnCoordinator({
    kv: store.kv,
    producerIds: new ProducerIdManager(store.producerIds, 10),
    offsets: store.offsets,
    markers,
    topicId: async (name) => `id-${name}`,
    log: silentLogger(),
    config: { abortCheckIntervalMs: 3_600_000 },
    placement,
    shards: SHARDS,
  });
  await coord.start();
  return { placement, markers, coord };
}

const offset = (o: bigint) => [{ topic: 'in', partition: 0, offset: o, leaderEpoch: -1, metadata: null }];

test('a transactional id moves between coordinators with its shard lease', async () => {
  const store = await openMetadataStore('sqlite::memory:');
  const a = await agent(store, 'agent-a');
  const b = await agent(store, 'agent-b');
  const id = 'txn-1';
  const shard = a.coord.shardOf(id);
  assert.notEqual(a.coord.shardOf('g'), shard, 'the group lives in another shard');
  await b.placement.take(b.coord.shardOf('g'), 60_000); // B coordinates the group

  // Nobody holds the shard: both refuse (clients look the coordinator up again).
  await assert.rejects(a.coord.initProducerId(id, 60_000, null), (e: KafkaError) => e.code === ErrorCode.NOT_COORDINATOR);

  await a.placement.take(shard, 150);
  await a.coord.loadShard(shard);
  const { producerId: pid, error } = await a.coord.initProducerId(id, 60_000, null);
  assert.equal(error, ErrorCode.NONE);
  await assert.rejects(b.coord.initProducerId(id, 60_000, null), (e: KafkaError) => e.code === ErrorCode.NOT_COORDINATOR);
  assert.equal(b.coord.coordinates(id), false);
  await a.coord.addPartitions(id, pid, 0, [{ name: 'out', partitions: [0, 1] }]);
  assert.equal(await a.coord.addOffsets(id, pid, 0, 'g'), ErrorCode.NONE);

  // B is not the coordinator but is asked as partition leader (KIP-890) and as the group's
  // coordinator (TxnOffsetCommit): both answer from the store.
  await b.coord.verifyTransactionalProduce(id, pid, 0, 'id-out', 1);
  await assert.rejects(b.coord.verifyTransactionalProduce(id, pid, 0, 'id-out', 2), (e: KafkaError) => e.code === ErrorCode.INVALID_TXN_STATE);
  await assert.rejects(b.coord.verifyTransactionalProduce(id, pid, 1, 'id-out', 1), (e: KafkaError) => e.code === ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(await b.coord.txnOffsetCommit(id, 'g', pid, 0, offset(5n), ErrorCode.INVALID_TXN_STATE), ErrorCode.NONE);
  assert.equal(await a.coord.txnOffsetCommit(id, 'g', pid, 0, offset(6n), ErrorCode.INVALID_TXN_STATE), ErrorCode.NOT_COORDINATOR, "staging is fenced on the group's shard");
  assert.equal(await b.coord.txnOffsetCommit(id, 'other', pid, 0, offset(5n), ErrorCode.INVALID_TXN_STATE), ErrorCode.INVALID_TXN_STATE);
  assert.equal(await a.coord.hasPendingOffsets('g', 'in', 0), true, 'RequireStable sees the staged offset from any agent');

  // A's lease runs out (A is "paused" and has not noticed); B takes the shard and loads it.
  await sleep(200);
  await b.placement.take(shard, 60_000);
  await b.coord.loadShard(shard);
  assert.equal(b.coord.get(id)?.state, 'Ongoing', 'the open transaction continues on the new coordinator');

  // A still believes it coordinates: its write is fenced on the lease epoch and it forgets the id.
  assert.equal(a.coord.coordinates(id), true);
  await assert.rejects(a.coord.endTxn(id, pid, 0, true), (e: KafkaError) => e.code === ErrorCode.NOT_COORDINATOR);
  assert.equal(a.coord.get(id), undefined);
  a.placement.drop(shard);
  a.coord.unloadShard(shard);

  // The producer finds B and commits there: markers carry B's coordinator epoch, offsets apply.
  assert.equal(await b.coord.endTxn(id, pid, 0, true), ErrorCode.NONE);
  assert.deepEqual(b.markers.written.map((m) => `${m.partition}:${m.marker}:${m.coordinatorEpoch}`).sort(), [`0:commit:2`, `1:commit:2`]);
  assert.equal((await store.offsets.fetchOffsets('g'))[0]!.offset, 5n);
  assert.equal(await a.coord.hasPendingOffsets('g', 'in', 0), false, 'staged offsets are gone after the commit');
  await a.coord.stop();
  await b.coord.stop();
  await store.close();
});

test('a new coordinator finishes a commit the previous one prepared but did not complete', async () => {
  const store = await openMetadataStore('sqlite::memory:');
  const a = await agent(store, 'agent-a');
  const id = 'txn-2';
  const shard = a.coord.shardOf(id);
  await a.placement.take(shard, 150);
  await a.coord.loadShard(shard);
  const { producerId: pid } = await a.coord.initProducerId(id, 60_000, null);
  await a.coord.addPartitions(id, pid, 0, [{ name: 'out', partitions: [3] }]);
  await a.coord.addOffsets(id, pid, 0, 'g');
  await a.coord.txnOffsetCommit(id, 'g', pid, 0, offset(42n), ErrorCode.INVALID_TXN_STATE);
  // A dies after logging PrepareCommit, before any marker: its marker writer never returns.
  (a.markers as { writeMarker: MarkerWriter['writeMarker'] }).writeMarker = () => new Promise(() => undefined);
  void a.coord.endTxn(id, pid, 0, true);
  for (let i = 0; i < 50 && (await store.kv.get('txn', id))?.toString().includes('PrepareCommit') !== true; i++) await sleep(10);

  await sleep(200);
  const b = await agent(store, 'agent-b');
  await b.placement.take(shard, 60_000);
  await b.coord.loadShard(shard);
  await b.coord.settled();
  assert.equal(b.coord.get(id)?.state, 'CompleteCommit');
  assert.deepEqual(b.markers.written.map((m) => `${m.partition}:${m.marker}`), ['3:commit']);
  assert.equal((await store.offsets.fetchOffsets('g'))[0]!.offset, 42n);
  await b.coord.stop();
  await store.close();
});

test('offsets staged by an earlier transaction of the same producer are never applied by a later one', async () => {
  const store = await openMetadataStore('sqlite::memory:');
  const a = await agent(store, 'agent-a');
  const id = 'txn-3';
  const shard = a.coord.shardOf(id);
  await a.placement.take(shard, 60_000);
  await a.placement.take(a.coord.shardOf('g'), 60_000);
  await a.coord.loadShard(shard);
  const { producerId: pid } = await a.coord.initProducerId(id, 60_000, null);
  await a.coord.addPartitions(id, pid, 0, [{ name: 'out', partitions: [0] }]);
  await a.coord.addOffsets(id, pid, 0, 'g');
  await a.coord.txnOffsetCommit(id, 'g', pid, 0, offset(7n), ErrorCode.INVALID_TXN_STATE);
  const leftover = await store.kv.getEntry('txn-offsets/g', id);
  assert.ok(leftover);
  assert.equal(await a.coord.endTxn(id, pid, 0, false), ErrorCode.NONE);
  // Put the aborted transaction's entry back, as a crash between abort and cleanup would leave it.
  await store.kv.put('txn-offsets/g', id, leftover.value);
  await sleep(5);
  await a.coord.addPartitions(id, pid, 0, [{ name: 'out', partitions: [0] }]);
  await a.coord.addOffsets(id, pid, 0, 'g');
  assert.equal(await a.coord.hasPendingOffsets('g', 'in', 0), false, 'the leftover belongs to an ended transaction');
  assert.equal(await a.coord.endTxn(id, pid, 0, true), ErrorCode.NONE);
  assert.deepEqual(await store.offsets.fetchOffsets('g'), [], 'the leftover offset 7 was not committed');
  await a.coord.stop();
  await store.close();
});
