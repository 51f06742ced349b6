// Transaction markers for partitions another agent leads: ClusterMarkerWriter sends WriteTxnMarkers
// through PeerClients to a real broker (the "remote" agent) and the effect is read back with
// read_committed fetches. No PostgreSQL: a fake cluster view says who leads what.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync } from 'node:fs';
import type { Transaction } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { createTopic, kafka, rawFetch, decodeAll, batchHeaders } from '../handlers/data-path.js';
import { PeerClients } from '../../src/cluster/peer-clients.js';
import type { BrokerEndpoint, PartitionLeader } from '../../src/cluster/cluster-view.js';
import { ClusterMarkerWriter } from '../../src/coordinator/txn/cluster-marker-writer.js';
import type { MarkerWriter } from '../../src/coordinator/txn/txn-coordinator.js';
import type { TxnPartition } from '../../src/coordinator/txn/txn-metadata.js';
import { ApiKey, MetadataRequestMessage, MetadataResponseMessage } from '../../src/protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { ConnectionError } from '../../src/client/errors.js';

/** Who leads what, as the test says: every partition is led by `remoteId` unless listed as local. */
class FakeView {
  readonly endpoints: BrokerEndpoint[] = [];
  readonly localTopicIds = new Set<string>();
  constructor(
    readonly localNodeId: number,
    readonly remoteId: number,
  ) {}
  brokers(): BrokerEndpoint[] {
    return this.endpoints;
  }
  leader(topicId: string): PartitionLeader {
    return { leaderId: this.localTopicIds.has(topicId) ? this.localNodeId : this.remoteId, leaderEpoch: 0 };
  }
  pointAt(nodeId: number, port: number): void {
    const i = this.endpoints.findIndex((b) => b.nodeId === nodeId);
    if (i >= 0) this.endpoints.splice(i, 1);
    this.endpoints.push({ nodeId, host: '127.0.0.1', port, rack: null });
  }
}

class RecordingLocalWriter implements MarkerWriter {
  readonly calls: { p: TxnPartition; producerId: bigint; marker: string }[] = [];
  async writeMarker(p: TxnPartition, producerId: bigint, _producerEpoch: number, _coordinatorEpoch: number, marker: 'commit' | 'abort'): Promise<void> {
    this.calls.push({ p, producerId, marker });
  }
}

let broker: TestBroker;
let raw: RawClient;
let proxy: RecordingProxy;
let view: FakeView;
let local: RecordingLocalWriter;
let peers: PeerClients;
let writer: ClusterMarkerWriter;

before(async () => {
  broker = await startTestBroker();
  raw = await RawClient.connect(broker.port);
  // The remote agent is reached through a recording proxy, so the tests can count requests.
  proxy = await startRecordingProxy(() => broker.port);
  const remoteId = broker.agent.context.cluster.localNodeId;
  view = new FakeView(remoteId + 7, remoteId);
  view.pointAt(remoteId, proxy.port);
  local = new RecordingLocalWriter();
  peers = new PeerClients(view, { requestTimeoutMs: 5000, connectTimeoutMs: 2000 });
  writer = new ClusterMarkerWriter(local, view, peers);
});

after(async () => {
  peers.close();
  raw.close();
  await proxy.close();
  await broker.stop();
});

/** Records a read_committed consumer sees, and the partition's last stable offset and high watermark. */
async function committed(topic: string, partition = 0): Promise<{ values: string[]; lso: bigint; hw: bigint }> {
  const res = await rawFetch(raw, topic, partition, 0n, { isolationLevel: 1 });
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, ErrorCode.NONE);
  const aborted = new Set((p.abortedTransactions ?? []).map((a) => a.producerId));
  const values: string[] = [];
  let pos = 0;
  for (const h of batchHeaders(p.records)) {
    const bytes = p.records!.subarray(pos, pos + h.sizeInBytes);
    pos += h.sizeInBytes;
    if (h.isControl || aborted.has(h.producerId)) continue;
    for (const r of await decodeAll(bytes)) values.push(r.value?.toString() ?? '');
  }
  return { values, lso: p.lastStableOffset, hw: p.highWatermark };
}

/**
 * Opens a transaction on the remote agent that its own coordinator never ends: the test ends it
 * through a marker. Returns what the coordinator would put into WriteTxnMarkers.
 */
async function openTransaction(transactionalId: string, sends: { topic: string; partition: number; value: string }[]) {
  const producer = kafka(broker, transactionalId).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const txn: Transaction = await producer.transaction();
  for (const s of sends) await txn.send({ topic: s.topic, messages: [{ partition: s.partition, value: s.value }] });
  const r = broker.agent.context.transactions!.get(transactionalId)!;
  return {
    producerId: r.producerId,
    producerEpoch: r.producerEpoch,
    partitions: r.partitions,
    /** Lets the remote coordinator finish its own bookkeeping; the partitions are already closed. */
    async end() {
      await txn.abort().catch(() => undefined);
      await producer.disconnect();
    },
  };
}

function writeTxnMarkersFrames(): number {
  return proxy.frames.filter((f) => f.apiKey === ApiKey.WriteTxnMarkers).length;
}

test('a commit marker sent to the leading agent makes the open transaction readable', async () => {
  await createTopic(broker, 'pm-commit');
  const t = await openTransaction('pm-commit-id', [{ topic: 'pm-commit', partition: 0, value: 'a' }, { topic: 'pm-commit', partition: 0, value: 'b' }]);
  let seen = await committed('pm-commit');
  assert.deepEqual(seen.values, []);
  assert.equal(seen.lso, 0n, 'the open transaction holds the last stable offset');

  const before = writeTxnMarkersFrames();
  await writer.writeMarker(t.partitions[0]!, t.producerId, t.producerEpoch, 0, 'commit');
  assert.equal(writeTxnMarkersFrames(), before + 1, 'the marker went over WriteTxnMarkers');
  assert.equal(local.calls.length, 0, 'the local writer is not used for a remote leader');

  seen = await committed('pm-commit');
  assert.deepEqual(seen.values, ['a', 'b']);
  assert.equal(seen.lso, seen.hw, 'nothing is unstable after the marker');
  assert.equal(seen.hw, 3n, 'two records and the marker');
  await t.end();
});

test('the request names this agent in its client id and uses the flexible version', async () => {
  const topic = await createTopic(broker, 'pm-client-id');
  const before = proxy.frames.length;
  await writer.writeMarker({ topic: 'pm-client-id', topicId: topic.id, partition: 0 }, 31n, 0, 0, 'abort');
  const frame = proxy.frames.slice(before).find((f) => f.apiKey === ApiKey.WriteTxnMarkers);
  assert.ok(frame, 'a WriteTxnMarkers request was recorded');
  assert.equal(frame.apiVersion, 1);
  const len = frame.bytes.readInt16BE(8);
  assert.equal(frame.bytes.subarray(10, 10 + len).toString(), `streamhouse-agent-${view.localNodeId}`);
});

test('an abort marker hides the records from read_committed consumers', async () => {
  await createTopic(broker, 'pm-abort');
  const t = await openTransaction('pm-abort-id', [{ topic: 'pm-abort', partition: 0, value: 'never' }]);
  await writer.writeMarker(t.partitions[0]!, t.producerId, t.producerEpoch, 0, 'abort');
  const seen = await committed('pm-abort');
  assert.deepEqual(seen.values, []);
  assert.equal(seen.lso, seen.hw);
  assert.equal(seen.hw, 2n, 'the record and the abort marker');
  await t.end();
});

test('the partitions of one transaction bound for one agent go in one request', async () => {
  await createTopic(broker, 'pm-batch', 3);
  const t = await openTransaction('pm-batch-id', [0, 1, 2].map((partition) => ({ topic: 'pm-batch', partition, value: `v${partition}` })));
  assert.equal(t.partitions.length, 3);
  const before = writeTxnMarkersFrames();
  // As the coordinator does: every partition at once.
  await Promise.all(t.partitions.map((tp) => writer.writeMarker(tp, t.producerId, t.producerEpoch, 0, 'commit')));
  assert.equal(writeTxnMarkersFrames(), before + 1);
  for (const partition of [0, 1, 2]) assert.deepEqual((await committed('pm-batch', partition)).values, [`v${partition}`]);
  await t.end();
});

test('a partition the leader does not have is UNKNOWN_TOPIC_OR_PARTITION, naming topic, partition and node', async () => {
  const topic = await createTopic(broker, 'pm-unknown');
  const rejectsUnknown = (p: TxnPartition) =>
    assert.rejects(writer.writeMarker(p, 4242n, 0, 0, 'commit'), (err: unknown) => {
      assert.ok(err instanceof KafkaError);
      assert.equal(err.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.match(err.message, new RegExp(`${p.topic}-${p.partition} at node ${view.remoteId}`));
      return true;
    });
  await rejectsUnknown({ topic: 'pm-unknown', topicId: topic.id, partition: 5 });
  await rejectsUnknown({ topic: 'pm-no-such-topic', topicId: '00000000-0000-0000-0000-00000000abcd', partition: 0 });
  // One bad partition in a batch does not fail the others.
  const results = await Promise.allSettled([
    writer.writeMarker({ topic: 'pm-unknown', topicId: topic.id, partition: 0 }, 4243n, 0, 0, 'abort'),
    writer.writeMarker({ topic: 'pm-unknown', topicId: topic.id, partition: 9 }, 4243n, 0, 0, 'abort'),
  ]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
});

test('a fenced coordinator epoch comes back as the partition error', async () => {
  await createTopic(broker, 'pm-fenced');
  const t = await openTransaction('pm-fenced-id', [{ topic: 'pm-fenced', partition: 0, value: 'x' }]);
  await writer.writeMarker(t.partitions[0]!, t.producerId, t.producerEpoch, 3, 'commit');
  await assert.rejects(writer.writeMarker(t.partitions[0]!, t.producerId, t.producerEpoch, 2, 'commit'), (err: unknown) => {
    assert.ok(err instanceof KafkaError);
    assert.equal(err.code, ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    return true;
  });
  assert.deepEqual((await committed('pm-fenced')).values, ['x']);
  await t.end();
});

test('a partition this agent leads goes to the local writer, not over the network', async () => {
  const topic = await createTopic(broker, 'pm-local');
  view.localTopicIds.add(topic.id);
  const before = writeTxnMarkersFrames();
  const tp = { topic: 'pm-local', topicId: topic.id, partition: 0 };
  await writer.writeMarker(tp, 77n, 1, 0, 'abort');
  assert.deepEqual(local.calls, [{ p: tp, producerId: 77n, marker: 'abort' }]);
  assert.equal(writeTxnMarkersFrames(), before);
  assert.equal((await committed('pm-local')).hw, 0n, 'nothing was written on the remote agent');
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('an unreachable peer rejects; once the view points at a live address the marker goes through', async () => {
  const topic = await createTopic(broker, 'pm-moved');
  const tp = { topic: 'pm-moved', topicId: topic.id, partition: 0 };
  view.pointAt(view.remoteId, await closedPort());
  await assert.rejects(writer.writeMarker(tp, 5150n, 0, 0, 'commit'), (err: unknown) => {
    assert.ok(err instanceof Error && !(err instanceof KafkaError));
    assert.match(err.message, new RegExp(`pm-moved-0 at node ${view.remoteId} not written: agent node ${view.remoteId} at 127\\.0\\.0\\.1:\\d+ is unreachable`));
    return true;
  });
  view.pointAt(view.remoteId, proxy.port);
  await writer.writeMarker(tp, 5150n, 0, 0, 'commit');
  assert.equal((await committed('pm-moved')).hw, 1n, 'the marker was written');
});

test('a node missing from the view is reported as such', async () => {
  const peersOnly = new PeerClients({ localNodeId: 1, brokers: () => [] });
  await assert.rejects(peersOnly.connection(9), /node 9 is not a live broker/);
  peersOnly.close();
});

test('PeerClients: concurrent callers share one connection; close() closes it and refuses more', async () => {
  const p = new PeerClients({ localNodeId: 99, brokers: () => [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }] });
  const [a, b, c] = await Promise.all([p.connection(1), p.connection(1), p.connection(1)]);
  assert.equal(a, b);
  assert.equal(b, c);
  const { response } = await p.request(1, MetadataRequestMessage, MetadataResponseMessage, { topics: [] });
  assert.equal(response.brokers.length, 1);
  p.close();
  assert.equal(a.closed, true);
  await assert.rejects(p.connection(1), ConnectionError);
});

test('the peer restarting on the same address: the broken connection is dropped and reopened', async () => {
  // Its own broker, so stopping it does not disturb the other tests.
  const remote = await startTestBroker();
  const port = remote.port;
  const dataDir = remote.dataDir;
  const remoteId = remote.agent.context.cluster.localNodeId;
  const v = new FakeView(remoteId + 1, remoteId);
  v.pointAt(remoteId, port);
  const p = new PeerClients(v, { requestTimeoutMs: 5000, connectTimeoutMs: 2000 });
  const w = new ClusterMarkerWriter(new RecordingLocalWriter(), v, p);
  let running: TestBroker | null = remote;
  try {
    const topic = await remote.agent.context.topics.create({ name: 'pm-restart', partitions: 1, configs: {} });
    const tp = { topic: 'pm-restart', topicId: topic.id, partition: 0 };
    await w.writeMarker(tp, 6001n, 0, 0, 'commit');
    const first = await p.connection(remoteId);

    await remote.stop({ keepData: true });
    running = null;
    await assert.rejects(w.writeMarker(tp, 6002n, 0, 0, 'commit'), (err: unknown) => !(err instanceof KafkaError));
    assert.equal(first.closed, true);

    running = await startTestBroker({ dataDir, kafkaPort: port });
    await w.writeMarker(tp, 6003n, 0, 0, 'commit');
    assert.notEqual(await p.connection(remoteId), first, 'a new connection was opened');
    const again = await RawClient.connect(port);
    try {
      // Fetch answers may stop at a segment boundary (the restart closed one): read up to the high watermark.
      const markers: bigint[] = [];
      for (let offset = 0n, hw = 1n; offset < hw; ) {
        const part = (await rawFetch(again, 'pm-restart', 0, offset, { isolationLevel: 1 })).responses[0]!.partitions[0]!;
        hw = part.highWatermark;
        const headers = batchHeaders(part.records).filter((h) => h.baseOffset >= offset);
        assert.ok(headers.length > 0, `a batch at offset ${offset} below the high watermark ${hw}`);
        for (const h of headers) if (h.isControl) markers.push(h.producerId);
        offset = headers[headers.length - 1]!.baseOffset + BigInt(headers[headers.length - 1]!.lastOffsetDelta) + 1n;
      }
      assert.deepEqual(markers, [6001n, 6003n], 'the markers before the stop and after the restart are in the log');
    } finally {
      again.close();
    }
  } finally {
    p.close();
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
