// The MetadataStore conformance suite, run against every real backend (SQLite, PostgreSQL).
// Each test gets a fresh, empty database from the factory.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import {
  FencedError,
  InvalidPartitionsError,
  LeaseFencedError,
  migrate,
  MIGRATIONS,
  type Migration,
  partitionLeaseResource,
  SegmentOverlapError,
  TopicExistsError,
  UnknownTopicError,
  UnknownTopicOrPartitionError,
  type MetadataStore,
  type NewSegment,
} from '../../src/metadata/index.js';
import type { SqlDatabase } from '../../src/metadata/sql.js';

export interface TestDatabase {
  /** Opens a store on this database (migrating it); may be called several times, also concurrently. */
  open(): Promise<MetadataStore>;
  /** The raw SQL connection to this database, for checks below the store's API. */
  openRaw(): Promise<SqlDatabase>;
  drop(): Promise<void>;
}

export interface StoreFactory {
  createDatabase(): Promise<TestDatabase>;
}

const BIG = 2n ** 62n;

function segment(topicId: string, partition: number, base: bigint, last: bigint, epoch = 0, extra: Partial<NewSegment> = {}): NewSegment {
  return {
    topicId,
    partition,
    baseOffset: base,
    lastOffset: last,
    sizeBytes: 1000,
    maxTimestamp: 1_700_000_000_000n,
    objectKey: `topics/${topicId}/${partition}/${String(base).padStart(20, '0')}-${epoch}-${randomUUID()}.seg`,
    leaderEpoch: epoch,
    createdAt: 1_700_000_000_123,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function metadataConformance(backend: string, factory: StoreFactory): void {
  describe(`MetadataStore conformance: ${backend}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    /** A store on a fresh database, closed and dropped after the suite. */
    async function fresh(): Promise<{ store: MetadataStore; db: TestDatabase }> {
      const db = await factory.createDatabase();
      const store = await db.open();
      cleanups.push(async () => {
        await store.close();
        await db.drop();
      });
      return { store, db };
    }

    async function openMore(db: TestDatabase): Promise<MetadataStore> {
      const store = await db.open();
      cleanups.push(() => store.close());
      return store;
    }

    async function topic(store: MetadataStore, name = `t-${randomUUID().slice(0, 8)}`, partitions = 2) {
      return store.topics.createTopic({ name, id: randomUUID(), partitions, configs: {} });
    }

    describe('store', () => {
      it('answers ping and reports its backend', async () => {
        const { store } = await fresh();
        await store.ping();
        assert.equal(store.backend, backend);
      });

      it('keeps one cluster id across reopen; reopening applies no migration twice', async () => {
        const { store, db } = await fresh();
        const id = store.getClusterId();
        assert.match(id, /^[A-Za-z0-9_-]{22}$/);
        const again = await openMore(db);
        assert.equal(again.getClusterId(), id);
        const raw = await db.openRaw();
        try {
          assert.deepEqual(await migrate(raw), [], 'a migrated database needs nothing');
          const rows = await raw.all('SELECT version FROM schema_migrations ORDER BY version');
          assert.deepEqual(rows.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
        } finally {
          await raw.close();
        }
      });

      it('applies a migration atomically: a failing step leaves no trace', async () => {
        const { db } = await fresh();
        const raw = await db.openRaw();
        const next = Math.max(...MIGRATIONS.map((m) => m.version)) + 1;
        try {
          const bad: Migration = { version: next, name: 'bad', steps: ['CREATE TABLE extra_table (a INTEGER)', 'THIS IS NOT SQL'] };
          await assert.rejects(migrate(raw, [...MIGRATIONS, bad]));
          await assert.rejects(raw.all('SELECT a FROM extra_table'), 'the first step was rolled back');
          const good: Migration = { version: next, name: 'good', steps: ['CREATE TABLE extra_table (a INTEGER)'] };
          assert.deepEqual(await migrate(raw, [good, ...MIGRATIONS]), [next]);
          assert.deepEqual(await raw.all('SELECT a FROM extra_table'), []);
        } finally {
          await raw.close();
        }
        // This build does not know `next`: it must refuse a store a newer build has migrated.
        await assert.rejects(db.open(), new RegExp(`schema is at version ${next}.*upgrade StreamHouse`));
      });

      it('lets two agents open (and migrate) a fresh database at once', async () => {
        const db = await factory.createDatabase();
        cleanups.push(() => db.drop());
        const [a, b] = await Promise.all([db.open(), db.open()]);
        cleanups.push(() => a.close(), () => b.close());
        assert.equal(a.getClusterId(), b.getClusterId());
      });

      it('keeps data across reopen', async () => {
        const { store, db } = await fresh();
        const t = await topic(store, 'durable', 3);
        await store.segments.commitSegment(segment(t.id, 1, BIG, BIG + 9n));
        await store.offsets.commitOffsets('g', [
          { topic: 'durable', partition: 1, offset: BIG + 5n, leaderEpoch: 0, metadata: 'm', commitTimestamp: 1 },
        ]);
        await store.kv.put('ns', 'k', Buffer.from('v'));
        await store.close();
        const reopened = await openMore(db);
        assert.deepEqual(await reopened.topics.getTopicByName('durable'), t);
        assert.equal(await reopened.segments.nextOffset(t.id, 1), BIG + 10n);
        assert.equal((await reopened.offsets.fetchOffsets('g'))[0]!.offset, BIG + 5n);
        assert.deepEqual(await reopened.kv.get('ns', 'k'), Buffer.from('v'));
      });
    });

    describe('topics', () => {
      it('creates a topic with its partitions and finds it by name and id', async () => {
        const { store } = await fresh();
        const id = randomUUID();
        const created = await store.topics.createTopic({ name: 'orders', id, partitions: 3, configs: { 'cleanup.policy': 'compact' } });
        assert.deepEqual(created, { id, name: 'orders', partitions: 3, configs: { 'cleanup.policy': 'compact' } });
        assert.deepEqual(await store.topics.getTopicByName('orders'), created);
        assert.deepEqual(await store.topics.getTopicById(id), created);
        assert.equal(await store.topics.getTopicByName('nope'), null);
        assert.equal(await store.topics.getTopicById(randomUUID()), null);
        const parts = await store.partitions.listPartitions(id);
        assert.deepEqual(parts.map((p) => p.partition), [0, 1, 2]);
        for (const p of parts) {
          assert.deepEqual(p, { topicId: id, partition: p.partition, logStartOffset: 0n, leaderEpoch: 0, leaderAgent: null, leaseExpiresAt: null });
        }
      });

      it('refuses a second topic of the same name with TopicExistsError', async () => {
        const { store } = await fresh();
        await topic(store, 'dup');
        await assert.rejects(topic(store, 'dup'), (e) => e instanceof TopicExistsError && e.topic === 'dup');
        assert.equal((await store.topics.listTopics()).length, 1);
      });

      it('refuses a partition count below one', async () => {
        const { store } = await fresh();
        await assert.rejects(topic(store, 'zero', 0), InvalidPartitionsError);
      });

      it('lists topics ordered by name', async () => {
        const { store } = await fresh();
        for (const n of ['b', 'a', 'C', 'c']) await topic(store, n, 1);
        assert.deepEqual((await store.topics.listTopics()).map((t) => t.name), ['C', 'a', 'b', 'c']);
      });

      it('replaces configs', async () => {
        const { store } = await fresh();
        const t = await store.topics.createTopic({ name: 'cfg', id: randomUUID(), partitions: 1, configs: { a: '1', b: '2' } });
        await store.topics.setTopicConfigs(t.id, { c: '3' });
        assert.deepEqual((await store.topics.getTopicById(t.id))!.configs, { c: '3' });
        await assert.rejects(store.topics.setTopicConfigs(randomUUID(), {}), UnknownTopicError);
      });

      it('adds partitions, only upwards', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'grow', 2);
        await store.topics.addPartitions(t.id, 5);
        assert.equal((await store.topics.getTopicById(t.id))!.partitions, 5);
        assert.deepEqual((await store.partitions.listPartitions(t.id)).map((p) => p.partition), [0, 1, 2, 3, 4]);
        await assert.rejects(store.topics.addPartitions(t.id, 5), InvalidPartitionsError);
        await assert.rejects(store.topics.addPartitions(t.id, 3), InvalidPartitionsError);
        await assert.rejects(store.topics.addPartitions(randomUUID(), 9), UnknownTopicError);
      });

      it('deletes a topic with its partitions, segments and group offsets, returning the segments', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'gone', 2);
        const keep = await topic(store, 'kept', 1);
        const s0 = segment(t.id, 0, 0n, 9n);
        const s1 = segment(t.id, 1, 0n, 4n);
        await store.segments.commitSegment(s1);
        await store.segments.commitSegment(s0);
        await store.segments.commitSegment(segment(keep.id, 0, 0n, 1n));
        await store.offsets.commitOffsets('g', [
          { topic: 'gone', partition: 0, offset: 3n, leaderEpoch: 0, metadata: null, commitTimestamp: 1 },
          { topic: 'kept', partition: 0, offset: 1n, leaderEpoch: 0, metadata: null, commitTimestamp: 1 },
        ]);
        const removed = await store.topics.deleteTopic(t.id);
        assert.deepEqual(
          removed.map((s) => [s.partition, s.objectKey]),
          [
            [0, s0.objectKey],
            [1, s1.objectKey],
          ],
        );
        assert.equal(await store.topics.getTopicById(t.id), null);
        assert.equal(await store.topics.getTopicByName('gone'), null);
        assert.deepEqual(await store.partitions.listPartitions(t.id), []);
        assert.deepEqual(await store.segments.listSegments(t.id, 0), []);
        assert.deepEqual((await store.offsets.fetchOffsets('g')).map((o) => o.topic), ['kept']);
        assert.equal((await store.segments.listSegments(keep.id, 0)).length, 1);
        await assert.rejects(store.topics.deleteTopic(t.id), UnknownTopicError);
        // The name is free again, under a new id.
        const again = await topic(store, 'gone', 1);
        assert.notEqual(again.id, t.id);
      });
    });

    describe('partitions', () => {
      it('returns null for an unknown partition', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'p', 1);
        assert.equal(await store.partitions.getPartition(t.id, 1), null);
        assert.equal(await store.partitions.getPartition(randomUUID(), 0), null);
      });

      it('moves the log start offset only forward, with full int64 precision', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'lso', 1);
        assert.equal(await store.partitions.setLogStartOffset(t.id, 0, 10n), 10n);
        assert.equal(await store.partitions.setLogStartOffset(t.id, 0, 5n), 10n);
        assert.equal(await store.partitions.setLogStartOffset(t.id, 0, BIG + 1n), BIG + 1n);
        assert.equal((await store.partitions.getPartition(t.id, 0))!.logStartOffset, BIG + 1n);
        await assert.rejects(store.partitions.setLogStartOffset(t.id, 7, 1n), UnknownTopicOrPartitionError);
      });
    });

    describe('segments', () => {
      it('commits and lists segments in offset order with every field intact', async () => {
        const { store } = await fresh();
        const t = await topic(store, 's', 1);
        const later = segment(t.id, 0, BIG + 100n, BIG + 199n, 0, { maxTimestamp: BIG + 7n, sizeBytes: 5_000_000_000 });
        const first = segment(t.id, 0, BIG, BIG + 99n);
        await store.segments.commitSegment(later);
        await store.segments.commitSegment(first);
        const listed = await store.segments.listSegments(t.id, 0);
        const { producerStateSnapshot: _a, ...firstRecord } = first;
        const { producerStateSnapshot: _b, ...laterRecord } = later;
        assert.deepEqual(listed, [firstRecord, laterRecord]);
        assert.equal(listed[0]!.baseOffset, 4611686018427387904n);
      });

      it('refuses overlapping segments with SegmentOverlapError', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'ov', 1);
        await store.segments.commitSegment(segment(t.id, 0, 100n, 199n));
        for (const [b, l] of [
          [100n, 199n],
          [50n, 100n],
          [199n, 250n],
          [120n, 130n],
          [0n, 1000n],
        ] as const) {
          await assert.rejects(store.segments.commitSegment(segment(t.id, 0, b, l)), SegmentOverlapError, `[${b}, ${l}]`);
        }
        await store.segments.commitSegment(segment(t.id, 0, 200n, 299n));
        await store.segments.commitSegment(segment(t.id, 0, 0n, 99n));
        assert.equal((await store.segments.listSegments(t.id, 0)).length, 3);
      });

      it('treats the identical commit again as a no-op (retry after an unknown outcome)', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'retry', 1);
        const s = segment(t.id, 0, 0n, 9n);
        await store.segments.commitSegment(s);
        await store.segments.commitSegment(s);
        assert.equal((await store.segments.listSegments(t.id, 0)).length, 1);
      });

      it('refuses a commit under a stale leader epoch with FencedError', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'fence', 1);
        await assert.rejects(
          store.segments.commitSegment(segment(t.id, 0, 0n, 9n, 3)),
          (e) => e instanceof FencedError && e.epoch === 3 && e.currentEpoch === 0,
        );
        await assert.rejects(store.segments.commitSegment(segment(t.id, 9, 0n, 9n)), UnknownTopicOrPartitionError);
        assert.deepEqual(await store.segments.listSegments(t.id, 0), []);
      });

      it('fences the old leader once another agent takes the partition lease', async () => {
        const { store, db } = await fresh();
        const other = await openMore(db);
        const t = await topic(store, 'takeover', 1);
        const resource = partitionLeaseResource(t.id, 0);
        const a = await store.leases.acquire(resource, 'agent-a', 50);
        assert.ok(a);
        assert.equal(a.epoch, 1);
        await store.segments.commitSegment(segment(t.id, 0, 0n, 9n, a.epoch));
        await sleep(120); // agent-a pauses past its lease
        const b = await other.leases.acquire(resource, 'agent-b', 60_000);
        assert.ok(b);
        assert.equal(b.epoch, 2);
        const part = await store.partitions.getPartition(t.id, 0);
        assert.equal(part!.leaderEpoch, 2);
        assert.equal(part!.leaderAgent, 'agent-b');
        assert.equal(part!.leaseExpiresAt, b.expiresAt);
        await assert.rejects(store.segments.commitSegment(segment(t.id, 0, 10n, 19n, a.epoch)), FencedError);
        assert.equal(await store.leases.renew(resource, 'agent-a', a.epoch, 1000), false);
        await other.segments.commitSegment(segment(t.id, 0, 10n, 19n, b.epoch));
        assert.equal(await store.segments.nextOffset(t.id, 0), 20n);
      });

      it('a commit naming its agent needs that agent to hold the lease, and records it', async () => {
        const { store, db } = await fresh();
        const t = await topic(store, 'writer', 1);
        const resource = partitionLeaseResource(t.id, 0);
        const a = await store.leases.acquire(resource, 'agent-a', 60_000);
        assert.ok(a);
        await assert.rejects(store.segments.commitSegment(segment(t.id, 0, 0n, 9n, a.epoch, { agentId: 'agent-b' })), FencedError);
        await store.segments.commitSegment(segment(t.id, 0, 0n, 9n, a.epoch, { agentId: 'agent-a' }));
        const raw = await db.openRaw();
        try {
          const rows = await raw.all('SELECT agent_id FROM segments WHERE topic_id = $1', [t.id]);
          assert.deepEqual(rows.map((r) => r.agent_id), ['agent-a']);
        } finally {
          await raw.close();
        }
        // Released: the epoch stays, but its old holder may no longer commit under it.
        assert.equal(await store.leases.release(resource, 'agent-a', a.epoch), true);
        await assert.rejects(store.segments.commitSegment(segment(t.id, 0, 10n, 19n, a.epoch, { agentId: 'agent-a' })), FencedError);
      });

      it('finds segments below an offset and deletes segments by object key', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'ret', 1);
        const segs = [segment(t.id, 0, 0n, 9n), segment(t.id, 0, 10n, 19n), segment(t.id, 0, 20n, 29n)];
        for (const s of segs) await store.segments.commitSegment(s);
        assert.deepEqual((await store.segments.segmentsBelow(t.id, 0, 20n)).map((s) => s.objectKey), [segs[0]!.objectKey, segs[1]!.objectKey]);
        assert.deepEqual((await store.segments.segmentsBelow(t.id, 0, 19n)).map((s) => s.objectKey), [segs[0]!.objectKey]);
        assert.deepEqual(await store.segments.segmentsBelow(t.id, 0, 0n), []);
        assert.equal(await store.segments.deleteSegments(t.id, 0, [segs[0]!.objectKey, segs[1]!.objectKey, 'missing']), 2);
        assert.deepEqual((await store.segments.listSegments(t.id, 0)).map((s) => s.objectKey), [segs[2]!.objectKey]);
        assert.equal(await store.segments.deleteSegments(t.id, 0, []), 0);
      });

      it('computes the next offset from the newest segment or the log start offset', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'next', 2);
        assert.equal(await store.segments.nextOffset(t.id, 0), 0n);
        await store.partitions.setLogStartOffset(t.id, 1, 42n);
        assert.equal(await store.segments.nextOffset(t.id, 1), 42n);
        await store.segments.commitSegment(segment(t.id, 0, 0n, 9n));
        await store.segments.commitSegment(segment(t.id, 0, 10n, BIG));
        assert.equal(await store.segments.nextOffset(t.id, 0), BIG + 1n);
        await store.partitions.setLogStartOffset(t.id, 0, BIG + 50n);
        assert.equal(await store.segments.nextOffset(t.id, 0), BIG + 50n);
        await assert.rejects(store.segments.nextOffset(t.id, 2), UnknownTopicOrPartitionError);
      });

      it('returns the newest producer-state snapshot', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'ps', 1);
        assert.equal(await store.segments.latestProducerState(t.id, 0), null);
        await store.segments.commitSegment(segment(t.id, 0, 0n, 9n, 0, { producerStateSnapshot: Buffer.from([1, 2]) }));
        await store.segments.commitSegment(segment(t.id, 0, 10n, 19n, 0, { producerStateSnapshot: Buffer.from([3, 0, 255]) }));
        await store.segments.commitSegment(segment(t.id, 0, 20n, 29n));
        assert.deepEqual(await store.segments.latestProducerState(t.id, 0), { lastOffset: 19n, snapshot: Buffer.from([3, 0, 255]) });
      });
    });

    describe('group offsets', () => {
      it('upserts, fetches (all or filtered), deletes and lists groups', async () => {
        const { store } = await fresh();
        await store.offsets.commitOffsets('g1', [
          { topic: 'b', partition: 1, offset: 10n, leaderEpoch: 3, metadata: 'x', commitTimestamp: 100, expireTimestamp: 5000 },
          { topic: 'a', partition: 0, offset: BIG, leaderEpoch: -1, metadata: null, commitTimestamp: 100 },
          { topic: 'b', partition: 0, offset: 7n, leaderEpoch: 3, metadata: '', commitTimestamp: 100 },
        ]);
        await store.offsets.commitOffsets('g1', [{ topic: 'b', partition: 1, offset: 11n, leaderEpoch: 4, metadata: 'y', commitTimestamp: 200 }]);
        await store.offsets.commitOffsets('g2', [{ topic: 'a', partition: 0, offset: 1n, leaderEpoch: 0, metadata: null, commitTimestamp: 1 }]);
        assert.deepEqual(await store.offsets.fetchOffsets('g1'), [
          { topic: 'a', partition: 0, offset: BIG, leaderEpoch: -1, metadata: null, commitTimestamp: 100, expireTimestamp: null },
          { topic: 'b', partition: 0, offset: 7n, leaderEpoch: 3, metadata: '', commitTimestamp: 100, expireTimestamp: null },
          { topic: 'b', partition: 1, offset: 11n, leaderEpoch: 4, metadata: 'y', commitTimestamp: 200, expireTimestamp: null },
        ]);
        assert.deepEqual(
          (await store.offsets.fetchOffsets('g1', [{ topic: 'b', partitions: [1, 5] }, { topic: 'zz' }])).map((o) => [o.topic, o.partition]),
          [['b', 1]],
        );
        assert.deepEqual(
          (await store.offsets.fetchOffsets('g1', [{ topic: 'b' }, { topic: 'a' }])).map((o) => [o.topic, o.partition]),
          [
            ['a', 0],
            ['b', 0],
            ['b', 1],
          ],
        );
        assert.deepEqual(await store.offsets.fetchOffsets('nobody'), []);
        assert.deepEqual(await store.offsets.listGroupsWithOffsets(), ['g1', 'g2']);
        assert.equal(await store.offsets.deleteOffsets('g1', [{ topic: 'b', partition: 0 }, { topic: 'b', partition: 9 }]), 1);
        assert.equal((await store.offsets.fetchOffsets('g1')).length, 2);
        assert.equal(await store.offsets.deleteGroupOffsets('g1'), 2);
        assert.deepEqual(await store.offsets.listGroupsWithOffsets(), ['g2']);
      });

      it('deletes expired offsets only', async () => {
        const { store } = await fresh();
        await store.offsets.commitOffsets('g', [
          { topic: 't', partition: 0, offset: 1n, leaderEpoch: 0, metadata: null, commitTimestamp: 1, expireTimestamp: 1000 },
          { topic: 't', partition: 1, offset: 1n, leaderEpoch: 0, metadata: null, commitTimestamp: 1, expireTimestamp: 3000 },
          { topic: 't', partition: 2, offset: 1n, leaderEpoch: 0, metadata: null, commitTimestamp: 1 },
        ]);
        assert.equal(await store.offsets.deleteExpiredOffsets(2000), 1);
        assert.deepEqual((await store.offsets.fetchOffsets('g')).map((o) => o.partition), [1, 2]);
      });
    });

    describe('producer ids', () => {
      it('hands out increasing, non-overlapping blocks that survive reopen', async () => {
        const { store, db } = await fresh();
        const a = await store.producerIds.allocateProducerIds(10);
        const b = await store.producerIds.allocateProducerIds(1);
        assert.equal(typeof a, 'bigint');
        assert.equal(b, a + 10n);
        await store.close();
        const reopened = await openMore(db);
        assert.equal(await reopened.producerIds.allocateProducerIds(5), b + 1n);
        await assert.rejects(reopened.producerIds.allocateProducerIds(0), RangeError);
      });

      it('never overlaps between two store instances allocating concurrently', async () => {
        const { store, db } = await fresh();
        const other = await openMore(db);
        const calls: Promise<bigint>[] = [];
        for (let i = 0; i < 40; i++) calls.push((i % 2 ? store : other).producerIds.allocateProducerIds(3));
        const firsts = (await Promise.all(calls)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i]! >= firsts[i - 1]! + 3n, `${firsts[i - 1]} and ${firsts[i]} overlap`);
        assert.equal(firsts[firsts.length - 1]! - firsts[0]!, 39n * 3n);
      });
    });

    describe('key-value', () => {
      it('puts, gets, versions, compares-and-sets, deletes and lists per namespace', async () => {
        const { store } = await fresh();
        assert.equal(await store.kv.get('ns', 'a'), null);
        assert.equal(await store.kv.put('ns', 'a', Buffer.from('1')), 1);
        assert.equal(await store.kv.put('ns', 'a', Buffer.from('2')), 2);
        assert.deepEqual(await store.kv.getEntry('ns', 'a'), { key: 'a', value: Buffer.from('2'), version: 2 });
        assert.equal(await store.kv.put('ns', 'a', Buffer.from('x'), 1), null, 'stale version refused');
        assert.equal(await store.kv.put('ns', 'a', Buffer.from('x'), 0), null, 'exists, so "only if absent" refused');
        assert.deepEqual(await store.kv.get('ns', 'a'), Buffer.from('2'));
        assert.equal(await store.kv.put('ns', 'a', Buffer.from('3'), 2), 3);
        assert.equal(await store.kv.put('ns', 'b', Buffer.alloc(0), 0), 1);
        assert.equal(await store.kv.put('other', 'a', Buffer.from([0, 255])), 1);
        assert.deepEqual(await store.kv.list('ns'), [
          { key: 'a', value: Buffer.from('3'), version: 3 },
          { key: 'b', value: Buffer.alloc(0), version: 1 },
        ]);
        assert.equal(await store.kv.delete('ns', 'a', 2), false);
        assert.equal(await store.kv.delete('ns', 'a', 3), true);
        assert.equal(await store.kv.delete('ns', 'a'), false);
        assert.equal(await store.kv.delete('ns', 'b'), true);
        assert.deepEqual(await store.kv.list('ns'), []);
        assert.deepEqual(await store.kv.get('other', 'a'), Buffer.from([0, 255]));
      });

      it('lets exactly one of two concurrent compare-and-sets win', async () => {
        const { store, db } = await fresh();
        const other = await openMore(db);
        await store.kv.put('ns', 'k', Buffer.from('0'));
        const results = await Promise.all([
          store.kv.put('ns', 'k', Buffer.from('a'), 1),
          other.kv.put('ns', 'k', Buffer.from('b'), 1),
        ]);
        assert.deepEqual(results.filter((r) => r !== null), [2]);
      });
    });

    describe('schemas (registry)', () => {
      const schema = (fp: string, id?: number) => ({
        schemaType: 'AVRO',
        schema: `{"type":"string","fp":"${fp}"}`,
        references: [{ name: 'r', subject: 's', version: 1 }],
        fingerprint: fp,
        ...(id !== undefined ? { id } : {}),
      });

      it('gives a schema one global id, reused for the same fingerprint', async () => {
        const { store } = await fresh();
        assert.equal(await store.schemas.putSchema(schema('a')), 1);
        assert.equal(await store.schemas.putSchema(schema('b')), 2);
        assert.equal(await store.schemas.putSchema(schema('a')), 1);
        const got = await store.schemas.getSchema(2);
        assert.deepEqual(got, { id: 2, ...schema('b') });
        assert.equal(await store.schemas.getSchema(3), null);
        assert.equal(await store.schemas.putSchema(schema('c', 10)), 10, 'IMPORT mode id');
        assert.equal(await store.schemas.putSchema(schema('d')), 11);
        await assert.rejects(store.schemas.putSchema(schema('e', 10)), { name: 'SchemaConflictError' });
      });

      it('numbers subject versions, soft-deletes and removes them', async () => {
        const { store } = await fresh();
        const a = await store.schemas.putSchema(schema('a'));
        const b = await store.schemas.putSchema(schema('b'));
        assert.equal((await store.schemas.addVersion('s', a)).version, 1);
        assert.equal((await store.schemas.addVersion('s', b)).version, 2);
        assert.equal((await store.schemas.addVersion('t', b)).version, 1);
        await assert.rejects(store.schemas.addVersion('t', a, 1), { name: 'SchemaConflictError' });
        assert.deepEqual((await store.schemas.versionsOfSchema(b)).map((v) => `${v.subject}/${v.version}`), ['s/2', 't/1']);
        assert.equal(await store.schemas.deleteVersions('s', [2], false), 1);
        assert.deepEqual(
          (await store.schemas.listVersions('s')).map((v) => [v.version, v.deleted]),
          [[1, false], [2, true]],
        );
        assert.equal(await store.schemas.deleteVersions('s', [2], true), 1);
        assert.equal((await store.schemas.addVersion('s', b)).version, 2, 'numbers continue after the highest kept row');
        assert.equal((await store.schemas.listVersions()).length, 3);
      });

      it('allocates distinct ids and versions under concurrency from two stores', async () => {
        const { store, db } = await fresh();
        const other = await openMore(db);
        const ids = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).schemas.putSchema(schema(`x${i}`))),
        );
        assert.equal(new Set(ids).size, 8);
        const versions = await Promise.all(ids.map((id, i) => (i % 2 ? store : other).schemas.addVersion('s', id)));
        assert.deepEqual(versions.map((v) => v.version).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8]);
      });

      it('stores global and per-subject settings', async () => {
        const { store } = await fresh();
        assert.equal(await store.schemas.getConfig(''), null);
        await store.schemas.setConfig('', { compatibility: 'FULL', mode: null });
        await store.schemas.setConfig('s', { compatibility: null, mode: 'READONLY' });
        assert.deepEqual(await store.schemas.getConfig(''), { compatibility: 'FULL', mode: null });
        assert.deepEqual(await store.schemas.getConfig('s'), { compatibility: null, mode: 'READONLY' });
        await store.schemas.setConfig('s', { compatibility: null, mode: null });
        assert.equal(await store.schemas.getConfig('s'), null);
      });
    });

    describe('leases', () => {
      it('acquires, refuses another holder while live, renews, releases, bumping the epoch on every new holder', async () => {
        const { store } = await fresh();
        assert.equal(await store.leases.get('coordinator/0'), null);
        const a = await store.leases.acquire('coordinator/0', 'agent-a', 60_000);
        assert.ok(a);
        assert.equal(a.holder, 'agent-a');
        assert.equal(a.epoch, 1);
        assert.ok(a.expiresAt! > Date.now() + 50_000);
        assert.equal(await store.leases.acquire('coordinator/0', 'agent-b', 60_000), null);
        const again = await store.leases.acquire('coordinator/0', 'agent-a', 60_000);
        assert.equal(again!.epoch, 1, 'a live holder re-acquiring keeps its epoch');
        assert.equal(await store.leases.renew('coordinator/0', 'agent-a', 1, 60_000), true);
        assert.equal(await store.leases.renew('coordinator/0', 'agent-a', 0, 60_000), false);
        assert.equal(await store.leases.renew('coordinator/0', 'agent-b', 1, 60_000), false);
        assert.equal(await store.leases.release('coordinator/0', 'agent-b', 1), false);
        assert.equal(await store.leases.release('coordinator/0', 'agent-a', 1), true);
        assert.deepEqual(await store.leases.get('coordinator/0'), { resource: 'coordinator/0', holder: null, epoch: 1, expiresAt: null });
        const b = await store.leases.acquire('coordinator/0', 'agent-b', 60_000);
        assert.equal(b!.epoch, 2);
        assert.deepEqual(await store.leases.get('coordinator/0'), b);
      });

      it('lets another holder take an expired lease with a higher epoch', async () => {
        const { store } = await fresh();
        const a = await store.leases.acquire('shard/1', 'agent-a', 30);
        await sleep(100);
        const b = await store.leases.acquire('shard/1', 'agent-b', 60_000);
        assert.equal(b!.epoch, a!.epoch + 1);
        assert.equal(await store.leases.renew('shard/1', 'agent-a', a!.epoch, 1000), false);
        assert.equal(await store.leases.acquire('shard/1', 'agent-a', 1000), null);
      });

      it('fences kv writes, kv deletes and offset commits on a lease held at an epoch', async () => {
        const { store } = await fresh();
        const a = (await store.leases.acquire('group-coordinator/7', 'agent-a', 30))!;
        const fenceA = { resource: a.resource, holder: 'agent-a', epoch: a.epoch };
        assert.equal(await store.kv.put('groups', 'g', Buffer.from('1'), 0, fenceA), 1);
        assert.equal(await store.kv.put('groups', 'g', Buffer.from('2'), 1, fenceA), 2, 'a version mismatch is still null, not fenced');
        const offset = { topic: 't', partition: 0, offset: 5n, leaderEpoch: -1, metadata: '', commitTimestamp: 1, expireTimestamp: null };
        await store.offsets.commitOffsets('g', [offset], fenceA);
        await sleep(100);
        const b = (await store.leases.acquire('group-coordinator/7', 'agent-b', 60_000))!;
        await assert.rejects(store.kv.put('groups', 'g', Buffer.from('late'), 2, fenceA), LeaseFencedError);
        await assert.rejects(store.kv.delete('groups', 'g', undefined, fenceA), LeaseFencedError);
        await assert.rejects(store.offsets.commitOffsets('g', [{ ...offset, offset: 9n }], fenceA), LeaseFencedError);
        await assert.rejects(store.kv.put('groups', 'other', Buffer.from('x'), 0, { ...fenceA, holder: 'agent-b' }), LeaseFencedError, 'holder and epoch must both match');
        assert.deepEqual(await store.kv.get('groups', 'g'), Buffer.from('2'));
        assert.equal((await store.offsets.fetchOffsets('g'))[0]!.offset, 5n);
        const fenceB = { resource: b.resource, holder: 'agent-b', epoch: b.epoch };
        assert.equal(await store.kv.put('groups', 'g', Buffer.from('3'), 2, fenceB), 3);
        await store.offsets.commitOffsets('g', [{ ...offset, offset: 9n }], fenceB);
        assert.equal((await store.offsets.fetchOffsets('g'))[0]!.offset, 9n);
        assert.equal(await store.kv.delete('groups', 'g', 3, fenceB), true);
        assert.equal(await store.leases.release(b.resource, 'agent-b', b.epoch), true);
        await assert.rejects(store.kv.put('groups', 'g', Buffer.from('4'), 0, fenceB), LeaseFencedError, 'a released lease fences its holder');
      });

      it('lists leases by prefix', async () => {
        const { store } = await fresh();
        await store.leases.acquire('group/1', 'x', 1000);
        await store.leases.acquire('group/0', 'y', 1000);
        await store.leases.acquire('txn/0', 'x', 1000);
        assert.deepEqual((await store.leases.list('group/')).map((l) => [l.resource, l.holder]), [
          ['group/0', 'y'],
          ['group/1', 'x'],
        ]);
        assert.equal((await store.leases.list('')).length, 3);
      });

      it('grants a contested lease to exactly one of two agents', async () => {
        const { store, db } = await fresh();
        const other = await openMore(db);
        const t = await topic(store, 'race', 1);
        for (const resource of ['coordinator/7', partitionLeaseResource(t.id, 0)]) {
          const [a, b] = await Promise.all([store.leases.acquire(resource, 'agent-a', 60_000), other.leases.acquire(resource, 'agent-b', 60_000)]);
          assert.equal([a, b].filter((l) => l !== null).length, 1, resource);
          assert.equal((a ?? b)!.epoch, 1);
        }
      });

      it('keeps partition leadership in the partition row', async () => {
        const { store } = await fresh();
        const t = await topic(store, 'lead', 1);
        const resource = partitionLeaseResource(t.id, 0);
        assert.deepEqual(await store.leases.get(resource), { resource, holder: null, epoch: 0, expiresAt: null });
        const l = await store.leases.acquire(resource, 'agent-a', 60_000);
        assert.deepEqual(await store.leases.get(resource), l);
        assert.equal(await store.leases.release(resource, 'agent-a', l!.epoch), true);
        const p = await store.partitions.getPartition(t.id, 0);
        assert.deepEqual([p!.leaderAgent, p!.leaderEpoch, p!.leaseExpiresAt], [null, 1, null]);
        await assert.rejects(store.leases.acquire(partitionLeaseResource(t.id, 3), 'agent-a', 1000), UnknownTopicOrPartitionError);
        assert.deepEqual(await store.leases.list('partition/'), [], 'partition leaderships are listed by listPartitions');
      });
    });
  });
}
