// The log manager without a broker: WAL pressure forces early uploads instead of failing appends,
// the orphan collector removes only old objects without rows, the fetch session cache is bounded,
// and a WAL that stays full fails appends with a retriable error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataStore } from '../../src/metadata/index.js';
import type { MetadataStore, TopicRecord } from '../../src/metadata/types.js';
import { FileStore } from '../../src/s3/index.js';
import { PartitionLogManager, openWal } from '../../src/log/log-manager.js';
import { PROFILES } from '../../src/log/topic-config.js';
import { segmentKey } from '../../src/log/segment-format.js';
import { FetchSessionCache } from '../../src/log/fetch-sessions.js';
import { silentLogger } from '../../src/observability/logger.js';
import { buildBatchSync, patchBatch } from '../../src/protocol/records/index.js';
import { partitionLeaseResource } from '../../src/metadata/leases.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { ProducerStateManager } from '../../src/coordinator/producer/producer-state-manager.js';

const log = silentLogger();
const appendOpts = { acks: -1, produceVersion: 9, transactionalId: null };

async function setup(dir: string, configs: Record<string, string> = {}): Promise<{ store: MetadataStore; objects: FileStore; topic: TopicRecord }> {
  const store = await openMetadataStore(`sqlite:${join(dir, 'meta.sqlite')}`);
  const objects = await FileStore.open(join(dir, 'objects'));
  const topic = await store.topics.createTopic({ name: 't', id: '5d0c8e2a-1b3f-4a6e-9c7d-8e9f0a1b2c3d', partitions: 1, configs });
  return { store, objects, topic };
}

test('WAL pressure uploads tails early so appends keep going', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-pressure-'));
  try {
    const { store, objects, topic } = await setup(dir);
    let logs: PartitionLogManager | undefined;
    const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log, () => logs?.onWalPressure(), { maxBytes: 64 * 1024, segmentBytes: 16 * 1024, pressureTimeoutMs: 5000 });
    logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0 });
    await logs.recover();
    const p = await logs.partition(topic, 0);
    // 400 KiB through a 64 KiB WAL, with segment.bytes far above it: only early uploads make room.
    for (let i = 0; i < 100; i++) await p.append(buildBatchSync({ records: [{ value: Buffer.alloc(4000, i) }] }), appendOpts).durable;
    assert.equal(p.highWatermark(), 100n);
    assert.ok((await store.segments.listSegments(topic.id, 0)).length >= 2, 'segments were uploaded early');
    assert.ok(wal.usedBytes() <= 64 * 1024);
    await logs.close();
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a WAL that stays full fails the append with a retriable REQUEST_TIMED_OUT and nothing is half-written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-full-'));
  try {
    const { store, objects, topic } = await setup(dir);
    // No pressure handler: nothing frees space.
    const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log, undefined, { maxBytes: 16 * 1024, segmentBytes: 8 * 1024, pressureTimeoutMs: 200 });
    const logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0 });
    await logs.recover();
    const p = await logs.partition(topic, 0);
    let failure: unknown;
    let ok = 0;
    for (let i = 0; i < 10 && !failure; i++) {
      try {
        await p.append(buildBatchSync({ records: [{ value: Buffer.alloc(3000) }] }), appendOpts).durable;
        ok++;
      } catch (err) {
        failure = err;
      }
    }
    assert.ok(failure instanceof KafkaError, `expected a KafkaError, got ${String(failure)}`);
    assert.equal(failure.code, ErrorCode.REQUEST_TIMED_OUT);
    assert.ok(failure.retriable);
    assert.equal(p.highWatermark(), BigInt(ok));
    assert.equal(p.logEndOffset(), BigInt(ok), 'the refused batch gave its offset back');
    await logs.close();
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const timedOut = (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.REQUEST_TIMED_OUT;

/** A log with idempotence whose WAL is (or can be made) full: nothing uploads to free it. */
async function idempotentLog(dir: string) {
  const { store, objects, topic } = await setup(dir);
  const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log, undefined, { maxBytes: 16 * 1024, segmentBytes: 8 * 1024, pressureTimeoutMs: 200 });
  const logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0, producerState: new ProducerStateManager() });
  await logs.recover();
  const p = await logs.partition(topic, 0);
  return {
    p,
    /** Producer 7's batch with sequence `seq`: a fresh buffer each time, as a client retry is. */
    batch: (seq: number) => buildBatchSync({ records: [{ value: Buffer.alloc(3000, seq) }], producerId: 7n, producerEpoch: 0, baseSequence: seq }),
    async fillWal() {
      for (;;) {
        try {
          await p.append(buildBatchSync({ records: [{ value: Buffer.alloc(3000) }] }), appendOpts).durable;
        } catch (err) {
          assert.ok(timedOut(err), `expected the WAL to fill up, got ${String(err)}`);
          return;
        }
      }
    },
    async close() {
      await logs.close();
      await objects.close();
      await store.close();
    },
  };
}

test('an idempotent retry that overtakes its original is answered once the original is durable, and fails with it', async () => {
  // Regression: the duplicate was answered at once, with the offsets of a batch still on its way to
  // the WAL; had the WAL refused it, the retry's acknowledgement named records never stored.
  const dir = mkdtempSync(join(tmpdir(), 'sh-dup-pending-'));
  try {
    const l = await idempotentLog(dir);
    const original = l.p.append(l.batch(0), appendOpts);
    const retry = l.p.append(l.batch(0), appendOpts);
    const answered = await retry.durable;
    assert.equal(answered.baseOffset, 0n);
    assert.ok(l.p.highWatermark() > answered.baseOffset, 'the retry was acknowledged before its original was durable');
    assert.equal((await original.durable).baseOffset, 0n);

    await l.fillWal();
    const end = l.p.logEndOffset();
    const refused = l.p.append(l.batch(1), appendOpts);
    const overtaking = l.p.append(l.batch(1), appendOpts);
    await assert.rejects(refused.durable, timedOut);
    await assert.rejects(overtaking.durable, timedOut, 'the retry of a refused batch is refused too');
    assert.equal(l.p.logEndOffset(), end);
    await l.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pipelined idempotent appends the WAL refuses together are all forgotten, so a retry is not answered from memory', async () => {
  // Regression: failures arrive oldest first and only the producer's last batch was reverted, so
  // the retry of the first refused batch was answered as a duplicate, with offsets holding nothing.
  const dir = mkdtempSync(join(tmpdir(), 'sh-dup-refused-'));
  try {
    const l = await idempotentLog(dir);
    assert.equal((await l.p.append(l.batch(0), appendOpts).durable).baseOffset, 0n);
    await l.fillWal();
    const first = l.p.append(l.batch(1), appendOpts);
    const second = l.p.append(l.batch(2), appendOpts);
    await assert.rejects(first.durable, timedOut);
    await assert.rejects(second.durable, timedOut);
    // Still no space: the retry must wait for the WAL again, not succeed without it.
    await assert.rejects(l.p.append(l.batch(1), appendOpts).durable, timedOut);
    await l.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the orphan collector deletes old objects without a row, and keeps young ones and committed ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-orphan-'));
  try {
    const { store, objects, topic } = await setup(dir, { 'segment.bytes': '100' });
    const logs = new PartitionLogManager({ store, objects, wal: null, brokerProfile: PROFILES.glacier, log, orphanCheckMs: 0 });
    await logs.recover();
    const p = await logs.partition(topic, 0);
    await p.append(buildBatchSync({ records: [{ value: 'kept' }] }), appendOpts).durable;
    await p.flush();
    const [committed] = await store.segments.listSegments(topic.id, 0);
    const orphan = segmentKey(topic.id, 0, 500n, 0);
    await objects.put(orphan, Buffer.from('left by a crashed upload'));
    const deletedTopicObject = segmentKey('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', 0, 0n, 0);
    await objects.put(deletedTopicObject, Buffer.from('of a deleted topic'));

    let report = await logs.collectOrphans(60_000);
    assert.deepEqual(report.deleted, [], 'young objects are left alone');
    report = await logs.collectOrphans(0);
    assert.deepEqual(report.deleted.sort(), [orphan, deletedTopicObject].sort());
    assert.ok(await objects.head(committed.objectKey));
    assert.equal(await objects.head(orphan), null);
    await logs.close();
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('glacier: acks=all is the in-memory append; close() uploads the tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-glacier-'));
  try {
    const { store, objects, topic } = await setup(dir, { 'durability.profile': 'glacier' });
    const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log);
    const logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0 });
    await logs.recover();
    const p = await logs.partition(topic, 0);
    const h = p.append(buildBatchSync({ records: [{ value: 'g' }] }), appendOpts);
    assert.equal(p.highWatermark(), 1n, 'durable at once');
    await h.durable;
    assert.equal(wal.usedBytes(), 16, 'nothing but the file header went to the WAL');
    await logs.close();
    const segs = await store.segments.listSegments(topic.id, 0);
    assert.deepEqual(segs.map((s) => [s.baseOffset, s.lastOffset]), [[0n, 0n]]);
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fetch session cache is bounded: the least recently used session is evicted', () => {
  const cache = new FetchSessionCache({ maxSessions: 2 });
  const a = cache.create(false)!;
  const b = cache.create(false)!;
  assert.ok(cache.get(a.id)); // a is now the most recent
  const c = cache.create(true)!;
  assert.equal(cache.size, 2);
  assert.equal(cache.get(b.id), undefined);
  assert.ok(cache.get(a.id));
  assert.ok(cache.get(c.id));
  assert.equal(cache.evictions, 1);
  assert.notEqual(a.id, c.id);
  assert.ok(a.id > 0 && c.id > 0);
});

test('cluster mode: a lease that cannot be confirmed (store unreachable) keeps the log and its producer state', async () => {
  // Regression (issue #9, PostgreSQL outage longer than the lease): the manager used to close the log
  // when leaseFor answered null; reopened at the same epoch after the outage it started at the
  // committed end, without the tail or its producer state, and the next idempotent batch got
  // OUT_OF_ORDER_SEQUENCE_NUMBER although no lease changed hands.
  const dir = mkdtempSync(join(tmpdir(), 'sh-lease-unknown-'));
  try {
    const { store, objects, topic } = await setup(dir);
    const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log);
    let valid = true;
    let reachable = true;
    const leadership = {
      agentId: 'agent-a',
      leaseFor: async () => (reachable ? 3 : null),
      isValid: () => valid,
      recoveryRecords: async () => [],
      lost: () => undefined,
    };
    const logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0, leadership, producerState: new ProducerStateManager() });
    await logs.recover();
    const batch = (seq: number) => buildBatchSync({ records: [{ value: Buffer.from(`v${seq}`) }], producerId: 42n, producerEpoch: 0, baseSequence: seq });
    const p = await logs.partition(topic, 0);
    assert.equal((await p.append(batch(0), appendOpts).durable).baseOffset, 0n);

    // The local lease validity ran out and the store cannot be reached.
    valid = false;
    reachable = false;
    await assert.rejects(logs.partition(topic, 0), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.equal(logs.getOpen(topic.id, 0), p, 'the log stays open, refusing appends');
    assert.throws(() => p.append(batch(1), appendOpts), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER);

    // The store is back and renews the same lease: the same log serves the next sequence.
    valid = true;
    reachable = true;
    const again = await logs.partition(topic, 0);
    assert.equal(again, p);
    assert.equal((await again.append(batch(1), appendOpts).durable).baseOffset, 1n);
    assert.equal((await again.append(batch(1), appendOpts).durable).baseOffset, 1n, 'a retried batch is answered as a duplicate');
    await logs.close();
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cluster mode: a predecessor's recovered tail keeps its own epoch in the leader-epoch history after a reopen", async () => {
  // Regression (fencing system test): the successor committed the tail it recovered from the
  // previous leader's WAL (records of epoch 1) in a row of its own epoch 2; a later open rebuilt
  // the epoch history from the rows, so OffsetForLeaderEpoch(1) ended where the recovered tail
  // began, and librdkafka truncated its position back there (records delivered again).
  const dir = mkdtempSync(join(tmpdir(), 'sh-epoch-history-'));
  try {
    const { store, objects, topic } = await setup(dir);
    const resource = partitionLeaseResource(topic.id, 0);
    const first = (await store.leases.acquire(resource, 'agent-a', 60_000))!;
    await store.leases.release(resource, 'agent-a', first.epoch);
    const lease = (await store.leases.acquire(resource, 'agent-b', 60_000))!;
    assert.equal(lease.epoch, first.epoch + 1);
    // The predecessor's unflushed batch, offsets 0-2 of its epoch.
    const recovered = buildBatchSync({ records: [0, 1, 2].map((i) => ({ value: Buffer.from(`old-${i}`) })) });
    patchBatch(recovered, 0n, first.epoch);
    const walRecord = { topicId: topic.id, partition: 0, baseOffset: 0n, lastOffset: 2n, leaderEpoch: first.epoch, data: recovered, position: { file: 1, offset: 0, end: recovered.length } };
    const open = async (records: (typeof walRecord)[]) => {
      const wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log);
      const leadership = { agentId: 'agent-b', leaseFor: async () => lease.epoch, isValid: () => true, recoveryRecords: async () => records, lost: () => undefined };
      const logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0, leadership });
      await logs.recover();
      return logs;
    };
    const logs = await open([walRecord]);
    const p = await logs.partition(topic, 0);
    assert.equal((await p.append(buildBatchSync({ records: [{ value: Buffer.from('new') }] }), appendOpts).durable).baseOffset, 3n);
    const expected = { leaderEpoch: first.epoch, endOffset: 3n };
    assert.deepEqual(p.endOffsetForEpoch(first.epoch), expected);
    await logs.close(); // uploads the new batch: two segments, of epochs 1 and 2

    const rows = await store.segments.listSegments(topic.id, 0);
    assert.deepEqual(
      rows.map((r) => [r.baseOffset, r.leaderEpoch, r.recordsEpoch]),
      [
        [0n, lease.epoch, first.epoch],
        [3n, lease.epoch, lease.epoch],
      ],
    );
    const reopened = await open([]);
    assert.deepEqual((await reopened.partition(topic, 0)).endOffsetForEpoch(first.epoch), expected, 'the history survives the reopen');
    await reopened.close();
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
