// Cluster mode (issue #9): agents as child processes over one PostgreSQL and one file: store.
//
// Failover: an idempotent acks=all kafkajs producer sends one record at a time to partition 0; its
// leader is killed with SIGKILL; the time from the kill to the next acknowledgement is the
// failover time (lease expiry, takeover by another agent, WAL recovery of the dead agent's tail,
// client re-routing). The killed agent is started again (same data dir, so the same agent id) and
// the cluster settles before the next kill. Reported as min / median / max over `kills`.
//
// Throughput: a fresh cluster of 1, 2 and 3 agents, one topic of 12 partitions, one kafkajs
// producer per partition (acks=all, 100 records of 1 KiB per send) for `seconds`, spread over
// `workers` worker threads (default 4) so that one client thread is not the limit. The client
// still shares the machine with the agents: the numbers show how the brokers scale under the same
// load generator, not a ceiling.
//
// `npm run bench cluster` runs both parts (bench/index.ts); BENCH_CLUSTER_KILLS and
// BENCH_CLUSTER_SECONDS shorten them, BENCH_CLUSTER_LEASE_MS sets the lease (default 3000). Direct run: node dist/bench/cluster.js [kills] [seconds].
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { createTopic, kafka, killAll, query, sleep, startAgent, until, type ChildAgent } from '../test/cluster/child-agents.js';

export interface ClusterBenchOptions {
  /** SIGKILLs measured (default 20). */
  kills?: number;
  leaseMs?: number;
  /** Seconds of load per cluster size (default 10). */
  seconds?: number;
  /** Cluster sizes for the throughput runs (default 1, 2, 3). */
  sizes?: number[];
  /** Load-generator threads for the throughput runs (default 4). */
  workers?: number;
}

export interface FailoverResult {
  leaseMs: number;
  kills: number;
  minMs: number;
  medianMs: number;
  maxMs: number;
  samplesMs: number[];
}

export interface ThroughputRow {
  agents: number;
  partitions: number;
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

export interface ClusterBenchResult {
  failover: FailoverResult;
  throughput: ThroughputRow[];
}

const LIVE_SQL = `SELECT count(*) AS n FROM agents WHERE heartbeat_at > (extract(epoch from clock_timestamp()) * 1000)::bigint - $1`;
const LED_SQL = `SELECT count(*) AS n FROM partitions p JOIN agents a ON a.agent_id = p.leader_agent
  WHERE a.heartbeat_at > (extract(epoch from clock_timestamp()) * 1000)::bigint - $1
    AND p.lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`;

async function settled(pg: TestPostgres, agents: number, partitions: number, leaseMs: number): Promise<void> {
  await until(`${agents} live agents leading ${partitions} partitions`, async () => {
    const live = Number((await query<{ n: string }>(pg.url, LIVE_SQL, [leaseMs]))[0]!.n);
    const led = Number((await query<{ n: string }>(pg.url, LED_SQL, [leaseMs]))[0]!.n);
    return live === agents && led >= partitions;
  }, 60_000);
}

/** Port of the agent holding the partition's lease (waits out a handover in progress). */
async function leaderPort(pg: TestPostgres, topic: string, partition: number): Promise<number> {
  return until(`a leader of ${topic}/${partition}`, async () => {
    const rows = await query<{ port: number }>(
      pg.url,
      `SELECT a.port FROM partitions p JOIN topics t ON t.id = p.topic_id JOIN agents a ON a.agent_id = p.leader_agent
       WHERE t.name = $1 AND p.partition_index = $2 AND p.lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
      [topic, partition],
    );
    return rows.length === 1 ? Number(rows[0]!.port) : undefined;
  });
}

/** Starts an agent and waits until its Kafka port accepts connections (registration comes earlier). */
async function startListening(o: Parameters<typeof startAgent>[0]): Promise<ChildAgent> {
  const agent = await startAgent(o);
  await until(`agent ${o.index} listening`, () =>
    new Promise<boolean>((resolve) => {
      const s = connect(agent.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    }),
  );
  return agent;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measureFailover(pg: TestPostgres, kills: number, leaseMs: number): Promise<FailoverResult> {
  const root = mkdtempSync(join(tmpdir(), 'streamhouse-bench-failover-'));
  const agents: ChildAgent[] = [];
  try {
    for (let i = 0; i < 3; i++) agents.push(await startListening({ root, index: i, metadataUrl: pg.url, leaseMs }));
    const ports = () => agents.map((a) => a.port);
    const topic = 'bench-failover';
    await createTopic(ports(), topic, 6, [{ name: 'segment.ms', value: '1000' }]);
    await settled(pg, 3, 6, leaseMs);
    const samples: number[] = [];
    for (let k = 0; k < kills; k++) {
      const victimPort = await leaderPort(pg, topic, 0);
      const victim = agents.findIndex((a) => a.port === victimPort);
      // A connect can meet an agent that is still settling; it is not part of the measurement.
      const producer = await until('a producer connected', async () => {
        const p = kafka(ports(), `bench-failover-${k}`).producer({ idempotent: true, maxInFlightRequests: 1 });
        try {
          await p.connect();
          return p;
        } catch (err) {
          console.error(`# failover sample ${k}: producer connect failed (${(err as Error).message}); trying again`);
          await p.disconnect().catch(() => undefined);
          return undefined;
        }
      });
      let killedAt = 0;
      let firstAckAfterKill = 0;
      let sent = 0;
      try {
        const started = Date.now();
        while (firstAckAfterKill === 0) {
          try {
            await producer.send({ topic, acks: -1, messages: [{ partition: 0, value: `k${k}-${sent++}` }] });
          } catch (err) {
            // kafkajs gives up on a send after its retries (the dead agent still in its metadata):
            // the failover is not over yet, so keep sending, within reason.
            if (Date.now() - (killedAt || started) > 60_000) throw err;
            await sleep(50);
            continue;
          }
          if (killedAt > 0) firstAckAfterKill = Date.now();
          else if (sent === 50) {
            agents[victim]!.proc.kill('SIGKILL');
            killedAt = Date.now();
          }
        }
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
      samples.push(firstAckAfterKill - killedAt);
      console.error(`# failover sample ${k + 1}/${kills}: ${firstAckAfterKill - killedAt} ms`);
      // The same data dir keeps the agent id: it rejoins and the partitions spread out again.
      agents[victim] = await startListening({ root, index: victim, metadataUrl: pg.url, leaseMs });
      await settled(pg, 3, 6, leaseMs);
      await sleep(2 * leaseMs); // handovers back to the rejoined agent finish
    }
    return {
      leaseMs,
      kills,
      minMs: Math.min(...samples),
      medianMs: median(samples),
      maxMs: Math.max(...samples),
      samplesMs: samples,
    };
  } finally {
    killAll(agents);
    rmSync(root, { recursive: true, force: true });
  }
}

interface LoadJob {
  ports: number[];
  topic: string;
  partitions: number[];
}

/**
 * One load-generator thread: a producer per partition; once connected it says 'ready', gets the
 * deadline, sends until then and answers the records acknowledged.
 */
async function produceLoad(job: LoadJob, start: () => Promise<number>): Promise<number> {
  const value = Buffer.alloc(1024, 7);
  const client = kafka(job.ports, `bench-tput-${job.partitions[0]}`);
  const producers = await Promise.all(
    job.partitions.map(async () => {
      for (let attempt = 1; ; attempt++) {
        const p = client.producer();
        try {
          await p.connect();
          return p;
        } catch (err) {
          await p.disconnect().catch(() => undefined);
          if (attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }),
  );
  const deadline = await start();
  let records = 0;
  await Promise.all(
    producers.map(async (p, i) => {
      const messages = Array.from({ length: 100 }, () => ({ value, partition: job.partitions[i]! }));
      while (Date.now() < deadline) {
        try {
          await p.send({ topic: job.topic, acks: -1, messages });
          records += messages.length; // only what was acknowledged counts
        } catch {
          // a leader moving while the cluster settles; kafkajs gave up on this send
        }
      }
    }),
  );
  await Promise.all(producers.map((p) => p.disconnect()));
  return records;
}

/** Runs the jobs in worker threads; the clock starts once every producer is connected. */
async function loadInWorkers(jobs: LoadJob[], seconds: number): Promise<{ records: number; elapsed: number }> {
  const workers = jobs.map((job) => new Worker(new URL(import.meta.url), { workerData: job }));
  const failed = new Promise<never>((_, reject) => {
    for (const w of workers) {
      w.once('error', reject);
      w.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
    }
  });
  failed.catch(() => undefined); // reported through the races below, never unhandled
  const next = (w: Worker) => new Promise<unknown>((resolve) => w.once('message', resolve));
  try {
    await Promise.race([Promise.all(workers.map(next)), failed]); // every worker 'ready'
    const started = Date.now();
    const counts = workers.map(next);
    for (const w of workers) w.postMessage(started + seconds * 1000);
    const records = ((await Promise.race([Promise.all(counts), failed])) as number[]).reduce((a, b) => a + b, 0);
    return { records, elapsed: (Date.now() - started) / 1000 };
  } finally {
    // Idle kafkajs clients would otherwise outlive the agents they talk to.
    for (const w of workers) w.removeAllListeners();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function measureThroughput(pg: TestPostgres, size: number, seconds: number, leaseMs: number, workers: number): Promise<ThroughputRow> {
  const root = mkdtempSync(join(tmpdir(), `streamhouse-bench-tput${size}-`));
  const agents: ChildAgent[] = [];
  const topic = `bench-tput-${size}`;
  const partitions = 12;
  try {
    // Agents of the previous run (killed) count as live until their lease runs out; a new agent
    // would place partitions on them meanwhile.
    await until('the previous run\'s agents expired', async () => Number((await query<{ n: string }>(pg.url, LIVE_SQL, [leaseMs]))[0]!.n) === 0, 3 * leaseMs + 30_000);
    for (let i = 0; i < size; i++) agents.push(await startListening({ root, index: i, metadataUrl: pg.url, leaseMs }));
    const ports = agents.map((a) => a.port);
    await createTopic(ports, topic, partitions);
    await settled(pg, size, partitions, leaseMs);
    const jobs: LoadJob[] = Array.from({ length: workers }, (_, w) => ({
      ports,
      topic,
      partitions: Array.from({ length: partitions }, (_, p) => p).filter((p) => p % workers === w),
    })).filter((j) => j.partitions.length > 0);
    const { records, elapsed } = await loadInWorkers(jobs, seconds);
    return {
      agents: size,
      partitions,
      records,
      seconds: elapsed,
      recordsPerSec: Math.round(records / elapsed),
      mbPerSec: (records * 1024) / elapsed / 1e6,
    };
  } finally {
    killAll(agents);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Positive integer from the environment, else undefined (a bad value is an error, not ignored). */
function envCount(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw}: expected a positive whole number`);
  return n;
}

/**
 * kafkajs 2.2.4 leaves a promise rejected with KafkaJSConnectionError unhandled when a broker it
 * knows dies (a killed agent), and Node ends the process on an unhandled rejection. The failover
 * measurement kills agents on purpose, so those rejections are counted and ignored; any other
 * unhandled rejection still ends the run.
 */
let ignoredConnectionRejections = 0;
function tolerateKafkajsConnectionRejections(): () => void {
  const onRejection = (err: unknown) => {
    if ((err as Error)?.name === 'KafkaJSConnectionError') {
      ignoredConnectionRejections++;
      return;
    }
    throw err;
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onRejection);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onRejection);
  };
}

/**
 * Options not given come from BENCH_CLUSTER_KILLS, BENCH_CLUSTER_SECONDS and BENCH_CLUSTER_LEASE_MS
 * (so `npm run bench cluster` can be shortened), else the defaults: 20 kills, 10 s per cluster
 * size, a 3 s lease.
 */
export async function runClusterBench(opts: ClusterBenchOptions = {}): Promise<ClusterBenchResult> {
  // 3 s keeps 20 kills short; BENCH_CLUSTER_LEASE_MS=10000 measures the product default.
  const leaseMs = opts.leaseMs ?? envCount('BENCH_CLUSTER_LEASE_MS') ?? 3000;
  const kills = opts.kills ?? envCount('BENCH_CLUSTER_KILLS') ?? 20;
  const seconds = opts.seconds ?? envCount('BENCH_CLUSTER_SECONDS') ?? 10;
  const pg = await startPostgres();
  const untolerate = tolerateKafkajsConnectionRejections();
  try {
    const failover = await measureFailover(pg, kills, leaseMs);
    const throughput: ThroughputRow[] = [];
    for (const size of opts.sizes ?? [1, 2, 3]) throughput.push(await measureThroughput(pg, size, seconds, leaseMs, opts.workers ?? 4));
    if (ignoredConnectionRejections > 0) console.error(`# kafkajs left ${ignoredConnectionRejections} connection error(s) unhandled; ignored`);
    return { failover, throughput };
  } finally {
    untolerate();
    await pg.stop();
  }
}

if (!isMainThread && parentPort) {
  tolerateKafkajsConnectionRejections(); // the load generator meets agents of earlier runs dying
  const port = parentPort;
  const start = () => {
    port.postMessage('ready');
    return new Promise<number>((resolve) => port.once('message', resolve));
  };
  produceLoad(workerData as LoadJob, start).then((n) => port.postMessage(n));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  // Direct run: node dist/bench/cluster.js [kills] [seconds]
  const kills = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const seconds = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runClusterBench({ kills, seconds }).then(
    (r) => {
      const f = r.failover;
      console.log(`failover over ${f.kills} kills (lease ${f.leaseMs} ms): min ${f.minMs} ms, median ${f.medianMs} ms, max ${f.maxMs} ms`);
      for (const t of r.throughput) console.log(`${t.agents} agent(s): ${t.recordsPerSec} records/s, ${t.mbPerSec.toFixed(1)} MB/s over ${t.seconds.toFixed(1)} s`);
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
