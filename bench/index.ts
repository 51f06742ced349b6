// npm run bench: runs every benchmark section, prints a table per section and one JSON document.
//   node dist/bench/index.js [section ...]   sections: codec, registry, kafka, groups, eos, storage, cluster
// BENCH_RECORDS sets the record count of the Kafka comparison (default 200000 of 1 KiB);
// BENCH_STORAGE_RECORDS that of each durability profile in the storage section (default 100000).
import { runCodecBench } from './codec.js';
import { runPerfCompare } from './perf-compare.js';
import { runCodecShare } from './codec-share.js';
import { runRegistryBench } from './registry.js';
import { runStorageBench, storageTable } from './storage.js';
import { runGroupBench } from './groups.js';
import { runEosBench } from './eos.js';
import { runClusterBench } from './cluster.js';

type Row = Record<string, string | number>;

function table(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => fmt(r[c]).length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => fmt(r[c]))));
}

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const all = wanted.size === 0;
  const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };
  if (all || wanted.has('codec')) {
    const codec = runCodecBench();
    console.log('\nDecode returns record batches as views of the frame (no copy), hence the large decode rates.');
    table('Codec throughput (MB/s of wire bytes, one core)', codec.map((r) => ({
      message: `${r.name} v${r.version}`,
      bytes: r.messageBytes,
      'encode MB/s': r.encodeMBps,
      'decode MB/s': r.decodeMBps,
    })));
    const share = await runCodecShare(Number(process.env.BENCH_PROFILE_RECORDS ?? 100_000));
    table('Broker CPU during a produce load (ProducerPerformance, 1 KiB, acks=all, 4 partitions)', [{
      records: share.records,
      'busy CPU ms': share.totalCpuMs,
      'codec % of busy': share.codecPercent,
      'record batch checks % of busy': share.recordsPercent,
      'idle % of wall': share.idlePercent,
    }]);
    results.codec = { throughput: codec, produceLoadShare: share };
  }
  if (all || wanted.has('registry')) {
    const registry = await runRegistryBench();
    table('Schema registry', registry.map((r) => ({ ...r })));
    results.registry = registry;
  }
  if (all || wanted.has('kafka')) {
    const records = Number(process.env.BENCH_RECORDS ?? 200_000);
    const perf = await runPerfCompare({ records, recordSize: 1024, partitions: [1, 16] });
    table(`Against Apache Kafka: ${records} records of 1 KiB, acks=all, Java perf tools`, perf.rows.map((r) => ({ ...r })));
    table('Ratios (StreamHouse / Kafka; throughput > 1 is better, p99 and RSS < 1 are better)', perf.ratios);
    results.kafka = perf;
  }
  if (all || wanted.has('groups')) {
    const groups = await runGroupBench();
    table('Consumer group: time until a 5-member group is stable again (ms)', groups.map((r) => ({ ...r })));
    results.groups = groups;
  }
  if (all || wanted.has('eos')) {
    const eos = await runEosBench();
    table('Transactions (100 records each, 4 partitions, kafkajs) and idempotent produce', eos.map((r) => ({ ...r })));
    results.eos = eos;
  }
  if (all || wanted.has('storage')) {
    const records = Number(process.env.BENCH_STORAGE_RECORDS ?? 100_000);
    const storage = await runStorageBench({ records, recordSize: 1024, partitions: 4 });
    const raw = storage.rawFsync;
    console.log(`\nRaw fsync rate of this disk (4 KiB write + fsync, back to back): ${raw.fsyncsPerSec.toFixed(0)}/s, p50 ${raw.p50Ms.toFixed(2)} ms, p99 ${raw.p99Ms.toFixed(2)} ms.`);
    table(`Durability profiles: ${records} records of 1 KiB, acks=all, 4 partitions, ProducerPerformance; objects on s3rver (${storage.machine})`, storageTable(storage));
    results.storage = storage;
  }
  if (all || wanted.has('cluster')) {
    const cluster = await runClusterBench();
    const f = cluster.failover;
    table(`Cluster failover: kill -9 of a leader until the next acked send (lease ${f.leaseMs} ms)`, [{ kills: f.kills, 'min ms': f.minMs, 'median ms': f.medianMs, 'max ms': f.maxMs }]);
    table('Cluster throughput by agents (2 cores shared by agents and load)', cluster.throughput.map((r) => ({ ...r })));
    results.cluster = cluster;
  }
  console.log('\n```json\n' + JSON.stringify(results, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2) + '\n```');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
