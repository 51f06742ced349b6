// A kafkajs consumer group keeps consuming while the agent coordinating it is killed with SIGKILL
// (three child-process agents, one PostgreSQL, one file: store). The coordinator shard's lease
// expires, another agent takes it and loads the group from the store (GroupCoordinator.loadShard);
// the consumer finds the new coordinator and goes on. Offsets are committed after each record, and
// a record is counted as committed only once its commit was acknowledged: no such record may be
// delivered again, every record is consumed, and the final committed offsets are the log ends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { groupShard, DEFAULT_GROUP_SHARDS } from '../../src/coordinator/group/shard.js';
import { createTopic, kafka, killAll, produceUntil, query, sleep, startAgent, until, type ChildAgent } from './child-agents.js';

const LEASE_MS = 3000;
const TOPIC = 'grpfail';
const GROUP = 'grpfail-consumers';
const PARTITIONS = 6;

let pgServer: TestPostgres;
let root: string;
const agents: ChildAgent[] = [];

before(async () => {
  pgServer = await startPostgres();
  root = mkdtempSync(join(tmpdir(), 'streamhouse-grpfail-'));
  for (let i = 0; i < 3; i++) agents.push(await startAgent({ root, index: i, metadataUrl: pgServer.url, leaseMs: LEASE_MS }));
});

after(async () => {
  killAll(agents);
  await pgServer?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Port of the agent holding the group's coordinator shard lease. */
async function coordinatorPort(): Promise<number> {
  const resource = `group-coordinator/${groupShard(GROUP, DEFAULT_GROUP_SHARDS)}`;
  const rows = await query<{ port: number }>(
    pgServer.url,
    `SELECT a.port FROM leases l JOIN agents a ON a.agent_id = l.holder
     WHERE l.resource = $1 AND l.expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
    [resource],
  );
  assert.equal(rows.length, 1, `a live agent holds ${resource}`);
  return Number(rows[0]!.port);
}

/** The group's member ids as its coordinator describes them, once `ok` accepts them. */
async function groupMembers(ports: number[], what: string, ok: (ids: string[], state: string) => boolean): Promise<string[]> {
  const admin = kafka(ports, 'grpfail-describe').admin();
  await admin.connect();
  try {
    return await until(what, async () => {
      const { groups } = await admin.describeGroups([GROUP]);
      const ids = (groups[0]?.members ?? []).map((m) => m.memberId);
      return ok(ids, groups[0]?.state ?? '') ? ids : undefined;
    });
  } finally {
    await admin.disconnect();
  }
}

test('a consumer group consumes through a kill -9 of its coordinator: committed offsets hold, nothing committed is read twice', async () => {
  const ports = agents.map((a) => a.port);
  await createTopic(ports, TOPIC, PARTITIONS, [{ name: 'segment.ms', value: '500' }]);
  const acked = await produceUntil(ports, TOPIC, PARTITIONS, 'g', (n) => n >= 600);
  await sleep(1500); // segment.ms: the records are in object storage, whoever leads later

  const consumer = kafka(ports, 'grpfail-consumer').consumer({ groupId: GROUP, sessionTimeout: 15_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, (e) => void crashes.push(`${e.payload.error.name}: ${e.payload.error.message}`));
  const committedUpTo = new Map<number, bigint>(); // next offset per partition, acknowledged commits only
  const seen = new Map<string, number>();
  const rereadCommitted: string[] = [];
  let delivered = 0;
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const offset = BigInt(message.offset);
      const value = message.value!.toString();
      if (offset < (committedUpTo.get(partition) ?? 0n)) rereadCommitted.push(`${partition}@${offset}`);
      seen.set(value, (seen.get(value) ?? 0) + 1);
      delivered++;
      await sleep(5); // slow enough that the group is consuming when its coordinator dies
      await consumer.commitOffsets([{ topic: TOPIC, partition, offset: String(offset + 1n) }]);
      const next = offset + 1n;
      if (next > (committedUpTo.get(partition) ?? 0n)) committedUpTo.set(partition, next);
    },
  });

  await until('the group consuming', async () => delivered >= 100, 30_000);
  const [memberBefore] = await groupMembers(ports, 'the group stable with one member', (ids, state) => state === 'Stable' && ids.length === 1);
  const victimPort = await coordinatorPort();
  const victim = agents.find((a) => a.port === victimPort)!;
  victim.proc.kill('SIGKILL');
  const killedAt = Date.now();
  const beforeKill = delivered;

  await until('another agent coordinating the group', async () => (await coordinatorPort()) !== victimPort, 30_000);
  // The new coordinator loaded the group from the store: it knows the member from before the kill
  // (kafkajs itself may rejoin under a new id after its connection errors; the old member then
  // leaves at its session timeout).
  await groupMembers(ports.filter((p) => p !== victimPort), 'the new coordinator describing the member from before the kill', (ids) => ids.includes(memberBefore!));
  await until('every record consumed', async () => acked.every((v) => seen.has(v)), 90_000);
  const total = [...committedUpTo.values()].reduce((s, o) => s + o, 0n);
  await until('every offset committed', async () => [...committedUpTo.values()].reduce((s, o) => s + o, 0n) === BigInt(acked.length), 20_000).catch(() => undefined);
  await consumer.disconnect();
  assert.ok(delivered > beforeKill, 'consumption went on after the kill');
  assert.deepEqual(rereadCommitted.slice(0, 20), [], `no record delivered again after its commit was acknowledged (${rereadCommitted.length})`);
  assert.deepEqual(acked.filter((v) => !seen.has(v)).slice(0, 20), [], 'every record consumed');

  // The committed offsets in the store are the log ends, as the consumer last committed them.
  const admin = kafka(ports.filter((p) => p !== victimPort), 'grpfail-admin').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    const stored = new Map(offsets[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    for (const [partition, next] of committedUpTo) assert.equal(stored.get(partition), next, `partition ${partition}: the stored committed offset is the last acknowledged commit`);
    assert.equal([...stored.values()].reduce((s, o) => s + o, 0n), BigInt(acked.length), 'committed up to the end of every partition');
  } finally {
    await admin.disconnect();
  }
  const redelivered = [...seen.values()].filter((c) => c > 1).length;
  console.log(`# group failover: coordinator on port ${victimPort} killed after ${beforeKill} records; ${delivered} deliveries, ${redelivered} records delivered more than once (uncommitted); committed sum before end check ${total}; consumer restarts ${JSON.stringify(crashes)}; ${Date.now() - killedAt} ms to finish`);
});
