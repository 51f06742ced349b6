// Helpers for cluster tests that run agents as child processes (node dist/src/cli.js serve) over one
// PostgreSQL and one file: object store: start/stop agents, a producer loop that records what was
// acknowledged, an exactly-once read-back, and the audit of segment rows.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { freePort } from '../helpers/child-broker.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

export interface ChildAgent {
  proc: ChildProcess;
  port: number;
  dataDir: string;
  /** The agent's stdout+stderr (pino JSON lines at the chosen level). */
  output: string[];
}

export { freePort };

export interface AgentOptions {
  root: string;
  index: number;
  metadataUrl: string;
  leaseMs: number;
  extraArgs?: string[];
}

export async function startAgent(o: AgentOptions): Promise<ChildAgent> {
  const port = await freePort();
  const dataDir = join(o.root, `agent-${o.index}`);
  const args = [
    CLI, 'serve',
    '--data-dir', dataDir,
    '--host', '127.0.0.1',
    '--kafka-port', String(port),
    '--advertised-host', '127.0.0.1',
    '--http-port', '0',
    '--registry-port', '0',
    '--metadata', o.metadataUrl,
    '--objects', `file:${join(o.root, 'objects')}`,
    '--lease-timeout-ms', String(o.leaseMs),
    '--num-partitions', '6',
    '--log-level', process.env.STREAMHOUSE_TEST_LOG ?? 'warn',
    ...(o.extraArgs ?? []),
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (process.env.STREAMHOUSE_TEST_LOG) process.stderr.write(`[agent-${o.index}] ${text}`);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return { proc, port, dataDir, output };
}

export function killAll(agents: ChildAgent[]): void {
  for (const a of agents) {
    if (a.proc.exitCode !== null || a.proc.signalCode !== null) continue;
    a.proc.kill('SIGCONT');
    a.proc.kill('SIGKILL');
  }
}

export function kafka(ports: number[], clientId = 'cluster-test') {
  return new Kafka({
    clientId,
    brokers: ports.map((p) => `127.0.0.1:${p}`),
    logLevel: logLevel.NOTHING,
    retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
    connectionTimeout: 1000,
    requestTimeout: 5000,
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the topic once three brokers show, and returns the port of each partition's leader. */
export async function createTopic(ports: number[], topic: string, partitions: number, configEntries: { name: string; value: string }[] = []): Promise<number[]> {
  const admin = kafka(ports).admin();
  try {
    await until(`${ports.length} brokers in Metadata`, async () => {
      await admin.connect();
      return (await admin.describeCluster()).brokers.length === ports.length;
    });
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const portOf = new Map((await admin.describeCluster()).brokers.map((b) => [b.nodeId, b.port]));
    return meta.topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => portOf.get(p.leader)!);
  } finally {
    await admin.disconnect();
  }
}

/**
 * An idempotent acks=all kafkajs producer sending one record per partition per call (a send that
 * spans brokers is not trusted to report every partition after a leader change; see the cluster
 * README), recording every acknowledged value. Runs until `done()` says so.
 */
export async function produceUntil(
  ports: number[],
  topic: string,
  partitions: number,
  prefix: string,
  done: (acked: number) => boolean,
  onAck?: (acked: number) => void,
): Promise<string[]> {
  const producer: Producer = kafka(ports, `${prefix}-producer`).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked: string[] = [];
  let n = 0;
  try {
    while (!done(acked.length)) {
      for (let p = 0; p < partitions; p++) {
        const value = `${prefix}${n++}`;
        const md = await producer.send({ topic, acks: -1, messages: [{ partition: p, value }] });
        assert.equal(md.length, 1, `send of ${value} answered for partition ${p}`);
        assert.equal(md[0]!.errorCode, 0, `send of ${value} acknowledged without error`);
        acked.push(value);
        onAck?.(acked.length);
      }
    }
  } finally {
    await producer.disconnect();
  }
  return acked;
}

/** Reads the topic from the beginning with a fresh group and checks each acked value comes back exactly once. */
export async function assertReadExactlyOnce(ports: number[], topic: string, acked: string[], group: string): Promise<void> {
  const consumer = kafka(ports, `${group}-reader`).consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  const want = new Set(acked);
  await until('every acked record consumed', async () => acked.every((v) => got.includes(v)) || undefined, 40_000).catch(() => undefined);
  await sleep(1000);
  await consumer.disconnect();
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  const missing = acked.filter((v) => !counts.has(v));
  const dup = [...counts].filter(([v, c]) => c > 1 && want.has(v)).map(([v]) => v);
  assert.deepEqual(missing.slice(0, 20), [], `no acked record lost (${missing.length} of ${acked.length} missing)`);
  assert.deepEqual(dup.slice(0, 20), [], `no acked record read twice (${dup.length} duplicated)`);
}

export interface SegmentRow {
  topic_id: string;
  partition_index: number;
  base_offset: string;
  last_offset: string;
  leader_epoch: number;
  agent_id: string | null;
  created_at: string;
}

/**
 * Fencing audit of the segment rows: every row names its writer, no two agents wrote one partition
 * in one epoch, rows of a partition never overlap, and epochs never go back as offsets grow.
 */
export async function auditSegments(metadataUrl: string): Promise<SegmentRow[]> {
  const client = new pg.Client({ connectionString: metadataUrl });
  await client.connect();
  try {
    const rows = (await client.query<SegmentRow>(
      'SELECT topic_id, partition_index, base_offset, last_offset, leader_epoch, agent_id, created_at FROM segments ORDER BY topic_id, partition_index, base_offset',
    )).rows;
    assert.ok(rows.length > 0, 'segments were committed');
    const writers = new Map<string, string>();
    for (const r of rows) {
      assert.ok(r.agent_id, `segment ${r.topic_id}/${r.partition_index}@${r.base_offset} records its writer`);
      const key = `${r.topic_id}/${r.partition_index}/${r.leader_epoch}`;
      const w = writers.get(key);
      assert.ok(w === undefined || w === r.agent_id, `partition ${r.topic_id}/${r.partition_index} epoch ${r.leader_epoch} written by ${w} and ${r.agent_id}`);
      writers.set(key, r.agent_id!);
    }
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1]!;
      const b = rows[i]!;
      if (a.topic_id !== b.topic_id || a.partition_index !== b.partition_index) continue;
      assert.ok(BigInt(b.base_offset) > BigInt(a.last_offset), 'segments do not overlap');
      assert.ok(b.leader_epoch >= a.leader_epoch, 'leader epochs never go back');
    }
    return rows;
  } finally {
    await client.end();
  }
}

/** Runs one query against the metadata database. */
export async function query<R extends pg.QueryResultRow>(metadataUrl: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: metadataUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
