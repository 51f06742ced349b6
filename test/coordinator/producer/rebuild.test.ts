// Producer state rebuilt from committed segments when the newest ones carry no snapshot: a broker
// writes segments, stops, the snapshots are removed from the metadata store and the WAL deleted,
// and after the restart duplicates, sequence gaps and open transactions behave as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel } from 'kafkajs';
import { RawClient } from '../../helpers/raw-client.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';
import {
  ProduceRequestMessage,
  ProduceResponseMessage,
  createProduceRequest,
  InitProducerIdRequestMessage,
  InitProducerIdResponseMessage,
  createInitProducerIdRequest,
} from '../../../src/protocol/generated/index.js';
import { buildBatchSync } from '../../../src/protocol/records/index.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { rawFetch } from '../../handlers/data-path.js';

async function initPid(raw: RawClient, transactionalId: string | null = null) {
  for (let i = 0; ; i++) {
    const r = await raw.request(InitProducerIdRequestMessage, InitProducerIdResponseMessage, 4, {
      ...createInitProducerIdRequest(),
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    // A transactional id whose transaction is being aborted answers CONCURRENT_TRANSACTIONS for a while.
    if (r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS && i < 50) {
      await new Promise((res) => setTimeout(res, 100));
      continue;
    }
    assert.equal(r.errorCode, ErrorCode.NONE);
    return r;
  }
}

const value = (seq: number) => `value-${seq}-${'x'.repeat(60)}`;

async function produce(raw: RawClient, topic: string, pid: bigint, epoch: number, seq: number, v = value(seq)) {
  const batch = buildBatchSync({ records: [{ value: Buffer.from(v) }], producerId: pid, producerEpoch: epoch, baseSequence: seq });
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
    ...createProduceRequest(),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

/** Stops the broker, drops producer-state snapshots (of segments from `fromOffset` on) and the WAL, restarts. */
async function restartWithoutSnapshots(broker: TestBroker, topic: string, fromOffset = 0n): Promise<TestBroker> {
  const dataDir = broker.dataDir;
  const id = (await broker.agent.context.topics.get(topic))!.id;
  await broker.stop({ keepData: true });
  const db = new Database(join(dataDir, 'meta.sqlite'));
  try {
    const removed = db.prepare('UPDATE segments SET producer_state = NULL WHERE topic_id = ? AND base_offset >= ? AND producer_state IS NOT NULL').run(id, fromOffset);
    assert.ok(removed.changes > 0, 'there were snapshots to remove');
  } finally {
    db.close();
  }
  rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
  return startTestBroker({ dataDir });
}

async function topicId(broker: TestBroker, name: string): Promise<string> {
  return (await broker.agent.context.topics.get(name))!.id;
}

test('idempotent retries after a restart with no snapshot at all: state rebuilt from every segment', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-ps-rebuild-'));
  let broker = await startTestBroker({ dataDir });
  try {
    await broker.agent.context.topics.create({ name: 'rb-idem', partitions: 1, configs: { 'segment.bytes': '1024' } });
    let raw = await RawClient.connect(broker.port);
    const { producerId: pid, producerEpoch: epoch } = await initPid(raw);
    // A second producer whose only batches are in the oldest segment.
    const other = await initPid(raw);
    assert.equal((await produce(raw, 'rb-idem', other.producerId, other.producerEpoch, 0)).baseOffset, 0n);
    for (let seq = 0; seq < 30; seq++) assert.equal((await produce(raw, 'rb-idem', pid, epoch, seq)).baseOffset, BigInt(seq + 1));
    raw.close();

    broker = await restartWithoutSnapshots(broker, 'rb-idem');
    const id = await topicId(broker, 'rb-idem');
    assert.equal(await broker.agent.context.store.segments.latestProducerState(id, 0), null, 'no snapshot left to load');
    assert.ok((await broker.agent.context.store.segments.listSegments(id, 0)).length > 3, 'the batches span several segments');

    raw = await RawClient.connect(broker.port);
    const dup = await produce(raw, 'rb-idem', pid, epoch, 29);
    assert.equal(dup.errorCode, ErrorCode.NONE);
    assert.equal(dup.baseOffset, 30n, 'the retried last batch is answered with its original offset');
    const older = await produce(raw, 'rb-idem', pid, epoch, 26);
    assert.equal(older.baseOffset, 27n, 'a retry of one of the last five batches too');
    const gap = await produce(raw, 'rb-idem', pid, epoch, 35);
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const otherGap = await produce(raw, 'rb-idem', other.producerId, other.producerEpoch, 5);
    assert.equal(otherGap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'a producer seen only in the oldest segment is known too');
    const next = await produce(raw, 'rb-idem', pid, epoch, 30);
    assert.equal(next.baseOffset, 31n, 'nothing was appended by the duplicates');
    raw.close();

    // The segment committed after the rebuild carries a snapshot that includes the rebuilt state.
    await broker.stop({ keepData: true });
    rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
    broker = await startTestBroker({ dataDir });
    const snap = await broker.agent.context.store.segments.latestProducerState(id, 0);
    assert.equal(snap?.lastOffset, 31n);
    raw = await RawClient.connect(broker.port);
    assert.equal((await produce(raw, 'rb-idem', pid, epoch, 29)).baseOffset, 30n, 'the new snapshot remembers batches only the rebuild had seen');
    assert.equal((await produce(raw, 'rb-idem', other.producerId, other.producerEpoch, 0)).baseOffset, 0n);
    raw.close();
  } finally {
    await broker.stop({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the newest snapshot is on an older segment: the segments after it are replayed on top', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-ps-rebuild-'));
  let broker = await startTestBroker({ dataDir });
  try {
    await broker.agent.context.topics.create({ name: 'rb-partial', partitions: 1, configs: { 'segment.bytes': '1024' } });
    let raw = await RawClient.connect(broker.port);
    const { producerId: pid, producerEpoch: epoch } = await initPid(raw);
    for (let seq = 0; seq < 30; seq++) await produce(raw, 'rb-partial', pid, epoch, seq);
    raw.close();
    broker = await restartWithoutSnapshots(broker, 'rb-partial', 15n);
    const id = await topicId(broker, 'rb-partial');
    const snap = await broker.agent.context.store.segments.latestProducerState(id, 0);
    assert.ok(snap && snap.lastOffset < 29n, 'an older snapshot remains');

    raw = await RawClient.connect(broker.port);
    assert.equal((await produce(raw, 'rb-partial', pid, epoch, 29)).baseOffset, 29n);
    assert.equal((await produce(raw, 'rb-partial', pid, epoch, 31)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await produce(raw, 'rb-partial', pid, epoch, 30)).baseOffset, 30n);
    raw.close();
  } finally {
    await broker.stop({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('transactions in snapshot-less segments: the aborted index is rebuilt and an open transaction holds the LSO until aborted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-ps-rebuild-'));
  let broker = await startTestBroker({ dataDir });
  try {
    await broker.agent.context.topics.create({ name: 'rb-txn', partitions: 1, configs: { 'segment.bytes': '1024' } });
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    const producer = kafka.producer({ transactionalId: 'rb-txn-id', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'rb-txn', messages: [{ value: 'aborted' }] }); // offset 0
    await aborted.abort(); // marker at 1
    const committed = await producer.transaction();
    await committed.send({ topic: 'rb-txn', messages: [{ value: 'committed' }] }); // offset 2
    await committed.commit(); // marker at 3
    const open = await producer.transaction();
    await open.send({ topic: 'rb-txn', messages: [{ value: 'in-doubt' }] }); // offset 4, left open
    await producer.disconnect();

    broker = await restartWithoutSnapshots(broker, 'rb-txn');
    const id = await topicId(broker, 'rb-txn');
    assert.equal(await broker.agent.context.store.segments.latestProducerState(id, 0), null);
    const raw = await RawClient.connect(broker.port);
    const before = (await rawFetch(raw, 'rb-txn', 0, 0n, { isolationLevel: 1 })).responses[0]!.partitions[0]!;
    assert.equal(before.highWatermark, 5n);
    assert.equal(before.lastStableOffset, 4n, 'the open transaction holds the LSO');
    assert.deepEqual(before.abortedTransactions!.map((t) => t.firstOffset), [0n], 'the aborted transaction is indexed');

    // A new instance of the transactional id aborts the open transaction.
    await initPid(raw, 'rb-txn-id');
    let after = before;
    for (let i = 0; i < 40 && after.lastStableOffset !== 6n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await rawFetch(raw, 'rb-txn', 0, 0n, { isolationLevel: 1 })).responses[0]!.partitions[0]!;
    }
    assert.equal(after.lastStableOffset, 6n, 'abort marker written at 5; everything is stable');
    assert.deepEqual(after.abortedTransactions!.map((t) => t.firstOffset), [0n, 4n]);
    raw.close();
  } finally {
    await broker.stop({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
