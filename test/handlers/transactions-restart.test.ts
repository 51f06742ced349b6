// Producer state and transactions across restarts: kill -9 of the broker process (state rebuilt
// from the WAL), and a graceful restart after segments were uploaded (state from the segment
// snapshot). A duplicate sent after the restart must get its original offsets; an open
// transaction left by the crash must end aborted (its timeout) and never become visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, startChildBroker } from '../helpers/child-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestBroker } from '../helpers/broker.js';
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
import { rawFetch } from './data-path.js';

async function initPid(raw: RawClient) {
  const r = await raw.request(InitProducerIdRequestMessage, InitProducerIdResponseMessage, 4, {
    ...createInitProducerIdRequest(),
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r;
}

async function produce(raw: RawClient, topic: string, pid: bigint, epoch: number, seq: number, value: string) {
  const batch = buildBatchSync({ records: [{ value: Buffer.from(value) }], producerId: pid, producerEpoch: epoch, baseSequence: seq });
  const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
    ...createProduceRequest(),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

test('kill -9: idempotent state is rebuilt from the WAL and an open transaction ends aborted', { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-eos-crash-'));
  const port = await freePort();
  let child = await startChildBroker({ dataDir, port });
  try {
    const kafka = () => new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'eos-crash', numPartitions: 1 }, { topic: 'eos-txn', numPartitions: 1 }] });
    await admin.disconnect();

    let raw = await RawClient.connect(port);
    const { producerId: pid, producerEpoch: epoch } = await initPid(raw);
    for (let seq = 0; seq < 3; seq++) assert.equal((await produce(raw, 'eos-crash', pid, epoch, seq, `v${seq}`)).baseOffset, BigInt(seq));
    // An open transaction with a short timeout.
    const tp = kafka().producer({ transactionalId: 'crash-txn', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 3000 });
    await tp.connect();
    const txn = await tp.transaction();
    await txn.send({ topic: 'eos-txn', messages: [{ value: 'in-doubt' }] });
    raw.close();
    await child.kill();
    await tp.disconnect().catch(() => {});

    child = await startChildBroker({ dataDir, port });
    raw = await RawClient.connect(port);
    const dup = await produce(raw, 'eos-crash', pid, epoch, 2, 'v2');
    assert.equal(dup.errorCode, ErrorCode.NONE);
    assert.equal(dup.baseOffset, 2n, 'the retried batch gets its original offset after the crash');
    const next = await produce(raw, 'eos-crash', pid, epoch, 3, 'v3');
    assert.equal(next.baseOffset, 3n);
    const gap = await produce(raw, 'eos-crash', pid, epoch, 7, 'v7');
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    // The in-doubt transaction holds the LSO, then times out and is aborted.
    const before = (await rawFetch(raw, 'eos-txn', 0, 0n, { isolationLevel: 1 })).responses[0]!.partitions[0]!;
    assert.equal(before.lastStableOffset, 0n);
    let after = before;
    for (let i = 0; i < 40 && after.lastStableOffset === 0n; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = (await rawFetch(raw, 'eos-txn', 0, 0n, { isolationLevel: 1 })).responses[0]!.partitions[0]!;
    }
    assert.equal(after.lastStableOffset, 2n, 'data and abort marker are stable');
    assert.deepEqual(after.abortedTransactions!.map((t) => t.firstOffset), [0n]);
    raw.close();
  } finally {
    await child.kill().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('graceful restart after segment uploads: duplicates found through the segment snapshot', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-eos-snap-'));
  let broker = await startTestBroker({ dataDir });
  try {
    await broker.agent.context.topics.create({ name: 'eos-snap', partitions: 1, configs: { 'segment.bytes': '1024' } });
    let raw = await RawClient.connect(broker.port);
    const { producerId: pid, producerEpoch: epoch } = await initPid(raw);
    for (let seq = 0; seq < 30; seq++) await produce(raw, 'eos-snap', pid, epoch, seq, `value-${seq}-${'x'.repeat(60)}`);
    raw.close();
    await broker.stop({ keepData: true });
    broker = await startTestBroker({ dataDir });
    const topic = (await broker.agent.context.topics.get('eos-snap'))!;
    const snap = await broker.agent.context.store.segments.latestProducerState(topic.id, 0);
    assert.ok(snap, 'segments carry producer-state snapshots');
    raw = await RawClient.connect(broker.port);
    const dup = await produce(raw, 'eos-snap', pid, epoch, 29, `value-29-${'x'.repeat(60)}`);
    assert.equal(dup.baseOffset, 29n);
    assert.equal((await produce(raw, 'eos-snap', pid, epoch, 30, 'next')).baseOffset, 30n);
    raw.close();
  } finally {
    await broker.stop({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
