// Exactly-once benchmark: transactions per second (100 records each over 4 partitions, one
// kafkajs transactional producer committing back to back) and idempotent produce throughput
// (kafkajs, 100-record batches, acks=all), against StreamHouse (a child process, balanced
// profile) and Apache Kafka (bench/apache-kafka.ts) in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startApacheKafka } from './apache-kafka.js';
import { startChildBroker } from '../test/helpers/child-broker.js';

export interface EosRow {
  broker: string;
  transactionsPerSec: number;
  txnCommitP50Ms: number;
  txnCommitP99Ms: number;
  idempotentRecordsPerSec: number;
}

export interface EosOptions {
  /** How long each measurement runs. */
  durationMs: number;
  recordsPerTxn: number;
  partitions: number;
  recordSize: number;
}

const DEFAULTS: EosOptions = { durationMs: 10_000, recordsPerTxn: 100, partitions: 4, recordSize: 100 };

interface Target {
  name: string;
  bootstrap: string;
  stop(): Promise<void>;
}

async function startStreamHouse(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-eos-bench-'));
  const broker = await startChildBroker({ dataDir: dir, stderr: 'inherit', startTimeoutMs: 30_000 });
  return {
    name: 'StreamHouse balanced',
    bootstrap: broker.bootstrap,
    async stop() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startKafka(): Promise<Target> {
  const k = await startApacheKafka({ logLevel: 'warn' });
  return { name: 'Apache Kafka', bootstrap: k.bootstrap, stop: () => k.stop() };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(target: Target, o: EosOptions): Promise<EosRow> {
  const kafka = new Kafka({ clientId: 'eos-bench', brokers: [target.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'eos-txn', numPartitions: o.partitions }, { topic: 'eos-idem', numPartitions: o.partitions }], waitForLeaders: true });
  await admin.disconnect();
  const value = Buffer.alloc(o.recordSize, 'x');
  const batch = (t: number) => Array.from({ length: o.recordsPerTxn }, (_, i) => ({ value, partition: (t + i) % o.partitions }));

  // Transactions: begin, send 100 records spread over the partitions, commit; back to back.
  const tp = kafka.producer({ transactionalId: `eos-bench-${Date.now()}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await tp.connect();
  // One untimed transaction first: finding the coordinator and (on Kafka) creating the
  // transaction state topic are start-up costs, not per-transaction ones.
  const warm = await tp.transaction();
  await warm.send({ topic: 'eos-txn', messages: batch(0), acks: -1 });
  await warm.commit();
  const commitMs: number[] = [];
  let txns = 0;
  let start = Date.now();
  while (Date.now() - start < o.durationMs) {
    const txn = await tp.transaction();
    await txn.send({ topic: 'eos-txn', messages: batch(txns), acks: -1 });
    const t0 = performance.now();
    await txn.commit();
    commitMs.push(performance.now() - t0);
    txns++;
  }
  const txnSecs = (Date.now() - start) / 1000;
  await tp.disconnect();

  // Idempotent produce: 100-record sends, one in flight (what kafkajs allows with idempotence).
  const ip = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await ip.connect();
  let records = 0;
  start = Date.now();
  while (Date.now() - start < o.durationMs) {
    await ip.send({ topic: 'eos-idem', messages: batch(records), acks: -1 });
    records += o.recordsPerTxn;
  }
  const idemSecs = (Date.now() - start) / 1000;
  await ip.disconnect();

  commitMs.sort((a, b) => a - b);
  return {
    broker: target.name,
    transactionsPerSec: Math.round((txns / txnSecs) * 10) / 10,
    txnCommitP50Ms: Math.round(percentile(commitMs, 50) * 10) / 10,
    txnCommitP99Ms: Math.round(percentile(commitMs, 99) * 10) / 10,
    idempotentRecordsPerSec: Math.round(records / idemSecs),
  };
}

/** Runs the exactly-once benchmark against StreamHouse, then Apache Kafka; one row per broker. */
export async function runEosBench(opts: Partial<EosOptions> = {}): Promise<EosRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const rows: EosRow[] = [];
  for (const start of [startStreamHouse, startKafka]) {
    const target = await start();
    try {
      rows.push(await measure(target, o));
    } finally {
      await target.stop();
    }
  }
  return rows;
}

// `node dist/bench/eos.js [durationMs]` runs it alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const durationMs = Number(process.argv[2] ?? DEFAULTS.durationMs);
  runEosBench({ durationMs }).then(
    (rows) => console.table(rows),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
