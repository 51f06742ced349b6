// Helpers for the transaction tests over child-process agents: a three-agent cluster on a fresh
// database, who holds which coordinator shard or partition (from the leases/partitions tables),
// raw FindCoordinator / DescribeTransactions / DescribeProducers / ListOffsets at one agent, and a
// kafkajs consume-transform-produce loop that recovers from errors the way an EOS application
// must (abort if possible, else a new producer with the same transactional.id; then back to the
// committed offsets).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Producer, Transaction } from 'kafkajs';
import { groupShard, DEFAULT_GROUP_SHARDS, shardLeaseResource } from '../../src/coordinator/group/shard.js';
import {
  DescribeProducersRequestMessage,
  DescribeProducersResponseMessage,
  DescribeTransactionsRequestMessage,
  DescribeTransactionsResponseMessage,
  FindCoordinatorRequestMessage,
  FindCoordinatorResponseMessage,
  ListOffsetsRequestMessage,
  ListOffsetsResponseMessage,
  OffsetFetchRequestMessage,
  OffsetFetchResponseMessage,
} from '../../src/protocol/generated/index.js';
import type { TransactionState } from '../../src/protocol/generated/DescribeTransactionsResponse.js';
import type { ProducerState } from '../../src/protocol/generated/DescribeProducersResponse.js';
import type { TestPostgres } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { kafka, killAll, query, sleep, startAgent, until, type ChildAgent } from './child-agents.js';

export const LEASE_MS = 3000;

/**
 * kafkajs 2.2.4 client bug, worked around here: when a consumer is stopped while a fetcher notices
 * that the broker set changed (as it does after an agent is killed), FetchManager.start catches
 * KafkaJSFetcherRebalanceError and creates new fetchers although the runner is no longer running;
 * Runner.fetch then answers [] at once and each new fetcher loops on resolved promises forever,
 * starving the event loop (the test process spun at 100% CPU, no timer, not even the test timeout,
 * fired). Failing the fetch instead ends those fetchers, and the runner's retry sees it stopped.
 */
function endFetchersOfStoppedConsumers(): void {
  const Runner = createRequire(import.meta.url)('kafkajs/src/consumer/runner.js') as {
    prototype: { fetch(this: { running: boolean }, nodeId: number): Promise<unknown[]>; __stoppedGuard?: true };
  };
  if (Runner.prototype.__stoppedGuard) return;
  const fetch = Runner.prototype.fetch;
  Runner.prototype.fetch = function (this: { running: boolean }, nodeId: number) {
    if (!this.running) return Promise.reject(new Error('consumer stopped'));
    return fetch.call(this, nodeId);
  };
  Runner.prototype.__stoppedGuard = true;
}
endFetchersOfStoppedConsumers();

/** Progress lines on stderr with STREAMHOUSE_TEST_TXN_DEBUG set (the loop's steps, recoveries). */
export function trace(msg: string): void {
  if (process.env.STREAMHOUSE_TEST_TXN_DEBUG) process.stderr.write(`[txn-test] ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

export interface Cluster {
  url: string;
  root: string;
  agents: ChildAgent[];
  /** Ports of the agents still running. */
  livePorts(): number[];
  kill9(port: number): ChildAgent;
  stop(): void;
}

/** Three agents over a fresh database of `pgServer` and a fresh file: store. */
export async function startCluster(pgServer: TestPostgres, name: string, extraArgs: string[] = []): Promise<Cluster> {
  const url = await pgServer.createDatabase();
  const root = mkdtempSync(join(tmpdir(), `streamhouse-${name}-`));
  const agents: ChildAgent[] = [];
  for (let i = 0; i < 3; i++) agents.push(await startAgent({ root, index: i, metadataUrl: url, leaseMs: LEASE_MS, extraArgs }));
  const alive = (a: ChildAgent) => a.proc.exitCode === null && a.proc.signalCode === null;
  return {
    url,
    root,
    agents,
    livePorts: () => agents.filter(alive).map((a) => a.port),
    kill9(port) {
      const a = agents.find((x) => x.port === port);
      assert.ok(a, `an agent listens on ${port}`);
      a.proc.kill('SIGKILL');
      return a;
    },
    stop() {
      killAll(agents);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const LIVE = `expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Port of the agent holding the live lease of a coordinator shard, or undefined. */
export async function shardHolderPort(url: string, shard: number): Promise<number | undefined> {
  const rows = await query<{ port: number }>(
    url,
    `SELECT a.port FROM leases l JOIN agents a ON a.agent_id = l.holder WHERE l.resource = $1 AND l.${LIVE}`,
    [shardLeaseResource(shard)],
  );
  return rows.length === 1 ? Number(rows[0]!.port) : undefined;
}

/** Port of the agent coordinating a group or transactional id (same shard rule for both). */
export const coordinatorPortOf = (url: string, key: string) => shardHolderPort(url, groupShard(key, DEFAULT_GROUP_SHARDS));

/** Leader port of each partition of a topic (undefined where no live lease is held). */
export async function leaderPorts(url: string, topic: string): Promise<(number | undefined)[]> {
  const rows = await query<{ partition_index: number; port: number | null }>(
    url,
    `SELECT p.partition_index, a.port FROM topics t JOIN partitions p ON p.topic_id = t.id
       LEFT JOIN agents a ON a.agent_id = p.leader_agent
                         AND p.lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint
     WHERE t.name = $1 ORDER BY p.partition_index`,
    [topic],
  );
  return rows.map((r) => (r.port === null ? undefined : Number(r.port)));
}

/** Waits until every partition of each topic has a live leader; answers the leader ports by topic. */
export async function settledLeaders(url: string, topics: string[], partitions: number): Promise<Map<string, number[]>> {
  return until(`leaders for ${topics.join(', ')}`, async () => {
    const out = new Map<string, number[]>();
    for (const t of topics) {
      const ports = await leaderPorts(url, t);
      if (ports.length !== partitions || ports.some((p) => p === undefined)) return undefined;
      out.set(t, ports as number[]);
    }
    return out;
  }, 30_000);
}

/** The first `<prefix>-<n>` whose coordinator shard is held by an agent `accept` takes. */
export async function pickKey(url: string, prefix: string, accept: (port: number) => boolean): Promise<{ key: string; port: number }> {
  for (let n = 0; n < 500; n++) {
    const key = `${prefix}-${n}`;
    const port = await coordinatorPortOf(url, key);
    if (port !== undefined && accept(port)) return { key, port };
  }
  throw new Error(`no ${prefix}-<n> with a coordinator shard on an acceptable agent`);
}

async function withRaw<T>(port: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** FindCoordinator v4 (key type 1: transaction) asked at one agent. */
export async function findTxnCoordinator(port: number, transactionalId: string): Promise<{ errorCode: number; nodeId: number; port: number }> {
  return withRaw(port, async (c) => {
    const res = await c.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, 4, {
      ...FindCoordinatorRequestMessage.create(),
      keyType: 1,
      coordinatorKeys: [transactionalId],
    });
    const co = res.coordinators[0]!;
    return { errorCode: co.errorCode, nodeId: co.nodeId, port: co.port };
  });
}

/** DescribeTransactions v0 at one agent. */
export async function describeTransaction(port: number, transactionalId: string): Promise<TransactionState> {
  return withRaw(port, async (c) => {
    const res = await c.request(DescribeTransactionsRequestMessage, DescribeTransactionsResponseMessage, 0, { transactionalIds: [transactionalId] });
    return res.transactionStates[0]!;
  });
}

/** DescribeTransactions at the agent FindCoordinator names, once it answers without error. */
export async function describeAtCoordinator(ports: number[], transactionalId: string): Promise<TransactionState & { coordinatorPort: number }> {
  return until(`DescribeTransactions for ${transactionalId} at its coordinator`, async () => {
    for (const p of ports) {
      const co = await findTxnCoordinator(p, transactionalId).catch(() => undefined);
      if (!co || co.errorCode !== 0) continue;
      const st = await describeTransaction(co.port, transactionalId);
      if (st.errorCode === 0) return { ...st, coordinatorPort: co.port };
    }
    return undefined;
  }, 30_000);
}

/**
 * A group's committed offsets of one topic, stable (OffsetFetch v8, require_stable, as Kafka's
 * read_committed consumers ask since KIP-447): retried while a transaction's offsets for a
 * partition are pending (UNSTABLE_OFFSET_COMMIT) or the coordinator moves. -1 = none committed.
 */
export async function fetchStableOffsets(ports: () => number[], groupId: string, topic: string): Promise<Map<number, bigint>> {
  return until(`stable committed offsets of ${groupId}`, async () => {
    for (const port of ports()) {
      const co = await withRaw(port, (c) =>
        c.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, 4, { ...FindCoordinatorRequestMessage.create(), keyType: 0, coordinatorKeys: [groupId] }),
      ).catch(() => undefined);
      const found = co?.coordinators[0];
      if (!found || found.errorCode !== 0) continue;
      const res = await withRaw(found.port, (c) =>
        c.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, 8, {
          ...OffsetFetchRequestMessage.create(),
          requireStable: true,
          groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
        }),
      ).catch(() => undefined);
      const g = res?.groups[0];
      if (!g || g.errorCode !== 0) continue;
      const parts = g.topics.find((t) => t.name === topic)?.partitions ?? [];
      if (parts.some((p) => p.errorCode !== 0)) return undefined; // pending: ask again
      return new Map(parts.map((p) => [p.partitionIndex, p.committedOffset]));
    }
    return undefined;
  }, 60_000);
}

/** DescribeProducers v0 for one partition at one agent. */
export async function describeProducers(port: number, topic: string, partition: number): Promise<{ errorCode: number; producers: ProducerState[] }> {
  return withRaw(port, async (c) => {
    const res = await c.request(DescribeProducersRequestMessage, DescribeProducersResponseMessage, 0, {
      topics: [{ name: topic, partitionIndexes: [partition] }],
    });
    const p = res.topics[0]!.partitions[0]!;
    return { errorCode: p.errorCode, producers: p.activeProducers };
  });
}

/** ListOffsets v7 latest offset at one agent: isolation 0 = high watermark, 1 = last stable offset. */
export async function latestOffset(port: number, topic: string, partition: number, isolationLevel: 0 | 1): Promise<{ errorCode: number; offset: bigint }> {
  return withRaw(port, async (c) => {
    const res = await c.request(ListOffsetsRequestMessage, ListOffsetsResponseMessage, 7, {
      ...ListOffsetsRequestMessage.create(),
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
    });
    const p = res.topics[0]!.partitions[0]!;
    return { errorCode: p.errorCode, offset: p.offset };
  });
}

/**
 * No partition of `topic` has an open transaction: at each leader, every producer's
 * currentTxnStartOffset is -1 and the last stable offset equals the high watermark.
 */
export async function assertNoOpenTransactions(url: string, topic: string, partitions: number): Promise<void> {
  const leaders = (await settledLeaders(url, [topic], partitions)).get(topic)!;
  for (let q = 0; q < partitions; q++) {
    const port = leaders[q]!;
    const d = await until(`DescribeProducers ${topic}-${q}`, async () => {
      const r = await describeProducers(port, topic, q);
      return r.errorCode === 0 ? r : undefined;
    }, 20_000);
    const open = d.producers.filter((p) => p.currentTxnStartOffset !== -1n);
    assert.deepEqual(open.map((p) => `${p.producerId}/${p.producerEpoch}@${p.currentTxnStartOffset}`), [], `${topic}-${q}: no producer with an open transaction`);
    const hw = await latestOffset(port, topic, q, 0);
    const lso = await latestOffset(port, topic, q, 1);
    assert.equal(hw.errorCode, 0, `${topic}-${q}: ListOffsets read_uncommitted`);
    assert.equal(lso.errorCode, 0, `${topic}-${q}: ListOffsets read_committed`);
    assert.equal(lso.offset, hw.offset, `${topic}-${q}: last stable offset equals the high watermark`);
  }
}

/** Writes `count` values `<prefix><i>` round-robin over the partitions with an idempotent producer. */
export async function produceInput(ports: number[], topic: string, partitions: number, prefix: string, count: number): Promise<string[]> {
  const producer = kafka(ports, `${prefix}-input`).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  try {
    for (let q = 0; q < partitions; q++) {
      const mine = values.filter((_, i) => i % partitions === q);
      for (let i = 0; i < mine.length; i += 100) {
        const md = await producer.send({ topic, acks: -1, messages: mine.slice(i, i + 100).map((value) => ({ partition: q, value })) });
        assert.equal(md.length, 1, `input send to partition ${q} answered`);
        assert.equal(md[0]!.errorCode, 0);
      }
    }
  } finally {
    await producer.disconnect();
  }
  return values;
}

/** Every value read (read_committed, fresh group) from `topic` until `expected` arrived and a short linger. */
export async function readCommitted(ports: number[], topic: string, expected: number, group: string, timeoutMs = 60_000): Promise<string[]> {
  const consumer = kafka(ports, `${group}-reader`).consumer({ groupId: group, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  await until(`${expected} committed records in ${topic}`, async () => got.length >= expected, timeoutMs).catch(() => undefined);
  await sleep(1500); // duplicates beyond the expected count would show up here
  await consumer.disconnect();
  return got;
}

/** Each input value exactly once, nothing from an aborted transaction (prefixed `aborted-`), nothing else. */
export function assertExactlyOnce(got: string[], input: string[]): void {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  const want = new Set(input);
  const missing = input.filter((v) => !counts.has(v));
  const dups = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  const aborted = [...counts.keys()].filter((v) => v.startsWith('aborted-'));
  const extra = [...counts.keys()].filter((v) => !want.has(v) && !v.startsWith('aborted-'));
  assert.deepEqual(
    { missing: missing.slice(0, 10), dups: dups.slice(0, 10), aborted: aborted.slice(0, 10), extra: extra.slice(0, 10) },
    { missing: [], dups: [], aborted: [], extra: [] },
    `read_committed output: ${missing.length} missing, ${dups.length} duplicated, ${aborted.length} aborted visible, ${extra.length} unknown of ${input.length}`,
  );
  assert.equal(got.length, input.length);
}

/** The group's committed offsets of `topic` equal its log end offsets. */
export async function assertCommittedAtEnd(ports: number[], group: string, topic: string): Promise<void> {
  const admin = kafka(ports, `${group}-check`).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await until(`offsets of ${group}`, async () => (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions, 20_000);
    const byPartition = new Map(committed.map((p) => [p.partition, p.offset]));
    for (const e of ends) assert.equal(byPartition.get(e.partition), e.high, `${group}: committed offset of ${topic}-${e.partition} is the log end`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Connects a transactional kafkajs producer and runs InitProducerId for its transactional id now,
 * which fences an older producer of that id and finishes (aborts) its open transaction. kafkajs
 * connect() alone does not: it initialises the transactional id at the first transaction(), so an
 * empty transaction is begun and ended (no EndTxn is sent for it).
 */
export async function initTransactions(p: Producer): Promise<void> {
  await p.connect();
  await (await p.transaction()).abort();
}

export interface EosLoopOptions {
  ports: () => number[];
  input: string;
  output: string;
  outputPartitions: number;
  transactionalId: string;
  groupId: string;
  /** Input records in all; the loop ends once the committed offsets sum to it. */
  expected: number;
  /** Input records per transaction. */
  chunk: number;
  /** Every `abortEvery`-th transaction writes `aborted-<value>` records, aborts, and is redone. */
  abortEvery: number;
  /** Pause after each committed transaction, so the loop is still running when a test kills an agent. */
  pauseMs?: number;
  transactionTimeoutMs?: number;
  /** Called between sendOffsets and commit of each transaction (numbered from 1, aborted ones too). */
  beforeCommit?: (txnNo: number) => Promise<void>;
  timeoutMs?: number;
}

export interface EosLoopResult {
  committedTxns: number;
  intentionalAborts: number;
  /** Errors the loop recovered from: what failed, how it recovered, when. */
  recoveries: { at: number; error: string; action: 'abort' | 'new producer' }[];
  /** Date.now() of every committed transaction. */
  commitTimes: number[];
}

/**
 * A kafkajs consume-transform-produce loop: a read_committed consumer in `groupId` reads `input`;
 * per chunk one transaction writes each value to `output` (spread over its partitions, one send
 * per partition, see the cluster README on sends spanning brokers), adds the next input offset with
 * sendOffsets and commits. The position per input partition is ours (what was committed): batches
 * behind it are skipped, so kafkajs' prefetched batches cannot be processed twice.
 */
export async function runEosLoop(o: EosLoopOptions): Promise<EosLoopResult> {
  const result: EosLoopResult = { committedTxns: 0, intentionalAborts: 0, recoveries: [], commitTimes: [] };
  const newProducer = async (): Promise<Producer> =>
    until(`transactional producer ${o.transactionalId} initialised`, async () => {
      const p = kafka(o.ports(), `${o.transactionalId}-producer`).producer({
        transactionalId: o.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: o.transactionTimeoutMs ?? 20_000,
      });
      try {
        await initTransactions(p);
        return p;
      } catch (e) {
        await p.disconnect().catch(() => undefined);
        throw e;
      }
    }, 90_000);
  let producer = await newProducer();
  trace(`producer ${o.transactionalId} initialised`);
  const consumer: Consumer = kafka(o.ports(), `${o.groupId}-consumer`).consumer({ groupId: o.groupId, readUncommitted: false, sessionTimeout: 30_000, heartbeatInterval: 1000 });
  const position = new Map<number, bigint>();
  const committedSum = () => [...position.values()].reduce((s, x) => s + x, 0n);
  let txnNo = 0;

  /**
   * Back to what the group has committed. The offsets are asked stable: a transaction that is
   * still completing (its markers pending) must not leave us behind its commit.
   */
  const resetToCommitted = async () => {
    const committed = await fetchStableOffsets(o.ports, o.groupId, o.input);
    for (const [partition, offset] of committed) {
      const next = offset < 0n ? 0n : offset;
      position.set(partition, next);
      consumer.seek({ topic: o.input, partition, offset: String(next) });
    }
    trace(`reset to committed offsets ${JSON.stringify([...committed].map(([p, x]) => `${p}@${x}`))}`);
  };

  const sendAll = async (txn: Transaction, values: string[]) => {
    for (let q = 0; q < o.outputPartitions; q++) {
      const mine = values.filter((_, i) => i % o.outputPartitions === q);
      if (mine.length === 0) continue;
      const md = await txn.send({ topic: o.output, acks: -1, messages: mine.map((value) => ({ partition: q, value })) });
      if (md.length !== 1 || md[0]!.errorCode !== 0) throw new Error(`transactional send to ${o.output}-${q} answered ${JSON.stringify(md)}`);
    }
  };

  /** One transaction over `values`; `abort` makes it an intentional abort. Throws when it failed. */
  const transaction = async (partition: number, values: string[], nextOffset: bigint, abort: boolean) => {
    const txn = await producer.transaction();
    txnNo++;
    try {
      await sendAll(txn, abort ? values.map((v) => `aborted-${v}`) : values);
      await txn.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic: o.input, partitions: [{ partition, offset: String(nextOffset) }] }] });
      await o.beforeCommit?.(txnNo);
      if (abort) await txn.abort();
      else await txn.commit();
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      let action: 'abort' | 'new producer' = 'abort';
      try {
        await txn.abort();
      } catch {
        action = 'new producer';
        await producer.disconnect().catch(() => undefined);
        producer = await newProducer();
      }
      result.recoveries.push({ at: Date.now(), error, action });
      trace(`transaction ${txnNo} failed (${error}); recovered by ${action}`);
      throw e;
    }
  };

  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  let failure: unknown;
  await consumer.connect();
  await consumer.subscribe({ topic: o.input, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
      if (isStale() || committedSum() >= BigInt(o.expected)) return;
      const p = batch.partition;
      const from = position.get(p) ?? 0n;
      const msgs = batch.messages.filter((m) => BigInt(m.offset) >= from);
      if (msgs.length === 0) return;
      if (BigInt(msgs[0]!.offset) !== from) {
        // The input is not transactional, so offsets are contiguous: a gap means kafkajs' fetch
        // position is not ours; go back to ours.
        consumer.seek({ topic: o.input, partition: p, offset: String(from) });
        return;
      }
      for (let i = 0; i < msgs.length; i += o.chunk) {
        const chunk = msgs.slice(i, i + o.chunk);
        const values = chunk.map((m) => m.value!.toString());
        const next = BigInt(chunk[chunk.length - 1]!.offset) + 1n;
        try {
          if ((txnNo + 1) % o.abortEvery === 0) {
            await transaction(p, values, next, true);
            result.intentionalAborts++;
          }
          await transaction(p, values, next, false);
        } catch {
          try {
            await resetToCommitted();
          } catch (e) {
            failure = e;
            finished();
          }
          return;
        }
        position.set(p, next);
        resolveOffset(chunk[chunk.length - 1]!.offset);
        result.committedTxns++;
        result.commitTimes.push(Date.now());
        trace(`committed transaction ${txnNo}: ${o.input}-${p} up to ${next}, ${committedSum()} of ${o.expected}`);
        await heartbeat().catch(() => undefined);
        if (committedSum() >= BigInt(o.expected)) {
          finished();
          return;
        }
        if (o.pauseMs) await sleep(o.pauseMs);
      }
    },
  });
  const timer = setTimeout(() => {
    failure = new Error(`EOS loop timed out with ${committedSum()} of ${o.expected} input records committed; recoveries ${JSON.stringify(result.recoveries.slice(-5))}`);
    finished();
  }, o.timeoutMs ?? 150_000);
  await done;
  clearTimeout(timer);
  await consumer.disconnect().catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
  if (failure) throw failure;
  return result;
}

/**
 * How the loop stalled around a kill at `at`: `firstCommitMs` from the last commit before the kill
 * to the first after it, `longestGapMs` the longest pause between consecutive commits from the last
 * one before the kill to the end (a later step, e.g. a moved input partition, can stall too).
 */
export function stallAround(commitTimes: number[], at: number): { firstCommitMs: number; longestGapMs: number } {
  const from = Math.max(0, commitTimes.findIndex((t) => t > at) - 1);
  const times = commitTimes.slice(from);
  const after = commitTimes.find((t) => t > at);
  let longestGapMs = 0;
  for (let i = 1; i < times.length; i++) longestGapMs = Math.max(longestGapMs, times[i]! - times[i - 1]!);
  return { firstCommitMs: after === undefined ? Number.POSITIVE_INFINITY : after - (times[0] ?? at), longestGapMs };
}
