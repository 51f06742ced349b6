// A byte-bounded LRU cache of fixed-size blocks of immutable objects (segments never change once
// written, so a cached block is never stale). Reads are range GETs of whole blocks; concurrent
// misses on one block share one GET. A read that continues where the previous read of the same
// object ended starts fetching the next block in the background (read-ahead for sequential
// consumers catching up from object storage).
import type { ObjectStore } from '../s3/index.js';
import type { LogMetrics } from './log-metrics.js';

export interface BlockCacheOptions {
  /** Bound on cached bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Block size. Default 1 MiB. */
  blockBytes?: number;
  /** Blocks fetched ahead of a sequential reader. Default 1. */
  readAheadBlocks?: number;
  /** Told of every hit and miss (the agent's Prometheus counters). */
  metrics?: Pick<LogMetrics, 'cacheHit' | 'cacheMiss'>;
}

export class BlockCache {
  readonly maxBytes: number;
  readonly blockBytes: number;
  private readonly readAhead: number;
  private readonly metrics: Pick<LogMetrics, 'cacheHit' | 'cacheMiss'> | undefined;
  /** Map order is LRU order: the first key is the least recently used. */
  private readonly blocks = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  /** Where the last read of each object ended, to spot sequential readers. */
  private readonly lastEnd = new Map<string, number>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: ObjectStore,
    opts: BlockCacheOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.blockBytes = opts.blockBytes ?? 1024 * 1024;
    this.readAhead = opts.readAheadBlocks ?? 1;
    this.metrics = opts.metrics;
  }

  usedBytes(): number {
    return this.bytes;
  }

  /** Bytes [start, end) of `key`, whose size is `objectSize`. */
  async read(key: string, start: number, end: number, objectSize: number): Promise<Buffer> {
    end = Math.min(end, objectSize);
    if (end <= start) return Buffer.alloc(0);
    const first = Math.floor(start / this.blockBytes);
    const last = Math.floor((end - 1) / this.blockBytes);
    const parts = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => this.block(key, first + i, objectSize)),
    );
    const sequential = this.lastEnd.get(key) === start;
    this.lastEnd.delete(key); // keep the map's order as recency, and its size bounded below
    this.lastEnd.set(key, end);
    if (this.lastEnd.size > 4096) this.lastEnd.delete(this.lastEnd.keys().next().value!);
    if (sequential) {
      for (let b = last + 1; b <= last + this.readAhead && b * this.blockBytes < objectSize; b++) {
        this.block(key, b, objectSize).catch(() => undefined);
      }
    }
    const base = first * this.blockBytes;
    if (parts.length === 1) return parts[0].subarray(start - base, end - base);
    // Copy only the wanted range, not every block it touches.
    const lastBase = last * this.blockBytes;
    parts[0] = parts[0].subarray(start - base);
    parts[parts.length - 1] = parts[parts.length - 1].subarray(0, end - lastBase);
    return Buffer.concat(parts, end - start);
  }

  /** Seeds the cache with a whole object just written (its bytes are at hand anyway). */
  put(key: string, body: Buffer): void {
    for (let b = 0; b * this.blockBytes < body.length; b++) {
      // Copy so the cached block does not pin the whole object buffer.
      this.insert(blockId(key, b), Buffer.from(body.subarray(b * this.blockBytes, (b + 1) * this.blockBytes)));
    }
  }

  /** Drops every block of `key` (deleted object). */
  evictObject(key: string): void {
    for (const id of [...this.blocks.keys()]) {
      if (id.startsWith(key + '#')) {
        this.bytes -= this.blocks.get(id)!.length;
        this.blocks.delete(id);
      }
    }
    this.lastEnd.delete(key);
  }

  private block(key: string, n: number, objectSize: number): Promise<Buffer> {
    const id = blockId(key, n);
    const hit = this.blocks.get(id);
    if (hit) {
      this.hits++;
      this.metrics?.cacheHit();
      this.blocks.delete(id);
      this.blocks.set(id, hit);
      return Promise.resolve(hit);
    }
    const pending = this.loading.get(id);
    if (pending) return pending;
    this.misses++;
    this.metrics?.cacheMiss();
    const start = n * this.blockBytes;
    const p = this.store
      .getRange(key, start, Math.min(start + this.blockBytes, objectSize))
      .then((buf) => {
        this.insert(id, buf);
        return buf;
      })
      .finally(() => this.loading.delete(id));
    this.loading.set(id, p);
    return p;
  }

  private insert(id: string, buf: Buffer): void {
    const old = this.blocks.get(id);
    if (old) {
      this.bytes -= old.length;
      this.blocks.delete(id);
    }
    if (buf.length > this.maxBytes) return;
    this.blocks.set(id, buf);
    this.bytes += buf.length;
    while (this.bytes > this.maxBytes) {
      const [oldest, b] = this.blocks.entries().next().value!;
      this.blocks.delete(oldest);
      this.bytes -= b.length;
    }
  }
}

function blockId(key: string, n: number): string {
  return `${key}#${n}`;
}
