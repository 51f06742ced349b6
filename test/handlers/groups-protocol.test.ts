// The group APIs on the wire, through the raw client: versions, batching and error codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  FindCoordinatorRequestMessage,
  FindCoordinatorResponseMessage,
  createFindCoordinatorRequest,
  JoinGroupRequestMessage,
  JoinGroupResponseMessage,
  createJoinGroupRequest,
  SyncGroupRequestMessage,
  SyncGroupResponseMessage,
  createSyncGroupRequest,
  HeartbeatRequestMessage,
  HeartbeatResponseMessage,
  createHeartbeatRequest,
  OffsetCommitRequestMessage,
  OffsetCommitResponseMessage,
  createOffsetCommitRequest,
  OffsetFetchRequestMessage,
  OffsetFetchResponseMessage,
  createOffsetFetchRequest,
  ListGroupsRequestMessage,
  ListGroupsResponseMessage,
  createListGroupsRequest,
  LeaveGroupRequestMessage,
  LeaveGroupResponseMessage,
  createLeaveGroupRequest,
  CreateTopicsRequestMessage,
  CreateTopicsResponseMessage,
  createCreateTopicsRequest,
} from '../../src/protocol/generated/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';

let broker: TestBroker;
let raw: RawClient;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
  const res = await raw.request(CreateTopicsRequestMessage, CreateTopicsResponseMessage, 5, {
    ...createCreateTopicsRequest(),
    topics: [{ name: 'wire', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  assert.equal(res.topics[0]!.errorCode, 0);
});
after(async () => {
  raw.close();
  await broker.stop();
});

const join = (version: number, memberId: string, groupInstanceId: string | null = null) =>
  raw.request(JoinGroupRequestMessage, JoinGroupResponseMessage, version, {
    ...createJoinGroupRequest(),
    groupId: 'wire-group',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from([0, 0]) }],
  });

test('FindCoordinator answers this broker for single keys (v3) and batches of group and transaction keys (v4+)', async () => {
  const v3 = await raw.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, 3, { ...createFindCoordinatorRequest(), key: 'g', keyType: 0 });
  assert.equal(v3.errorCode, 0);
  assert.deepEqual([v3.nodeId, v3.host, v3.port], [0, '127.0.0.1', broker.port]);
  const v6 = await raw.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, 6, { ...createFindCoordinatorRequest(), keyType: 1, coordinatorKeys: ['tx-a', 'tx-b'] });
  assert.deepEqual(v6.coordinators.map((c) => [c.key, c.errorCode, c.port]), [['tx-a', 0, broker.port], ['tx-b', 0, broker.port]]);
  const share = await raw.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, 6, { ...createFindCoordinatorRequest(), keyType: 2, coordinatorKeys: ['s'] });
  assert.equal(share.coordinators[0]!.errorCode, ErrorCode.INVALID_REQUEST);
});

test('JoinGroup v9: MEMBER_ID_REQUIRED, join, sync, heartbeat, commit and multi-group fetch, static member fencing', async () => {
  const first = await join(9, '');
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await join(9, first.memberId);
  assert.equal(joined.errorCode, 0);
  assert.equal(joined.generationId, 1);
  assert.equal(joined.protocolName, 'range');
  assert.equal(joined.protocolType, 'consumer');
  const sync = await raw.request(SyncGroupRequestMessage, SyncGroupResponseMessage, 5, {
    ...createSyncGroupRequest(),
    groupId: 'wire-group',
    generationId: 1,
    memberId: joined.memberId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('x') }],
  });
  assert.equal(sync.errorCode, 0);
  assert.equal(sync.assignment.toString(), 'x');
  const beat = await raw.request(HeartbeatRequestMessage, HeartbeatResponseMessage, 4, { ...createHeartbeatRequest(), groupId: 'wire-group', generationId: 2, memberId: joined.memberId });
  assert.equal(beat.errorCode, ErrorCode.ILLEGAL_GENERATION);
  const commit = await raw.request(OffsetCommitRequestMessage, OffsetCommitResponseMessage, 9, {
    ...createOffsetCommitRequest(),
    groupId: 'wire-group',
    generationIdOrMemberEpoch: 1,
    memberId: joined.memberId,
    topics: [{ name: 'wire', partitions: [{ partitionIndex: 1, committedOffset: 17n, committedLeaderEpoch: 3, commitTimestamp: -1n, committedMetadata: 'hello' }] }],
  });
  assert.equal(commit.topics[0]!.partitions[0]!.errorCode, 0);
  const fetched = await raw.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, 9, {
    ...createOffsetFetchRequest(),
    groups: [
      { groupId: 'wire-group', memberId: null, memberEpoch: -1, topics: [{ name: 'wire', partitionIndexes: [0, 1] }] },
      { groupId: 'other-group', memberId: null, memberEpoch: -1, topics: null },
    ],
  });
  assert.equal(fetched.groups.length, 2);
  assert.deepEqual(
    fetched.groups[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata]),
    [[0, -1n, -1, ''], [1, 17n, 3, 'hello']],
  );
  assert.deepEqual(fetched.groups[1]!.topics, []);
  const old = await raw.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, 1, { ...createOffsetFetchRequest(), groupId: 'wire-group', topics: [{ name: 'wire', partitionIndexes: [1] }] });
  assert.equal(old.topics[0]!.partitions[0]!.committedOffset, 17n);

  const listed = await raw.request(ListGroupsRequestMessage, ListGroupsResponseMessage, 5, { ...createListGroupsRequest(), statesFilter: ['stable'], typesFilter: ['classic'] });
  assert.deepEqual(listed.groups.map((g) => [g.groupId, g.groupState, g.groupType, g.protocolType]), [['wire-group', 'Stable', 'classic', 'consumer']]);
  const none = await raw.request(ListGroupsRequestMessage, ListGroupsResponseMessage, 5, { ...createListGroupsRequest(), typesFilter: ['consumer'] });
  assert.deepEqual(none.groups, []);

  const leave = await raw.request(LeaveGroupRequestMessage, LeaveGroupResponseMessage, 5, {
    ...createLeaveGroupRequest(),
    groupId: 'wire-group',
    members: [{ memberId: joined.memberId, groupInstanceId: null, reason: 'test' }, { memberId: 'ghost', groupInstanceId: null, reason: null }],
  });
  assert.equal(leave.errorCode, 0);
  assert.deepEqual(leave.members.map((m) => m.errorCode), [0, ErrorCode.UNKNOWN_MEMBER_ID]);

  // Static membership over the wire: a restart under the same instance id fences the old id.
  const s1 = await join(5, '', 'instance-1');
  assert.equal(s1.errorCode, 0);
  const s2 = await join(5, '', 'instance-1');
  assert.equal(s2.errorCode, 0);
  assert.notEqual(s2.memberId, s1.memberId);
  const fenced = await raw.request(HeartbeatRequestMessage, HeartbeatResponseMessage, 3, { ...createHeartbeatRequest(), groupId: 'wire-group', generationId: s1.generationId, memberId: s1.memberId, groupInstanceId: 'instance-1' });
  assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
});
