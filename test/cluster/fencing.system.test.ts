// Fencing of a paused leader: three agents as child processes, one of them stopped with SIGSTOP
// past its lease while a kafkajs and a librdkafka (confluent-kafka) producer keep producing, then
// resumed with SIGCONT. The survivors take its partitions (recovering its unflushed records from
// its WAL); the resumed agent commits no segment under the epochs it held, notices the loss, drops
// those partitions and rejoins. A kafkajs and a librdkafka consumer group consume through it all
// (committing each record). Every acknowledged record is then read exactly once, both groups saw
// every one and committed up to the log ends, and no record came again after its commit was
// acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runConfluentKafka } from '../helpers/confluent-kafka.js';
import {
  assertGroupsConsumedThrough,
  assertEpochEndOffsets,
  assertReadExactlyOnce,
  auditSegments,
  consumeThrough,
  createTopic,
  logEndOffsets,
  partitionLeader,
  produceUntil,
  query,
  rdkafkaConsumeThrough,
  until,
} from './child-agents.js';
import { threeAgents } from './three-agents.js';

const LEASE_MS = 3000;
const TOPIC = 'pause';

const cluster = threeAgents('fencing', LEASE_MS);
const { agents, stopConsumers } = cluster;

test('SIGSTOP of a leader past its lease, then SIGCONT: fenced, drops its partitions, rejoins; acked records read exactly once, consumer groups hold their offsets', async () => {
  const ports = agents.map((a) => a.port);
  // Short segments, so the paused agent has uploads due the moment it resumes.
  await createTopic(ports, TOPIC, 6, [{ name: 'segment.ms', value: '500' }]);
  const victim = await partitionLeader(cluster.pg.url, agents, TOPIC, 0);
  const [{ agent_id: victimId }] = await query<{ agent_id: string }>(cluster.pg.url, 'SELECT agent_id FROM agents WHERE port = $1', [victim.port]);

  const group = await consumeThrough(ports, TOPIC, 'pause-group');
  const rdGroup = rdkafkaConsumeThrough(ports, TOPIC, 'pause-rd-group', join(cluster.root, 'pause-rd-group.stop'));
  stopConsumers.push(() => group.stop(), () => rdGroup.cancel());

  let pausedAt = 0;
  let resumedAt = 0;
  let deliveredAtPause = 0;
  const pauseAfter = 300;
  // librdkafka: a second producer process, idempotent acks=all, running through the pause.
  const rdkafka = (async () => {
    await until('the pause', async () => pausedAt > 0, 60_000);
    const messages = Array.from({ length: 600 }, (_, i) => ({ value: `r${i}`, partition: i % 6 }));
    return runConfluentKafka(
      ports.map((p) => `127.0.0.1:${p}`).join(','),
      [{ op: 'produce', topic: TOPIC, messages, timeoutS: 60, config: { 'enable.idempotence': true, acks: 'all', 'linger.ms': 20, 'batch.num.messages': 10 } }],
      { timeoutMs: 120_000 },
    );
  })();

  const acked = await produceUntil(ports, TOPIC, 6, 'k', (n) => resumedAt > 0 && Date.now() - resumedAt > 4000 && n > pauseAfter + 300, (n) => {
    if (pausedAt === 0 && n >= pauseAfter && group.delivered > 0 && rdGroup.consuming) {
      victim.proc.kill('SIGSTOP');
      pausedAt = Date.now();
      deliveredAtPause = group.delivered;
      // Resume once the lease has surely expired and been taken over.
      setTimeout(() => {
        victim.proc.kill('SIGCONT');
        resumedAt = Date.now();
      }, LEASE_MS * 3);
    }
  });
  // What the victim led when paused: the partitions it wrote segments for under its epochs.
  const heldAtPause = await query<{ topic_id: string; partition_index: number; leader_epoch: number }>(cluster.pg.url, 'SELECT DISTINCT topic_id, partition_index, leader_epoch FROM segments WHERE agent_id = $1 AND created_at < $2', [victimId, pausedAt]);

  const rd = await rdkafka;
  const produced = rd.results[0]!;
  const rdAckedCount = (produced.delivered ?? []).filter((d) => d.error === null && d.offset !== null).length;
  assert.ok(rdAckedCount > 0, `librdkafka got acknowledgements through the pause: ${JSON.stringify(produced.error ?? produced.delivered?.find((d) => d.error))}`);

  // The resumed agent noticed: it logged the loss (renewal or a fenced commit).
  await until('the resumed agent reports the lost lease', async () => /lease lost|segment commit fenced/.test(victim.output.join('')), 15_000);
  // It committed nothing under the epochs it held once paused: its rows at those epochs predate the pause.
  const late = await query<{ partition_index: number; leader_epoch: number; base_offset: string }>(
    cluster.pg.url,
    'SELECT partition_index, leader_epoch, base_offset FROM segments WHERE agent_id = $1 AND created_at >= $2 AND leader_epoch IN (SELECT leader_epoch FROM segments WHERE agent_id = $1 AND created_at < $2)',
    [victimId, pausedAt],
  );
  assert.deepEqual(late, [], 'no segment committed by the paused agent under its old epochs after the pause');
  // Someone else took each partition it held, at a higher epoch.
  for (const h of heldAtPause) {
    const [row] = await query<{ leader_epoch: number }>(cluster.pg.url, 'SELECT leader_epoch FROM partitions WHERE topic_id = $1 AND partition_index = $2', [h.topic_id, h.partition_index]);
    assert.ok(row!.leader_epoch > h.leader_epoch, `partition ${h.partition_index} moved on from epoch ${h.leader_epoch}`);
  }
  // It rejoins: heartbeating again and given partitions back by placement, under new epochs.
  const rejoined = await until(
    'the resumed agent leads partitions again',
    async () => {
      const rows = await query<{ partition_index: number; leader_epoch: number }>(cluster.pg.url, 'SELECT partition_index, leader_epoch FROM partitions WHERE leader_agent = $1', [victimId]);
      return rows.length > 0 ? rows : undefined;
    },
    30_000,
  );
  for (const r of rejoined) {
    const old = heldAtPause.find((h) => h.partition_index === r.partition_index);
    if (old) assert.ok(r.leader_epoch > old.leader_epoch, `partition ${r.partition_index} re-taken under a new epoch`);
  }
  assert.ok(victim.proc.exitCode === null, 'the resumed agent is still running');

  // Both groups consumed through the pause and hold their offsets.
  const rdAcked = (produced.delivered ?? []).filter((d) => d.error === null && d.offset !== null).map((d) => d.value!);
  const ends = await logEndOffsets(ports, TOPIC);
  rdGroup.finish(ends);
  // The paused agent's partitions went to a successor (which recovered its WAL tail, records of
  // the old epoch) and, after it rejoined, back to it under a newer epoch. Every leader must still
  // know where each epoch ended: librdkafka validates its position with OffsetForLeaderEpoch after
  // each leader change, and a low answer made it seek back (records re-delivered after an
  // acknowledged commit, or queued ones skipped).
  const epochStarts = await assertEpochEndOffsets(ports, TOPIC, 6);
  await assertGroupsConsumedThrough('pause', group, deliveredAtPause, rdGroup, { from: pausedAt, to: resumedAt }, ports, TOPIC, [...acked, ...rdAcked], ends);
  const rdReads = (await rdGroup.result).messages!;

  await assertReadExactlyOnce(ports, TOPIC, acked, 'pause-readers');
  // librdkafka's acknowledged records, by (partition, offset): each offset holds one r-value, read once.
  const consumed = await runConfluentKafka(ports.map((p) => `127.0.0.1:${p}`).join(','), [
    { op: 'consume', assign: [0, 1, 2, 3, 4, 5].map((partition) => ({ topic: TOPIC, partition, offset: -2 })), maxMessages: acked.length + 600, timeoutS: 20, group: 'pause-rd' },
  ]);
  const msgs = consumed.results[0]!.messages ?? [];
  const byOffset = new Map(msgs.map((m) => [`${m.partition}:${m.offset}`, m.value]));
  const rdValues = msgs.filter((m) => m.value?.startsWith('r')).map((m) => m.value!);
  for (const d of produced.delivered ?? []) {
    if (d.error !== null || d.offset === null) continue;
    const v = byOffset.get(`${d.partition}:${d.offset}`);
    assert.ok(v?.startsWith('r'), `librdkafka's acked record at ${d.partition}:${d.offset} is readable (got ${v})`);
  }
  assert.equal(new Set(rdValues).size, rdValues.length, 'no librdkafka record stored twice');
  await auditSegments(cluster.pg.url);
  console.log(
    `# pause: ${acked.length} kafkajs + ${rdAcked.length} librdkafka records acked; paused ${resumedAt - pausedAt} ms; ${rejoined.length} partitions back on the resumed agent; ` +
      `epochs of partition 0 ${epochStarts[0]!.map((e) => `${e.epoch}@${e.startOffset}`).join(' ')}; kafkajs group ${group.delivered} deliveries (${deliveredAtPause} before the pause), ${group.commitErrors} commits failed, crashes ${JSON.stringify(group.crashes)}; ` +
      `librdkafka group ${rdReads.length} deliveries, errors ${JSON.stringify((await rdGroup.result).errors?.map((e) => e.name))}`,
  );
});
