// KIP-848 consumer groups: server-side assignment, member epochs, revocation before assignment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { tpKeys, type TopicAssignment } from '../../../src/coordinator/group/assignment.js';
import type { ConsumerHeartbeatInput } from '../../../src/coordinator/group/consumer-protocol.js';
import { rangeAssignor, uniformAssignor } from '../../../src/coordinator/group/assignors.js';
import { fixture, type Fixture } from './helpers.js';

function hb(f: Fixture, memberId: string, memberEpoch: number, over: Partial<ConsumerHeartbeatInput> = {}) {
  return f.coordinator.consumerGroupHeartbeat({
    apiVersion: 1,
    groupId: 'cg',
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ['t'] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedTopicPartitions: memberEpoch === 0 ? {} : null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    ...over,
  });
}

const count = (a: TopicAssignment | null) => (a ? tpKeys(a).length : -1);

test('a second member gets partitions only after the first revokes them', async () => {
  const f = await fixture();
  const a1 = await hb(f, 'A', 0);
  assert.equal(a1.errorCode, ErrorCode.NONE);
  assert.equal(a1.memberEpoch, 1);
  assert.equal(count(a1.assignment), 4);
  const b1 = await hb(f, 'B', 0);
  assert.equal(b1.memberEpoch, 2);
  assert.equal(count(b1.assignment), 0, 'A still owns everything');
  const a2 = await hb(f, 'A', 1);
  assert.equal(a2.memberEpoch, 1, 'the epoch stays until the revocation is confirmed');
  assert.equal(count(a2.assignment), 2);
  const b2 = await hb(f, 'B', 2);
  assert.equal(count(b2.assignment), -1, 'nothing is released yet');
  const a3 = await hb(f, 'A', 1, { ownedTopicPartitions: a2.assignment });
  assert.equal(a3.memberEpoch, 2);
  const b3 = await hb(f, 'B', 2);
  assert.equal(count(b3.assignment), 2);
  const owned = new Set([...tpKeys(a2.assignment!), ...tpKeys(b3.assignment!)]);
  assert.equal(owned.size, 4, 'the two members split the partitions');
  assert.equal(f.coordinator.describeConsumerGroup('cg').groupState, 'Stable');
});

test('a wrong member epoch is fenced; an unknown member is UNKNOWN_MEMBER_ID; leaving bumps the group epoch', async () => {
  const f = await fixture();
  await hb(f, 'A', 0);
  assert.equal((await hb(f, 'A', 5)).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  assert.equal((await hb(f, 'Z', 1)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await hb(f, 'A', 0, { serverAssignor: 'sticky' })).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
  assert.equal((await hb(f, '', 0)).errorCode, ErrorCode.INVALID_REQUEST, 'v1 clients must send their member id');
  const left = await hb(f, 'A', -1);
  assert.equal(left.memberEpoch, -1);
  const d = f.coordinator.describeConsumerGroup('cg');
  assert.equal(d.groupState, 'Empty');
  assert.equal(d.groupEpoch, 2);
});

test('a member whose session expires is removed and its partitions go to the others', async () => {
  const f = await fixture();
  await hb(f, 'A', 0);
  await hb(f, 'B', 0);
  const a = await hb(f, 'A', 1);
  await hb(f, 'A', 1, { ownedTopicPartitions: a.assignment });
  let epoch = 2;
  let assigned = -1;
  for (let i = 0; i < 10; i++) {
    f.timer.advance(5000);
    const r = await hb(f, 'A', epoch);
    assert.equal(r.errorCode, ErrorCode.NONE);
    epoch = r.memberEpoch;
    if (r.assignment) assigned = count(r.assignment);
  }
  const d = f.coordinator.describeConsumerGroup('cg');
  assert.deepEqual(d.members.map((m) => m.memberId), ['A']);
  assert.equal(epoch, 3, 'B left, so the group moved to epoch 3');
  assert.equal(assigned, 4);
});

test('the uniform assignor balances and keeps partitions where they were; range splits by topic', () => {
  const partitionCounts = new Map([['x', 6]]);
  const members = ['m1', 'm2', 'm3'].map((memberId) => ({ memberId, topicIds: ['x'] }));
  const first = uniformAssignor({ members, partitionCounts, previous: new Map() });
  assert.deepEqual([...first.values()].map((a) => tpKeys(a).length), [2, 2, 2]);
  const grown = uniformAssignor({ members: [...members, { memberId: 'm4', topicIds: ['x'] }], partitionCounts, previous: first });
  const sizes = [...grown.values()].map((a) => tpKeys(a).length).sort();
  assert.deepEqual(sizes, [1, 1, 2, 2]);
  for (const id of ['m1', 'm2', 'm3']) {
    const kept = tpKeys(grown.get(id)!).filter((k) => tpKeys(first.get(id)!).includes(k));
    assert.ok(kept.length >= 1, `${id} kept a partition it had`);
  }
  const range = rangeAssignor({ members: members.slice(0, 2), partitionCounts: new Map([['x', 3]]), previous: new Map() });
  assert.deepEqual(range.get('m1'), { x: [0, 1] });
  assert.deepEqual(range.get('m2'), { x: [2] });
});

test('a consumer group is persisted and reloaded with its epochs and assignments', async () => {
  const f = await fixture();
  const a = await hb(f, 'A', 0);
  await f.coordinator.stop();
  const c2 = await f.restart();
  const d = c2.describeConsumerGroup('cg');
  assert.equal(d.groupEpoch, 1);
  assert.deepEqual(tpKeys(d.members[0]!.assignment).sort(), tpKeys(a.assignment!).sort());
  await c2.stop();
});
