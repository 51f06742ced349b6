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

test('after a store outage, the first agent back leaves the leases of the others for them to renew', async () => {
  const real = await openMetadataStore('sqlite::memory:');
  let down = false;
  // The same store seen through a switch: while `down`, every call fails as an unreachable database would.
  const through = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(o, k) {
        const v = Reflect.get(o, k);
        if (typeof v === 'function') {
          return (...args: unknown[]) => {
            if (down) return Promise.reject(new Error('connection refused'));
            return v.apply(o, args);
          };
        }
        return v !== null && typeof v === 'object' ? through(v) : v;
      },
    });
  const store = through(real);
  const topic = await real.topics.createTopic({ name: 't', id: randomUUID(), partitions: 8, configs: {} });
  const agent = (agentId: string) => {
    const m = new LeaseManager({ store, agentId, host: '127.0.0.1', port: 9092, rack: null, walDir: '/nonexistent', leaseTimeoutMs: 300, groupShards: 2, log: silentLogger() });
    m.topics = { refresh: async () => undefined, getById: async (id) => (await real.topics.getTopicById(id)) ?? undefined };
    return m;
  };
  const a = agent('agent-a');
  const b = agent('agent-b');
  await a.register();
  await b.register();
  for (let i = 0; i < 3; i++) {
    await a.runRound();
    await b.runRound();
  }
  const held = (m: LeaseManager) => m.heldLeases().filter((l) => l.resource.startsWith('partition/')).length;
  assert.equal(held(a) + held(b), 8);
  assert.ok(held(b) > 0, 'both agents lead partitions');
  const bHeld = b.heldLeases().map((l) => l.resource).sort();

  down = true;
  await a.runRound();
  await b.runRound();
  await new Promise((r) => setTimeout(r, 400)); // longer than the lease: every heartbeat is stale
  down = false;
  await a.runRound(); // a is back first: b looks dead, but its leases are left alone
  const rows = await real.partitions.listAllPartitions();
  assert.equal(rows.filter((r) => r.topicId === topic.id && r.leaderAgent === 'agent-a').length, 8 - bHeld.filter((r) => r.startsWith('partition/')).length);
  await b.runRound(); // b renews what it held: nothing moved
  assert.deepEqual(b.heldLeases().map((l) => l.resource).sort(), bHeld);
  await a.stop();
  await b.stop();
  await real.close();
});
