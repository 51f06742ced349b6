// WriteTxnMarkers (ending a hanging transaction as kafka-transactions.sh abort does, and its
// fencing errors), TxnOffsetCommit's group membership checks, and OffsetFetch RequireStable
// while a transaction holds pending offsets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  WriteTxnMarkersRequestMessage,
  WriteTxnMarkersResponseMessage,
  InitProducerIdRequestMessage,
  InitProducerIdResponseMessage,
  createInitProducerIdRequest,
  AddOffsetsToTxnRequestMessage,
  AddOffsetsToTxnResponseMessage,
  TxnOffsetCommitRequestMessage,
  TxnOffsetCommitResponseMessage,
  createTxnOffsetCommitRequest,
  OffsetFetchRequestMessage,
  OffsetFetchResponseMessage,
  createOffsetFetchRequest,
  EndTxnRequestMessage,
  EndTxnResponseMessage,
  JoinGroupRequestMessage,
  JoinGroupResponseMessage,
  createJoinGroupRequest,
} from '../../src/protocol/generated/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createTopic, kafka, rawFetch, decodeAll, batchHeaders } from './data-path.js';

let broker: TestBroker;
let raw: RawClient;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
});
after(async () => {
  raw.close();
  await broker.stop();
});

function markers(topic: string, partition: number, producerId: bigint, producerEpoch: number, coordinatorEpoch: number, commit = false) {
  return raw.request(WriteTxnMarkersRequestMessage, WriteTxnMarkersResponseMessage, 1, {
    markers: [{ producerId, producerEpoch, transactionResult: commit, coordinatorEpoch, topics: [{ name: topic, partitionIndexes: [partition] }] }],
  });
}

function markerCode(res: Awaited<ReturnType<typeof markers>>): number {
  return res.markers[0]!.topics[0]!.partitions[0]!.errorCode;
}

async function committedValues(topic: string): Promise<{ values: (string | null)[]; lso: bigint; hw: bigint }> {
  const res = await rawFetch(raw, topic, 0, 0n, { isolationLevel: 1 });
  const p = res.responses[0]!.partitions[0]!;
  const aborted = new Set((p.abortedTransactions ?? []).map((a) => a.producerId));
  const values: (string | null)[] = [];
  let pos = 0;
  // Data batches of producers that did not abort; control batches (markers) carry no values.
  for (const h of batchHeaders(p.records)) {
    const bytes = p.records!.subarray(pos, pos + h.sizeInBytes);
    pos += h.sizeInBytes;
    if (h.isControl || aborted.has(h.producerId)) continue;
    for (const r of await decodeAll(bytes)) values.push(r.value?.toString() ?? null);
  }
  return { values, lso: p.lastStableOffset, hw: p.highWatermark };
}

test('WriteTxnMarkers aborts a hanging transaction; older epochs are fenced; unknown partitions are reported', async () => {
  await createTopic(broker, 'wtm');
  const p = kafka(broker).producer({ transactionalId: 'wtm-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  const txn = await p.transaction();
  await txn.send({ topic: 'wtm', messages: [{ value: 'hanging' }] });
  const r = broker.agent.context.transactions!.get('wtm-id')!;
  let view = await committedValues('wtm');
  assert.equal(view.lso, 0n, 'the open transaction holds the LSO at its first offset');

  // An older producer epoch than the partition has seen: refused, nothing written.
  assert.equal(markerCode(await markers('wtm', 0, r.producerId, r.producerEpoch - 1, 0)), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(markerCode(await markers('nope', 0, r.producerId, r.producerEpoch, 0)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(markerCode(await markers('wtm', 7, r.producerId, r.producerEpoch, 0)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  // What kafka-transactions.sh abort sends: the producer's epoch and coordinator epoch from DescribeProducers.
  assert.equal(markerCode(await markers('wtm', 0, r.producerId, r.producerEpoch, 5)), ErrorCode.NONE);
  view = await committedValues('wtm');
  assert.equal(view.lso, view.hw, 'nothing is unstable after the abort marker');
  assert.equal(view.hw, 2n, 'one data record and one marker');
  assert.deepEqual(view.values, []);
  const state = broker.agent.context.producers!.peek(broker.agent.context.transactions!.get('wtm-id')!.partitions[0]!.topicId, 0)!;
  assert.equal(state.get(r.producerId)!.coordinatorEpoch, 5);
  // A marker from an older coordinator epoch is now fenced.
  assert.equal(markerCode(await markers('wtm', 0, r.producerId, r.producerEpoch, 4)), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal((await committedValues('wtm')).hw, 2n);
  await txn.abort().catch(() => undefined);
  await p.disconnect();
});

test('WriteTxnMarkers commit makes the open transaction readable', async () => {
  await createTopic(broker, 'wtm-commit');
  const p = kafka(broker).producer({ transactionalId: 'wtm-commit-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  const txn = await p.transaction();
  await txn.send({ topic: 'wtm-commit', messages: [{ value: 'x' }, { value: 'y' }] });
  const r = broker.agent.context.transactions!.get('wtm-commit-id')!;
  assert.deepEqual((await committedValues('wtm-commit')).values, []);
  assert.equal(markerCode(await markers('wtm-commit', 0, r.producerId, r.producerEpoch, 0, true)), ErrorCode.NONE);
  assert.deepEqual((await committedValues('wtm-commit')).values, ['x', 'y']);
  await txn.abort().catch(() => undefined);
  await p.disconnect();
});

async function initTxn(id: string) {
  const res = await raw.request(InitProducerIdRequestMessage, InitProducerIdResponseMessage, 4, {
    ...createInitProducerIdRequest(),
    transactionalId: id,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return res;
}

async function joinGroup(groupId: string): Promise<{ memberId: string; generationId: number }> {
  const body = {
    ...createJoinGroupRequest(),
    groupId,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
  };
  const first = await raw.request(JoinGroupRequestMessage, JoinGroupResponseMessage, 5, body);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const second = await raw.request(JoinGroupRequestMessage, JoinGroupResponseMessage, 5, { ...body, memberId: first.memberId });
  assert.equal(second.errorCode, ErrorCode.NONE);
  return { memberId: second.memberId, generationId: second.generationId };
}

test('TxnOffsetCommit checks member, generation and instance id; RequireStable sees pending offsets as unstable', async () => {
  await createTopic(broker, 'tocg');
  const group = 'tocg-group';
  const { memberId, generationId } = await joinGroup(group);
  const { producerId, producerEpoch } = await initTxn('tocg-id');
  const added = await raw.request(AddOffsetsToTxnRequestMessage, AddOffsetsToTxnResponseMessage, 3, { transactionalId: 'tocg-id', producerId, producerEpoch, groupId: group });
  assert.equal(added.errorCode, ErrorCode.NONE);

  const commit = async (fields: { memberId: string; generationId: number; groupInstanceId: string | null }, groupId = group) => {
    const res = await raw.request(TxnOffsetCommitRequestMessage, TxnOffsetCommitResponseMessage, 3, {
      ...createTxnOffsetCommitRequest(),
      transactionalId: 'tocg-id',
      groupId,
      producerId,
      producerEpoch,
      ...fields,
      topics: [{ name: 'tocg', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    });
    return res.topics[0]!.partitions[0]!.errorCode;
  };
  assert.equal(await commit({ memberId: 'nobody', generationId, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(await commit({ memberId, generationId: generationId + 1, groupInstanceId: null }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(await commit({ memberId, generationId, groupInstanceId: 'not-this-member' }), ErrorCode.UNKNOWN_MEMBER_ID);

  const fetchStable = async (version: number) => {
    const req =
      version >= 8
        ? { ...createOffsetFetchRequest(), requireStable: true, groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: [{ name: 'tocg', partitionIndexes: [0] }] }] }
        : { ...createOffsetFetchRequest(), groupId: group, requireStable: true, topics: [{ name: 'tocg', partitionIndexes: [0] }] };
    const res = await raw.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, version, req);
    const topics = version >= 8 ? res.groups[0]!.topics : res.topics;
    return topics[0]!.partitions[0]!;
  };
  // Nothing pending yet: the (absent) committed offset is stable.
  assert.equal((await fetchStable(7)).errorCode, ErrorCode.NONE);

  // Valid membership, and the "no member given" form Kafka accepts without checks.
  assert.equal(await commit({ memberId, generationId, groupInstanceId: null }), ErrorCode.NONE);
  assert.equal(await commit({ memberId: '', generationId: -1, groupInstanceId: null }), ErrorCode.NONE);

  for (const v of [7, 8]) {
    const p = await fetchStable(v);
    assert.equal(p.errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT, `v${v}`);
    assert.equal(p.committedOffset, -1n);
  }
  // Without RequireStable the last committed (none) offset is answered.
  const plain = await raw.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, 7, {
    ...createOffsetFetchRequest(),
    groupId: group,
    topics: [{ name: 'tocg', partitionIndexes: [0] }],
  });
  assert.equal(plain.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.equal(plain.topics[0]!.partitions[0]!.committedOffset, -1n);

  const end = await raw.request(EndTxnRequestMessage, EndTxnResponseMessage, 3, { transactionalId: 'tocg-id', producerId, producerEpoch, committed: true });
  assert.equal(end.errorCode, ErrorCode.NONE);
  const after = await fetchStable(7);
  assert.equal(after.errorCode, ErrorCode.NONE);
  assert.equal(after.committedOffset, 42n);
});

test('TxnOffsetCommit with a generation for a group that does not exist is ILLEGAL_GENERATION', async () => {
  await createTopic(broker, 'tocg2');
  const { producerId, producerEpoch } = await initTxn('tocg2-id');
  await raw.request(AddOffsetsToTxnRequestMessage, AddOffsetsToTxnResponseMessage, 3, { transactionalId: 'tocg2-id', producerId, producerEpoch, groupId: 'ghost' });
  const res = await raw.request(TxnOffsetCommitRequestMessage, TxnOffsetCommitResponseMessage, 3, {
    ...createTxnOffsetCommitRequest(),
    transactionalId: 'tocg2-id',
    groupId: 'ghost',
    producerId,
    producerEpoch,
    generationId: 3,
    memberId: 'm',
    groupInstanceId: null,
    topics: [{ name: 'tocg2', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);
});
