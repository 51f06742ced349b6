// The Java consumer (Kafka 4.4's VerifiableConsumer, one JVM per member) in groups that grow,
// shrink and lose a member to SIGKILL, with each classic assignor and with the KIP-848 consumer
// protocol. Every member commits synchronously after each poll; the checks are Kafka's: no
// record read again below an offset already committed, and no record skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { GroupLedger, waitUntil } from './group-ledger.js';
import { fullyAssigned, startVerifiableConsumer, type VerifiableConsumerOptions, type VerifiableMember } from './verifiable-consumer.js';

const PARTITIONS = 6;

let broker: TestBroker;
let kafka: Kafka;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  // What group.consumer.session.timeout.ms / heartbeat.interval.ms would set: a crashed KIP-848
  // member is noticed in 6 s instead of 45 s.
  broker.agent.context.groups!.config.consumerSessionTimeoutMs = 6000;
  broker.agent.context.groups!.config.consumerHeartbeatIntervalMs = 1000;
  kafka = new Kafka({ clientId: 'vc-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});
after(async () => {
  await broker.stop();
});

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % PARTITIONS })) });
  await producer.disconnect();
}

async function endOffsets(topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
}

async function allCommitted(ledger: GroupLedger, topic: string): Promise<boolean> {
  const ends = await endOffsets(topic);
  return ends.every((end, p) => ledger.committedOffset(topic, p) === end);
}

/**
 * 3 members consume; one leaves cleanly, a fourth joins, one is killed (SIGKILL), more records
 * arrive after each change; finally everything is committed exactly once below the commits.
 */
async function scenario(name: string, member: Partial<VerifiableConsumerOptions>): Promise<void> {
  const topic = `vc-${name}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const ledger = new GroupLedger();
  const members: VerifiableMember[] = [];
  const start = async (n: number) => {
    const m = await startVerifiableConsumer({ bootstrap: broker.bootstrap, topic, groupId: `g-${name}`, name: `m${n}`, ledger, sessionTimeoutMs: 6000, ...member });
    members.push(m);
    return m;
  };
  const live = () => members.filter((m) => !m.dead);
  try {
    let produced = 0;
    await produce(topic, produced, 300);
    produced += 300;
    for (let n = 1; n <= 3; n++) await start(n);
    await waitUntil(() => fullyAssigned(live(), topic, PARTITIONS, { everyMemberOwns: true }), `3 members of ${name} sharing ${PARTITIONS} partitions`);
    await waitUntil(() => allCommitted(ledger, topic), 'the first 300 records committed', 60_000, 250);

    // A member leaves (SIGTERM closes the consumer).
    await produce(topic, produced, 150);
    produced += 150;
    const leaving = members[2]!;
    await leaving.stop();
    leaving.dead = true;
    await waitUntil(() => fullyAssigned(live(), topic, PARTITIONS, { everyMemberOwns: true }), 'the 2 remaining members owning every partition');
    await waitUntil(() => allCommitted(ledger, topic), `all ${produced} records committed after a leave`, 60_000, 250);

    // A member joins.
    await start(4);
    await produce(topic, produced, 150);
    produced += 150;
    await waitUntil(() => fullyAssigned(live(), topic, PARTITIONS, { everyMemberOwns: true }), '3 members again after a join');
    await waitUntil(() => allCommitted(ledger, topic), `all ${produced} records committed after a join`, 60_000, 250);

    // A member crashes; the others take over once its session expires.
    const crashed = members[0]!;
    await crashed.kill();
    crashed.dead = true;
    await produce(topic, produced, 150);
    produced += 150;
    await waitUntil(() => fullyAssigned(live(), topic, PARTITIONS, { everyMemberOwns: true }), 'the survivors owning every partition after a crash', 90_000);
    await waitUntil(() => allCommitted(ledger, topic), `all ${produced} records committed after a crash`, 60_000, 250);

    assert.deepEqual(ledger.violations.slice(0, 5), [], 'no record read again below a committed offset');
    assert.deepEqual(ledger.missing(topic, await endOffsets(topic)), [], 'no record skipped');
    assert.equal(ledger.distinct(), produced);
    for (const m of live()) assert.ok(m.rebalances >= 2, `${m.opts.name} saw its assignment change`);
  } finally {
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  }
}

test('classic group with the range assignor: leave, join and crash', { timeout: 300_000 }, () => scenario('range', { assignor: 'range' }));

test('classic group with the roundrobin assignor: leave, join and crash', { timeout: 300_000 }, () => scenario('roundrobin', { assignor: 'roundrobin' }));

test('classic group with the cooperative-sticky assignor: leave, join and crash', { timeout: 300_000 }, () => scenario('coop', { assignor: 'cooperative-sticky' }));

test('KIP-848 consumer group (group.protocol=consumer, uniform): leave, join and crash', { timeout: 300_000 }, () => scenario('kip848', { groupProtocol: 'consumer' }));

test('KIP-848 consumer group with the server-side range assignor', { timeout: 300_000 }, () => scenario('kip848-range', { groupProtocol: 'consumer', remoteAssignor: 'range' }));

/** The group's generation (classic) or group epoch (KIP-848): it moves with every rebalance. */
function epochOf(groupId: string): number {
  const g = broker.agent.context.groups!.registry.get(groupId);
  assert.ok(g, `group ${groupId} exists`);
  return g.kind === 'classic' ? g.generationId : g.groupEpoch;
}

/** Two static members; one restarts (a new process, the same group.instance.id) within its session. */
async function staticRestart(name: string, member: Partial<VerifiableConsumerOptions>): Promise<void> {
  const topic = `vc-static-${name}`;
  const groupId = `g-static-${name}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const ledger = new GroupLedger();
  const opts = { bootstrap: broker.bootstrap, topic, groupId, ledger, sessionTimeoutMs: 30_000, ...member };
  const a = await startVerifiableConsumer({ ...opts, name: 'a', groupInstanceId: 'static-a' });
  const b = await startVerifiableConsumer({ ...opts, name: 'b', groupInstanceId: 'static-b' });
  let b2: VerifiableMember | undefined;
  try {
    await produce(topic, 0, 300);
    await waitUntil(() => fullyAssigned([a, b], topic, PARTITIONS, { everyMemberOwns: true }), 'two static members sharing the partitions');
    await waitUntil(() => allCommitted(ledger, topic), 'the first 300 records committed', 60_000, 250);
    const epoch = epochOf(groupId);
    const ownedByB = [...b.owned].sort();
    const rebalancesOfA = a.rebalances;

    // A static member's close() does not leave the group for good; its replacement takes its place.
    await b.stop();
    await produce(topic, 300, 150);
    b2 = await startVerifiableConsumer({ ...opts, name: 'b2', groupInstanceId: 'static-b' });
    await waitUntil(() => b2!.owned.size > 0, 'the restarted static member getting its partitions back');
    await waitUntil(() => allCommitted(ledger, topic), 'all 450 records committed', 60_000, 250);
    assert.deepEqual([...b2.owned].sort(), ownedByB, 'the restarted member got the same partitions');
    assert.equal(epochOf(groupId), epoch, 'no rebalance: same generation / group epoch');
    assert.equal(a.rebalances, rebalancesOfA, 'the other member was not disturbed');
    assert.deepEqual(ledger.violations.slice(0, 5), []);
    assert.deepEqual(ledger.missing(topic, await endOffsets(topic)), []);
  } finally {
    await Promise.all([a, b, b2].map((m) => m?.stop().catch(() => undefined)));
  }
}

test('a static member (group.instance.id) restarts within its session without a rebalance', { timeout: 300_000 }, () => staticRestart('classic', { assignor: 'range' }));

test('a KIP-848 static member restarts within its session without a new group epoch', { timeout: 300_000 }, () => staticRestart('kip848', { groupProtocol: 'consumer' }));
