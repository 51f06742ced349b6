// kill -9 of the broker (a child process: node dist/src/cli.js serve) while transactions are open
// and while EndTxn commits are in flight. After the restart nothing is half visible: each
// transaction's records across both partitions are all readable (read_committed) or none are,
// and every transactional id can start and commit a new transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { freePort, startChildBroker } from '../helpers/child-broker.js';

function client(port: number): Kafka {
  return new Kafka({ clientId: 'eos-crash', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 100, retries: 8 } });
}

async function readCommitted(kafka: Kafka, topic: string, settleMs: number): Promise<string[]> {
  const seen: string[] = [];
  const consumer = kafka.consumer({ groupId: `verify-${Date.now()}-${Math.random()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  await new Promise((r) => setTimeout(r, settleMs));
  await consumer.disconnect();
  return seen;
}

/** Opens `count` transactions, each writing `perTxn` records spread over both partitions. */
async function openTransactions(kafka: Kafka, topic: string, prefix: string, count: number, perTxn: number) {
  const out: { producer: Producer; txn: Awaited<ReturnType<Producer['transaction']>>; values: string[] }[] = [];
  for (let k = 0; k < count; k++) {
    const producer = kafka.producer({ transactionalId: `${prefix}-${k}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 });
    await producer.connect();
    const txn = await producer.transaction();
    const values = Array.from({ length: perTxn }, (_, i) => `${prefix}-${k}-${i}`);
    for (const [i, value] of values.entries()) await txn.send({ topic, messages: [{ value, partition: i % 2 }] });
    out.push({ producer, txn, values });
  }
  return out;
}

/** Each transaction is all-or-nothing in `seen`; returns how many were visible. */
function assertAtomic(seen: string[], txns: { values: string[] }[]): number {
  let visible = 0;
  for (const t of txns) {
    const n = t.values.filter((v) => seen.includes(v)).length;
    assert.ok(n === 0 || n === t.values.length, `transaction ${t.values[0]} is half visible (${n} of ${t.values.length})`);
    if (n) visible++;
  }
  assert.equal(new Set(seen).size, seen.length, 'no duplicates');
  return visible;
}

/** After the crash every transactional id starts again (fencing the old epoch) and commits. */
async function restartAndCommit(kafka: Kafka, topic: string, prefix: string, count: number): Promise<string[]> {
  const values: string[] = [];
  for (let k = 0; k < count; k++) {
    const p = kafka.producer({ transactionalId: `${prefix}-${k}`, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const txn = await p.transaction();
    const v = `${prefix}-${k}-after`;
    await txn.send({ topic, messages: [{ value: v, partition: k % 2 }] });
    await txn.commit();
    await p.disconnect();
    values.push(v);
  }
  return values;
}

test('kill -9 with open transactions and with EndTxn in flight: nothing half visible, ids usable again', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eos-crash-'));
  const port = await freePort();
  let proc = await startChildBroker({ dataDir, port });
  try {
    let kafka = client(port);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 2 }] });
    await admin.disconnect();

    // Round 1: committed, then open transactions, then kill -9.
    const committed = await openTransactions(kafka, 'crash', 'c', 2, 4);
    for (const t of committed) await t.txn.commit();
    const open = await openTransactions(kafka, 'crash', 'o', 3, 4);
    await proc.kill();
    for (const t of [...committed, ...open]) await t.producer.disconnect().catch(() => undefined);

    proc = await startChildBroker({ dataDir, port });
    kafka = client(port);
    const again = await restartAndCommit(kafka, 'crash', 'o', 3);
    let seen = await readCommitted(kafka, 'crash', 4000);
    assert.equal(assertAtomic(seen, committed), committed.length, 'committed transactions survive');
    assert.equal(assertAtomic(seen, open), 0, 'open transactions end aborted');
    for (const v of again) assert.ok(seen.includes(v), `${v} committed after the restart`);

    // Round 2: commits in flight when the broker dies.
    const inFlight = await openTransactions(kafka, 'crash', 'e', 5, 6);
    const commits = inFlight.map((t) => t.txn.commit().catch(() => undefined));
    await new Promise((r) => setTimeout(r, 3));
    await proc.kill();
    await Promise.all(commits);
    for (const t of inFlight) await t.producer.disconnect().catch(() => undefined);

    proc = await startChildBroker({ dataDir, port });
    kafka = client(port);
    // Prepared commits are completed by the restarted coordinator; the rest are aborted by the new instances.
    const after = await restartAndCommit(kafka, 'crash', 'e', 5);
    seen = await readCommitted(kafka, 'crash', 4000);
    assertAtomic(seen, [...committed, ...open, ...inFlight]);
    for (const v of after) assert.ok(seen.includes(v));
  } finally {
    await proc.kill().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
