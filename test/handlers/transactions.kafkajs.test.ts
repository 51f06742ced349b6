// Exactly-once through kafkajs and raw requests: idempotent retries, transactional commit and
// abort, sendOffsets, read_committed reads (LSO, aborted transactions), fencing, KIP-890 part 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  ProduceRequestMessage,
  ProduceResponseMessage,
  createProduceRequest,
  InitProducerIdRequestMessage,
  InitProducerIdResponseMessage,
  createInitProducerIdRequest,
} from '../../src/protocol/generated/index.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createTopic, kafka, rawFetch, decodeAll } from './data-path.js';

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

async function initPid(transactionalId: string | null = null) {
  const res = await raw.request(InitProducerIdRequestMessage, InitProducerIdResponseMessage, 4, {
    ...createInitProducerIdRequest(),
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return res;
}

async function rawProduce(topic: string, batch: Buffer, transactionalId: string | null = null) {
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
    ...createProduceRequest(),
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

function idemBatch(pid: bigint, epoch: number, seq: number, values: string[], transactional = false) {
  return buildBatchSync({
    records: values.map((v) => ({ value: Buffer.from(v) })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    transactional,
  });
}

async function values(topic: string, isolationLevel: number) {
  const res = await rawFetch(raw, topic, 0, 0n, { isolationLevel });
  const p = res.responses[0]!.partitions[0]!;
  const recs = await decodeAll(p.records);
  return { p, values: recs.map((r) => r.value?.toString() ?? null) };
}

test('a retried idempotent batch is answered with its original offsets and stored once', async () => {
  await createTopic(broker, 'idem');
  const { producerId: pid, producerEpoch: epoch } = await initPid();
  const first = await rawProduce('idem', idemBatch(pid, epoch, 0, ['a', 'b']));
  assert.equal(first.errorCode, ErrorCode.NONE);
  const second = await rawProduce('idem', idemBatch(pid, epoch, 2, ['c']));
  assert.equal(second.baseOffset, 2n);
  const dup = await rawProduce('idem', idemBatch(pid, epoch, 0, ['a', 'b']));
  assert.equal(dup.errorCode, ErrorCode.NONE);
  assert.equal(dup.baseOffset, 0n);
  const gap = await rawProduce('idem', idemBatch(pid, epoch, 9, ['x']));
  assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const old = await rawProduce('idem', idemBatch(pid, epoch - 1, 3, ['x']));
  assert.equal(old.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.deepEqual((await values('idem', 0)).values, ['a', 'b', 'c']);
});

test('kafkajs idempotent producer writes each message once', async () => {
  await createTopic(broker, 'idem-kjs');
  const p = kafka(broker).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  for (let i = 0; i < 5; i++) await p.send({ topic: 'idem-kjs', messages: [{ value: `m${i}` }] });
  await p.disconnect();
  assert.deepEqual((await values('idem-kjs', 0)).values, ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('commit: read_committed sees nothing until the commit, then everything; LSO tracks the open transaction', async () => {
  await createTopic(broker, 'tx-commit');
  await createTopic(broker, 'tx-plain');
  const p = kafka(broker).producer({ transactionalId: 'tx-commit-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  // Someone else's record before the transaction: readable, and the LSO stops after it.
  const plain = kafka(broker).producer({ allowAutoTopicCreation: false });
  await plain.connect();
  await plain.send({ topic: 'tx-commit', messages: [{ value: 'before' }] });
  const txn = await p.transaction();
  await txn.send({ topic: 'tx-commit', messages: [{ value: 't1' }, { value: 't2' }] });
  await txn.send({ topic: 'tx-plain', messages: [{ value: 't3' }] });
  await plain.send({ topic: 'tx-commit', messages: [{ value: 'during' }] });
  const open = await values('tx-commit', 1);
  assert.deepEqual(open.values, ['before']);
  assert.equal(open.p.lastStableOffset, 1n);
  assert.equal(open.p.highWatermark, 4n);
  assert.deepEqual((await values('tx-commit', 0)).values, ['before', 't1', 't2', 'during']);
  await txn.commit();
  const done = await values('tx-commit', 1);
  // The commit marker is a control batch: decodeAll returns it as one more record.
  assert.deepEqual(done.values.slice(0, 4), ['before', 't1', 't2', 'during']);
  assert.equal(done.p.lastStableOffset, 5n);
  assert.deepEqual(done.p.abortedTransactions, []);
  assert.equal(broker.agent.context.transactions!.get('tx-commit-id')!.state, 'CompleteCommit');
  await p.disconnect();
  await plain.disconnect();
});

test('abort: read_committed fetch lists the aborted transaction; kafkajs consumer skips its records', async () => {
  await createTopic(broker, 'tx-abort');
  const p = kafka(broker).producer({ transactionalId: 'tx-abort-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  let txn = await p.transaction();
  await txn.send({ topic: 'tx-abort', messages: [{ value: 'gone1' }, { value: 'gone2' }] });
  await txn.abort();
  txn = await p.transaction();
  await txn.send({ topic: 'tx-abort', messages: [{ value: 'kept' }] });
  await txn.commit();
  await p.disconnect();
  const res = await values('tx-abort', 1);
  assert.equal(res.p.abortedTransactions!.length, 1);
  assert.equal(res.p.abortedTransactions![0]!.firstOffset, 0n);
  const seen = await consumeAll('tx-abort', 'tx-abort-group', 1);
  assert.deepEqual(seen, ['kept']);
});

async function consumeAll(topic: string, groupId: string, expected: number, readUncommitted = false): Promise<string[]> {
  const c: Consumer = kafka(broker).consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(seen)}`)), 15_000);
    void c.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.length >= expected) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  // Give a stray extra record the chance to show up.
  await new Promise((r) => setTimeout(r, 300));
  await c.disconnect();
  return seen;
}

test('sendOffsets: offsets become the group\'s on commit only', async () => {
  await createTopic(broker, 'tx-offsets');
  const p = kafka(broker).producer({ transactionalId: 'tx-offsets-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  let txn = await p.transaction();
  await txn.send({ topic: 'tx-offsets', messages: [{ value: 'x' }] });
  await txn.sendOffsets({ consumerGroupId: 'g-abort', topics: [{ topic: 'tx-offsets', partitions: [{ partition: 0, offset: '7' }] }] });
  await txn.abort();
  assert.deepEqual(await broker.agent.context.store.offsets.fetchOffsets('g-abort'), []);
  txn = await p.transaction();
  await txn.send({ topic: 'tx-offsets', messages: [{ value: 'y' }] });
  await txn.sendOffsets({ consumerGroupId: 'g-commit', topics: [{ topic: 'tx-offsets', partitions: [{ partition: 0, offset: '9' }] }] });
  await txn.commit();
  const committed = await broker.agent.context.store.offsets.fetchOffsets('g-commit');
  assert.equal(committed[0]!.offset, 9n);
  await p.disconnect();
});

test('consume-transform-produce under read_committed: every input once in the output', async () => {
  await createTopic(broker, 'ctp-in');
  await createTopic(broker, 'ctp-out');
  const input = kafka(broker).producer({ allowAutoTopicCreation: false });
  await input.connect();
  await input.send({ topic: 'ctp-in', messages: Array.from({ length: 10 }, (_, i) => ({ value: `in${i}` })) });
  await input.disconnect();

  const p = kafka(broker).producer({ transactionalId: 'ctp-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  const c = kafka(broker).consumer({ groupId: 'ctp-group', maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic: 'ctp-in', fromBeginning: true });
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${n} messages`)), 20_000);
    void c.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const txn = await p.transaction();
        await txn.send({ topic: 'ctp-out', messages: [{ value: `out-${message.value!.toString()}` }] });
        // Every third transaction is aborted after writing a poison record.
        if (n % 3 === 2) {
          await txn.send({ topic: 'ctp-out', messages: [{ value: 'poison' }] });
          await txn.abort();
          // Then done again, properly.
          const again = await p.transaction();
          await again.send({ topic: 'ctp-out', messages: [{ value: `out-${message.value!.toString()}` }] });
          await again.sendOffsets({ consumerGroupId: 'ctp-group', topics: [{ topic, partitions: [{ partition, offset: String(Number(message.offset) + 1) }] }] });
          await again.commit();
        } else {
          await txn.sendOffsets({ consumerGroupId: 'ctp-group', topics: [{ topic, partitions: [{ partition, offset: String(Number(message.offset) + 1) }] }] });
          await txn.commit();
        }
        if (++n === 10) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  await c.disconnect();
  await p.disconnect();
  const out = await consumeAll('ctp-out', 'ctp-verify', 10);
  assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => `out-in${i}`));
  const offsets = await broker.agent.context.store.offsets.fetchOffsets('ctp-group');
  assert.equal(offsets[0]!.offset, 10n);
  // read_uncommitted sees the aborted poison records too.
  const all = await consumeAll('ctp-out', 'ctp-verify-uncommitted', 13, true);
  assert.equal(all.filter((v) => v === 'poison').length, 3);
});

test('a zombie producer is fenced by a newer instance with the same transactional id', async () => {
  await createTopic(broker, 'tx-zombie');
  const opts = { transactionalId: 'zombie-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 5, initialRetryTime: 50 } };
  const old = kafka(broker).producer(opts);
  await old.connect();
  const oldTxn = await old.transaction();
  await oldTxn.send({ topic: 'tx-zombie', messages: [{ value: 'zombie' }] });
  const fresh = kafka(broker).producer(opts);
  await fresh.connect();
  // kafkajs sends InitProducerId on the first transaction(): it aborts the zombie's transaction and bumps the epoch.
  const txn = await fresh.transaction();
  await assert.rejects(oldTxn.commit(), /fenced|epoch/i);
  await txn.send({ topic: 'tx-zombie', messages: [{ value: 'fresh' }] });
  await txn.commit();
  const res = await values('tx-zombie', 1);
  assert.equal(res.p.abortedTransactions!.length, 1, 'the zombie\'s transaction was aborted');
  assert.deepEqual(await consumeAll('tx-zombie', 'zombie-verify', 1), ['fresh']);
  await fresh.disconnect();
  await old.disconnect().catch(() => {});
});

test('KIP-890: a transactional batch to a partition not in the transaction is rejected', async () => {
  await createTopic(broker, 'tx-unadded');
  const { producerId, producerEpoch } = await initPid('unadded-id');
  const r = await rawProduce('tx-unadded', idemBatch(producerId, producerEpoch, 0, ['sneaky'], true), 'unadded-id');
  assert.equal(r.errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.deepEqual((await values('tx-unadded', 0)).values, []);
});
