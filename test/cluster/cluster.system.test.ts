// Three agents in this process sharing one PostgreSQL metadata store and one file: object store.
// Routing: Metadata from any agent lists all three and the partition leaders; a produce to a
// non-leader is refused with NOT_LEADER_OR_FOLLOWER; kafkajs produces and consumes across them.
// Failover: a stopped agent's partitions move to the survivors with every acked record kept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import type { LeaseManager } from '../../src/cluster/lease-manager.js';

let pg: TestPostgres;
let objectsDir: string;
const agents: TestBroker[] = [];

const LEASE_MS = 1500;

async function startClusterAgent(): Promise<TestBroker> {
  const b = await startTestBroker({
    metadata: pg.url,
    objects: `file:${objectsDir}`,
    leaseTimeoutMs: LEASE_MS,
    heartbeatIntervalMs: 200,
    numPartitions: 6,
  });
  agents.push(b);
  return b;
}

const leasesOf = (b: TestBroker) => b.agent.context.cluster as LeaseManager;

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  pg = await startPostgres();
  objectsDir = mkdtempSync(join(tmpdir(), 'streamhouse-cluster-objects-'));
  for (let i = 0; i < 3; i++) await startClusterAgent();
});

after(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  await pg?.stop();
  rmSync(objectsDir, { recursive: true, force: true });
});

function kafka(bootstrap: string) {
  return new Kafka({ clientId: 'cluster-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
}

test('agents get distinct node ids and every agent lists all three as brokers', async () => {
  const ids = agents.map((a) => a.agent.context.cluster.localNodeId);
  assert.equal(new Set(ids).size, 3);
  for (const a of agents) {
    await until('three live brokers', () => a.agent.context.cluster.brokers().length === 3);
    assert.deepEqual(a.agent.context.cluster.brokers().map((b) => b.nodeId).sort(), [...ids].sort());
  }
});

test('partitions spread over the agents; a produce to a non-leader gets NOT_LEADER_OR_FOLLOWER; kafkajs works across them', async () => {
  const admin = kafka(agents[0].bootstrap).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 6 }], waitForLeaders: true });
  // Every agent takes its share within a few rounds.
  await until('leases on every agent', () => agents.every((a) => leasesOf(a).heldLeases().some((l) => l.resource.startsWith('partition/'))));
  const meta = await admin.fetchTopicMetadata({ topics: ['spread'] });
  const leaders = new Set(meta.topics[0].partitions.map((p) => p.leader));
  assert.equal(leaders.size, 3, `leaders: ${[...leaders]}`);
  await admin.disconnect();

  // Agent 0's view of who leads partition p, and a produce straight to some other agent.
  const topic = (await agents[0].agent.context.topics.get('spread'))!;
  const leader0 = agents[0].agent.context.cluster.leader(topic.id, 0).leaderId;
  const other = agents.find((a) => a.agent.context.cluster.localNodeId !== leader0)!;
  await assert.rejects(other.agent.context.logs!.partition(topic, 0), (err: Error & { code?: number }) => /NOT_LEADER_OR_FOLLOWER|no longer leads|does not lead/.test(err.message));

  const producer = kafka(agents[1].bootstrap).producer({ idempotent: true });
  await producer.connect();
  const sent: string[] = [];
  for (let i = 0; i < 60; i++) sent.push(`v${i}`);
  await producer.send({ topic: 'spread', acks: -1, messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();

  const consumer = kafka(agents[2].bootstrap).consumer({ groupId: 'spread-readers' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'spread', fromBeginning: true });
  const got: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  await until('all 60 records consumed', () => got.length >= 60);
  await consumer.disconnect();
  assert.deepEqual([...got].sort(), [...sent].sort());
});

test("a stopped agent's partitions move to the survivors and every acked record stays readable once", async () => {
  const admin = kafka(agents[0].bootstrap).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'failover', numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka(agents[0].bootstrap).producer({ idempotent: true });
  await producer.connect();
  const acked: string[] = [];
  for (let i = 0; i < 30; i++) {
    await producer.send({ topic: 'failover', acks: -1, messages: [{ key: `k${i}`, value: `before-${i}` }] });
    acked.push(`before-${i}`);
  }
  // Stop the third agent (graceful: it uploads its tails and releases its leases).
  const victim = agents[2];
  const victimId = victim.agent.context.cluster.localNodeId;
  await victim.stop();
  agents.splice(2, 1);
  await until('survivors lead every partition', async () => {
    const topic = (await agents[0].agent.context.topics.get('failover'))!;
    for (let p = 0; p < 6; p++) {
      const l = agents[0].agent.context.cluster.leader(topic.id, p).leaderId;
      if (l === victimId) return false;
    }
    return agents[0].agent.context.cluster.brokers().length === 2;
  });
  for (let i = 0; i < 30; i++) {
    await producer.send({ topic: 'failover', acks: -1, messages: [{ key: `k${i}`, value: `after-${i}` }] });
    acked.push(`after-${i}`);
  }
  await producer.disconnect();
  const consumer = kafka(agents[1].bootstrap).consumer({ groupId: 'failover-readers' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'failover', fromBeginning: true });
  const got: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  await until('every acked record consumed', () => got.length >= acked.length);
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  assert.deepEqual([...got].sort(), [...acked].sort(), 'each acked record exactly once');
});
