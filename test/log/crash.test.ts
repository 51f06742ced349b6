// kill -9: the broker runs as a child process (node dist/src/cli.js serve); a kafkajs producer with
// acks=all and no retries writes uniquely numbered records while the broker is killed with SIGKILL
// three times and restarted on the same data directory. Every acknowledged record must be present
// exactly once afterwards (no retries, so no record may appear twice at all), for the balanced
// (ack after the WAL write()) and ultra-safe (ack after fsync) profiles. Idempotent producers that
// retry through the same kills must find each acknowledged batch at the offsets its acknowledgement
// named, and each producer sequence stored once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { freePort, startChildBroker, type ChildBroker } from '../helpers/child-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { rawFetch } from '../handlers/data-path.js';
import { BatchHeader, RECORD_BATCH_OVERHEAD, readBatchRecords } from '../../src/protocol/records/index.js';

const PARTITIONS = 3;

/** One stored record batch of the topic, with what exactly-once depends on. */
interface StoredBatch {
  partition: number;
  baseOffset: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  ids: number[];
}

/** Every batch of the topic's partitions, in offset order per partition. */
async function storedBatches(port: number): Promise<StoredBatch[]> {
  const raw = await RawClient.connect(port);
  const out: StoredBatch[] = [];
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = 0n;
      for (;;) {
        const part = (await rawFetch(raw, 'crash', p, offset)).responses[0].partitions[0];
        if (part.errorCode !== 0) throw new Error(`fetch error ${part.errorCode} at offset ${offset} of partition ${p}`);
        const records = part.records ?? Buffer.alloc(0);
        const before = offset;
        for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= records.length; ) {
          const h = new BatchHeader(records, pos);
          if (pos + h.sizeInBytes > records.length) break;
          const batch = records.subarray(pos, pos + h.sizeInBytes);
          pos += h.sizeInBytes;
          if (h.lastOffset < offset) continue;
          const ids = (await readBatchRecords(batch, { maxUncompressedBytes: 1 << 20 })).map((r) => Number(r.value!.toString().slice(3)));
          out.push({ partition: p, baseOffset: h.baseOffset, producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence, ids });
          offset = h.lastOffset + 1n;
        }
        if (offset === before) {
          if (offset >= part.highWatermark) break;
          throw new Error(`no batch at offset ${offset} of partition ${p}, below the high watermark ${part.highWatermark}`);
        }
      }
    }
  } finally {
    raw.close();
  }
  return out;
}

/** How often each record id is stored across the topic's partitions. */
function storedIds(batches: readonly StoredBatch[]): Map<number, number> {
  const seen = new Map<number, number>();
  for (const b of batches) for (const id of b.ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  return seen;
}

function assertEachAckedOnce(acked: Set<number>, seen: Map<number, number>): void {
  const missing = [...acked].filter((id) => !seen.has(id));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(missing, [], `${missing.length} acknowledged records lost`);
  assert.deepEqual(duplicated, [], 'records stored twice');
}

/** The broker's warnings and recovery lines of every run, for a failure message. */
function brokerNotes(outputs: readonly string[]): string {
  const lines: string[] = [];
  outputs.forEach((out, run) => {
    for (const line of out.split('\n')) {
      if (/"level":(4|5|6)0/.test(line) || line.includes('recovered')) lines.push(`run ${run}: ${line}`);
    }
  });
  return lines.slice(-40).join('\n');
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
    const seen = storedIds(await storedBatches(port));
    diagnostic(`${profile}: ${acked.size} acknowledged of ${next} sent, ${seen.size} stored`);
    assertEachAckedOnce(acked, seen);
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One acknowledged send(): its records per partition and the base offset the broker gave each. */
interface AckedSend {
  ids: number[];
  partitions: { partition: number; ids: number[]; baseOffset: bigint }[];
}

/**
 * The form: idempotent acks=all producers live through three kills; their sends retry
 * across each restart, so batches written just before a kill come again with the same producer id
 * and sequence. The broker rebuilds producer state from the WAL and answers those duplicates with
 * their first offsets: every acknowledged record is stored exactly once, at the offsets its
 * acknowledgement named.
 *
 * Each producer has ONE writer loop, and a writer whose send fails for good goes on with a new
 * producer (a new producer id). That is not a loosening but what makes the check meaningful with
 * kafkajs: it takes a partition's sequence numbers when it builds a request and hands them back
 * when the request fails (connection lost, or an error on any partition), to whatever batch it
 * builds next. With two concurrent send()s on one producer, the batch that gets them back may be
 * another send's: if the failed request was in fact stored (its response lost to the kill), that
 * other batch has the same producer id, epoch and sequence range, which is by Kafka's rule a
 * duplicate, answered with the stored batch's offsets, and kafkajs resolves send() for records
 * that were never stored. (Seen when both writers shared one producer: ids 1265-1269 acknowledged
 * at 0@353, 1@352, 2@530, which hold ids 1240-1244, a send in flight at a kill; any Kafka broker
 * answers the same.) The Java producer never gives a sequence to other records: it retries the
 * same batch, or bumps the epoch.
 */
async function idempotentCrashRun(profile: string, diagnostic: (msg: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `sh-crash-idem-${profile}-`));
  const port = await freePort();
  let child: ChildBroker = await startChildBroker({ dataDir, port, profile });
  const outputs: string[] = [];
  const acked: AckedSend[] = [];
  let next = 0;
  let failed = 0;
  let producers = 0;
  try {
    const kafka = new Kafka({ clientId: 'crash-idempotent', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: PARTITIONS, configEntries: [{ name: 'segment.bytes', value: '16384' }] }] });
    await admin.disconnect();
    let stop = false;
    const connect = async (): Promise<Producer | null> => {
      while (!stop) {
        const p = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
        try {
          await p.connect();
          producers++;
          return p;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      return null;
    };
    const writer = async () => {
      let producer = await connect();
      while (producer && !stop) {
        const ids = Array.from({ length: 5 }, () => next++);
        // Explicit partitions, so the records of each partition and their order are known.
        const messages = ids.map((id) => ({ partition: id % PARTITIONS, key: String(id % 7), value: `id-${id}` }));
        try {
          const meta = await producer.send({ topic: 'crash', acks: -1, messages });
          acked.push({
            ids,
            partitions: meta.map((m) => ({ partition: m.partition, ids: ids.filter((id) => id % PARTITIONS === m.partition), baseOffset: BigInt(m.baseOffset!) })),
          });
        } catch {
          failed++;
          await producer.disconnect().catch(() => undefined);
          producer = await connect();
        }
      }
      await producer?.disconnect().catch(() => undefined);
    };
    const writers = [writer(), writer()];
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 700));
      child.proc.kill('SIGKILL');
      await child.exited;
      outputs.push(child.output());
      child = await startChildBroker({ dataDir, port, profile });
    }
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await Promise.all(writers);

    const ackedIds = new Set(acked.flatMap((s) => s.ids));
    assert.ok(ackedIds.size > 100, `only ${ackedIds.size} records were acknowledged`);
    const batches = await storedBatches(port);
    outputs.push(child.output());
    diagnostic(`${profile} idempotent: ${ackedIds.size} acknowledged of ${next} sent (${failed} sends failed, ${producers} producers), ${storedIds(batches).size} stored`);
    try {
      assertAckedAtTheirOffsets(acked, batches);
      assertSequencesOnce(batches);
      assertEachAckedOnce(ackedIds, storedIds(batches));
    } catch (err) {
      diagnostic(`broker warnings and recoveries, per run:\n${brokerNotes(outputs)}`);
      throw err;
    }
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Each acknowledged partition batch is stored at the base offset its acknowledgement named. */
function assertAckedAtTheirOffsets(acked: readonly AckedSend[], batches: readonly StoredBatch[]): void {
  const at = new Map(batches.map((b) => [`${b.partition}@${b.baseOffset}`, b]));
  const wrong: string[] = [];
  for (const send of acked) {
    for (const p of send.partitions) {
      const b = at.get(`${p.partition}@${p.baseOffset}`);
      if (b && b.ids.join() === p.ids.join()) continue;
      const holds = b ? `ids ${b.ids.join(',')} (producer ${b.producerId} epoch ${b.producerEpoch} sequence ${b.baseSequence})` : 'no batch starting there';
      wrong.push(`ids ${p.ids.join(',')} acknowledged at ${p.partition}@${p.baseOffset}, where the log holds ${holds}`);
    }
  }
  assert.deepEqual(wrong, [], `acknowledged batches not stored where their acknowledgement said:\n${wrong.join('\n')}`);
}

/**
 * Idempotence as the log shows it: per producer and partition, the stored batches' sequences run
 * from 0 without a gap or a repeat (a repeat is a retry written twice; a gap, a batch the broker
 * lost after accepting the ones behind it).
 */
function assertSequencesOnce(batches: readonly StoredBatch[]): void {
  const expected = new Map<string, number>();
  const wrong: string[] = [];
  for (const b of batches) {
    const k = `${b.producerId}/${b.producerEpoch}/${b.partition}`;
    const want = expected.get(k) ?? 0;
    if (b.baseSequence !== want) wrong.push(`partition ${b.partition} offset ${b.baseOffset}: producer ${b.producerId} sequence ${b.baseSequence}, expected ${want}`);
    expected.set(k, b.baseSequence + b.ids.length);
  }
  assert.deepEqual(wrong, [], 'stored sequences repeat or skip');
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
