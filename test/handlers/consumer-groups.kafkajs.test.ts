// Consumer groups through kafkajs: members join and leave, and offsets survive a broker restart.
// Each consumer commits after every record it processes; the invariants are Kafka's: a record
// whose offset was committed is never delivered again (to any member of a later generation),
// and every produced record is delivered (none skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const TOPIC = 'orders';
const PARTITIONS = 4;

function kafka(broker: TestBroker, clientId: string) {
  return new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50 } });
}

interface Ledger {
  delivered: Map<string, number>;
  committed: Set<string>;
  redeliveredAfterCommit: string[];
}

async function startMember(broker: TestBroker, name: string, ledger: Ledger): Promise<Consumer> {
  const consumer = kafka(broker, name).consumer({ groupId: 'shop', sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const key = `${partition}:${message.offset}`;
      if (ledger.committed.has(key)) ledger.redeliveredAfterCommit.push(key);
      ledger.delivered.set(key, (ledger.delivered.get(key) ?? 0) + 1);
      await consumer.commitOffsets([{ topic: TOPIC, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      ledger.committed.add(key);
    },
  });
  return consumer;
}

async function produce(broker: TestBroker, from: number, count: number) {
  const producer = kafka(broker, 'producer').producer();
  await producer.connect();
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % PARTITIONS }));
  await producer.send({ topic: TOPIC, messages });
  await producer.disconnect();
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('2 to 5 members join and leave while consuming: no committed record read twice, none skipped', { timeout: 120_000 }, async () => {
  const broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  const ledger: Ledger = { delivered: new Map(), committed: new Set(), redeliveredAfterCommit: [] };
  const members: Consumer[] = [];
  try {
    const admin = kafka(broker, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    let produced = 0;
    members.push(await startMember(broker, 'm1', ledger));
    members.push(await startMember(broker, 'm2', ledger));
    for (let round = 0; round < 3; round++) {
      await produce(broker, produced, 40);
      produced += 40;
      members.push(await startMember(broker, `m${members.length + 1}`, ledger));
    }
    assert.equal(members.length, 5);
    await produce(broker, produced, 40);
    produced += 40;
    await waitFor(() => ledger.committed.size === produced, `all ${produced} records committed`);
    // Members leave one by one; the rest take over their partitions.
    while (members.length > 1) {
      await members.pop()!.disconnect();
      await produce(broker, produced, 20);
      produced += 20;
      await waitFor(() => ledger.committed.size === produced, `all ${produced} records committed`);
    }
    const described = await admin.describeGroups(['shop']);
    assert.equal(described.groups[0]!.state, 'Stable');
    assert.equal(described.groups[0]!.members.length, 1);
    const offsets = await admin.fetchOffsets({ groupId: 'shop', topics: [TOPIC] });
    const total = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    assert.equal(total, produced, 'committed offsets cover every record');
    assert.deepEqual(ledger.redeliveredAfterCommit, []);
    for (let i = 0; i < produced; i++) {
      assert.ok(ledger.delivered.has(`${i % PARTITIONS}:${Math.floor(i / PARTITIONS)}`), `record ${i} was delivered`);
    }
    await admin.disconnect();
  } finally {
    for (const m of members) await m.disconnect().catch(() => undefined);
    await broker.stop();
  }
});

test('committed offsets resume after a broker restart', { timeout: 120_000 }, async () => {
  let broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  const dataDir = broker.dataDir;
  const ledger: Ledger = { delivered: new Map(), committed: new Set(), redeliveredAfterCommit: [] };
  try {
    const admin = kafka(broker, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    await produce(broker, 0, 40);
    const c1 = await startMember(broker, 'm1', ledger);
    await waitFor(() => ledger.committed.size === 40, 'the first 40 records committed');
    await c1.disconnect();
    await broker.stop({ keepData: true });

    broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0, dataDir });
    await produce(broker, 40, 40);
    const c2 = await startMember(broker, 'm2', ledger);
    await waitFor(() => ledger.committed.size === 80, 'the next 40 records committed');
    await new Promise((r) => setTimeout(r, 300));
    await c2.disconnect();
    assert.deepEqual(ledger.redeliveredAfterCommit, [], 'nothing committed before the restart was read again');
    assert.equal(ledger.delivered.size, 80);
    assert.ok([...ledger.delivered.values()].every((n) => n === 1));
  } finally {
    await broker.stop();
  }
});
