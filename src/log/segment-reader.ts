// Reads batches out of committed segment objects: the footer index is fetched once per object and
// kept in a small LRU, batch bytes come through the block cache (range GETs, read-ahead).
import type { SegmentRecord } from '../metadata/types.js';
import { BatchHeader } from '../protocol/records/index.js';
import type { BlockCache } from './block-cache.js';
import { decodeFooter, entryEnd, findEntry, type SegmentIndex } from './segment-format.js';

/** First GET of an object's end: enough for the trailer and ~3000 index entries. */
const FOOTER_PROBE_BYTES = 64 * 1024;

export interface SegmentBatches {
  /** Whole batches, in offset order, as one buffer (a view into cached blocks when possible). */
  data: Buffer;
  /** Next offset after the last returned batch, or null when nothing was returned. */
  nextOffset: bigint | null;
}

export class SegmentReader {
  private readonly indexes = new Map<string, Promise<SegmentIndex>>();

  constructor(
    private readonly cache: BlockCache,
    private readonly maxIndexes = 4096,
  ) {}

  /** Keeps the index of an object this agent just wrote. */
  seedIndex(key: string, index: SegmentIndex): void {
    this.remember(key, Promise.resolve(index));
  }

  forget(key: string): void {
    this.indexes.delete(key);
    this.cache.evictObject(key);
  }

  index(seg: SegmentRecord): Promise<SegmentIndex> {
    const known = this.indexes.get(seg.objectKey);
    if (known) {
      this.indexes.delete(seg.objectKey);
      this.indexes.set(seg.objectKey, known);
      return known;
    }
    const p = this.loadIndex(seg);
    p.catch(() => this.indexes.delete(seg.objectKey));
    this.remember(seg.objectKey, p);
    return p;
  }

  /**
   * Batches from the one holding `offset` onwards, whole, below `limit` (exclusive), within
   * `maxBytes` (the first batch may exceed it when `minOneBatch`).
   */
  async read(seg: SegmentRecord, offset: bigint, limit: bigint, maxBytes: number, minOneBatch: boolean): Promise<SegmentBatches> {
    const index = await this.index(seg);
    if (index.entries.length === 0) return { data: Buffer.alloc(0), nextOffset: null };
    let i = findEntry(index, offset);
    const first = i;
    let end = index.entries[i].position;
    while (i < index.entries.length && index.entries[i].baseOffset < limit) {
      const next = entryEnd(index, i);
      const total = next - index.entries[first].position;
      if (total > maxBytes && !(minOneBatch && i === first)) break;
      end = next;
      i++;
    }
    const start = index.entries[first].position;
    if (end <= start) return { data: Buffer.alloc(0), nextOffset: null };
    let data = await this.cache.read(seg.objectKey, start, end, seg.sizeBytes);
    // The batch found may end before `offset` when the log has a gap; drop it.
    let nextOffset: bigint | null = null;
    let pos = 0;
    let skip = 0;
    while (pos < data.length) {
      const h = new BatchHeader(data, pos);
      if (h.lastOffset < offset && pos === skip) skip = pos + h.sizeInBytes;
      nextOffset = h.nextOffset;
      pos += h.sizeInBytes;
    }
    if (skip > 0) data = data.subarray(skip);
    return { data, nextOffset: data.length > 0 ? nextOffset : null };
  }

  /** The whole batch at index entry `i` of `seg`. */
  async batchAt(seg: SegmentRecord, i: number): Promise<Buffer> {
    const index = await this.index(seg);
    return this.cache.read(seg.objectKey, index.entries[i].position, entryEnd(index, i), seg.sizeBytes);
  }

  private async loadIndex(seg: SegmentRecord): Promise<SegmentIndex> {
    const size = seg.sizeBytes;
    let want = Math.min(size, FOOTER_PROBE_BYTES);
    for (;;) {
      const tail = await this.cache.read(seg.objectKey, size - want, size, size);
      const r = decodeFooter(tail, size, seg.objectKey);
      if ('entries' in r) return r;
      want = r.need;
    }
  }

  private remember(key: string, p: Promise<SegmentIndex>): void {
    this.indexes.set(key, p);
    while (this.indexes.size > this.maxIndexes) this.indexes.delete(this.indexes.keys().next().value!);
  }
}
