// Helpers for cluster tests that run agents as child processes (node dist/src/cli.js serve) over one
// PostgreSQL and one file: object store: start/stop agents, a producer loop that records what was
// acknowledged, consumer groups (kafkajs and librdkafka) that consume through a disruption, an
// exactly-once read-back, and the audit of segment rows.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import pg from 'pg';
import { freePort } from '../helpers/child-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  FetchRequestMessage,
  FetchResponseMessage,
  OffsetForLeaderEpochRequestMessage,
  OffsetForLeaderEpochResponseMessage,
  createFetchRequest,
} from '../../src/protocol/generated/index.js';
import { createFetchPartition } from '../../src/protocol/generated/FetchRequest.js';
import { runConfluentKafka, type ConfluentResult, type RdkafkaConfig } from '../helpers/confluent-kafka.js';

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
    // STREAMHOUSE_TEST_KAFKAJS_LOG=debug|info|warn shows the clients' own logs (diagnosing a stall).
    logLevel: ({ debug: logLevel.DEBUG, info: logLevel.INFO, warn: logLevel.WARN } as Record<string, logLevel>)[process.env.STREAMHOUSE_TEST_KAFKAJS_LOG ?? ''] ?? logLevel.NOTHING,
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

/** Log end offset (high watermark) of each partition, index = partition. */
export async function logEndOffsets(ports: number[], topic: string): Promise<bigint[]> {
  const admin = kafka(ports, `${topic}-ends`).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => BigInt(o.high));
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offset of each partition as the cluster stores it (-1 for none). */
export async function storedOffsets(ports: number[], group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka(ports, `${group}-offsets`).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map(t!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * A kafkajs consumer group member consuming while the cluster is disrupted: it commits each record
 * after reading it (manual commit) and counts a commit only once acknowledged.
 */
export interface GroupRun {
  group: string;
  /** Deliveries per record value. */
  seen: Map<string, number>;
  /** Per partition: the next offset of the highest acknowledged commit. */
  committed: Map<number, bigint>;
  /** `partition@offset` of records delivered although a commit past them had been acknowledged. */
  rereadCommitted: string[];
  delivered: number;
  commitErrors: number;
  /** Consumer crashes; kafkajs restarts itself after a retriable one, a new consumer replaces it otherwise. */
  crashes: string[];
  /** Joins, crashes, stops of the kafkajs consumers, for the failure message. */
  events: string[];
  /** Retries failed commits of partitions read no further since (for the catch-up phase only). */
  commitPending(): Promise<void>;
  /** Time of the last delivery. */
  lastDeliveryAt: number;
  /** Replaces the kafkajs consumer by a new one in the same group (see COORDINATOR_LOST_MS). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * kafkajs 2.2.4 never looks for a new group coordinator while a member stays in its generation: the
 * OffsetManager made at the join re-resolves the coordinator it was given by node id
 * (node_modules/kafkajs/src/consumer/offsetManager/index.js getCoordinator: `cluster.findBroker
 * (this.coordinator)`, no FindCoordinator), and heartbeats go to the same cached broker
 * (src/consumer/consumerGroup.js SHARED_HEARTBEAT: `this.coordinator.heartbeat`). Once the
 * coordinator's agent is killed and leaves Metadata, every commit fails with "Broker <id> not found
 * in the cached metadata" (KafkaJSBrokerNotFound) after its 8 retries, and each heartbeat with
 * ECONNREFUSED, which the Runner treats as neither a rebalance nor an unknown member: it restarts
 * its fetchers (src/consumer/runner.js scheduleFetchManager) up to `retry.retries` times, each cycle
 * spending ~5 s per delivered record in the failing commit, before it crashes and rejoins (which
 * does run FindCoordinator). The group crawls for minutes although the new coordinator answered
 * within seconds of the kill. A member whose commits have failed without a break for this long is
 * replaced by a new one in the same group (at least once: its uncommitted records may come again).
 */
const COORDINATOR_LOST_MS = 15_000;

export async function consumeThrough(ports: number[], topic: string, group: string): Promise<GroupRun> {
  const pending = new Map<number, bigint>(); // per partition: next offset of the last commit that failed
  const lastRead = new Map<number, bigint>();
  let current: Consumer | undefined;
  const disconnect = async (c: Consumer | undefined) => {
    if (!c) return;
    await c.disconnect().catch(() => undefined);
  };
  let stopped = false;
  /** Start of the current run of failed commits (0: the last commit was acknowledged). */
  let commitsFailingSince = 0;
  let restarting: Promise<void> | null = null;
  const t0 = Date.now();
  const commitFailed = (err: unknown) => {
    if (commitsFailingSince !== 0) return;
    commitsFailingSince = Date.now();
    const e = err as Error;
    run.events.push(`+${Date.now() - t0}ms commits failing: ${e?.name}: ${e?.message}`);
  };
  const run: GroupRun = {
    group,
    seen: new Map(),
    committed: new Map(),
    rereadCommitted: [],
    delivered: 0,
    commitErrors: 0,
    crashes: [],
    events: [],
    commitPending: async () => {
      for (const [partition, next] of pending) {
        if (next <= (run.committed.get(partition) ?? 0n) || lastRead.get(partition) !== next - 1n) continue;
        const c = current!;
        try {
          await c.commitOffsets([{ topic, partition, offset: String(next) }]);
          if ((run.committed.get(partition) ?? 0n) < next) throw new Error('kafkajs resolved a commit the broker did not acknowledge');
        } catch (err) {
          commitFailed(err);
          throw err;
        }
      }
    },
    lastDeliveryAt: Date.now(),
    restart: async () => {
      run.events.push(`+${Date.now() - t0}ms restarted by the test`);
      await disconnect(current);
      await until(`consumer group ${group} running again`, async () => start().then(() => true), 60_000);
    },
    stop: async () => {
      stopped = true;
      clearInterval(watchdog);
      await restarting;
      await disconnect(current);
    },
  };
  const watchdog = setInterval(() => {
    if (stopped || restarting || commitsFailingSince === 0 || Date.now() - commitsFailingSince < COORDINATOR_LOST_MS) return;
    run.events.push(`+${Date.now() - t0}ms commits failed for ${Date.now() - commitsFailingSince} ms: kafkajs kept a lost coordinator`);
    restarting = run.restart().catch(() => undefined).finally(() => {
      commitsFailingSince = 0;
      restarting = null;
    });
  }, 1000);
  const ack = (partition: number, next: bigint) => {
    commitsFailingSince = 0;
    if (next > (run.committed.get(partition) ?? 0n)) run.committed.set(partition, next);
    if ((pending.get(partition) ?? -1n) <= next) pending.delete(partition);
  };
  const start = async (): Promise<void> => {
    // Fewer retries than the shared client's 60: a fetch stuck on a dead broker crashes the
    // consumer in seconds and kafkajs restarts it with fresh metadata, instead of a minute later.
    const consumer = kafka(ports, `${group}-member`).consumer({
      groupId: group,
      sessionTimeout: 15_000,
      heartbeatInterval: 500,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    current = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => void run.events.push(`+${Date.now() - t0}ms join ${e.payload.memberId} ${JSON.stringify(e.payload.memberAssignment)}`));
    consumer.on(consumer.events.REQUEST_TIMEOUT, (e) => void run.events.push(`+${Date.now() - t0}ms request timeout ${e.payload.apiName} to ${e.payload.broker}`));
    // The one reliable acknowledgement: kafkajs emits COMMIT_OFFSETS only after the coordinator
    // answered the OffsetCommit without error. Its commitOffsets() promise also resolves, without
    // any request, when the runner is stopping or restarting after a crash (runner.js
    // commitOffsets: `if (!this.running) return`, also inside its retry loop).
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
      for (const t of e.payload.topics) for (const p of t.partitions) ack(p.partition, BigInt(String(p.offset)));
    });
    consumer.on(consumer.events.STOP, () => {
      run.events.push(`+${Date.now() - t0}ms stop`);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      run.events.push(`+${Date.now() - t0}ms crash ${e.payload.error.name}: ${e.payload.error.message} restart=${e.payload.restart}`);
      run.crashes.push(`${e.payload.error.name}: ${e.payload.error.message}${e.payload.restart ? '' : ' (replaced)'}`);
      // A non-retriable error ends a kafkajs consumer for good; the group goes on with a new one.
      if (!e.payload.restart && !stopped) void until('a replacement consumer running', async () => start().then(() => true), 60_000).catch(() => undefined);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          if (offset < (run.committed.get(partition) ?? 0n)) run.rereadCommitted.push(`${partition}@${offset}`);
          const value = message.value!.toString();
          run.seen.set(value, (run.seen.get(value) ?? 0) + 1);
          run.delivered++;
          run.lastDeliveryAt = Date.now();
          lastRead.set(partition, offset);
          const commitStart = Date.now();
          let acknowledged = false;
          try {
            await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1n) }]);
            acknowledged = (run.committed.get(partition) ?? 0n) >= offset + 1n; // see COMMIT_OFFSETS
            if (!acknowledged) commitFailed(new Error('kafkajs resolved a commit the broker did not acknowledge (its runner is stopping)'));
            if (Date.now() - commitStart > 5000) run.events.push(`+${Date.now() - t0}ms commit of ${partition}@${offset} took ${Date.now() - commitStart} ms`);
          } catch (err) {
            commitFailed(err);
          }
          if (!acknowledged) {
            // Not acknowledged (coordinator away, rebalance, consumer stopping): the record may legitimately come again.
            run.commitErrors++;
            pending.set(partition, offset + 1n);
          }
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  };
  await until(`consumer group ${group} running`, async () => start().then(() => true), 60_000).catch((err: unknown) => {
    clearInterval(watchdog);
    throw err;
  });
  return run;
}

/**
 * Both consumer groups of a disruption test: each passes its group checks, and each consumed before
 * the disruption began (kafkajs: `deliveredBefore` deliveries) and after it ended (`[from, to]`,
 * wall-clock ms). Returns the librdkafka group's reads by "partition:offset".
 */
export async function assertGroupsConsumedThrough(
  what: string,
  kafkajsGroup: GroupRun,
  deliveredBefore: number,
  rdGroup: RdkafkaGroupRun,
  window: { from: number; to: number },
  ports: number[],
  topic: string,
  acked: string[],
  ends: bigint[],
): Promise<Map<string, string | null>> {
  assert.ok(deliveredBefore > 0, `the kafkajs group was consuming when the ${what} began`);
  await assertConsumedThrough(kafkajsGroup, ports, topic, acked, ends);
  assert.ok(kafkajsGroup.delivered > deliveredBefore, `the kafkajs group consumed after the ${what}`);
  const read = await assertRdkafkaConsumedThrough(rdGroup, ports, topic, acked, ends);
  const reads = (await rdGroup.result).messages!;
  const before = reads.filter((m) => m.at! * 1000 < window.from).length;
  const after = reads.filter((m) => m.at! * 1000 > window.to).length;
  assert.ok(before > 0 && after > 0, `the librdkafka group consumed before and after the ${what} (${before} and ${after} of ${reads.length})`);
  return read;
}

/**
 * After the producers are done: the group eventually saw every acked record, its acknowledged
 * commits reach the log end of every partition and the cluster stores exactly those offsets, and no
 * record came again after a commit past it was acknowledged (redelivery of uncommitted records is
 * allowed: at least once between commit and crash).
 */
export async function assertConsumedThrough(run: GroupRun, ports: number[], topic: string, acked: string[], ends: bigint[]): Promise<void> {
  try {
    // A member stuck on a lost coordinator is replaced meanwhile (COORDINATOR_LOST_MS).
    await until(`group ${run.group} consumed every acked record`, async () => acked.every((v) => run.seen.has(v)) || undefined, 150_000).catch(() => undefined);
    await until(`group ${run.group} committed up to the log ends`, async () => {
      await run.commitPending().catch(() => undefined);
      return ends.every((end, p) => (run.committed.get(p) ?? 0n) === end);
    }, 60_000).catch(() => undefined);
  } finally {
    await run.stop();
  }
  const missing = acked.filter((v) => !run.seen.has(v));
  const perPartition = ends.map((_, p) => `${p}: read to ${run.committed.get(p) ?? 0n} of ${ends[p]}`).join(', ');
  assert.deepEqual(missing.slice(0, 20), [], `group ${run.group} consumed every acked record (${missing.length} of ${acked.length} missing; ${run.delivered} deliveries; ${perPartition}; consumer events ${JSON.stringify(run.events)})`);
  assert.deepEqual(run.rereadCommitted.slice(0, 20), [], `group ${run.group}: no record delivered again after its commit was acknowledged (${run.rereadCommitted.length}; consumer events ${JSON.stringify(run.events)})`);
  assert.deepEqual(ends.map((_, p) => run.committed.get(p) ?? 0n), ends, `group ${run.group}: acknowledged commits reach the log ends`);
  const stored = await until(`group ${run.group} offsets readable`, async () => storedOffsets(ports, run.group, topic));
  assert.deepEqual(ends.map((_, p) => stored.get(p)), ends, `group ${run.group}: the stored committed offsets are the log ends`);
}

/** A librdkafka (confluent-kafka) group member committing each record, running until `finish(ends)`. */
export interface RdkafkaGroupRun {
  group: string;
  /** Tells the member the log ends; it stops once committed up to them. */
  finish(ends: bigint[]): void;
  /** Stops the member at once (a failed test's cleanup). */
  cancel(): void;
  /** Set once the cluster stores a commit of the group: the member is consuming. */
  consuming: boolean;
  result: Promise<ConfluentResult>;
}

export function rdkafkaConsumeThrough(ports: number[], topic: string, group: string, stopFile: string, config: RdkafkaConfig = {}): RdkafkaGroupRun {
  // STREAMHOUSE_TEST_RDKAFKA_DEBUG=cgrp,fetch,... turns on librdkafka's debug contexts; its log goes to stderr when the member ends.
  const debug = process.env.STREAMHOUSE_TEST_RDKAFKA_DEBUG;
  const result = runConfluentKafka(
    ports.map((p) => `127.0.0.1:${p}`).join(','),
    [{ op: 'groupMember', topics: [topic], group, durationS: 240, stopFile, tolerateErrors: true, config: { 'session.timeout.ms': 15_000, 'heartbeat.interval.ms': 500, ...(debug ? { debug } : {}), ...config } }],
    { timeoutMs: 300_000 },
  ).then((run) => {
    if (debug) process.stderr.write(`[librdkafka ${group}]\n${run.stderr}`);
    return run.results[0]!;
  });
  result.catch(() => undefined); // awaited by the test; never unhandled meanwhile
  let ended = false;
  void result.finally(() => (ended = true)).catch(() => undefined);
  const run: RdkafkaGroupRun = {
    group,
    result,
    consuming: false,
    finish: (ends) => writeFileSync(stopFile, JSON.stringify(Object.fromEntries(ends.map((e, p) => [p, Number(e)])))),
    cancel: () => writeFileSync(stopFile, '{}'),
  };
  void (async () => {
    while (!run.consuming && !ended) {
      const stored = await storedOffsets(ports, group, topic).catch(() => new Map<number, bigint>());
      run.consuming = [...stored.values()].some((o) => o > 0n);
      await sleep(500);
    }
  })();
  return run;
}

/**
 * The librdkafka member's account: every acked value delivered, no record delivered again after an
 * acknowledged commit past it, commits up to the log ends, stored offsets equal the ends. Returns
 * the value found at each `partition:offset`.
 */
export async function assertRdkafkaConsumedThrough(run: RdkafkaGroupRun, ports: number[], topic: string, acked: string[], ends: bigint[]): Promise<Map<string, string | null>> {
  const r = await run.result;
  assert.equal(r.ok, true, `librdkafka group ${run.group} ran: ${JSON.stringify(r.error)}`);
  const msgs = r.messages ?? [];
  const events = [...msgs.map((m) => ({ kind: 'read' as const, partition: m.partition, offset: m.offset, seq: m.seq! })), ...(r.commits ?? []).map((c) => ({ kind: 'commit' as const, partition: c.partition, offset: c.offset, seq: c.seq! }))].sort((a, b) => a.seq - b.seq);
  const committed = new Map<number, number>();
  const reread: string[] = [];
  for (const e of events) {
    if (e.kind === 'commit') committed.set(e.partition, Math.max(committed.get(e.partition) ?? 0, e.offset));
    else if (e.offset < (committed.get(e.partition) ?? 0)) reread.push(`${e.partition}@${e.offset} (committed ${committed.get(e.partition)})`);
  }
  const t0 = msgs[0]?.at ?? 0;
  const rebalances = (r.events ?? []).map((e) => `${e.ev} ${e.partitions.join(',')} at +${Math.round((e.at - t0) * 1000)}ms`);
  const seen = new Set(msgs.map((m) => m.value));
  const missing = acked.filter((v) => !seen.has(v));
  assert.deepEqual(missing.slice(0, 20), [], `librdkafka group ${run.group} consumed every acked record (${missing.length} of ${acked.length} missing; errors ${JSON.stringify(r.errors?.slice(0, 5))})`);
  assert.deepEqual(reread.slice(0, 20), [], `librdkafka group ${run.group}: no record delivered again after its commit was acknowledged (${reread.length}; rebalances ${JSON.stringify(rebalances)}; errors ${JSON.stringify(r.errors?.slice(0, 5))})`);
  assert.deepEqual(ends.map((_, p) => BigInt(committed.get(p) ?? 0)), ends, `librdkafka group ${run.group}: acknowledged commits reach the log ends`);
  const stored = await until(`group ${run.group} offsets readable`, async () => storedOffsets(ports, run.group, topic));
  assert.deepEqual(ends.map((_, p) => stored.get(p)), ends, `librdkafka group ${run.group}: the stored committed offsets are the log ends`);
  return new Map(msgs.map((m) => [`${m.partition}:${m.offset}`, m.value]));
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

/** The agent holding a live lease on the partition, as the metadata database records it. */
export async function partitionLeader(metadataUrl: string, agents: ChildAgent[], topic: string, partition: number): Promise<ChildAgent> {
  return until(`a live leader of ${topic}/${partition}`, async () => {
    const rows = await query<{ port: number }>(
      metadataUrl,
      `SELECT a.port FROM partitions p JOIN topics t ON t.id = p.topic_id JOIN agents a ON a.agent_id = p.leader_agent
       WHERE t.name = $1 AND p.partition_index = $2 AND p.lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
      [topic, partition],
    );
    return agents.find((a) => rows.length === 1 && a.port === Number(rows[0]!.port));
  });
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

/** Where each leader epoch starts in a partition, from the record batch headers (PartitionLeaderEpoch). */
export interface EpochStart {
  epoch: number;
  startOffset: bigint;
}

/** Reads the whole partition from `port` (its leader) with raw Fetch v4 and lists the epoch changes. */
async function epochStartsFromBatches(client: RawClient, topic: string, partition: number): Promise<EpochStart[]> {
  const starts: EpochStart[] = [];
  let offset = 0n;
  for (;;) {
    const res = await client.request(FetchRequestMessage, FetchResponseMessage, 4, {
      ...createFetchRequest(),
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 << 20,
      topics: [{ topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ ...createFetchPartition(), partition, fetchOffset: offset, partitionMaxBytes: 8 << 20 }] }],
    });
    const p = res.responses[0]?.partitions[0];
    assert.ok(p && p.errorCode === 0, `fetch of ${topic}/${partition} at ${offset} answered ${p?.errorCode}`);
    const records = p.records ?? Buffer.alloc(0);
    // Batch header: baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic, crc, attributes int16, lastOffsetDelta int32.
    for (let at = 0; at + 27 <= records.length; ) {
      const base = records.readBigInt64BE(at);
      const length = records.readInt32BE(at + 8);
      if (at + 12 + length > records.length) break;
      const epoch = records.readInt32BE(at + 12);
      if (starts.length === 0 || starts[starts.length - 1]!.epoch !== epoch) starts.push({ epoch, startOffset: base });
      offset = base + BigInt(records.readInt32BE(at + 23)) + 1n;
      at += 12 + length;
    }
    if (offset >= p.highWatermark || records.length === 0) return starts;
  }
}

/**
 * KIP-320 as librdkafka uses it after a leader change: OffsetForLeaderEpoch(e) must answer where
 * epoch e ends, the first offset of the next epoch in the log. An answer below it makes the client
 * "detect log truncation" and seek back there (records re-delivered, and queued ones skipped).
 * Checked on each partition's leader against the epochs stamped in the record batches.
 */
export async function assertEpochEndOffsets(ports: number[], topic: string, partitions: number): Promise<EpochStart[][]> {
  const all: EpochStart[][] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const found = await until(`the leader of ${topic}/${partition} answers`, async () => {
      for (const port of ports) {
        const client = await RawClient.connect(port).catch(() => undefined);
        if (!client) continue;
        try {
          const starts = await epochStartsFromBatches(client, topic, partition);
          const answers = [];
          for (const s of starts.slice(0, -1)) {
            const res = await client.request(OffsetForLeaderEpochRequestMessage, OffsetForLeaderEpochResponseMessage, 3, {
              replicaId: -1,
              topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, leaderEpoch: s.epoch }] }],
            });
            answers.push(res.topics[0]!.partitions[0]!);
          }
          return { starts, answers };
        } catch {
          continue; // not the leader (NOT_LEADER_OR_FOLLOWER), or it moved meanwhile
        } finally {
          client.close();
        }
      }
      return undefined;
    });
    const { starts, answers } = found;
    starts.slice(0, -1).forEach((s, i) => {
      const a = answers[i]!;
      const next = starts[i + 1]!;
      assert.deepEqual(
        { errorCode: a.errorCode, leaderEpoch: a.leaderEpoch, endOffset: a.endOffset },
        { errorCode: 0, leaderEpoch: s.epoch, endOffset: next.startOffset },
        `${topic}/${partition}: OffsetForLeaderEpoch(${s.epoch}) answers the start of epoch ${next.epoch} (batches: ${JSON.stringify(starts.map((x) => `${x.epoch}@${x.startOffset}`))})`,
      );
    });
    all.push(starts);
  }
  return all;
}
