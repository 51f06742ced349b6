// Three agents as child processes (node dist/src/cli.js serve) sharing one PostgreSQL and one
// file: object store, each with its own data dir and WAL on this volume. A kafkajs idempotent
// producer (acks=all) keeps producing while one agent is killed with SIGKILL; afterwards every
// acknowledged record is readable exactly once, recovered from the dead agent's WAL where needed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { auditSegments } from './child-agents.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const LEASE_MS = 3000;

let pgServer: TestPostgres;
let root: string;
const children: { proc: ChildProcess; port: number; dataDir: string }[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startChild(i: number) {
  const port = await freePort();
  const dataDir = join(root, `agent-${i}`);
  const args = [
    CLI, 'serve',
    '--data-dir', dataDir,
    '--host', '127.0.0.1',
    '--kafka-port', String(port),
    '--advertised-host', '127.0.0.1',
    '--http-port', '0',
    '--registry-port', '0',
    '--metadata', pgServer.url,
    '--objects', `file:${join(root, 'objects')}`,
    '--lease-timeout-ms', String(LEASE_MS),
    '--num-partitions', '6',
    '--log-level', process.env.STREAMHOUSE_TEST_LOG ?? 'warn',
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push({ proc, port, dataDir });
  return { proc, port };
}

function kafka(ports: number[]) {
  return new Kafka({
    clientId: 'failover-test',
    brokers: ports.map((p) => `127.0.0.1:${p}`),
    logLevel: logLevel.NOTHING,
    retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
    connectionTimeout: 1000,
    requestTimeout: 5000,
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  pgServer = await startPostgres();
  root = mkdtempSync(join(tmpdir(), 'streamhouse-failover-'));
  for (let i = 0; i < 3; i++) await startChild(i);
});

after(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await pgServer?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('kill -9 of an agent: producing continues on the survivors and every acked record is read exactly once', async () => {
  const ports = children.map((c) => c.port);
  const admin = kafka(ports).admin();
  await until('three brokers in Metadata', async () => {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length === 3;
  });
  await admin.createTopics({ topics: [{ topic: 'kill', numPartitions: 6 }], waitForLeaders: true });
  const meta = await admin.fetchTopicMetadata({ topics: ['kill'] });
  const leaderPorts = new Map((await admin.describeCluster()).brokers.map((b) => [b.nodeId, b.port]));
  await admin.disconnect();

  // The victim leads at least one partition (placement spreads six over three).
  const victimPort = leaderPorts.get(meta.topics[0].partitions[0].leader)!;
  const victim = children.find((c) => c.port === victimPort)!;

  const producer = kafka(ports).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked: string[] = [];
  let n = 0;
  let killedAt = 0;
  let firstAckAfterKill = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const batch = Array.from({ length: 6 }, () => `m${n++}`);
    // One partition per send: a kafkajs send spanning brokers can resolve without the partitions
    // that moved to a broker which had already answered (seen here; see the cluster README).
    for (let i = 0; i < batch.length; i++) {
      const md = await producer.send({ topic: 'kill', acks: -1, messages: [{ partition: i, value: batch[i] }] });
      assert.equal(md.length, 1, `send of ${batch[i]} answered for partition ${i}`);
    }
    acked.push(...batch);
    if (killedAt === 0 && acked.length >= 300) {
      victim.proc.kill('SIGKILL');
      killedAt = Date.now();
    } else if (killedAt > 0 && firstAckAfterKill === 0) {
      firstAckAfterKill = Date.now();
    }
    if (killedAt > 0 && Date.now() - killedAt > 2000 && acked.length > 600) break;
  }
  await producer.disconnect();
  assert.ok(killedAt > 0, 'the agent was killed');
  // The batch spans every partition, so it is acked only once the victim's partitions moved.
  const failoverMs = firstAckAfterKill - killedAt;
  assert.ok(failoverMs < 15_000, `failover took ${failoverMs} ms`);

  const survivors = children.filter((c) => c !== victim).map((c) => c.port);
  const consumer = kafka(survivors).consumer({ groupId: 'kill-readers' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'kill', fromBeginning: true });
  const got: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  await until('every acked record consumed', async () => got.length >= acked.length, 30_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  const missing = acked.filter((v) => !counts.has(v));
  const dup = [...counts].filter(([, c]) => c > 1).map(([v]) => v);
  assert.deepEqual(missing.slice(0, 20), [], `no acked record lost (${missing.length} of ${acked.length} missing; killed after ${killedAt ? 300 : 0})`);
  assert.deepEqual(dup, [], 'no record read twice');

  // Fencing: every segment row names its writer, one writer per partition and epoch, no overlap.
  await auditSegments(pgServer.url);
  console.log(`# failover: first ack after kill -9 in ${failoverMs} ms; ${acked.length} records acked`);
});
