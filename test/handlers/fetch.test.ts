// Fetch semantics through the raw client: long polling, MinBytes, MaxBytes and KIP-74, sessions,
// OFFSET_OUT_OF_RANGE, leader epochs, topic ids, isolation levels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  FetchRequestMessage,
  FetchResponseMessage,
  ProduceRequestMessage,
  ProduceResponseMessage,
  createProduceRequest,
  type FetchRequest,
} from '../../src/protocol/generated/index.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { batchHeaders, createTopic, fetchRequest, rawFetch } from './data-path.js';

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

async function produce(topic: string, partition: number, values: (string | Buffer)[], conn = raw): Promise<bigint> {
  const res = await conn.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
    ...createProduceRequest(),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: buildBatchSync({ records: values.map((value) => ({ value })) }) }] }],
  });
  assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  return res.responses[0].partitionResponses[0].baseOffset;
}

test('a long poll waits for MaxWaitMs when there is nothing, and wakes at once when a batch arrives', async () => {
  await createTopic(broker, 'f-poll');
  let t0 = Date.now();
  let res = await rawFetch(raw, 'f-poll', 0, 0n, { maxWaitMs: 300 });
  assert.ok(Date.now() - t0 >= 280, 'waited for MaxWaitMs');
  assert.equal(res.responses[0].partitions[0].records!.length, 0);

  const poller = await RawClient.connect(broker.port);
  t0 = Date.now();
  const pending = rawFetch(poller, 'f-poll', 0, 0n, { maxWaitMs: 4000 });
  await new Promise((r) => setTimeout(r, 100));
  await produce('f-poll', 0, ['wake']);
  res = await pending;
  const waited = Date.now() - t0;
  assert.ok(waited < 2000, `woken by the append after ${waited} ms`);
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 1);
  assert.equal(res.responses[0].partitions[0].highWatermark, 1n);
  poller.close();
});

test('MinBytes keeps waiting until enough bytes are there', async () => {
  await createTopic(broker, 'f-min');
  await produce('f-min', 0, ['small']);
  const poller = await RawClient.connect(broker.port);
  const t0 = Date.now();
  const pending = rawFetch(poller, 'f-min', 0, 0n, { maxWaitMs: 4000, minBytes: 2000 });
  await new Promise((r) => setTimeout(r, 150));
  await produce('f-min', 0, ['x'.repeat(100)]);
  await new Promise((r) => setTimeout(r, 150));
  await produce('f-min', 0, ['y'.repeat(3000)]);
  const res = await pending;
  const waited = Date.now() - t0;
  assert.ok(waited >= 280 && waited < 3000, `answered after the third batch (${waited} ms)`);
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 3);
  poller.close();
});

test('MaxBytes: whole batches only, but the first batch is returned even when larger (KIP-74)', async () => {
  await createTopic(broker, 'f-max', 2);
  await produce('f-max', 0, ['a'.repeat(1000)]);
  await produce('f-max', 0, ['b'.repeat(1000)]);
  await produce('f-max', 1, ['c'.repeat(1000)]);
  const [first] = batchHeaders((await rawFetch(raw, 'f-max', 0, 0n)).responses[0].partitions[0].records);
  const size = first.sizeInBytes;

  let res = await rawFetch(raw, 'f-max', 0, 0n, { maxBytes: 100 });
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 1, 'oversized first batch still returned');
  res = await rawFetch(raw, 'f-max', 0, 0n, { partitionMaxBytes: 100 });
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 1);
  res = await rawFetch(raw, 'f-max', 0, 0n, { maxBytes: size * 2 - 1 });
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 1, 'the second batch does not fit');
  res = await rawFetch(raw, 'f-max', 0, 0n, { maxBytes: size * 2 });
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 2);

  // Two partitions, MaxBytes fits one batch: the second partition gets nothing (it is not first).
  const req = fetchRequest('f-max', 0, 0n, { maxBytes: size });
  req.topics[0].partitions.push({ ...req.topics[0].partitions[0], partition: 1 });
  const both = await raw.request(FetchRequestMessage, FetchResponseMessage, 11, req);
  const parts = both.responses[0].partitions;
  assert.equal(batchHeaders(parts[0].records).length, 1);
  assert.equal(parts[1].records!.length, 0);
  assert.equal(parts[1].highWatermark, 1n);
});

test('OFFSET_OUT_OF_RANGE above the log end; the HW itself answers empty', async () => {
  await createTopic(broker, 'f-oor');
  await produce('f-oor', 0, ['1', '2']);
  let res = await rawFetch(raw, 'f-oor', 0, 3n);
  assert.equal(res.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  res = await rawFetch(raw, 'f-oor', 0, 2n);
  assert.equal(res.responses[0].partitions[0].errorCode, 0);
  assert.equal(res.responses[0].partitions[0].records!.length, 0);
  res = await rawFetch(raw, 'f-oor', 0, 1n);
  const [h] = batchHeaders(res.responses[0].partitions[0].records);
  assert.equal(h.baseOffset, 0n, 'the batch holding the offset is returned whole');
});

test("leader epochs: a CurrentLeaderEpoch newer than the partition's is UNKNOWN_LEADER_EPOCH, the current one passes; batches carry the epoch", async () => {
  await createTopic(broker, 'f-epoch');
  await produce('f-epoch', 0, ['e']);
  let res = await rawFetch(raw, 'f-epoch', 0, 0n, { currentLeaderEpoch: 1 });
  assert.equal(res.responses[0].partitions[0].errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  res = await rawFetch(raw, 'f-epoch', 0, 0n, { currentLeaderEpoch: 0 });
  assert.equal(res.responses[0].partitions[0].errorCode, 0);
  assert.equal(batchHeaders(res.responses[0].partitions[0].records)[0].partitionLeaderEpoch, 0);
  assert.equal(res.responses[0].partitions[0].preferredReadReplica, -1);
});

test('v13+ names topics by id; an unknown id is UNKNOWN_TOPIC_ID; read_committed stops at the LSO with no aborted transactions', async () => {
  const topic = await createTopic(broker, 'f-id');
  await produce('f-id', 0, ['by id']);
  let res = await rawFetch(raw, '', 0, 0n, { version: 13, topicId: topic.id });
  assert.equal(res.responses[0].topicId, topic.id);
  assert.equal(batchHeaders(res.responses[0].partitions[0].records).length, 1);
  res = await rawFetch(raw, '', 0, 0n, { version: 17, topicId: '11111111-2222-4333-8444-555555555555' });
  assert.equal(res.responses[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  res = await rawFetch(raw, 'f-id', 0, 0n, { isolationLevel: 1 });
  const p = res.responses[0].partitions[0];
  assert.equal(p.lastStableOffset, 1n);
  assert.deepEqual(p.abortedTransactions, []);
  res = await rawFetch(raw, 'f-id', 0, 0n, { isolationLevel: 0 });
  assert.equal(res.responses[0].partitions[0].abortedTransactions, null);
});

test('fetch sessions: full fetch opens one, incremental fetches carry only changes, forgotten partitions leave, bad ids and epochs are refused', async () => {
  await createTopic(broker, 'f-sess', 3);
  for (let p = 0; p < 3; p++) await produce('f-sess', p, [`p${p}`]);
  const base = fetchRequest('f-sess', 0, 0n);
  const part = (partition: number, fetchOffset: bigint) => ({ ...base.topics[0].partitions[0], partition, fetchOffset });
  const req = (over: Partial<FetchRequest>): FetchRequest => ({ ...base, ...over });

  const full = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({
    sessionId: 0,
    sessionEpoch: 0,
    topics: [{ topic: 'f-sess', topicId: base.topics[0].topicId, partitions: [part(0, 0n), part(1, 0n), part(2, 0n)] }],
  }));
  assert.equal(full.errorCode, 0);
  assert.ok(full.sessionId > 0, 'a session was opened');
  assert.deepEqual(full.responses[0].partitions.map((p) => p.partitionIndex), [0, 1, 2]);
  const id = full.sessionId;

  // Epoch 1: the client moved partitions 0 and 1 past their data; nothing changed since.
  let inc = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({
    sessionId: id,
    sessionEpoch: 1,
    topics: [{ topic: 'f-sess', topicId: base.topics[0].topicId, partitions: [part(0, 1n), part(1, 1n)] }],
  }));
  assert.equal(inc.errorCode, 0);
  assert.equal(inc.sessionId, id);
  // Partition 2 is still at offset 0 in the session, so it returns its record again.
  assert.deepEqual(inc.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)), [2]);

  // Epoch 2: forget partition 2; new data on partition 1 is the only news.
  await produce('f-sess', 1, ['more']);
  inc = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({
    sessionId: id,
    sessionEpoch: 2,
    topics: [],
    forgottenTopicsData: [{ topic: 'f-sess', topicId: base.topics[0].topicId, partitions: [2] }],
  }));
  assert.deepEqual(inc.responses.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.highWatermark])), [[1, 2n]]);

  // Epoch 3: the client moved partition 1 past the new record; nothing is new, so the
  // response is empty after MaxWaitMs.
  inc = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({
    sessionId: id,
    sessionEpoch: 3,
    topics: [{ topic: 'f-sess', topicId: base.topics[0].topicId, partitions: [part(1, 2n)] }],
    maxWaitMs: 50,
  }));
  assert.equal(inc.errorCode, 0);
  assert.equal(inc.responses.length, 0);

  const wrongEpoch = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({ sessionId: id, sessionEpoch: 9, topics: [] }));
  assert.equal(wrongEpoch.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  const unknown = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({ sessionId: 12345, sessionEpoch: 1, topics: [] }));
  assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

  // Epoch -1 closes the session (a sessionless full fetch); the id is gone afterwards.
  const closing = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({ sessionId: id, sessionEpoch: -1 }));
  assert.equal(closing.sessionId, 0);
  const gone = await raw.request(FetchRequestMessage, FetchResponseMessage, 12, req({ sessionId: id, sessionEpoch: 4, topics: [] }));
  assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
});

test('a long poll ends when the client disconnects', async () => {
  await createTopic(broker, 'f-abort');
  const poller = await RawClient.connect(broker.port);
  poller.write(RawClient.encodeRequest(FetchRequestMessage, 11, fetchRequest('f-abort', 0, 0n, { maxWaitMs: 30_000 }), 1));
  await new Promise((r) => setTimeout(r, 100));
  poller.close();
  // The broker keeps serving other connections; nothing hangs at shutdown (after() would time out).
  const res = await rawFetch(raw, 'f-abort', 0, 0n);
  assert.equal(res.responses[0].partitions[0].errorCode, 0);
});
