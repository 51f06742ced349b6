// Producer state at partition open: the newest segment snapshot, then every committed segment
// after it replayed batch by batch. Normally the newest segment carries a snapshot and nothing is
// read. Segments without one (written before snapshots existed, or a snapshot lost) would
// otherwise leave the state empty, and a retried idempotent batch could be written twice.
//
// The scan reads only what the state needs: batch headers (producer id, epoch, sequences, offsets,
// transactional and control flags) and the one record of each control batch (the transaction
// marker). Batch regions are range-read straight from the object store in chunks of whole batches,
// not through the block cache, so a rebuild does not evict what consumers are reading; a batch
// bigger than a chunk is skipped after its header.
//
// Bound: at most `rebuildMaxBytes` of segments (newest first). When the segments past the snapshot
// exceed it, the state starts empty at the oldest segment within the bound: producers and
// transactions seen only before it are forgotten (their next batches are accepted at any
// sequence, as for an expired producer), and a warning says so. An unreadable segment (missing or
// corrupt object) resets the state the same way, since the state after a hole cannot be trusted.
import type { Logger } from '../observability/logger.js';
import type { MetadataStore, SegmentRecord } from '../metadata/types.js';
import { BatchHeader, RECORD_BATCH_OVERHEAD, RecordsError } from '../protocol/records/index.js';
import { ObjectNotFoundError, type ObjectStore } from '../s3/index.js';
import { entryEnd, SegmentFormatError } from './segment-format.js';
import type { SegmentReader } from './segment-reader.js';
import type { ProducerStateChecker } from './types.js';

export interface ProducerStateRebuildDeps {
  store: MetadataStore;
  objects: ObjectStore;
  reader: SegmentReader;
  log: Logger;
  producerState?: ProducerStateChecker;
}

/**
 * Used when the checker does not say. A day (producer.id.expiration.ms) of a partition written at
 * ~12 KiB/s; each scanned byte is read once from object storage, at open only.
 */
export const DEFAULT_REBUILD_MAX_BYTES = 1024 * 1024 * 1024;
/** Bytes per range GET of batches: big enough that requests are few, small enough to hold. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export interface RebuildPlan {
  /** Segments to replay, oldest first. */
  replay: SegmentRecord[];
  /** Whether replay starts from the snapshot (false: from empty state). */
  fromSnapshot: boolean;
  /** Segments past the snapshot left out by the bound. */
  skipped: SegmentRecord[];
}

/**
 * Which segments to replay: those ending after the snapshot (all when there is none), newest first
 * while their sizes fit in `maxBytes`. If some are left out, the snapshot no longer connects to the
 * replayed ones, so the replay starts empty.
 */
export function planRebuild(segments: readonly SegmentRecord[], snapshotLastOffset: bigint | null, maxBytes: number): RebuildPlan {
  const after = segments.filter((s) => snapshotLastOffset === null || s.lastOffset > snapshotLastOffset);
  let bytes = 0;
  let first = after.length;
  while (first > 0 && bytes + after[first - 1]!.sizeBytes <= maxBytes) bytes += after[--first]!.sizeBytes;
  const skipped = after.slice(0, first);
  return { replay: after.slice(first), fromSnapshot: skipped.length === 0, skipped };
}

/**
 * Loads the partition's producer state (snapshot plus segments after it) into the checker and
 * returns the last offset it covers (-1: none), above which WAL records are replayed.
 */
export async function rebuildProducerState(
  deps: ProducerStateRebuildDeps,
  topicId: string,
  partition: number,
  segments: readonly SegmentRecord[],
  logStartOffset: bigint,
): Promise<bigint> {
  const ps = deps.producerState;
  if (!ps?.load) return -1n;
  const snap = await deps.store.segments.latestProducerState(topicId, partition);
  const maxBytes = ps.rebuildMaxBytes ?? DEFAULT_REBUILD_MAX_BYTES;
  const plan = planRebuild(segments, snap?.lastOffset ?? null, maxBytes);
  let covered = ps.load(topicId, partition, plan.fromSnapshot ? (snap?.snapshot ?? null) : null);
  if (plan.replay.length === 0) return covered;

  const where = { topicId, partition };
  if (plan.skipped.length > 0) {
    deps.log.warn(
      {
        ...where,
        skippedSegments: plan.skipped.length,
        skippedBytes: plan.skipped.reduce((n, s) => n + s.sizeBytes, 0),
        rebuildFrom: plan.replay[0]!.baseOffset,
        snapshotLastOffset: snap?.lastOffset ?? null,
        rebuildMaxBytes: maxBytes,
      },
      'producer state rebuild bounded: older segments past the newest snapshot were not scanned, so producers and transactions seen only there are forgotten (raise rebuildMaxBytes to scan more)',
    );
  }
  const replay = ps.replayCommitted ?? ps.replay;
  const started = Date.now();
  let batches = 0;
  let bytesRead = 0;
  for (const seg of plan.replay) {
    try {
      const r = await scanSegmentHeaders(deps.objects, deps.reader, seg, (h) => {
        if (h.baseOffset <= covered) return; // already in the snapshot
        replay?.call(ps, topicId, partition, h, h.baseOffset);
        covered = h.lastOffset;
        batches++;
      });
      bytesRead += r.bytesRead;
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError || err instanceof SegmentFormatError || err instanceof RecordsError)) throw err;
      deps.log.warn({ ...where, err, key: seg.objectKey }, 'segment unreadable while rebuilding producer state; the state restarts empty after it');
      ps.load(topicId, partition, null);
      covered = seg.lastOffset;
    }
  }
  if (logStartOffset > 0n) ps.truncateHead?.(topicId, partition, logStartOffset);
  deps.log.info(
    { ...where, segments: plan.replay.length, batches, bytesRead, ms: Date.now() - started, snapshotLastOffset: plan.fromSnapshot ? (snap?.lastOffset ?? null) : null },
    'producer state rebuilt from segments without a snapshot',
  );
  return covered;
}

/**
 * Calls `visit` with the header of every batch of `seg`, in offset order. Control batches are
 * whole (their marker record is needed); other batches may be header-only views.
 */
export async function scanSegmentHeaders(
  objects: ObjectStore,
  reader: SegmentReader,
  seg: SegmentRecord,
  visit: (h: BatchHeader) => void,
): Promise<{ batches: number; bytesRead: number }> {
  const index = await reader.index(seg);
  const entries = index.entries;
  let bytesRead = 0;
  let i = 0;
  const get = async (start: number, end: number): Promise<Buffer> => {
    const buf = await objects.getRange(seg.objectKey, start, end);
    bytesRead += buf.length;
    if (buf.length !== end - start) {
      throw new SegmentFormatError(`segment ${seg.objectKey}: read ${buf.length} of bytes [${start}, ${end}); the object is shorter than its index says`);
    }
    return buf;
  };
  const checked = (h: BatchHeader, k: number): BatchHeader => {
    const want = entries[k]!;
    if (h.baseOffset !== want.baseOffset || h.sizeInBytes !== entryEnd(index, k) - want.position) {
      throw new SegmentFormatError(`segment ${seg.objectKey}: batch ${k} does not match the index (base offset ${h.baseOffset}, expected ${want.baseOffset})`);
    }
    return h;
  };
  while (i < entries.length) {
    const start = entries[i]!.position;
    let j = i;
    while (j < entries.length && entryEnd(index, j) - start <= CHUNK_BYTES) j++;
    if (j === i) {
      // One batch bigger than a chunk: its header is enough, unless it holds a marker.
      let h = new BatchHeader(await get(start, start + RECORD_BATCH_OVERHEAD));
      if (h.isControl) h = new BatchHeader(await get(start, entryEnd(index, i)));
      visit(checked(h, i));
      i++;
      continue;
    }
    const buf = await get(start, entryEnd(index, j - 1));
    for (let k = i; k < j; k++) visit(checked(new BatchHeader(buf, entries[k]!.position - start), k));
    i = j;
  }
  return { batches: entries.length, bytesRead };
}
