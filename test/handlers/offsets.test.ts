// ListOffsets, DeleteRecords, OffsetForLeaderEpoch and retention, against a real broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  DeleteRecordsRequestMessage,
  DeleteRecordsResponseMessage,
  OffsetForLeaderEpochRequestMessage,
  OffsetForLeaderEpochResponseMessage,
  ProduceRequestMessage,
  ProduceResponseMessage,
  createProduceRequest,
} from '../../src/protocol/generated/index.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { PartitionLogManager } from '../../src/log/log-manager.js';
import { createTopic, listOffset, rawFetch, decodeAll } from './data-path.js';

let broker: TestBroker;
let raw: RawClient;
before(async () => {
  broker = await startTestBroker();
  raw = await RawClient.connect(broker.port);
});
after(async () => {
  raw.close();
  await broker.stop();
});

const logs = () => broker.agent.context.logs as PartitionLogManager;

/** Appends one batch per entry; each entry is the record timestamps of that batch. */
async function produce(topic: string, batches: number[][]): Promise<bigint[]> {
  const bases: bigint[] = [];
  for (const stamps of batches) {
    const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
      ...createProduceRequest(),
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: buildBatchSync({ records: stamps.map((t) => ({ value: `v@${t}`, timestamp: t })) }) }] }],
    });
    assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
    bases.push(res.responses[0].partitionResponses[0].baseOffset);
  }
  return bases;
}

async function deleteRecords(topic: string, offset: bigint) {
  const res = await raw.request(DeleteRecordsRequestMessage, DeleteRecordsResponseMessage, 2, {
    timeoutMs: 1000,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset }] }],
  });
  return res.topics[0].partitions[0];
}

test('ListOffsets: latest, earliest, max timestamp, by timestamp, earliest-local and latest-tiered', async () => {
  const topic = await createTopic(broker, 'lo');
  const empty = await listOffset(raw, 'lo', 0, -3n);
  assert.deepEqual([empty.offset, empty.timestamp], [-1n, -1n]);
  await produce('lo', [[1000, 1001, 1002], [2000, 5000, 2500], [3000, 3001]]);
  // Upload the first part so lookups cross a segment and the tail.
  await (await logs().partition(topic, 0)).flush();
  await produce('lo', [[4000, 4001], [900]]);

  assert.equal((await listOffset(raw, 'lo', 0, -1n)).offset, 11n);
  assert.equal((await listOffset(raw, 'lo', 0, -2n)).offset, 0n);
  assert.equal((await listOffset(raw, 'lo', 0, -4n)).offset, 0n);
  assert.equal((await listOffset(raw, 'lo', 0, -5n)).offset, 7n, 'last offset in object storage');
  const max = await listOffset(raw, 'lo', 0, -3n);
  assert.deepEqual([max.offset, max.timestamp], [4n, 5000n]);
  const at = async (ts: bigint) => {
    const r = await listOffset(raw, 'lo', 0, ts);
    return [r.offset, r.timestamp];
  };
  assert.deepEqual(await at(0n), [0n, 1000n]);
  assert.deepEqual(await at(1001n), [1n, 1001n]);
  assert.deepEqual(await at(1500n), [3n, 2000n]);
  assert.deepEqual(await at(2100n), [4n, 5000n], 'first record with timestamp >= target, in offset order');
  assert.deepEqual(await at(4001n), [4n, 5000n]);
  assert.deepEqual(await at(5001n), [-1n, -1n]);
  const v0 = await listOffset(raw, 'lo', 0, -1n, 0);
  assert.deepEqual(v0.oldStyleOffsets, [11n]);
  const withEpoch = await listOffset(raw, 'lo', 0, -1n, 9);
  assert.equal(withEpoch.leaderEpoch, 0);
});

test('DeleteRecords moves the log start; fetch below it is OFFSET_OUT_OF_RANGE; segments wholly below are deleted', async () => {
  const topic = await createTopic(broker, 'dr');
  await produce('dr', [[1, 2], [3, 4]]);
  const part = (await logs().partition(topic, 0));
  await part.flush();
  await produce('dr', [[5, 6]]);
  await part.flush();
  const [first] = await broker.agent.context.store.segments.listSegments(topic.id, 0);
  const firstObject = join(broker.dataDir, 'objects', first.objectKey);
  assert.ok(existsSync(firstObject));

  const r = await deleteRecords('dr', 5n);
  assert.deepEqual([r.errorCode, r.lowWatermark], [0, 5n]);
  assert.equal((await listOffset(raw, 'dr', 0, -2n)).offset, 5n);
  assert.equal(existsSync(firstObject), false, 'the segment [0,3] went with its row');
  const segs = await broker.agent.context.store.segments.listSegments(topic.id, 0);
  assert.deepEqual(segs.map((s) => s.baseOffset), [4n]);
  const below = await rawFetch(raw, 'dr', 0, 2n);
  assert.equal(below.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const from5 = await rawFetch(raw, 'dr', 0, 5n);
  const recs = (await decodeAll(from5.responses[0].partitions[0].records)).filter((x) => x.offset >= 5n);
  assert.deepEqual(recs.map((x) => x.offset), [5n]);
  assert.equal(from5.responses[0].partitions[0].logStartOffset, 5n);

  assert.equal((await deleteRecords('dr', 99n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const all = await deleteRecords('dr', -1n);
  assert.deepEqual([all.errorCode, all.lowWatermark], [0, 6n]);
  assert.equal((await deleteRecords('dr', 2n)).lowWatermark, 6n, 'the log start never moves back');
  assert.equal((await deleteRecords('nope', 0n)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('retention.bytes and retention.ms delete old segments and their objects; ListOffsets earliest moves', async () => {
  const topic = await createTopic(broker, 'ret', 1, { 'retention.bytes': '1' });
  const part = (await logs().partition(topic, 0));
  for (let i = 0; i < 3; i++) {
    await produce('ret', [[Date.now()]]);
    await part.flush();
  }
  const before = await broker.agent.context.store.segments.listSegments(topic.id, 0);
  assert.equal(before.length, 3);
  assert.ok(await logs().runRetention() >= 2);
  const afterSegs = await broker.agent.context.store.segments.listSegments(topic.id, 0);
  // As in Kafka: segments go while the log stays at least retention.bytes without them.
  assert.deepEqual(afterSegs.map((s) => s.baseOffset), [2n]);
  for (const s of before.slice(0, 2)) assert.equal(existsSync(join(broker.dataDir, 'objects', s.objectKey)), false);
  assert.ok(existsSync(join(broker.dataDir, 'objects', before[2].objectKey)));
  assert.equal((await listOffset(raw, 'ret', 0, -2n)).offset, 2n);
  assert.equal((await listOffset(raw, 'ret', 0, -1n)).offset, 3n);

  const old = await createTopic(broker, 'ret-ms', 1, { 'retention.ms': '60000' });
  const p2 = (await logs().partition(old, 0));
  await produce('ret-ms', [[Date.now() - 3_600_000]]);
  await p2.flush();
  await produce('ret-ms', [[Date.now()]]);
  await p2.flush();
  await logs().runRetention();
  const kept = await broker.agent.context.store.segments.listSegments(old.id, 0);
  assert.deepEqual(kept.map((s) => s.baseOffset), [1n], 'only the hour-old segment expired');
  assert.equal((await listOffset(raw, 'ret-ms', 0, -2n)).offset, 1n);
});

test('OffsetForLeaderEpoch: the current epoch ends at the log end; unknown epochs are -1; a stale current epoch is fenced', async () => {
  await createTopic(broker, 'ofle');
  await produce('ofle', [[1], [2, 3]]);
  const ask = async (leaderEpoch: number, currentLeaderEpoch = -1, topic = 'ofle') => {
    const res = await raw.request(OffsetForLeaderEpochRequestMessage, OffsetForLeaderEpochResponseMessage, 4, {
      replicaId: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }],
    });
    return res.topics[0].partitions[0];
  };
  const cur = await ask(0);
  assert.deepEqual([cur.errorCode, cur.leaderEpoch, cur.endOffset], [0, 0, 3n]);
  const future = await ask(5);
  assert.deepEqual([future.leaderEpoch, future.endOffset], [-1, -1n]);
  assert.equal((await ask(0, 3)).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal((await ask(0, 0)).errorCode, ErrorCode.NONE);
  assert.equal((await ask(0, -1, 'missing')).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});
