// Fetch long polls share the connection's AbortSignal: each wait must take its listener (and its
// per-partition wake-ups) away again, or a long-lived consumer connection leaks them and Node
// prints MaxListenersExceededWarning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { fetchHandler } from '../../src/handlers/01-fetch.js';
import type { BrokerContext } from '../../src/handlers/context.js';
import type { RequestContext } from '../../src/handlers/types.js';
import type { FetchedData, PartitionLogHandle } from '../../src/log/types.js';
import type { TopicRecord } from '../../src/metadata/types.js';
import { createFetchRequest, type FetchRequest } from '../../src/protocol/generated/index.js';
import { createFetchPartition, createFetchTopic } from '../../src/protocol/generated/FetchRequest.js';

const PARTITIONS = 16;

/** A partition that never has records; counts its registered wake-ups. */
class IdlePartition {
  readonly waiters = new Set<() => void>();
  constructor(readonly partition: number) {}
  async read(): Promise<FetchedData> {
    return { records: Buffer.alloc(0), highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n, abortedTransactions: null };
  }
  watch(wake: () => void): () => void {
    const w = () => {
      this.waiters.delete(w);
      wake();
    };
    this.waiters.add(w);
    return () => void this.waiters.delete(w);
  }
  /** An append that moves nothing a fetch could read (the wait re-reads and waits again). */
  poke(): void {
    for (const w of [...this.waiters]) w();
  }
}

function setup() {
  const topic = { id: '6b1f2c1e-0000-4000-8000-000000000001', name: 'idle', partitions: PARTITIONS } as TopicRecord;
  const parts = Array.from({ length: PARTITIONS }, (_, i) => new IdlePartition(i));
  const logs = parts.map((p) => Object.assign(p, { leaderEpoch: 0, topicId: topic.id }) as unknown as PartitionLogHandle);
  const b = {
    topics: { get: async (name: string) => (name === topic.name ? topic : undefined), getById: async () => topic },
    logs: { partition: async (_t: TopicRecord, i: number) => logs[i] },
  } as unknown as BrokerContext;
  return { handler: fetchHandler(b), parts };
}

function request(maxWaitMs: number): FetchRequest {
  return {
    ...createFetchRequest(),
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    sessionEpoch: -1,
    topics: [
      {
        ...createFetchTopic(),
        topic: 'idle',
        partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ ...createFetchPartition(), partition: i, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })),
      },
    ],
  };
}

test('1000 long polls on one connection leave no abort listeners and no partition wake-ups behind', async () => {
  const { handler, parts } = setup();
  const connection = new AbortController();
  const ctx = { apiKey: 1, apiVersion: 12, correlationId: 1, clientId: 'c', clientHost: '127.0.0.1', signal: connection.signal, log: { error() {} } } as unknown as RequestContext;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    for (let i = 0; i < 1000; i++) {
      const pending = handler.handle(request(i % 2 === 0 ? 1 : 5), ctx);
      // Odd polls are woken by an append on one partition before their MaxWaitMs.
      if (i % 2 === 1) setImmediate(() => parts[i % PARTITIONS].poke());
      const res = await pending;
      assert.equal(res!.responses[0].partitions.length, PARTITIONS);
      assert.equal(getEventListeners(connection.signal, 'abort').length, 0, `listeners left after poll ${i}`);
    }
    for (const p of parts) assert.equal(p.waiters.size, 0, `partition ${p.partition} keeps wake-ups`);
    // A disconnect still ends a wait at once, and cleans up.
    const t0 = Date.now();
    const pending = handler.handle(request(10_000), ctx);
    setTimeout(() => connection.abort(), 20);
    await pending;
    assert.ok(Date.now() - t0 < 2000, 'the disconnect ended the long poll');
    for (const p of parts) assert.equal(p.waiters.size, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});
