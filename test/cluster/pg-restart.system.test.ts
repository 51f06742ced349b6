// PostgreSQL restart under three agents (child processes): the metadata server stops (fast
// shutdown, every connection ended), stays down for DOWN_MS (default 4 s, longer than the 3 s lease,
// so every agent's local lease validity lapses; STREAMHOUSE_TEST_PG_DOWN_MS overrides) and comes back
// on the same port. Regression for issue #9: the log manager used to close a partition whose lease
// it could not confirm and reopen it from the committed end, losing the unflushed tail's producer
// state, so an idempotent kafkajs producer got OUT_OF_ORDER_SEQUENCE_NUMBER although no lease
// changed hands. Producers (kafkajs and librdkafka) see only retriable errors and keep going; a
// kafkajs and a librdkafka consumer group keep consuming (committing each record; commits fail while
// the server is away); the agents reconnect and settle on their own; every acknowledged record is
// read exactly once, both groups saw every one and committed up to the log ends, and no record came
// again after its commit was acknowledged.
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
  produceUntil,
  query,
  rdkafkaConsumeThrough,
  until,
} from './child-agents.js';
import { threeAgents } from './three-agents.js';

const LEASE_MS = 3000;
const DOWN_MS = Number(process.env.STREAMHOUSE_TEST_PG_DOWN_MS ?? 4000);
const TOPIC = 'pgdown';

const cluster = threeAgents('pgrestart', LEASE_MS);
const { agents, stopConsumers } = cluster;

test('PostgreSQL restart: producers and consumer groups keep going, agents recover on their own, every acked record read exactly once, committed offsets hold', async () => {
  const ports = agents.map((a) => a.port);
  await createTopic(ports, TOPIC, 6, [{ name: 'segment.ms', value: '500' }]);
  const group = await consumeThrough(ports, TOPIC, 'pgdown-group');
  const rdGroup = rdkafkaConsumeThrough(ports, TOPIC, 'pgdown-rd-group', join(cluster.root, 'pgdown-rd-group.stop'));
  stopConsumers.push(() => group.stop(), () => rdGroup.cancel());

  let restartStarted = 0;
  let deliveredAtRestart = 0;
  let restartDone = 0;
  let restarting: Promise<void> | null = null;
  const rdkafka = (async () => {
    await until('the restart', async () => restartStarted > 0, 60_000);
    const messages = Array.from({ length: 600 }, (_, i) => ({ value: `r${i}`, partition: i % 6 }));
    return runConfluentKafka(
      ports.map((p) => `127.0.0.1:${p}`).join(','),
      [{ op: 'produce', topic: TOPIC, messages, timeoutS: 60, config: { 'enable.idempotence': true, acks: 'all', 'linger.ms': 20, 'batch.num.messages': 10 } }],
      { timeoutMs: 120_000 },
    );
  })();
  const acked = await produceUntil(ports, TOPIC, 6, 'k', (n) => restartDone > 0 && Date.now() - restartDone > 6000 && n > 900, (n) => {
    if (restartStarted === 0 && n >= 300 && group.delivered > 0 && rdGroup.consuming) {
      restartStarted = Date.now();
      deliveredAtRestart = group.delivered;
      // Off the producer's path: pg_ctl runs while sends continue.
      restarting = new Promise<void>((r) => setTimeout(r, 10)).then(() => cluster.pg.restart(DOWN_MS)).then(() => {
        restartDone = Date.now();
      });
    }
  });
  await restarting;
  assert.ok(restartDone - restartStarted >= DOWN_MS, 'the server was down for the whole interval');

  const rd = await rdkafka;
  const produced = rd.results[0]!;
  assert.equal(produced.ok, true, `librdkafka delivered every record: ${JSON.stringify(produced.error ?? produced.delivered?.find((d) => d.error))}`);

  // Every agent still runs, heartbeats again, and the partitions are led by live agents.
  for (const a of agents) assert.equal(a.proc.exitCode, null, `agent on port ${a.port} still runs`);
  await until('three live agents', async () => {
    const rows = await query<{ n: string }>(cluster.pg.url, `SELECT count(*) AS n FROM agents WHERE heartbeat_at > (extract(epoch from clock_timestamp()) * 1000)::bigint - $1`, [LEASE_MS]);
    return Number(rows[0]!.n) === 3;
  });
  await until('every partition led by a live agent', async () => {
    const rows = await query<{ n: string }>(
      cluster.pg.url,
      `SELECT count(*) AS n FROM partitions p JOIN agents a ON a.agent_id = p.leader_agent
       WHERE a.heartbeat_at > (extract(epoch from clock_timestamp()) * 1000)::bigint - $1 AND p.lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
      [LEASE_MS],
    );
    return Number(rows[0]!.n) >= 6;
  });

  // Both groups consumed through the outage and hold their offsets.
  const rdAcked = (produced.delivered ?? []).map((d) => d.value!);
  const ends = await logEndOffsets(ports, TOPIC);
  rdGroup.finish(ends);
  await assertGroupsConsumedThrough('PostgreSQL restart', group, deliveredAtRestart, rdGroup, { from: restartStarted, to: restartDone }, ports, TOPIC, [...acked, ...rdAcked], ends);

  await assertReadExactlyOnce(ports, TOPIC, acked, 'pgdown-readers');
  const consumed = await runConfluentKafka(ports.map((p) => `127.0.0.1:${p}`).join(','), [
    { op: 'consume', assign: [0, 1, 2, 3, 4, 5].map((partition) => ({ topic: TOPIC, partition, offset: -2 })), maxMessages: acked.length + 600, timeoutS: 20, group: 'pgdown-rd' },
  ]);
  const values = (consumed.results[0]!.messages ?? []).map((m) => m.value ?? '');
  const rdValues = values.filter((v) => v.startsWith('r'));
  assert.equal(new Set(rdValues).size, 600, 'every librdkafka record is stored');
  assert.equal(rdValues.length, 600, 'no librdkafka record stored twice');
  await auditSegments(cluster.pg.url);
  console.log(
    `# pg restart: down ${restartDone - restartStarted} ms; ${acked.length} kafkajs + 600 librdkafka records acked; ` +
      `kafkajs group ${group.delivered} deliveries (${deliveredAtRestart} before the restart), ${group.commitErrors} commits failed, crashes ${JSON.stringify(group.crashes)}; ` +
      `librdkafka group ${(await rdGroup.result).messages!.length} deliveries, errors ${JSON.stringify((await rdGroup.result).errors?.map((e) => e.name))}`,
  );
});
