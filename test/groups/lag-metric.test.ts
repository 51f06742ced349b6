// streamhouse_consumer_group_lag: high watermark minus committed offset, read at scrape time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../helpers/broker.js';
import { consumerGroupLag } from '../../src/coordinator/group/lag.js';
import type { GroupOffsetStore, CommittedOffset } from '../../src/metadata/types.js';

function fakeOffsets(rows: Record<string, Pick<CommittedOffset, 'topic' | 'partition' | 'offset'>[]>): GroupOffsetStore {
  return {
    listGroupsWithOffsets: async () => Object.keys(rows).sort(),
    fetchOffsets: async (g: string) => rows[g]!.map((r) => ({ ...r, leaderEpoch: -1, metadata: null, commitTimestamp: 0, expireTimestamp: null })),
  } as unknown as GroupOffsetStore;
}

test('lag is the high watermark minus the committed offset; closed logs are left out, never negative', async () => {
  const offsets = fakeOffsets({
    a: [{ topic: 't', partition: 0, offset: 4n }, { topic: 't', partition: 1, offset: 12n }, { topic: 'closed', partition: 0, offset: 1n }],
    b: [{ topic: 't', partition: 0, offset: 10n }],
  });
  const hw = (topic: string, p: number) => (topic === 't' ? [10n, 11n][p] : undefined);
  assert.deepEqual(await consumerGroupLag(offsets, hw), [
    { group: 'a', topic: 't', partition: 0, lag: 6 },
    { group: 'a', topic: 't', partition: 1, lag: 0 },
    { group: 'b', topic: 't', partition: 0, lag: 0 },
  ]);
});

test('the agent exposes the lag of a group on /metrics', { timeout: 60_000 }, async () => {
  const broker = await startTestBroker();
  try {
    const kafka = new Kafka({ clientId: 'lag', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'lagged', numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'lagged', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'behind', topic: 'lagged', partitions: [{ partition: 0, offset: '3' }] });
    await admin.disconnect();
    const body = await (await fetch(`http://127.0.0.1:${broker.agent.httpPort}/metrics`)).text();
    assert.match(body, /streamhouse_consumer_group_lag\{group="behind",topic="lagged",partition="0"\} 7/);
  } finally {
    await broker.stop();
  }
});
