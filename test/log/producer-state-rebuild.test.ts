// The producer-state rebuild over segment objects: which segments are replayed (the byte bound),
// the header-only scan (huge batches skipped after their header, markers read whole), and the
// state reset at a cut or an unreadable segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../src/observability/logger.js';
import type { MetadataStore, ProducerStateSnapshot, SegmentRecord } from '../../src/metadata/types.js';
import { ObjectNotFoundError, type ObjectStore } from '../../src/s3/index.js';
import { BatchHeader, buildBatchSync, buildControlBatch } from '../../src/protocol/records/index.js';
import { BlockCache } from '../../src/log/block-cache.js';
import { SegmentReader } from '../../src/log/segment-reader.js';
import { encodeSegment } from '../../src/log/segment-format.js';
import { planRebuild, rebuildProducerState, scanSegmentHeaders } from '../../src/log/producer-state-rebuild.js';
import { ProducerStateManager } from '../../src/coordinator/producer/producer-state-manager.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';

const TOPIC = '00000000-0000-4000-8000-000000000001';

/** Objects in memory; counts the bytes range GETs returned. */
class MemoryObjects {
  readonly objects = new Map<string, Buffer>();
  bytesRead = 0;
  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    const o = this.objects.get(key);
    if (!o) throw new ObjectNotFoundError(key, 'memory');
    const b = o.subarray(start, Math.min(end, o.length));
    this.bytesRead += b.length;
    return b;
  }
}

function seg(baseOffset: bigint, lastOffset: bigint, sizeBytes: number, key = `k${baseOffset}`): SegmentRecord {
  return { topicId: TOPIC, partition: 0, baseOffset, lastOffset, sizeBytes, maxTimestamp: 0n, objectKey: key, leaderEpoch: 0, createdAt: 0 };
}

/** Writes batches (offsets already set) as one segment object. */
function putSegment(objects: MemoryObjects, batches: Buffer[]): SegmentRecord {
  const enc = encodeSegment(batches);
  const key = `topics/${TOPIC}/0/${enc.baseOffset}.seg`;
  objects.objects.set(key, enc.body);
  return seg(enc.baseOffset, enc.lastOffset, enc.body.length, key);
}

function data(baseOffset: bigint, pid: bigint, seq: number, opts: { transactional?: boolean; bytes?: number } = {}): Buffer {
  return buildBatchSync({
    records: [{ value: Buffer.alloc(opts.bytes ?? 10, 1) }],
    baseOffset,
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    transactional: opts.transactional,
  });
}

function recordingLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), info: () => undefined } as unknown as Logger;
  return { log, warnings };
}

function deps(objects: MemoryObjects, producerState: ProducerStateManager, snapshot: ProducerStateSnapshot | null = null) {
  const store = { segments: { latestProducerState: async () => snapshot } } as unknown as MetadataStore;
  const { log, warnings } = recordingLog();
  const reader = new SegmentReader(new BlockCache(objects as unknown as ObjectStore));
  return { d: { store, objects: objects as unknown as ObjectStore, reader, log, producerState }, warnings };
}

function checkSeq(ps: ProducerStateManager, pid: bigint, seq: number) {
  const header = new BatchHeader(data(0n, pid, seq));
  return ps.check({ topicId: TOPIC, partition: 0, header, transactionalId: null });
}

test('planRebuild: segments after the snapshot, newest first within the byte bound', () => {
  const segs = [seg(0n, 9n, 100), seg(10n, 19n, 100), seg(20n, 29n, 100), seg(30n, 39n, 100)];
  assert.deepEqual(planRebuild(segs, 39n, 1000), { replay: [], fromSnapshot: true, skipped: [] });
  const some = planRebuild(segs, 19n, 1000);
  assert.deepEqual(some.replay.map((s) => s.baseOffset), [20n, 30n]);
  assert.equal(some.fromSnapshot, true);
  const none = planRebuild(segs, null, 1000);
  assert.deepEqual(none.replay.map((s) => s.baseOffset), [0n, 10n, 20n, 30n]);
  const cut = planRebuild(segs, 9n, 250);
  assert.deepEqual(cut.replay.map((s) => s.baseOffset), [20n, 30n]);
  assert.deepEqual(cut.skipped.map((s) => s.baseOffset), [10n]);
  assert.equal(cut.fromSnapshot, false, 'the snapshot does not connect to the replayed segments');
  assert.equal(planRebuild(segs, null, 50).replay.length, 0);
});

test('scanSegmentHeaders: a huge batch is skipped after its header, a marker is read whole', async () => {
  const objects = new MemoryObjects();
  const big = 6 * 1024 * 1024;
  const s = putSegment(objects, [
    data(0n, 7n, 0, { transactional: true }),
    data(1n, 7n, 1, { transactional: true, bytes: big }),
    buildControlBatch({ marker: 'abort', producerId: 7n, producerEpoch: 0, coordinatorEpoch: 3, baseOffset: 2n }),
    data(3n, 8n, 0),
  ]);
  const reader = new SegmentReader(new BlockCache(objects as unknown as ObjectStore));
  const seen: { base: bigint; control: boolean; whole: boolean }[] = [];
  const r = await scanSegmentHeaders(objects as unknown as ObjectStore, reader, s, (h) => {
    seen.push({ base: h.baseOffset, control: h.isControl, whole: h.buf.length - h.start >= h.sizeInBytes });
  });
  assert.equal(r.batches, 4);
  assert.deepEqual(seen.map((x) => x.base), [0n, 1n, 2n, 3n]);
  assert.ok(seen[2]!.control && seen[2]!.whole, 'the control batch is whole');
  assert.ok(r.bytesRead < big / 4, `read ${r.bytesRead} bytes of a ${s.sizeBytes}-byte segment`);
});

test('rebuild replays markers: the aborted index and an open transaction come back', async () => {
  const objects = new MemoryObjects();
  const s1 = putSegment(objects, [
    data(0n, 7n, 0, { transactional: true }),
    buildControlBatch({ marker: 'abort', producerId: 7n, producerEpoch: 0, coordinatorEpoch: 1, baseOffset: 1n }),
  ]);
  const s2 = putSegment(objects, [data(2n, 7n, 1, { transactional: true }), data(3n, 8n, 0)]);
  const ps = new ProducerStateManager();
  const { d } = deps(objects, ps);
  assert.equal(await rebuildProducerState(d, TOPIC, 0, [s1, s2], 0n), 3n);
  assert.deepEqual(ps.abortedTransactions(TOPIC, 0, 0n, 10n), [{ producerId: 7n, firstOffset: 0n }]);
  assert.equal(ps.lastStableOffset(TOPIC, 0, 4n), 2n);
  const dup = checkSeq(ps, 8n, 0);
  assert.equal(dup?.duplicateOf.baseOffset, 3n, 'the non-transactional producer of the last segment is known');
  // The committed state advanced too: the next segment's snapshot includes the rebuilt producers.
  const snap = JSON.parse(ps.segmentSnapshot(TOPIC, 0, [data(4n, 9n, 0)]).toString()) as { producers: { id: string }[] };
  assert.deepEqual(snap.producers.map((p) => p.id).sort(), ['7', '8', '9']);
});

test('rebuild past the bound starts empty at the cut and says so', async () => {
  const objects = new MemoryObjects();
  const s1 = putSegment(objects, [data(0n, 7n, 0), data(1n, 7n, 1)]);
  const s2 = putSegment(objects, [data(2n, 8n, 0), data(3n, 8n, 1)]);
  const ps = new ProducerStateManager({ rebuildMaxBytes: s2.sizeBytes });
  const { d, warnings } = deps(objects, ps);
  await rebuildProducerState(d, TOPIC, 0, [s1, s2], 0n);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rebuild bounded/);
  assert.equal(checkSeq(ps, 7n, 9), null, 'a producer seen only before the cut is unknown: any sequence is accepted');
  assert.throws(() => checkSeq(ps, 8n, 9), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
});

test('an unreadable segment resets the state after it instead of failing the open', async () => {
  const objects = new MemoryObjects();
  const s1 = putSegment(objects, [data(0n, 7n, 0)]);
  const s2 = putSegment(objects, [data(1n, 8n, 0)]);
  const s3 = putSegment(objects, [data(2n, 9n, 0)]);
  objects.objects.delete(s2.objectKey);
  const ps = new ProducerStateManager();
  const { d, warnings } = deps(objects, ps);
  assert.equal(await rebuildProducerState(d, TOPIC, 0, [s1, s2, s3], 0n), 2n);
  assert.equal(warnings.length, 1);
  assert.equal(checkSeq(ps, 7n, 5), null, 'state from before the hole is dropped');
  assert.throws(() => checkSeq(ps, 9n, 5), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
});
