// Coordinator shard moves (cluster mode) without a cluster: two coordinators over one store with a
// placement the test controls. The new owner loads the shard's groups (members keep their
// generation), claims them so the old owner's late writes fail with NOT_COORDINATOR, and the old
// owner answers NOT_COORDINATOR once it unloaded the shard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openMetadataStore } from '../../../src/metadata/index.js';
import { TopicCatalog } from '../../../src/log/topic-catalog.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { GroupCoordinator } from '../../../src/coordinator/group/coordinator.js';
import { DEFAULT_GROUP_COORDINATOR_CONFIG } from '../../../src/coordinator/group/config.js';
import { ManualTimer } from '../../../src/coordinator/group/timer.js';
import { groupShard, shardLeaseResource, type ShardPlacement } from '../../../src/coordinator/group/shard.js';
import type { MetadataStore } from '../../../src/metadata/types.js';
import type { ClassicGroup } from '../../../src/coordinator/group/classic-group.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { joinInput } from './helpers.js';

/** Placement driven by the test, over real shard leases in the store (as LeaseManager keeps them). */
class TestPlacement implements ShardPlacement {
  owned = false;
  private epoch = -1;
  constructor(
    private readonly nodeId: number,
    private readonly store: MetadataStore,
  ) {}
  /** Takes the shard's lease (ttl short, so the other placement can take it after it runs out). */
  async take(shard: number, ttlMs: number): Promise<void> {
    const lease = await this.store.leases.acquire(shardLeaseResource(shard), `agent-${this.nodeId}`, ttlMs);
    assert.ok(lease, 'the shard lease is free');
    this.epoch = lease.epoch;
    this.owned = true;
  }
  coordinatorNode(): number | null {
    return this.owned ? this.nodeId : null;
  }
  ownsShard(): boolean {
    return this.owned;
  }
  fence(shard: number) {
    return { resource: shardLeaseResource(shard), holder: `agent-${this.nodeId}`, epoch: this.epoch };
  }
  coordinatorEpoch(): number {
    return this.epoch;
  }
}

test('a coordinator shard moves: groups load on the new owner, the old one is fenced', async () => {
  const store = await openMetadataStore('sqlite::memory:');
  await store.topics.createTopic({ name: 't', id: randomUUID(), partitions: 2, configs: {} });
  const topics = new TopicCatalog(store);
  const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, initialRebalanceDelayMs: 0 };
  const make = async (nodeId: number, placement: TestPlacement) => {
    const c = new GroupCoordinator({ store, topics, config, log: silentLogger(), nodeId, timer: new ManualTimer(), placement });
    await c.start();
    return c;
  };
  const pa = new TestPlacement(1, store);
  const pb = new TestPlacement(2, store);
  const shard = groupShard('g', config.shards);
  await pa.take(shard, 200);
  const a = await make(1, pa);
  const b = await make(2, pb);

  // A stable group of one on A, with a committed offset.
  const first = await a.joinGroup(joinInput('g'));
  const joined = await a.joinGroup(joinInput('g', { memberId: first.memberId }));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const memberId = joined.memberId;
  const synced = await a.syncGroup({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.from('all') }] });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  const commit = (c: GroupCoordinator, offset: bigint) =>
    c.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: 1, memberId, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 0, committedMetadata: null }] }] });
  assert.equal((await commit(a, 7n))[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  await a.registry.flush();

  // B is not the coordinator yet.
  assert.equal(b.heartbeat({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null }), ErrorCode.NOT_COORDINATOR);

  // The shard moves to B (A has not noticed yet): B loads the group at its generation.
  await new Promise((r) => setTimeout(r, 250));
  await pb.take(shard, 60_000);
  await b.loadShard(shard);
  const moved = b.registry.get('g') as ClassicGroup | undefined;
  assert.equal(moved?.generationId, 1);
  assert.equal(b.heartbeat({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null }), ErrorCode.NONE, 'the member keeps its generation');
  const fetched = await b.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] });
  assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, 7n);

  // A's late write of the group (its copy is at the version B claimed over) is refused.
  const stale = a.registry.get('g')!;
  await assert.rejects(a.registry.persist(stale), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_COORDINATOR);
  // Even at the version B wrote, A's write is fenced on the shard lease epoch in the store.
  const current = b.registry.get('g')!;
  stale.kvVersion = current.kvVersion;
  await assert.rejects(a.registry.persist(stale), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_COORDINATOR);
  // And so is an offset commit A accepts before it learns of the move: the stored offset stays.
  assert.equal((await commit(a, 9n))[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
  const after = await b.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] });
  assert.equal(after.topics[0]!.partitions[0]!.committedOffset, 7n);

  // A learns it lost the lease: it forgets the shard and answers NOT_COORDINATOR.
  pa.owned = false;
  a.unloadShard(shard);
  assert.equal(a.registry.get('g'), undefined);
  assert.equal(a.heartbeat({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null }), ErrorCode.NOT_COORDINATOR);
  // B keeps writing the group.
  await b.registry.persist(b.registry.get('g')!);
  await a.stop();
  await b.stop();
  await store.close();
});
