// Side-by-side throughput against Apache Kafka, in one run on this machine: Kafka's own
// ProducerPerformance and ConsumerPerformance (1 KiB records, acks=all, Java client defaults, so
// idempotence is on) against StreamHouse (balanced and ultra-safe) and Apache Kafka 4.x started
// from the same Maven jars, with 1 and 16 partitions. Reports records/s, MB/s, latency
// percentiles, the brokers' peak RSS, and StreamHouse/Kafka ratios. Both brokers run with
// group.initial.rebalance.delay.ms=0: ConsumerPerformance's records/s include the group join, and
// StreamHouse's default 3 s delay alone cost it half the consume rate of 100k records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApacheKafka } from './apache-kafka.js';
import { startChildBroker } from '../test/helpers/child-broker.js';
import { kafkaTool, expectSuccess } from '../test/helpers/kafka-tools.js';

export interface PerfRow {
  broker: string;
  partitions: number;
  produceRecordsPerSec: number;
  produceMBps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  consumeRecordsPerSec: number;
  consumeMBps: number;
  peakRssMB: number;
}

export interface PerfOptions {
  records: number;
  recordSize: number;
  partitions: number[];
}

interface Target {
  name: string;
  bootstrap: string;
  peakRss(): number;
  stop(): Promise<void>;
}

async function startStreamHouse(profile: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-bench-'));
  const broker = await startChildBroker({ dataDir: dir, profile, extraArgs: ['--group-initial-rebalance-delay-ms', '0'], stderr: 'inherit', startTimeoutMs: 30_000 });
  return {
    name: `StreamHouse ${profile}`,
    bootstrap: broker.bootstrap,
    peakRss: () => broker.peakRssBytes(),
    async stop() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startKafka(): Promise<Target> {
  const k = await startApacheKafka({ logLevel: 'warn' });
  return { name: 'Apache Kafka', bootstrap: k.bootstrap, peakRss: () => k.peakRssBytes(), stop: () => k.stop() };
}

/** "100000 records sent, 51282.1 records/sec (50.08 MB/sec), 300.2 ms avg latency, ... 12 ms 50th, 40 ms 95th, 60 ms 99th, 80 ms 99.9th." */
export function parseProducer(out: string) {
  const line = out.trim().split('\n').filter((l) => l.includes('records sent')).pop() ?? '';
  const num = (re: RegExp) => Number(line.match(re)?.[1] ?? NaN);
  return {
    recordsPerSec: num(/([\d.]+) records\/sec/),
    mbps: num(/\(([\d.]+) MB\/sec\)/),
    p50: num(/([\d.]+) ms 50th/),
    p99: num(/([\d.]+) ms 99th/),
    p999: num(/([\d.]+) ms 99\.9th/),
  };
}

/** ConsumerPerformance prints a CSV header and one data line; MB.sec and nMsg.sec are columns 4 and 6. */
function parseConsumer(out: string) {
  const lines = out.trim().split('\n').filter((l) => /^\d{4}-\d\d-\d\d/.test(l.trim()));
  const cols = (lines.pop() ?? '').split(',').map((s) => s.trim());
  return { mbps: Number(cols[3]), recordsPerSec: Number(cols[5]) };
}

async function runOne(t: Target, partitions: number, opts: PerfOptions): Promise<PerfRow> {
  const topic = `perf-${partitions}-${Date.now()}`;
  expectSuccess(await kafkaTool.TopicCommand(['--bootstrap-server', t.bootstrap, '--create', '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'], { timeoutMs: 60_000 }), 'kafka-topics --create');
  const produced = expectSuccess(
    await kafkaTool.ProducerPerformance(['--topic', topic, '--num-records', String(opts.records), '--record-size', String(opts.recordSize), '--throughput', '-1', '--command-property', `bootstrap.servers=${t.bootstrap}`, 'acks=all', 'linger.ms=5', 'batch.size=65536'], { timeoutMs: 600_000 }),
    'ProducerPerformance',
  );
  const p = parseProducer(produced.stdout);
  const consumed = expectSuccess(
    await kafkaTool.ConsumerPerformance(['--bootstrap-server', t.bootstrap, '--topic', topic, '--num-records', String(opts.records), '--timeout', '120000', '--group', `perf-${Date.now()}`], { timeoutMs: 600_000 }),
    'ConsumerPerformance',
  );
  const c = parseConsumer(consumed.stdout);
  return {
    broker: t.name,
    partitions,
    produceRecordsPerSec: p.recordsPerSec,
    produceMBps: p.mbps,
    p50Ms: p.p50,
    p99Ms: p.p99,
    p999Ms: p.p999,
    consumeRecordsPerSec: c.recordsPerSec,
    consumeMBps: c.mbps,
    peakRssMB: t.peakRss() / (1024 * 1024),
  };
}

export async function runPerfCompare(opts: PerfOptions): Promise<{ rows: PerfRow[]; ratios: Record<string, number | string>[] }> {
  const rows: PerfRow[] = [];
  const starters: Array<() => Promise<Target>> = [startKafka, () => startStreamHouse('balanced'), () => startStreamHouse('ultra-safe')];
  for (const start of starters) {
    const t = await start();
    try {
      for (const n of opts.partitions) rows.push(await runOne(t, n, opts));
    } finally {
      await t.stop();
    }
  }
  const ratios = rows
    .filter((r) => r.broker !== 'Apache Kafka')
    .map((r) => {
      const k = rows.find((x) => x.broker === 'Apache Kafka' && x.partitions === r.partitions)!;
      return {
        broker: r.broker,
        partitions: r.partitions,
        'produce x Kafka': r.produceRecordsPerSec / k.produceRecordsPerSec,
        'consume x Kafka': r.consumeRecordsPerSec / k.consumeRecordsPerSec,
        'p99 x Kafka': r.p99Ms / k.p99Ms,
        'RSS x Kafka': r.peakRssMB / k.peakRssMB,
      };
    });
  return { rows, ratios };
}
