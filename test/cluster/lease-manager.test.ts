// LeaseManager pieces that need no cluster: one agent over an SQLite store (the leases, agents and
// partition rows are the same tables PostgreSQL has) and a real WAL directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openMetadataStore } from '../../src/metadata/index.js';
import { LeaseManager } from '../../src/cluster/lease-manager.js';
import { WriteAheadLog } from '../../src/wal/wal.js';
import { silentLogger } from '../../src/observability/logger.js';
import { tempDir } from '../wal/helpers.js';

test("a log reopened under the same lease replays this agent's own unflushed WAL records of that epoch", async (t) => {
  const walDir = tempDir(t);
  const store = await openMetadataStore('sqlite::memory:');
  const topic = await store.topics.createTopic({ name: 't', id: randomUUID(), partitions: 1, configs: {} });
  const leases = new LeaseManager({
    store,
    agentId: 'agent-a',
    host: '127.0.0.1',
    port: 9092,
    rack: null,
    walDir,
    leaseTimeoutMs: 60_000,
    groupShards: 1,
    log: silentLogger(),
  });
  await leases.register();
  await leases.runRound(); // places the partition here and takes its lease (no logs to open)
  const epoch = await leases.leaseFor(topic, 0);
  assert.equal(typeof epoch, 'number');

  // The log under this lease appended offsets 0-9 and 10-19 to the WAL; nothing was uploaded.
  const wal = await WriteAheadLog.open({ dir: walDir, syncMode: 'always' });
  const frame = (base: number, leaderEpoch: number) => ({
    topicId: topic.id,
    partition: 0,
    baseOffset: BigInt(base),
    lastOffset: BigInt(base + 9),
    leaderEpoch,
    data: Buffer.from(`batch-${base}`),
  });
  await wal.append(frame(0, epoch!));
  await wal.append(frame(10, epoch!));
  await wal.append(frame(20, epoch! - 1)); // an older tenure's frame is not ours to replay

  const records = await leases.recoveryRecords(topic.id, 0, epoch!, 0n);
  assert.deepEqual(
    records.map((r) => [r.baseOffset, r.data.toString()]),
    [
      [0n, 'batch-0'],
      [10n, 'batch-10'],
    ],
  );
  // Above the committed end only.
  assert.deepEqual((await leases.recoveryRecords(topic.id, 0, epoch!, 10n)).map((r) => r.baseOffset), [10n]);
  await wal.close();
  await leases.stop();
  await store.close();
});
