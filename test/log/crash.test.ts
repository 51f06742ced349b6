// kill -9: the broker runs as a child process (node dist/src/cli.js serve); a kafkajs producer with
// acks=all and no retries writes uniquely numbered records while the broker is killed with SIGKILL
// three times and restarted on the same data directory. Every acknowledged record must be present
// exactly once afterwards (no retries, so no record may appear twice at all), for the balanced
// (ack after the WAL write()) and ultra-safe (ack after fsync) profiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, startChildBroker } from '../helpers/child-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { readAll } from '../handlers/data-path.js';

/** How often each record id is stored across the topic's three partitions. */
async function storedIds(port: number): Promise<Map<number, number>> {
  const raw = await RawClient.connect(port);
  const seen = new Map<number, number>();
  for (let p = 0; p < 3; p++) {
    for (const r of await readAll(raw, 'crash', p)) {
      const id = Number(r.value!.toString().slice(3));
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  raw.close();
  return seen;
}

function assertEachAckedOnce(acked: Set<number>, seen: Map<number, number>): void {
  const missing = [...acked].filter((id) => !seen.has(id));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(missing, [], `${missing.length} acknowledged records lost`);
  assert.deepEqual(duplicated, [], 'records stored twice');
}

async function crashRun(profile: string, diagnostic: (msg: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `sh-crash-${profile}-`));
  const port = await freePort();
  let child = await startChildBroker({ dataDir, port, profile });
  const acked = new Set<number>();
  let next = 0;
  try {
    const kafka = () => new Kafka({ clientId: 'crash-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 3, configEntries: [{ name: 'segment.bytes', value: '16384' }] }] });
    await admin.disconnect();

    for (let round = 0; round < 4; round++) {
      const producer = kafka().producer({ allowAutoTopicCreation: false, retry: { retries: 0 }, idempotent: false });
      await producer.connect();
      let stop = false;
      const writer = async () => {
        while (!stop) {
          const ids = Array.from({ length: 5 }, () => next++);
          try {
            await producer.send({ topic: 'crash', acks: -1, messages: ids.map((id) => ({ key: String(id % 7), value: `id-${id}` })) });
            for (const id of ids) acked.add(id);
          } catch {
            if (!stop) await new Promise((r) => setTimeout(r, 20));
          }
        }
      };
      const writers = [writer(), writer(), writer()];
      await new Promise((r) => setTimeout(r, 700));
      if (round < 3) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      stop = true;
      await Promise.all(writers);
      await producer.disconnect().catch(() => undefined);
      if (round < 3) child = await startChildBroker({ dataDir, port, profile });
    }

    assert.ok(acked.size > 100, `only ${acked.size} records were acknowledged`);
    const seen = await storedIds(port);
    diagnostic(`${profile}: ${acked.size} acknowledged of ${next} sent, ${seen.size} stored`);
    assertEachAckedOnce(acked, seen);
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The form: one idempotent acks=all producer lives through three kills; its sends retry
 * across each restart, so batches written just before a kill come again with the same producer id
 * and sequence. The broker rebuilds producer state from the WAL and answers those duplicates with
 * their first offsets: every acknowledged record is stored exactly once.
 */
async function idempotentCrashRun(profile: string, diagnostic: (msg: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `sh-crash-idem-${profile}-`));
  const port = await freePort();
  let child = await startChildBroker({ dataDir, port, profile });
  const acked = new Set<number>();
  let next = 0;
  try {
    const kafka = new Kafka({ clientId: 'crash-idempotent', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 3, configEntries: [{ name: 'segment.bytes', value: '16384' }] }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let stop = false;
    let failed = 0;
    const writer = async () => {
      while (!stop) {
        const ids = Array.from({ length: 5 }, () => next++);
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: ids.map((id) => ({ key: String(id % 7), value: `id-${id}` })) });
          for (const id of ids) acked.add(id);
        } catch {
          failed++;
        }
      }
    };
    const writers = [writer(), writer()];
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 700));
      child.proc.kill('SIGKILL');
      await child.exited;
      child = await startChildBroker({ dataDir, port, profile });
    }
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await Promise.all(writers);
    await producer.disconnect().catch(() => undefined);

    assert.ok(acked.size > 100, `only ${acked.size} records were acknowledged`);
    const seen = await storedIds(port);
    diagnostic(`${profile} idempotent: ${acked.size} acknowledged of ${next} sent (${failed} sends failed), ${seen.size} stored`);
    assertEachAckedOnce(acked, seen);
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('an idempotent acks=all producer through three kill -9 restarts: every acked record exactly once (balanced)', { timeout: 90_000 }, async (t) => {
  await idempotentCrashRun('balanced', (m) => t.diagnostic(m));
});

test('an idempotent acks=all producer through three kill -9 restarts: every acked record exactly once (ultra-safe)', { timeout: 90_000 }, async (t) => {
  await idempotentCrashRun('ultra-safe', (m) => t.diagnostic(m));
});

test('kill -9 three times under acks=all load loses no acknowledged record (balanced)', { timeout: 90_000 }, async (t) => {
  await crashRun('balanced', (m) => t.diagnostic(m));
});

test('kill -9 three times under acks=all load loses no acknowledged record (ultra-safe)', { timeout: 90_000 }, async (t) => {
  await crashRun('ultra-safe', (m) => t.diagnostic(m));
});
