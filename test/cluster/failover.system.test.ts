// Three agents as child processes (node dist/src/cli.js serve) sharing one PostgreSQL and one
// file: object store, each with its own data dir and WAL on this volume. A kafkajs and a librdkafka
// (confluent-kafka) idempotent acks=all producer keep producing while one agent is killed with
// SIGKILL, and a kafkajs and a librdkafka consumer group keep consuming (committing each record).
// Afterwards every acknowledged record is readable exactly once (recovered from the dead agent's WAL
// where needed), both groups saw every one and committed up to the log ends, no record came again
// after its commit was acknowledged, and the segment rows show one writer per partition and epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runConfluentKafka } from '../helpers/confluent-kafka.js';
import {
  assertGroupsConsumedThrough,
  assertReadExactlyOnce,
  auditSegments,
  consumeThrough,
  createTopic,
  logEndOffsets,
  partitionLeader,
  produceUntil,
  rdkafkaConsumeThrough,
} from './child-agents.js';
import { threeAgents } from './three-agents.js';

const LEASE_MS = 3000;
const TOPIC = 'kill';
const PARTITIONS = 6;

const cluster = threeAgents('failover', LEASE_MS);
const { agents, stopConsumers } = cluster;

test('kill -9 of an agent: producers and consumer groups carry on, every acked record is read exactly once, committed offsets hold', async () => {
  const ports = agents.map((a) => a.port);
  const bootstrap = ports.map((p) => `127.0.0.1:${p}`).join(',');
  await createTopic(ports, TOPIC, PARTITIONS);
  // The victim leads partition 0 (and so at least one partition).
  const victim = await partitionLeader(cluster.pg.url, agents, TOPIC, 0);

  const group = await consumeThrough(ports, TOPIC, 'kill-group');
  const rdGroup = rdkafkaConsumeThrough(ports, TOPIC, 'kill-rd-group', join(cluster.root, 'kill-rd-group.stop'));
  stopConsumers.push(() => group.stop(), () => rdGroup.cancel());
  // librdkafka, paced over ~18 s so that it produces before, through and after the kill.
  const rdStarted = Date.now();
  const rdProduce = runConfluentKafka(
    bootstrap,
    [{
      op: 'produce',
      topic: TOPIC,
      messages: Array.from({ length: 900 }, (_, i) => ({ value: `r${i}`, partition: i % PARTITIONS })),
      intervalMs: 20,
      timeoutS: 120,
      config: { 'enable.idempotence': true, acks: 'all', 'linger.ms': 5 },
    }],
    { timeoutMs: 240_000 },
  );

  let killedAt = 0;
  let firstAckAfterKill = 0;
  let deliveredAtKill = 0;
  // One record per partition per round, partitions in order: the first ack after a kill made at the
  // end of a round is partition 0's, which the victim led.
  const acked = await produceUntil(ports, TOPIC, PARTITIONS, 'm', (n) => killedAt > 0 && Date.now() - killedAt > 2000 && n > 600, (n) => {
    if (killedAt === 0 && n >= 300 && n % PARTITIONS === 0 && Date.now() - rdStarted > 3000 && group.delivered > 0 && rdGroup.consuming) {
      victim.proc.kill('SIGKILL');
      killedAt = Date.now();
      deliveredAtKill = group.delivered;
    } else if (killedAt > 0 && firstAckAfterKill === 0) {
      firstAckAfterKill = Date.now();
    }
  });
  assert.ok(killedAt > 0, 'the agent was killed');
  const failoverMs = firstAckAfterKill - killedAt;
  assert.ok(failoverMs < 15_000, `failover took ${failoverMs} ms`);

  const rd = (await rdProduce).results[0]!;
  assert.equal(rd.ok, true, `librdkafka delivered every record: ${JSON.stringify(rd.error ?? rd.delivered?.find((d) => d.error))}`);
  const rdAcked = rd.delivered!.map((d) => d.value!);
  const rdBefore = rd.delivered!.filter((d) => d.at! * 1000 < killedAt).length;
  assert.ok(rdBefore > 0 && rdBefore < rdAcked.length, `librdkafka produced through the kill (${rdBefore} of ${rdAcked.length} acked before it)`);

  const survivors = agents.filter((a) => a !== victim).map((a) => a.port);
  const all = [...acked, ...rdAcked];
  const ends = await logEndOffsets(survivors, TOPIC);
  rdGroup.finish(ends);
  const rdRead = await assertGroupsConsumedThrough('kill', group, deliveredAtKill, rdGroup, { from: killedAt, to: killedAt }, survivors, TOPIC, all, ends);
  const rdReads = (await rdGroup.result).messages!;
  for (const d of rd.delivered!) assert.equal(rdRead.get(`${d.partition}:${d.offset}`), d.value, `librdkafka's ack of ${d.value} names its offset`);

  await assertReadExactlyOnce(survivors, TOPIC, all, 'kill-readers');
  // Fencing: every segment row names its writer, one writer per partition and epoch, no overlap.
  await auditSegments(cluster.pg.url);
  console.log(
    `# failover: first ack after kill -9 in ${failoverMs} ms (killed ${killedAt - rdStarted} ms after the librdkafka clients started, ` +
      `first librdkafka group read after ${Math.round(rdReads[0]!.at! * 1000 - rdStarted)} ms); ${acked.length} kafkajs + ${rdAcked.length} librdkafka records acked; ` +
      `kafkajs group ${group.delivered} deliveries (${deliveredAtKill} before the kill), ${group.commitErrors} commits failed, crashes ${JSON.stringify(group.crashes)}, ` +
      `restarts by the test ${group.events.filter((e) => e.includes('restarted by the test')).length} ${JSON.stringify(group.events.filter((e) => e.includes('commits fail')))}`,
  );
});
