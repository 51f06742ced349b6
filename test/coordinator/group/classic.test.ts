// The classic group state machine, driven directly with a manual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { ClassicGroup } from '../../../src/coordinator/group/classic-group.js';
import { fixture, joinInput, settle, type Fixture } from './helpers.js';

/** Full join of a new dynamic member: MEMBER_ID_REQUIRED, then the real join (parked). */
async function startJoin(f: Fixture, groupId: string, over = {}) {
  const first = await f.coordinator.joinGroup(joinInput(groupId, over));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^[a-z]+-[0-9a-f-]{36}$/, "client id, a dash, a uuid");
  return { memberId: first.memberId, joined: f.coordinator.joinGroup(joinInput(groupId, { ...over, memberId: first.memberId })) };
}

function group(f: Fixture, id: string): ClassicGroup {
  return f.coordinator.registry.get(id) as ClassicGroup;
}

test('a new member gets MEMBER_ID_REQUIRED, then generation 1 as leader, then its assignment', async () => {
  const f = await fixture();
  const { memberId, joined } = await startJoin(f, 'g');
  const j = await joined;
  assert.equal(j.errorCode, ErrorCode.NONE);
  assert.equal(j.generationId, 1);
  assert.equal(j.leader, memberId);
  assert.equal(j.protocolName, 'range');
  assert.deepEqual(j.members.map((m) => m.memberId), [memberId]);
  assert.equal(group(f, 'g').state, 'CompletingRebalance');
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null }), ErrorCode.NONE);
  const s = await f.coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.from('A') }] });
  assert.equal(s.errorCode, ErrorCode.NONE);
  assert.equal(s.assignment.toString(), 'A');
  assert.equal(group(f, 'g').state, 'Stable');
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 0, memberId, groupInstanceId: null }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: 'nobody', groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('session timeouts outside the broker range are INVALID_SESSION_TIMEOUT; an empty group id INVALID_GROUP_ID', async () => {
  const f = await fixture();
  assert.equal((await f.coordinator.joinGroup(joinInput('g', { sessionTimeoutMs: 1000 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await f.coordinator.joinGroup(joinInput(''))).errorCode, ErrorCode.INVALID_GROUP_ID);
});

async function stableGroupOfOne(f: Fixture, groupId = 'g', over = {}) {
  const { memberId, joined } = await startJoin(f, groupId, over);
  const j = await joined;
  await f.coordinator.syncGroup({ groupId, generationId: j.generationId, memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId, assignment: Buffer.from('all') }] });
  return memberId;
}

test('a second member triggers a rebalance; the first sees REBALANCE_IN_PROGRESS and both get generation 2', async () => {
  const f = await fixture();
  const a = await stableGroupOfOne(f);
  const { memberId: b, joined: bJoined } = await startJoin(f, 'g', { clientId: 'b' });
  assert.equal(group(f, 'g').state, 'PreparingRebalance');
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
  // A commit of the old generation during the rebalance is still accepted (revocation commits).
  const commit = await f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: 1, memberId: a, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: 0, committedMetadata: null }] }] });
  assert.equal(commit[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  const aJoined = f.coordinator.joinGroup(joinInput('g', { memberId: a }));
  const [ja, jb] = await Promise.all([aJoined, bJoined]);
  assert.equal(ja.generationId, 2);
  assert.equal(jb.generationId, 2);
  assert.equal(ja.leader, a, 'the leader stays the leader');
  assert.equal(ja.members.length, 2);
  assert.equal(jb.members.length, 0);
  // Before the assignment: commits get REBALANCE_IN_PROGRESS, old generations ILLEGAL_GENERATION.
  const early = await f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: 2, memberId: b, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 1n, committedLeaderEpoch: 0, committedMetadata: null }] }] });
  assert.equal(early[0]!.partitions[0]!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const stale = await f.coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(stale.errorCode, ErrorCode.ILLEGAL_GENERATION);
  const bSync = f.coordinator.syncGroup({ groupId: 'g', generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  const aSync = f.coordinator.syncGroup({ groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: a, assignment: Buffer.from('0,1') }, { memberId: b, assignment: Buffer.from('2,3') }] });
  assert.equal((await bSync).assignment.toString(), '2,3');
  assert.equal((await aSync).assignment.toString(), '0,1');
});

test('a member that stops heartbeating is removed after its session timeout and the rest rebalance', async () => {
  const f = await fixture();
  const a = await stableGroupOfOne(f);
  const { memberId: b, joined: bJoined } = await startJoin(f, 'g', { clientId: 'b' });
  const aJoined = f.coordinator.joinGroup(joinInput('g', { memberId: a }));
  await Promise.all([aJoined, bJoined]);
  const aSync = f.coordinator.syncGroup({ groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  await f.coordinator.syncGroup({ groupId: 'g', generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  await aSync;
  // a keeps heartbeating; b has crashed.
  for (let t = 0; t < 4; t++) {
    f.timer.advance(3000);
    assert.notEqual(f.coordinator.heartbeat({ groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
  }
  assert.equal(group(f, 'g').members.has(b), false);
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 2, memberId: a, groupInstanceId: null }), ErrorCode.REBALANCE_IN_PROGRESS);
  const j = await f.coordinator.joinGroup(joinInput('g', { memberId: a }));
  assert.equal(j.generationId, 3);
  assert.deepEqual(j.members.map((m) => m.memberId), [a]);
});

test('a member that does not rejoin within the rebalance timeout is dropped from the generation', async () => {
  const f = await fixture();
  const a = await stableGroupOfOne(f, 'g', { rebalanceTimeoutMs: 20_000 });
  const { joined: bJoined } = await startJoin(f, 'g', { clientId: 'b', rebalanceTimeoutMs: 20_000 });
  // a never rejoins (but keeps its session alive with heartbeats)
  for (let t = 0; t < 7; t++) {
    f.timer.advance(3000);
    f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null });
  }
  const jb = await bJoined;
  assert.equal(jb.generationId, 2);
  assert.equal(group(f, 'g').members.has(a), false);
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null }), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('group.initial.rebalance.delay.ms gathers members that arrive together into one generation', async () => {
  const f = await fixture({ initialRebalanceDelayMs: 3000 });
  const a = await startJoin(f, 'g');
  f.timer.advance(1000);
  const b = await startJoin(f, 'g', { clientId: 'b' });
  f.timer.advance(2500);
  let done = false;
  void Promise.all([a.joined, b.joined]).then(() => (done = true));
  await settle();
  assert.equal(done, false, 'the delay was extended because a member arrived');
  f.timer.advance(3000);
  const [ja, jb] = await Promise.all([a.joined, b.joined]);
  assert.equal(ja.generationId, 1);
  assert.equal(jb.generationId, 1);
  assert.equal(ja.members.length + jb.members.length, 2);
});

test('a static member that restarts takes its place without a rebalance; the old member id is fenced', async () => {
  const f = await fixture();
  const first = await f.coordinator.joinGroup(joinInput('g', { groupInstanceId: 'i-1' }));
  assert.equal(first.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
  await f.coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: 'i-1', protocolType: null, protocolName: null, assignments: [{ memberId: first.memberId, assignment: Buffer.from('mine') }] });
  const again = await f.coordinator.joinGroup(joinInput('g', { groupInstanceId: 'i-1' }));
  assert.equal(again.errorCode, ErrorCode.NONE);
  assert.equal(again.generationId, 1, 'no new generation');
  assert.notEqual(again.memberId, first.memberId);
  assert.equal(again.skipAssignment, true, 'the rejoining leader must not reassign');
  assert.equal(group(f, 'g').state, 'Stable');
  const s = await f.coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: again.memberId, groupInstanceId: 'i-1', protocolType: null, protocolName: null, assignments: [] });
  assert.equal(s.assignment.toString(), 'mine');
  assert.equal(f.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: 'i-1' }), ErrorCode.FENCED_INSTANCE_ID);
  const j = await f.coordinator.joinGroup(joinInput('g', { memberId: first.memberId, groupInstanceId: 'i-1' }));
  assert.equal(j.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  const leave = f.coordinator.leaveGroup('g', [{ memberId: first.memberId, groupInstanceId: 'i-1' }]);
  assert.equal(leave.members[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
});

test('leaving members trigger a rebalance; when the last leaves the group is Empty and can be deleted', async () => {
  const f = await fixture();
  const a = await stableGroupOfOne(f);
  assert.equal(await f.coordinator.deleteGroup('g'), ErrorCode.NON_EMPTY_GROUP);
  const r = f.coordinator.leaveGroup('g', [{ memberId: a, groupInstanceId: null }, { memberId: 'ghost', groupInstanceId: null }]);
  assert.deepEqual(r.members.map((m) => m.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.equal(group(f, 'g').state, 'Empty');
  assert.equal(group(f, 'g').generationId, 2);
  assert.deepEqual(f.coordinator.listGroups(['empty'], []).map((g) => g.groupId), ['g']);
  assert.deepEqual(f.coordinator.listGroups(['stable'], []), []);
  assert.equal(await f.coordinator.deleteGroup('g'), ErrorCode.NONE);
  assert.equal(await f.coordinator.deleteGroup('g'), ErrorCode.GROUP_ID_NOT_FOUND);
});

test('offset commits check membership and generation; fetch returns offset, leader epoch and metadata', async () => {
  const f = await fixture();
  const commit = (gen: number, memberId: string, offset = 10n, topic = 't') =>
    f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: gen, memberId, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 2, committedOffset: offset, committedLeaderEpoch: 7, committedMetadata: 'meta' }] }] });
  assert.equal((await commit(3, 'x'))[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION, 'no such group');
  assert.equal((await commit(-1, ''))[0]!.partitions[0]!.errorCode, ErrorCode.NONE, 'a simple group commit');
  const a = await stableGroupOfOne(f);
  assert.equal((await commit(-1, ''))[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'not while the group has members');
  assert.equal((await commit(0, a))[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await commit(1, 'other'))[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await commit(1, a, 42n, 'nope'))[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await commit(1, a, 42n))[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  const fetched = await f.coordinator.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [2, 3] }] });
  assert.deepEqual(fetched.topics[0]!.partitions, [
    { partitionIndex: 2, committedOffset: 42n, committedLeaderEpoch: 7, metadata: 'meta', errorCode: 0 },
    { partitionIndex: 3, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
  ]);
});

test('after a restart the group is Stable at its generation; members heartbeat on and offsets remain', async () => {
  const f = await fixture();
  const a = await stableGroupOfOne(f);
  await f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: 1, memberId: a, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 99n, committedLeaderEpoch: 0, committedMetadata: null }] }] });
  await f.coordinator.stop();
  const c2 = await f.restart();
  const g = c2.registry.get('g') as ClassicGroup;
  assert.equal(g.state, 'Stable');
  assert.equal(g.generationId, 1);
  assert.equal(c2.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null }), ErrorCode.NONE);
  const s = await c2.syncGroup({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(s.assignment.toString(), 'all');
  const fetched = await c2.fetchOffsets({ groupId: 'g', memberId: null, memberEpoch: -1, topics: null });
  assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, 99n);
  await c2.stop();
});

test('offsets of an empty group expire after offsets.retention.minutes and the group goes away', async () => {
  const f = await fixture({ offsetsRetentionMs: 60_000 });
  await f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'simple', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  assert.equal(await f.coordinator.expireOffsets(f.timer.now() + 30_000), 0);
  assert.equal(await f.coordinator.expireOffsets(f.timer.now() + 61_000), 1);
  assert.equal(f.coordinator.registry.get('simple'), undefined);
  assert.deepEqual(await f.store.offsets.fetchOffsets('simple'), []);
});

test('OffsetDelete refuses topics a consumer group still subscribes to', async () => {
  const f = await fixture({}, { t: 4, u: 1 });
  const a = await stableGroupOfOne(f);
  await f.coordinator.commitOffsets({ apiVersion: 8, groupId: 'g', generationIdOrMemberEpoch: 1, memberId: a, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }, { name: 'u', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  const r = await f.coordinator.deleteOffsets('g', [{ name: 't', partitions: [0] }, { name: 'u', partitions: [0] }]);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(r.topics.map((t) => t.partitions[0]!.errorCode), [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE]);
  assert.deepEqual((await f.store.offsets.fetchOffsets('g')).map((o) => o.topic), ['t']);
  assert.equal((await f.coordinator.deleteOffsets('nope', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});
