// Exactly-once under faults with kafkajs: produce responses lost after the write (a proxy cuts
// the connection instead of answering, so the client retries the same batch), and concurrent
// transactions, some committed and some aborted, interleaved on the same partitions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startDroppingProxy, type DroppingProxy } from './response-dropping-proxy.js';

let broker: TestBroker;
let proxy: DroppingProxy;
let viaProxy: Kafka;
let direct: Kafka;
before(async () => {
  proxy = await startDroppingProxy();
  broker = await startTestBroker({ advertisedPort: proxy.port, groupInitialRebalanceDelayMs: 0 });
  proxy.setTarget(broker.port);
  const opts = { logLevel: logLevel.NOTHING, retry: { initialRetryTime: 50, retries: 10 } };
  viaProxy = new Kafka({ clientId: 'eos-faults', brokers: [`127.0.0.1:${proxy.port}`], ...opts });
  direct = viaProxy; // metadata advertises the proxy: every connection goes through it
});
after(async () => {
  await broker.stop();
  await proxy.close();
});

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = direct.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

/** Every record of the topic, read_uncommitted (so duplicates of aborted data would show too) or read_committed. */
async function readAll(topic: string, expected: number, readUncommitted: boolean): Promise<string[]> {
  proxy.setDropRule(() => false);
  const seen: string[] = [];
  const consumer = direct.consumer({ groupId: `read-${topic}-${readUncommitted}-${Date.now()}`, readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  const deadline = Date.now() + 30_000;
  while (seen.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000)); // room for duplicates to show up
  await consumer.disconnect();
  return seen;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}

test('idempotent kafkajs producer: lost produce responses cause retries but no duplicates', { timeout: 120_000 }, async () => {
  await createTopic('lost-acks', 2);
  const producer = viaProxy.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  proxy.setDropRule((n) => n % 4 === 0);
  const before = proxy.dropped;
  const expected: string[] = [];
  for (let i = 0; i < 60; i++) {
    const messages = Array.from({ length: 5 }, (_, j) => ({ value: `m-${i}-${j}`, partition: i % 2 }));
    await producer.send({ topic: 'lost-acks', messages, acks: -1 });
    expected.push(...messages.map((m) => m.value));
  }
  proxy.setDropRule(() => false);
  await producer.disconnect();
  assert.ok(proxy.dropped - before >= 10, `responses were dropped (${proxy.dropped - before})`);
  const seen = await readAll('lost-acks', expected.length, true);
  assert.deepEqual(duplicates(seen), []);
  assert.deepEqual([...seen].sort(), [...expected].sort());
});

test('transactional kafkajs producer: lost produce responses inside transactions, committed data exactly once', { timeout: 120_000 }, async () => {
  await createTopic('lost-acks-txn', 2);
  const producer = viaProxy.producer({ transactionalId: 'lost-acks-txn-id', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  proxy.setDropRule((n) => n % 3 === 0);
  const committed: string[] = [];
  for (let t = 0; t < 12; t++) {
    const txn = await producer.transaction();
    const values: string[] = [];
    for (let i = 0; i < 4; i++) {
      const messages = [{ value: `t${t}-${i}`, partition: i % 2 }];
      await txn.send({ topic: 'lost-acks-txn', messages });
      values.push(messages[0]!.value);
    }
    if (t % 4 === 3) await txn.abort();
    else {
      await txn.commit();
      committed.push(...values);
    }
  }
  proxy.setDropRule(() => false);
  await producer.disconnect();
  assert.ok(proxy.dropped > 0);
  const all = await readAll('lost-acks-txn', 48, true);
  assert.deepEqual(duplicates(all), [], 'no batch was written twice, aborted ones included');
  const seen = await readAll('lost-acks-txn', committed.length, false);
  assert.deepEqual([...seen].sort(), [...committed].sort());
});

test('concurrent transactions on the same partitions: read_committed sees exactly the committed ones, in order', { timeout: 120_000 }, async () => {
  await createTopic('concurrent-txn', 2);
  const P = 4;
  const ROUNDS = 8;
  const producers = await Promise.all(
    Array.from({ length: P }, async (_, k) => {
      const p = viaProxy.producer({ transactionalId: `conc-${k}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await p.connect();
      return p;
    }),
  );
  const committed = new Map<number, string[]>();
  await Promise.all(
    producers.map(async (p, k) => {
      const mine: string[] = [];
      committed.set(k, mine);
      for (let r = 0; r < ROUNDS; r++) {
        const txn = await p.transaction();
        const values = [0, 1, 2].map((i) => `p${k}-r${r}-${i}`);
        for (const [i, value] of values.entries()) {
          await txn.send({ topic: 'concurrent-txn', messages: [{ value, partition: i % 2 }] });
          await new Promise((res) => setTimeout(res, Math.random() * 5));
        }
        // A deterministic mix of outcomes, different per producer.
        if ((r + k) % 3 === 0) await txn.abort();
        else {
          await txn.commit();
          mine.push(...values);
        }
      }
    }),
  );
  await Promise.all(producers.map((p) => p.disconnect()));
  const expected = [...committed.values()].flat();
  const seen = await readAll('concurrent-txn', expected.length, false);
  assert.deepEqual(duplicates(seen), []);
  const missing = expected.filter((v) => !seen.includes(v));
  const extra = seen.filter((v) => !expected.includes(v));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
  // Within a partition, each producer's committed records keep their order.
  for (const [k, values] of committed) {
    const order = seen.filter((v) => v.startsWith(`p${k}-`));
    for (const part of [0, 1]) {
      const inPart = values.filter((v) => Number(v.split('-')[2]) % 2 === part);
      assert.deepEqual(order.filter((v) => inPart.includes(v)), inPart);
    }
  }
});
