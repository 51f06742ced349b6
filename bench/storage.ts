// Storage benchmark (issue 3): the latency/cost table of the durability profiles.
//
// For each profile, one StreamHouse child process with its objects on a real S3-compatible server
// (s3rver), reached through a counting HTTP proxy so every request the broker makes is seen,
// including the final uploads of a graceful stop:
//   1. Kafka's ProducerPerformance sends N records of 1 KiB with acks=all (Java defaults, so
//      idempotence is on), as fast as it can: records/s, MB/s, latency p50/p99/p99.9 (at
//      saturation, mostly time queued in the producer). Then a shorter run paced at 2000 records/s
//      into a second topic: the ack latency below saturation.
//   2. WAL fsyncs per second from the agent's /metrics (streamhouse_wal_fsync_duration_seconds_count),
//      set against this disk's raw fsync rate (bench/fsync-probe.ts).
//   3. S3 PUT-class requests (PUT object, upload part, create/complete multipart) and the bytes they
//      carried, per GB of record values ingested; upload throughput per PUT request.
//   4. Peak RSS (VmHWM) of the broker during the produce run.
//   5. Cold read: the broker is stopped (which uploads every tail), its WAL directory deleted and
//      restarted with an empty block cache; every partition is read from offset 0 with plain
//      Fetch requests, so all bytes come from segment objects on s3rver.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeFsync, type FsyncProbeResult } from './fsync-probe.js';
import { parseProducer } from './perf-compare.js';
import { KafkaClient } from '../src/client/client.js';
import { PROFILES, type ProfileName } from '../src/log/topic-config.js';
import { expectSuccess, kafkaTool } from '../test/helpers/kafka-tools.js';
import { startS3rver, useS3rverCredentials } from '../test/helpers/s3rver.js';
import { startChildBroker } from '../test/helpers/child-broker.js';

export interface StorageBenchOptions {
  records: number;
  recordSize: number;
  partitions: number;
  profiles?: ProfileName[];
  /** Rate of the paced latency run (records/s). Default 2000; its length is records / 5, at most 20000. */
  pacedRecordsPerSec?: number;
  /** Seconds of the raw fsync probe. Default 2. */
  fsyncProbeSeconds?: number;
}

export interface StorageRow {
  profile: ProfileName;
  records: number;
  produceRecordsPerSec: number;
  produceMBps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Ack latency of a second run paced below saturation (pacedRecordsPerSec). */
  pacedRecordsPerSec: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  pacedP999Ms: number;
  fsyncsPerSec: number;
  /** fsyncsPerSec / the disk's raw rate. */
  fsyncShareOfRaw: number;
  putsPerGB: number;
  /** Bytes PUT to S3 per byte of record values ingested (segment framing and batch headers). */
  putBytesPerByte: number;
  uploadMBps: number;
  coldReadMBps: number;
  coldReadGets: number;
  peakRssMB: number;
}

export interface StorageBenchResult {
  rawFsync: FsyncProbeResult;
  rows: StorageRow[];
  machine: string;
}

/** What each profile promises, from the profile definitions (DESIGN.md "Durability and the write path"). */
export const LOSS_WINDOW: Record<ProfileName, string> = {
  'ultra-safe': 'none after the ack',
  balanced: 'none on a process crash; up to 100 ms of acked writes on power loss',
  'high-throughput': 'none on a process crash; up to 1 s of acked writes on power loss',
  glacier: 'everything since the last segment upload, on a crash',
};

export const ACK_WAITS_FOR: Record<ProfileName, string> = {
  'ultra-safe': 'WAL fsync (group commit)',
  balanced: 'WAL write()',
  'high-throughput': 'WAL write()',
  glacier: 'in-memory append',
};

const GB = 1e9;
const MB = 1024 * 1024;

// ---- S3 request counter: a pass-through proxy in front of s3rver ------------------------------

interface S3Counts {
  /** PUT object and upload part (S3 bills these, and POSTs, as PUT-class requests). */
  puts: number;
  /** Create and complete multipart upload. */
  posts: number;
  gets: number;
  putBytes: number;
  /** Summed duration of the PUTs that carried a body, for per-request upload throughput. */
  putSeconds: number;
}

interface S3Counter {
  endpoint: string;
  counts: S3Counts;
  reset(): void;
  stop(): Promise<void>;
}

const zeroCounts = (): S3Counts => ({ puts: 0, posts: 0, gets: 0, putBytes: 0, putSeconds: 0 });

/** Headers pass unchanged (Host included), so SigV4 signatures still verify at s3rver. */
async function startS3Counter(upstreamPort: number): Promise<S3Counter> {
  const agent = new http.Agent({ keepAlive: true });
  const counter = { counts: zeroCounts() } as { counts: S3Counts };
  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    let bytes = 0;
    req.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
      r.on('end', () => {
        const c = counter.counts;
        if (req.method === 'PUT') {
          c.puts++;
          c.putBytes += bytes;
          c.putSeconds += (performance.now() - t0) / 1000;
        } else if (req.method === 'POST') c.posts++;
        else if (req.method === 'GET') c.gets++;
      });
    });
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get counts() {
      return counter.counts;
    },
    reset() {
      counter.counts = zeroCounts();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}

// ---- the broker as a child process ------------------------------------------------------------

interface Broker {
  bootstrap: string;
  httpPort: number;
  /** Log lines at warn level or above. */
  problems: string[];
  peakRssBytes(): number;
  stop(): Promise<void>;
}

async function startBroker(dataDir: string, profile: ProfileName, objects: string, s3Endpoint: string): Promise<Broker> {
  const child = await startChildBroker({ dataDir, profile, extraArgs: ['--objects', objects, '--s3-endpoint', s3Endpoint], stderr: 'inherit', startTimeoutMs: 30_000 });
  // Warnings and errors are kept for the report: a failed upload at shutdown explains missing records.
  const problems: string[] = [];
  let partial = '';
  child.proc.stdout!.on('data', (d) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (/"level":(4|5|6)\d/.test(l) && problems.length < 50) problems.push(l);
  });
  return {
    bootstrap: child.bootstrap,
    httpPort: child.httpPort,
    problems,
    peakRssBytes: () => child.peakRssBytes(),
    async stop() {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
      // SIGTERM is a graceful stop: every tail is uploaded before the process exits.
      const code = await child.stop();
      if (code !== 0) problems.push(`broker exited with code ${code} after SIGTERM`);
    },
  };
}

/** One sample (the sum over label sets) of a Prometheus counter or histogram series. */
async function scrape(httpPort: number, series: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ') || line.startsWith(series + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Reads every partition from offset 0 to its high watermark, partitions in parallel. */
async function coldRead(bootstrap: string, topic: string, partitions: number): Promise<{ bytes: number; records: number; seconds: number }> {
  const client = new KafkaClient({ bootstrap, clientId: 'storage-bench-cold-read', requestTimeoutMs: 120_000 });
  await client.connect();
  try {
    const t0 = performance.now();
    const perPartition = await Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        let offset = 0n;
        let bytes = 0;
        let records = 0;
        for (;;) {
          const r = await client.fetch(topic, p, offset, { maxBytes: 8 * MB, maxWaitMs: 0 });
          for (const rec of r.records) bytes += rec.value?.length ?? 0;
          records += r.records.length;
          if (r.nextOffset >= r.highWatermark) return { bytes, records };
          if (r.nextOffset === offset) throw new Error(`cold read of ${topic}-${p} made no progress at offset ${offset} (high watermark ${r.highWatermark})`);
          offset = r.nextOffset;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { bytes: perPartition.reduce((s, x) => s + x.bytes, 0), records: perPartition.reduce((s, x) => s + x.records, 0), seconds };
  } finally {
    await client.close();
  }
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const client = new KafkaClient({ bootstrap, clientId: 'storage-bench-admin' });
  await client.connect();
  try {
    await client.createTopics([{ name: topic, partitions, replicationFactor: 1 }]);
  } finally {
    await client.close();
  }
}

const pacedRecords = (opts: StorageBenchOptions) => Math.min(20_000, Math.ceil(opts.records / 5));

async function producerPerformance(bootstrap: string, topic: string, records: number, recordSize: number, rate: number, profile: ProfileName) {
  const run = await kafkaTool.ProducerPerformance(
    ['--topic', topic, '--num-records', String(records), '--record-size', String(recordSize), '--throughput', String(rate), '--bootstrap-server', bootstrap, '--command-property', 'acks=all', 'linger.ms=5', 'batch.size=65536'],
    { timeoutMs: 600_000 },
  );
  return parseProducer(expectSuccess(run, `ProducerPerformance (${rate < 0 ? 'unpaced' : `${rate}/s`}) against ${profile}`).stdout);
}

async function runProfile(profile: ProfileName, opts: StorageBenchOptions, s3: { bucket: string }, counter: S3Counter, rawFsyncPerSec: number): Promise<StorageRow> {
  const dataDir = mkdtempSync(join(tmpdir(), `sh-storage-${profile}-`));
  const objects = `s3://${s3.bucket}/${profile}-${Date.now()}`;
  const topic = `storage-${profile}`;
  const problems: string[] = [];
  try {
    counter.reset();
    let broker = await startBroker(dataDir, profile, objects, counter.endpoint);
    let p: ReturnType<typeof parseProducer>;
    let paced: ReturnType<typeof parseProducer>;
    let fsyncs: number;
    let peakRss: number;
    try {
      await createTopic(broker.bootstrap, topic, opts.partitions);
      await createTopic(broker.bootstrap, `${topic}-paced`, opts.partitions);
      const fsyncsBefore = await scrape(broker.httpPort, 'streamhouse_wal_fsync_duration_seconds_count');
      p = await producerPerformance(broker.bootstrap, topic, opts.records, opts.recordSize, -1, profile);
      fsyncs = (await scrape(broker.httpPort, 'streamhouse_wal_fsync_duration_seconds_count')) - fsyncsBefore;
      peakRss = broker.peakRssBytes();
      // At full speed the latency is mostly the producer's own queue (buffer.memory); a paced run
      // below saturation shows what an acks=all produce costs under each profile.
      paced = await producerPerformance(broker.bootstrap, `${topic}-paced`, pacedRecords(opts), opts.recordSize, opts.pacedRecordsPerSec ?? 2000, profile);
    } finally {
      await broker.stop();
      problems.push(...broker.problems);
    }
    // Every tail is in segments now (the stop uploaded them), so the counts cover the whole run.
    const s3Counts = { ...counter.counts };
    rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
    counter.reset();
    broker = await startBroker(dataDir, profile, objects, counter.endpoint);
    let cold: Awaited<ReturnType<typeof coldRead>>;
    try {
      cold = await coldRead(broker.bootstrap, topic, opts.partitions);
    } finally {
      await broker.stop();
      problems.push(...broker.problems);
    }
    if (cold.records !== opts.records) {
      throw new Error(`cold read of ${profile} returned ${cold.records} records, expected ${opts.records}; broker warnings:\n${problems.join('\n')}`);
    }
    const coldGets = counter.counts.gets;
    const produceSeconds = opts.records / p.recordsPerSec;
    const ingested = (opts.records + pacedRecords(opts)) * opts.recordSize;
    const fsyncsPerSec = fsyncs / produceSeconds;
    return {
      profile,
      records: opts.records,
      produceRecordsPerSec: p.recordsPerSec,
      produceMBps: p.mbps,
      p50Ms: p.p50,
      p99Ms: p.p99,
      p999Ms: p.p999,
      pacedRecordsPerSec: paced.recordsPerSec,
      pacedP50Ms: paced.p50,
      pacedP99Ms: paced.p99,
      pacedP999Ms: paced.p999,
      fsyncsPerSec,
      fsyncShareOfRaw: fsyncsPerSec / rawFsyncPerSec,
      putsPerGB: ((s3Counts.puts + s3Counts.posts) * GB) / ingested,
      putBytesPerByte: s3Counts.putBytes / ingested,
      uploadMBps: s3Counts.putSeconds > 0 ? s3Counts.putBytes / MB / s3Counts.putSeconds : 0,
      coldReadMBps: cold.bytes / MB / cold.seconds,
      coldReadGets: coldGets,
      peakRssMB: peakRss / MB,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runStorageBench(opts: StorageBenchOptions): Promise<StorageBenchResult> {
  const profiles = opts.profiles ?? (Object.keys(PROFILES) as ProfileName[]);
  // Same disk as the brokers' data directories (both under tmpdir()).
  const rawFsync = probeFsync({ seconds: opts.fsyncProbeSeconds ?? 2 });
  useS3rverCredentials();
  const s3 = await startS3rver({ bucket: 'streamhouse-bench' });
  const counter = await startS3Counter(s3.port);
  const rows: StorageRow[] = [];
  // The s3rver and Java tool helpers unref their children; this keeps the run alive while it waits on them.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    for (const profile of profiles) rows.push(await runProfile(profile, opts, s3, counter, rawFsync.fsyncsPerSec));
  } finally {
    await counter.stop();
    await s3.stop();
    clearInterval(keepAlive);
  }
  return { rawFsync, rows, machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}` };
}

/** Rows for the bench table printer: one line per profile. */
export function storageTable(r: StorageBenchResult): Array<Record<string, string | number>> {
  return r.rows.map((x) => ({
    profile: x.profile,
    'segment.bytes': `${PROFILES[x.profile].segmentBytes / MB} MiB`,
    'acks=all waits for': ACK_WAITS_FOR[x.profile],
    'records/s': Math.round(x.produceRecordsPerSec),
    'MB/s': x.produceMBps,
    'p50 ms': x.p50Ms,
    'p99 ms': x.p99Ms,
    'p99.9 ms': x.p999Ms,
    'paced p50/p99/p99.9 ms': `${x.pacedP50Ms} / ${x.pacedP99Ms} / ${x.pacedP999Ms}`,
    'fsync/s': Math.round(x.fsyncsPerSec),
    'fsync % of raw': (100 * x.fsyncShareOfRaw).toFixed(1),
    'S3 PUTs/GB': Math.round(x.putsPerGB),
    'S3 bytes/byte': x.putBytesPerByte.toFixed(3),
    'upload MB/s per PUT': x.uploadMBps,
    'cold read MB/s': x.coldReadMBps,
    'peak RSS MB': Math.round(x.peakRssMB),
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const records = Number(process.env.BENCH_STORAGE_RECORDS ?? 100_000);
  const profiles = process.argv.slice(2) as ProfileName[];
  runStorageBench({ records, recordSize: 1024, partitions: 4, profiles: profiles.length > 0 ? profiles : undefined }).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      console.table(storageTable(r));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
