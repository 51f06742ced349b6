// kafka-consumer-groups (Kafka 4.4's ConsumerGroupCommand) against the group APIs: list,
// describe (offsets, members, state), reset offsets (to-earliest, to-datetime, shift-by),
// delete-offsets and delete, as an operator types them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { kafkaTool, type RunResult } from '../helpers/kafka-tools.js';
import { waitUntil } from './group-ledger.js';

const TOPIC = 'cgc';
const GROUP = 'cgc-group';
const T0 = 1_700_000_000_000;
const T1 = T0 + 100_000;

let broker: TestBroker;
let kafka: Kafka;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  kafka = new Kafka({ clientId: 'cgc', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }, { topic: 'cgc-other', numPartitions: 1 }] });
  await admin.disconnect();
  // 10 records per partition: offsets 0-4 at T0, 5-9 at T1.
  const producer = kafka.producer();
  await producer.connect();
  for (const ts of [T0, T1]) {
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2, timestamp: String(ts) })) });
  }
  await producer.send({ topic: 'cgc-other', messages: [{ value: 'x' }, { value: 'y' }] });
  await producer.disconnect();
});
after(async () => {
  await broker.stop();
});

const groups = (...args: string[]) => kafkaTool.ConsumerGroupCommand(['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 90_000 });

function ok(r: RunResult): string {
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

async function committed(group = GROUP, topic = TOPIC): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  await admin.disconnect();
  return res[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

/** Rows of a describe table as column -> value maps. */
function table(out: string): Record<string, string>[] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const header = lines.findIndex((l) => /^GROUP\s/.test(l));
  assert.ok(header >= 0, `a table in:\n${out}`);
  const cols = lines[header]!.trim().split(/\s+/);
  return lines.slice(header + 1).filter((l) => !/^GROUP\s/.test(l)).map((l) => Object.fromEntries(l.trim().split(/\s+/).map((v, i) => [cols[i], v])));
}

test('describe a live group (members, state, lag), then list, reset, delete-offsets and delete it', { timeout: 300_000 }, async () => {
  const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC, 'cgc-other'], fromBeginning: true });
  let seen = 0;
  await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => {
    await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
    seen++;
  } });
  try {
    await waitUntil(() => seen === 22, 'the kafkajs member reading all 22 records');
    assert.match(ok(await groups('--list')), new RegExp(`^${GROUP}$`, 'm'));
    const listed = ok(await groups('--list', '--state'));
    assert.match(listed, new RegExp(`${GROUP}\\s+Stable`));

    const described = table(ok(await groups('--describe', '--group', GROUP)));
    const rows = described.filter((r) => r.TOPIC === TOPIC).sort((a, b) => Number(a.PARTITION) - Number(b.PARTITION));
    assert.deepEqual(rows.map((r) => [r['CURRENT-OFFSET'], r['LOG-END-OFFSET'], r.LAG]), [['10', '10', '0'], ['10', '10', '0']]);
    assert.ok(rows.every((r) => r['CONSUMER-ID']!.startsWith('cgc-')), JSON.stringify(rows));

    const members = table(ok(await groups('--describe', '--group', GROUP, '--members')));
    assert.equal(members.length, 1);
    assert.equal(members[0]!['#PARTITIONS'], '3');
    const state = table(ok(await groups('--describe', '--group', GROUP, '--state')));
    assert.equal(state[0]!.STATE, 'Stable');
    assert.equal(state[0]!['#MEMBERS'], '1');

    // Offsets of a group with members cannot be reset or deleted.
    const busy = await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--to-earliest', '--execute');
    assert.match(busy.stdout + busy.stderr, /Assignments can only be reset if the group '.*' is inactive, but the current state is Stable/);
    const busyDelete = await groups('--delete', '--group', GROUP);
    assert.match(busyDelete.stdout + busyDelete.stderr, /The group is not empty|NonEmptyGroupException/);
  } finally {
    await consumer.disconnect();
  }
  await waitUntil(async () => /Empty/.test(ok(await groups('--list', '--state'))), 'the group to become Empty', 30_000, 500);

  ok(await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--to-earliest', '--execute'));
  assert.deepEqual(await committed(), [0, 0]);
  ok(await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--shift-by', '7', '--execute'));
  assert.deepEqual(await committed(), [7, 7]);
  ok(await groups('--reset-offsets', '--group', GROUP, '--topic', `${TOPIC}:1`, '--shift-by', '-3', '--execute'));
  assert.deepEqual(await committed(), [7, 4]);
  // A shift past the log end stops at the end.
  ok(await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--shift-by', '100', '--execute'));
  assert.deepEqual(await committed(), [10, 10]);
  // The first records at or after T0 + 60 s are those stamped T1: offset 5 in each partition.
  const dateTime = new Date(T0 + 60_000).toISOString().replace('Z', '+00:00');
  const dry = ok(await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--to-datetime', dateTime, '--dry-run'));
  assert.match(dry, /NEW-OFFSET/);
  assert.deepEqual(await committed(), [10, 10], '--dry-run changes nothing');
  ok(await groups('--reset-offsets', '--group', GROUP, '--topic', TOPIC, '--to-datetime', dateTime, '--execute'));
  assert.deepEqual(await committed(), [5, 5]);

  const del = ok(await groups('--delete-offsets', '--group', GROUP, '--topic', 'cgc-other'));
  assert.match(del, /cgc-other\s+0\s+Successful/);
  assert.deepEqual(await committed(GROUP, 'cgc-other'), [-1]);
  assert.deepEqual(await committed(), [5, 5], 'the other topic keeps its offsets');

  assert.match(ok(await groups('--delete', '--group', GROUP)), /Deletion of requested consumer groups \('cgc-group'\) was successful/);
  assert.doesNotMatch(ok(await groups('--list')), new RegExp(GROUP));
  const missing = await groups('--delete', '--group', GROUP);
  assert.match(missing.stdout + missing.stderr, /does not exist|GroupIdNotFoundException/);
});

test('describe a group that does not exist', { timeout: 120_000 }, async () => {
  const absent = await groups('--describe', '--group', 'no-such-group');
  assert.match(absent.stdout + absent.stderr, /Consumer group 'no-such-group' does not exist/);
});
