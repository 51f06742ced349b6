// Produce through kafkajs and raw requests, read back with raw Fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionTypes } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { ProduceRequestMessage, ProduceResponseMessage, createProduceRequest } from '../../src/protocol/generated/index.js';
import { buildBatchSync, CRC_OFFSET } from '../../src/protocol/records/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createTopic, kafka, producer, readAll, rawFetch, decodeAll } from './data-path.js';

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

function produceBody(topic: string, partition: number, records: Buffer | null, acks = -1, timeoutMs = 5000) {
  return { ...createProduceRequest(), acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

test('kafkajs produces gzip batches with headers, null keys and null values; Fetch returns them byte for byte', async () => {
  await createTopic(broker, 'p-gzip');
  const p = await producer(broker);
  const res = await p.send({
    topic: 'p-gzip',
    compression: CompressionTypes.GZIP,
    messages: [
      { key: 'k1', value: 'v1', headers: { h: 'x', n: 'y' } },
      { key: null, value: 'no key' },
      { key: 'tombstone', value: null },
    ],
  });
  assert.equal(res[0].errorCode, 0);
  assert.equal(res[0].baseOffset, '0');
  await p.send({ topic: 'p-gzip', messages: [{ value: 'second batch' }] });
  await p.disconnect();

  const recs = await readAll(raw, 'p-gzip', 0);
  assert.deepEqual(recs.map((r) => r.offset), [0n, 1n, 2n, 3n]);
  assert.equal(recs[0].key!.toString(), 'k1');
  assert.equal(recs[0].value!.toString(), 'v1');
  assert.deepEqual(recs[0].headers.map((h) => [h.key, h.value!.toString()]), [['h', 'x'], ['n', 'y']]);
  assert.equal(recs[1].key, null);
  assert.equal(recs[1].value!.toString(), 'no key');
  assert.equal(recs[2].value, null);
  assert.equal(recs[3].value!.toString(), 'second batch');
});

test('acks 0, 1 and -1 all append; acks=0 gets no response and does not block the next request', async () => {
  await createTopic(broker, 'p-acks');
  const p = await producer(broker);
  await p.send({ topic: 'p-acks', acks: 1, messages: [{ value: 'a1' }] });
  await p.send({ topic: 'p-acks', acks: -1, messages: [{ value: 'a-1' }] });
  await p.disconnect();
  const batch = buildBatchSync({ records: [{ value: 'a0' }] });
  raw.write(RawClient.encodeRequest(ProduceRequestMessage, 7, produceBody('p-acks', 0, batch, 0), 9001));
  // The next request on the same connection is answered (acks=0 sent nothing).
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 7, produceBody('p-acks', 0, buildBatchSync({ records: [{ value: 'after' }] }), 1));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  assert.equal(res.responses[0].partitionResponses[0].baseOffset, 3n);
  const values = (await readAll(raw, 'p-acks', 0)).map((r) => r.value!.toString());
  assert.deepEqual(values, ['a1', 'a-1', 'a0', 'after']);
});

test('many partitions: kafkajs spreads keyed messages and every partition reads back its own', async () => {
  await createTopic(broker, 'p-many', 12);
  const p = await producer(broker);
  const messages = Array.from({ length: 240 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
  await p.sendBatch({ topicMessages: [{ topic: 'p-many', messages }] });
  await p.disconnect();
  const seen = new Set<string>();
  let nonEmpty = 0;
  for (let part = 0; part < 12; part++) {
    const recs = await readAll(raw, 'p-many', part);
    if (recs.length > 0) nonEmpty++;
    recs.forEach((r, i) => assert.equal(r.offset, BigInt(i)));
    for (const r of recs) seen.add(r.value!.toString());
  }
  assert.equal(seen.size, 240);
  assert.ok(nonEmpty >= 8, `only ${nonEmpty} partitions got data`);
});

test('a message near max.message.bytes is accepted; a larger batch is MESSAGE_TOO_LARGE', async () => {
  await createTopic(broker, 'p-large', 1, { 'max.message.bytes': '200000' });
  const p = await producer(broker);
  const value = Buffer.alloc(199_000, 7);
  await p.send({ topic: 'p-large', messages: [{ value }] });
  await assert.rejects(p.send({ topic: 'p-large', messages: [{ value: Buffer.alloc(210_000, 1) }] }), /larger|too large|MESSAGE_TOO_LARGE/i);
  await p.disconnect();
  const recs = await readAll(raw, 'p-large', 0);
  assert.equal(recs.length, 1);
  assert.ok(recs[0].value!.equals(value));
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-large', 0, buildBatchSync({ records: [{ value: Buffer.alloc(210_000) }] })));
  const pr = res.responses[0].partitionResponses[0];
  assert.equal(pr.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  assert.match(pr.errorMessage!, /max\.message\.bytes/);
});

test('a bad CRC is CORRUPT_MESSAGE, a client control batch INVALID_RECORD, unknown topic UNKNOWN_TOPIC_OR_PARTITION, acks=2 INVALID_REQUIRED_ACKS', async () => {
  await createTopic(broker, 'p-bad');
  const corrupt = buildBatchSync({ records: [{ value: 'x' }] });
  corrupt.writeUInt32BE((corrupt.readUInt32BE(CRC_OFFSET) ^ 1) >>> 0, CRC_OFFSET);
  let res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-bad', 0, corrupt));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);

  const control = buildBatchSync({ records: [{ value: 'x' }], control: true });
  res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-bad', 0, control));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_RECORD);
  assert.match(res.responses[0].partitionResponses[0].errorMessage!, /control/);

  res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('no-such-topic', 0, buildBatchSync({ records: [{ value: 'x' }] })));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-bad', 5, buildBatchSync({ records: [{ value: 'x' }] })));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-bad', 0, buildBatchSync({ records: [{ value: 'x' }] }), 2));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
  // Nothing was appended by the refused requests.
  const f = await rawFetch(raw, 'p-bad', 0, 0n);
  assert.equal(f.responses[0].partitions[0].highWatermark, 0n);
});

test('transactional batches without a transactional id in the request are refused as Kafka does', async () => {
  await createTopic(broker, 'p-txn-no-id');
  const batch = buildBatchSync({ records: [{ value: 'x' }], transactional: true, producerId: 7n, producerEpoch: 0, baseSequence: 0 });
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-txn-no-id', 0, batch));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const f = await rawFetch(raw, 'p-txn-no-id', 0, 0n);
  assert.equal(f.responses[0].partitions[0].highWatermark, 0n);
});

test('LogAppendTime topics stamp the broker time and report logAppendTimeMs', async () => {
  await createTopic(broker, 'p-lat', 1, { 'message.timestamp.type': 'LogAppendTime' });
  const before = Date.now();
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-lat', 0, buildBatchSync({ records: [{ value: 'x', timestamp: 1000 }, { value: 'y', timestamp: 2000 }] })));
  const pr = res.responses[0].partitionResponses[0];
  assert.equal(pr.errorCode, 0);
  assert.ok(pr.logAppendTimeMs >= BigInt(before) && pr.logAppendTimeMs <= BigInt(Date.now()));
  const f = await rawFetch(raw, 'p-lat', 0, 0n);
  const recs = await decodeAll(f.responses[0].partitions[0].records); // decoding checks the recomputed CRC's batch layout
  assert.deepEqual(recs.map((r) => r.timestamp), [pr.logAppendTimeMs, pr.logAppendTimeMs]);
});

test('a timestamp too far in the future is INVALID_TIMESTAMP with a record error (v8+)', async () => {
  await createTopic(broker, 'p-ts', 1, { 'message.timestamp.after.max.ms': '60000' });
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, produceBody('p-ts', 0, buildBatchSync({ records: [{ value: 'x', timestamp: Date.now() + 3_600_000 }] })));
  const pr = res.responses[0].partitionResponses[0];
  assert.equal(pr.errorCode, ErrorCode.INVALID_TIMESTAMP);
  assert.equal(pr.recordErrors.length, 1);
  assert.equal(pr.recordErrors[0].batchIndex, 0);
  assert.match(pr.errorMessage!, /after\.max\.ms/);
});

test('a kafkajs consumer group reads back what a kafkajs producer wrote (gzip, headers, null key, 3 partitions)', async () => {
  await createTopic(broker, 'p-consume', 3);
  const p = await producer(broker);
  const sent = Array.from({ length: 60 }, (_, i) => ({ key: i % 5 === 0 ? null : `k${i}`, value: `v${i}`, headers: { n: String(i) } }));
  await p.send({ topic: 'p-consume', compression: CompressionTypes.GZIP, messages: sent });
  await p.disconnect();
  const consumer = kafka(broker, 'p-consumer').consumer({ groupId: 'p-consume-group', maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'p-consume', fromBeginning: true });
  const got = new Map<string, { key: string | null; n: string }>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.size} of 60 consumed`)), 20_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          got.set(message.value!.toString(), { key: message.key?.toString() ?? null, n: message.headers!.n!.toString() });
          if (got.size === 60) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  for (let i = 0; i < 60; i++) assert.deepEqual(got.get(`v${i}`), { key: i % 5 === 0 ? null : `k${i}`, n: String(i) });
});
