// librdkafka in consumer groups: kcat's balanced consumer (-G) and confluent-kafka members with
// the cooperative-sticky assignor (incremental rebalancing). No committed record is read again,
// none is skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startProcess } from '../helpers/external-process.js';
import { runKcat, INSTALL_KCAT } from '../helpers/kcat.js';
import { expectSuccess } from '../helpers/kafka-tools.js';
import { runConfluentKafka, type ConfluentResult } from '../helpers/confluent-kafka.js';
import { GroupLedger, waitUntil } from './group-ledger.js';

const PARTITIONS = 4;

let broker: TestBroker;
let kafka: Kafka;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  kafka = new Kafka({ clientId: 'rdk-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});
after(async () => {
  await broker.stop();
});

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
}

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % PARTITIONS })) });
  await producer.disconnect();
}

async function committedOffsets(group: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  await admin.disconnect();
  return res[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

async function describe(group: string) {
  const admin = kafka.admin();
  await admin.connect();
  const g = (await admin.describeGroups([group])).groups[0]!;
  await admin.disconnect();
  return g;
}

/** kcat -f '%p:%o\n' output as "partition:offset" keys. */
const readKeys = (out: string) => out.split('\n').filter((l) => /^\d+:\d+$/.test(l));

test('kcat balanced consumers (-G): a member reads and commits, two more share the rest', { timeout: 180_000 }, async () => {
  const topic = 'rdk-kcat';
  await createTopic(topic);
  await produce(topic, 0, 200);
  const base = ['-b', broker.bootstrap, '-G', 'kcat-group', '-f', '%p:%o\\n', '-X', 'auto.offset.reset=earliest'];
  // The first member reads 80 records and exits; closing commits what it read.
  const first = readKeys(expectSuccess(await runKcat([...base, '-c', '80', topic], { timeoutMs: 60_000 }), 'kcat -G -c 80').stdout);
  assert.equal(first.length, 80);
  // Closing commits the offsets librdkafka stored for the records it handed to kcat.
  const afterFirst = await committedOffsets('kcat-group', topic);
  const readUpTo = (p: number) => Math.max(-1, ...first.filter((k) => k.startsWith(`${p}:`)).map((k) => Number(k.split(':')[1]))) + 1;
  afterFirst.forEach((c, p) => assert.ok(c === -1 || (c > 0 && c <= readUpTo(p)), `partition ${p}: committed ${c}, read up to ${readUpTo(p)}`));
  assert.ok(afterFirst.reduce((a, b) => a + Math.max(0, b), 0) >= 70, `most of the 80 records are committed: ${afterFirst}`);

  // Two members run together (-u: unbuffered output, read as it comes); more records arrive
  // once both are in the group.
  const members = [1, 2].map(() => startProcess(process.env.KCAT ?? 'kcat', [...base, '-u', topic], { timeoutMs: 120_000, missingHint: INSTALL_KCAT }));
  try {
    await waitUntil(async () => {
      const g = await describe('kcat-group');
      return g.state === 'Stable' && g.members.length === 2;
    }, 'two kcat members in a stable group', 60_000, 250);
    await produce(topic, 200, 120);
    const later = () => members.flatMap((m) => readKeys(m.stdout()));
    await waitUntil(() => new Set(later()).size >= 240, 'the two members reading the 240 records left', 60_000, 100);
    assert.ok(members.every((m) => readKeys(m.stdout()).length > 0), 'both members read records');
    for (const m of members) await m.stop(10_000); // SIGTERM: kcat closes the consumer, which commits
    const rereads = later().filter((k) => Number(k.split(':')[1]) < afterFirst[Number(k.split(':')[0])]!);
    assert.deepEqual(rereads, [], 'no record committed by the first member was read again');
    const all = new Set([...first, ...later()]);
    assert.equal(all.size, 320, 'no record skipped');
    assert.deepEqual(await committedOffsets('kcat-group', topic), [80, 80, 80, 80]);
  } finally {
    for (const m of members) await m.stop(2000).catch(() => undefined);
  }
});

test('confluent-kafka members with cooperative-sticky: the second member joins incrementally', { timeout: 180_000 }, async () => {
  const topic = 'rdk-coop';
  await createTopic(topic);
  await produce(topic, 0, 200);
  const member = (durationS: number) =>
    runConfluentKafka(broker.bootstrap, [
      { op: 'groupMember', topics: [topic], group: 'coop-group', durationS, config: { 'partition.assignment.strategy': 'cooperative-sticky', 'session.timeout.ms': 10_000, 'heartbeat.interval.ms': 500 } },
    ], { timeoutMs: 120_000 });
  const firstRun = member(24);
  await waitUntil(async () => (await committedOffsets('coop-group', topic)).reduce((a, b) => a + b, 0) === 200, 'the first member committing the first 200', 60_000, 250);
  const secondRun = member(12);
  await waitUntil(async () => {
    const g = await describe('coop-group');
    return g.state === 'Stable' && g.members.length === 2;
  }, 'the second member joining', 60_000, 250);
  assert.equal((await describe('coop-group')).protocol, 'cooperative-sticky');
  await produce(topic, 200, 200);
  const [a, b] = (await Promise.all([firstRun, secondRun])).map((r) => r.results[0]!);
  assert.ok(a!.ok && b!.ok, JSON.stringify([a!.error, b!.error]));

  // Replay both members' reads and commits in time order through the ledger.
  type Step = { at: number; apply: () => void };
  const ledger = new GroupLedger();
  const steps: Step[] = [];
  const add = (name: string, r: ConfluentResult) => {
    for (const m of r.messages as unknown as { partition: number; offset: number; at: number }[]) steps.push({ at: m.at, apply: () => ledger.consumed(name, topic, m.partition, m.offset, m.offset) });
    for (const c of r.commits ?? []) steps.push({ at: c.at, apply: () => ledger.commit(topic, c.partition, c.offset) });
  };
  add('first', a!);
  add('second', b!);
  steps.sort((x, y) => x.at - y.at).forEach((s) => s.apply());
  assert.deepEqual(ledger.violations.slice(0, 5), [], 'no committed record read again');
  assert.deepEqual(ledger.missing(topic, [100, 100, 100, 100]), [], 'no record skipped');
  assert.ok(b!.messages!.length > 0, 'the second member read records');

  // Cooperative: the first member gave up only the partitions that moved, never all at once.
  const firstEvents = a!.events!;
  const joined = firstEvents.find((e) => e.ev === 'revoke');
  assert.ok(joined, `the first member revoked some partitions: ${JSON.stringify(firstEvents)}`);
  assert.ok(joined.partitions.length > 0 && joined.partitions.length < PARTITIONS, `an incremental revocation: ${JSON.stringify(firstEvents)}`);
  assert.deepEqual(firstEvents[0]!.partitions, [0, 1, 2, 3], 'the first member started with every partition');
});
