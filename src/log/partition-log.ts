// One partition's log on the leader: offset assignment, the in-memory tail, the high watermark,
// segment roll and upload, reads, retention and the log start offset.
//
// Write path (DESIGN.md): validate -> producer-state hook -> assign offsets by patching the client's
// batch in place -> WAL append -> tail -> the HW passes the batch at its profile's durability point
// -> waiting fetches wake. Offsets are assigned synchronously, so appends of one partition reach the
// WAL in offset order and become durable in that order. An append the WAL refuses is taken back out
// of the tail; if later batches already hold offsets above it, the log keeps a gap (consumers skip
// gaps, as after compaction), otherwise the next offset is rolled back.
//
// The tail holds whole batches as the client sent them (offsets patched). Durable batches are
// uploaded as one segment object once the tail reaches segment.bytes or its oldest batch is
// segment.ms old; after the segment row commits (fenced on the leader epoch) the batches leave the
// tail and the WAL is told it may drop them.
import type { Logger } from '../observability/logger.js';
import type { MetadataStore, NewSegment, SegmentRecord, TopicRecord } from '../metadata/types.js';
import { FencedError } from '../metadata/errors.js';
import { ErrorCode, KafkaError, kafkaError } from '../protocol/errors.js';
import {
  BatchHeader,
  patchBatch,
  readBatchRecords,
  setLogAppendTime,
  validateProduceRecords,
} from '../protocol/records/index.js';
import { ObjectNotFoundError, type ObjectStore } from '../s3/index.js';
import { WalError, type WriteAheadLog, type WalRecord } from '../wal/wal.js';
import type { BlockCache } from './block-cache.js';
import type { LogSettings } from './log-settings.js';
import { encodeSegment, segmentKey } from './segment-format.js';
import { rebuildProducerState } from './producer-state-rebuild.js';
import type { SegmentReader } from './segment-reader.js';
import {
  EARLIEST_LOCAL_TIMESTAMP,
  EARLIEST_TIMESTAMP,
  LATEST_TIERED_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  type AppendHandle,
  type AppendOptions,
  type AppendResult,
  type FetchedData,
  type PartitionLogHandle,
  type ProducerBatch,
  type ProducerStateChecker,
  type ReadOptions,
  type TimestampAndOffset,
} from './types.js';
import type { LogMetrics } from './log-metrics.js';

export interface PartitionLogDeps {
  store: MetadataStore;
  objects: ObjectStore;
  /** null: no WAL on this agent (every topic behaves as glacier). */
  wal: WriteAheadLog | null;
  reader: SegmentReader;
  cache: BlockCache;
  log: Logger;
  producerState?: ProducerStateChecker;
  /** Cap on decompressed bytes when a feature needs records (timestamp lookups). */
  maxUncompressedBytes?: number;
  /**
   * Cluster mode: whether this agent's lease on the partition at `epoch` is still valid by its own
   * (monotonic) clock. Checked before an append and again before it is acknowledged, so an agent
   * paused past its lease never acknowledges what its successor could not see.
   */
  leaseValid?: (topicId: string, partition: number, epoch: number) => boolean;
  /** Cluster mode: this agent's id; segment commits require it to hold the lease and record it. */
  agentId?: string;
  /** Segment upload outcomes (the agent's Prometheus counters). */
  metrics?: Pick<LogMetrics, 'segmentUpload'>;
}

interface TailEntry {
  batch: Buffer;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  leaderEpoch: number;
  appendedAt: number;
  durable: boolean;
  /** A client batch on its way to the WAL: resolves when durable, rejects when taken back. */
  settled?: Promise<void>;
}

const EMPTY = Buffer.alloc(0);
const NO_RESULT: TimestampAndOffset = { timestamp: -1n, offset: -1n, leaderEpoch: -1 };

export class PartitionLog implements PartitionLogHandle {
  private tail: TailEntry[] = [];
  private tailBytes = 0;
  /** Appended but not yet durable, in offset order; the HW stops at the first one. */
  private pending: TailEntry[] = [];
  private nextOffset: bigint;
  private hw: bigint;
  private logStart: bigint;
  /** Committed segments ordered by baseOffset (the cached segment list). */
  private segments: SegmentRecord[];
  private segmentBytes: number;
  /** (epoch, start offset) ascending, for OffsetForLeaderEpoch. */
  private epochs: { epoch: number; startOffset: bigint }[] = [];
  private waiters = new Set<() => void>();
  private flushing: Promise<void> | null = null;
  /** Whether the running flush uploads everything durable (not only whole segments). */
  private flushingAll = false;
  /** Earliest time (ms) for the next upload attempt after a failure. */
  private nextUploadAttempt = 0;
  private uploadFailures = 0;
  private fenced = false;
  private closed = false;

  private constructor(
    private readonly deps: PartitionLogDeps,
    readonly topicId: string,
    readonly partition: number,
    readonly leaderEpoch: number,
    private settings: LogSettings,
    logStart: bigint,
    segments: SegmentRecord[],
    committedEnd: bigint,
  ) {
    this.logStart = logStart;
    this.segments = segments;
    this.segmentBytes = segments.reduce((n, s) => n + s.sizeBytes, 0);
    this.nextOffset = committedEnd;
    this.hw = committedEnd;
  }

  /**
   * Loads the committed segments and rebuilds the tail from the WAL records above them.
   * Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION for a partition the store does not know.
   */
  static async open(
    deps: PartitionLogDeps,
    topic: TopicRecord,
    partition: number,
    settings: LogSettings,
    walRecords: readonly WalRecord[] = [],
    /** Cluster mode: the epoch of the lease this agent holds (segment commits are fenced on it). */
    leaseEpoch?: number,
  ): Promise<PartitionLog> {
    const row = await deps.store.partitions.getPartition(topic.id, partition);
    if (!row) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic.name}' has no partition ${partition}`);
    const segments = await deps.store.segments.listSegments(topic.id, partition);
    const committedEnd = await deps.store.segments.nextOffset(topic.id, partition);
    const epoch = leaseEpoch ?? row.leaderEpoch;
    const log = new PartitionLog(deps, topic.id, partition, epoch, settings, row.logStartOffset, segments, committedEnd);
    // The epochs stamped in the records, not the committers' (a recovered tail is committed by the
    // next leader but belongs to the previous epoch; OffsetForLeaderEpoch must say so).
    for (const s of segments) log.noteEpoch(s.recordsEpoch ?? s.leaderEpoch, s.baseOffset);
    // Exactly-once hook: producer state from the newest segment snapshot and the segments after it
    // (producer-state-rebuild.ts), then the WAL tail replayed into it.
    const ps = deps.producerState;
    const covered = await rebuildProducerState(deps, topic.id, partition, segments, row.logStartOffset);
    let recovered = 0;
    for (const rec of walRecords) {
      if (rec.baseOffset < log.nextOffset) continue; // already committed (or a replay of a trimmed range)
      const batch = Buffer.from(rec.data);
      const h = new BatchHeader(batch);
      const entry: TailEntry = {
        batch,
        baseOffset: rec.baseOffset,
        lastOffset: rec.lastOffset,
        maxTimestamp: h.maxTimestamp,
        leaderEpoch: rec.leaderEpoch,
        appendedAt: Date.now(),
        durable: true,
      };
      log.noteEpoch(rec.leaderEpoch, rec.baseOffset);
      if (rec.baseOffset > covered) ps?.replay?.(topic.id, partition, h, rec.baseOffset);
      log.tail.push(entry);
      log.tailBytes += batch.length;
      log.nextOffset = rec.lastOffset + 1n;
      recovered++;
    }
    log.hw = log.nextOffset;
    log.noteEpoch(epoch, log.nextOffset);
    // WAL files holding only committed records of this partition may go.
    deps.wal?.releaseUpTo(topic.id, partition, committedEnd);
    if (recovered > 0) deps.log.info({ topicId: topic.id, partition, recovered, from: committedEnd, to: log.nextOffset }, 'partition tail recovered from the WAL');
    return log;
  }

  // ---- state ----------------------------------------------------------------------------------

  logStartOffset(): bigint {
    return this.logStart;
  }
  highWatermark(): bigint {
    return this.hw;
  }
  /** The HW, held back by unfinished transactions (exactly-once hook). */
  lastStableOffset(): bigint {
    return this.deps.producerState?.lastStableOffset?.(this.topicId, this.partition, this.hw) ?? this.hw;
  }
  logEndOffset(): bigint {
    return this.nextOffset;
  }
  sizeBytes(): number {
    return this.segmentBytes + this.tailBytes;
  }
  /** Bytes in the in-memory tail (not yet in object storage). */
  tailSizeBytes(): number {
    return this.tailBytes;
  }
  committedSegments(): readonly SegmentRecord[] {
    return this.segments;
  }
  get durability(): LogSettings['profile'] {
    return this.settings.profile;
  }
  updateSettings(settings: LogSettings): void {
    this.settings = settings;
  }

  // ---- append ---------------------------------------------------------------------------------

  /** Whether this log may still serve as the partition's leader. */
  get leading(): boolean {
    return !this.closed && !this.fenced && (this.deps.leaseValid?.(this.topicId, this.partition, this.leaderEpoch) ?? true);
  }

  /** The record is in the WAL, but a successor that took over meanwhile may not have seen it. */
  private stillLeading(r: AppendResult): AppendResult {
    if (!this.leading) throw this.notLeader();
    return r;
  }

  private notLeader(): KafkaError {
    return kafkaError('NOT_LEADER_OR_FOLLOWER', `this agent no longer leads partition ${this.partition} of topic ${this.topicId}; refresh metadata and retry`);
  }

  append(records: Buffer, opts: AppendOptions): AppendHandle {
    if (!this.leading) throw this.notLeader();
    const s = this.settings;
    const check = validateProduceRecords(records, { produceVersion: opts.produceVersion, maxBatchBytes: s.maxMessageBytes });
    if (!check.ok) throw new KafkaError(check.code, check.message);
    let batch = check.batch.start === 0 && check.batch.end === records.length ? records : records.subarray(check.batch.start, check.batch.end);
    // A small batch in a big socket chunk would pin the whole chunk for as long as it sits in the tail.
    if (batch.byteLength * 2 < batch.buffer.byteLength) batch = Buffer.from(batch);
    const header = new BatchHeader(batch);
    const now = Date.now();
    if (!s.logAppendTime) this.checkTimestamps(header, now);

    const producer: ProducerBatch | null =
      this.deps.producerState && header.producerId >= 0n
        ? { topicId: this.topicId, partition: this.partition, header, transactionalId: opts.transactionalId }
        : null;
    if (producer) {
      const dup = this.deps.producerState!.check(producer);
      if (dup) {
        const r: AppendResult = { ...dup.duplicateOf, logAppendTime: -1n, logStartOffset: this.logStart };
        // A retry that overtook its original (the client gave up waiting) is answered only once the
        // original is durable, and fails with it: else it would acknowledge what the WAL may refuse.
        const original = this.pending.find((e) => e.baseOffset === r.baseOffset)?.settled;
        const done = original ? original.then(() => this.stillLeading(r)) : Promise.resolve(r);
        done.catch(() => undefined);
        return { appended: done, durable: done };
      }
    }

    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + BigInt(header.lastOffsetDelta);
    patchBatch(batch, baseOffset, this.leaderEpoch);
    let logAppendTime = -1n;
    if (s.logAppendTime) {
      logAppendTime = BigInt(now);
      setLogAppendTime(batch, logAppendTime);
    }
    this.nextOffset = lastOffset + 1n;
    if (producer) this.deps.producerState!.appended(producer, baseOffset);
    const entry: TailEntry = {
      batch,
      baseOffset,
      lastOffset,
      maxTimestamp: header.maxTimestamp,
      leaderEpoch: this.leaderEpoch,
      appendedAt: now,
      durable: false,
    };
    this.tail.push(entry);
    this.tailBytes += batch.length;
    this.pending.push(entry);

    const result = (): AppendResult => ({ baseOffset, lastOffset, logAppendTime, logStartOffset: this.logStart });
    const wal = s.profile.wal ? this.deps.wal : null;
    let appended: Promise<AppendResult>;
    let durable: Promise<AppendResult>;
    if (wal === null) {
      entry.durable = true;
      this.advanceHighWatermark();
      appended = durable = Promise.resolve(result());
    } else {
      const written = wal.append({ topicId: this.topicId, partition: this.partition, baseOffset, lastOffset, leaderEpoch: this.leaderEpoch, data: batch });
      const point = s.profile.ackOn === 'fsync' ? written.then(() => wal.sync()) : written;
      entry.settled = point.then(
        () => {
          entry.durable = true;
          this.advanceHighWatermark();
        },
        (err) => {
          this.takeBack(entry);
          if (producer) this.deps.producerState!.failed?.(producer, baseOffset);
          throw toKafkaError(err);
        },
      );
      durable = entry.settled.then(() => this.stillLeading(result()));
      appended = s.profile.ackOn === 'fsync' ? written.then(result, (err) => Promise.reject(toKafkaError(err))) : durable;
      // acks=1 callers may never look at `durable`; its failure is reported through `appended`.
      durable.catch(() => undefined);
      appended.catch(() => undefined);
    }
    return { appended, durable };
  }

  /**
   * Exactly-once hook: appends a broker-built control batch (a transaction marker) and resolves
   * with its offset once it is durable. No client rules apply; the producer state records it.
   */
  appendControl(batch: Buffer): Promise<bigint> {
    if (!this.leading) return Promise.reject(this.notLeader());
    const header = new BatchHeader(batch);
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + BigInt(header.lastOffsetDelta);
    patchBatch(batch, baseOffset, this.leaderEpoch);
    this.nextOffset = lastOffset + 1n;
    this.deps.producerState?.replay?.(this.topicId, this.partition, header, baseOffset);
    const entry: TailEntry = {
      batch,
      baseOffset,
      lastOffset,
      maxTimestamp: header.maxTimestamp,
      leaderEpoch: this.leaderEpoch,
      appendedAt: Date.now(),
      durable: false,
    };
    this.tail.push(entry);
    this.tailBytes += batch.length;
    this.pending.push(entry);
    const wal = this.settings.profile.wal ? this.deps.wal : null;
    const done = () => {
      entry.durable = true;
      this.advanceHighWatermark();
      return baseOffset;
    };
    if (wal === null) return Promise.resolve(done());
    const written = wal.append({ topicId: this.topicId, partition: this.partition, baseOffset, lastOffset, leaderEpoch: this.leaderEpoch, data: batch });
    const point = this.settings.profile.ackOn === 'fsync' ? written.then(() => wal.sync()) : written;
    return point.then(done, (err) => {
      this.takeBack(entry);
      throw toKafkaError(err);
    });
  }

  /** message.timestamp.before/after.max.ms, checked on the header's base and max timestamps. */
  private checkTimestamps(h: BatchHeader, now: number): void {
    const s = this.settings;
    if (s.timestampAfterMaxMs !== Infinity && h.maxTimestamp > BigInt(now) + BigInt(s.timestampAfterMaxMs)) {
      throw Object.assign(
        kafkaError('INVALID_TIMESTAMP', `timestamp ${h.maxTimestamp} is more than message.timestamp.after.max.ms (${s.timestampAfterMaxMs}) ahead of the broker's clock ${now}; check the producer's clock`),
        { recordIndex: 0 },
      );
    }
    if (s.timestampBeforeMaxMs !== Infinity && h.baseTimestamp >= 0n && h.baseTimestamp < BigInt(now) - BigInt(s.timestampBeforeMaxMs)) {
      throw Object.assign(
        kafkaError('INVALID_TIMESTAMP', `timestamp ${h.baseTimestamp} is more than message.timestamp.before.max.ms (${s.timestampBeforeMaxMs}) behind the broker's clock ${now}`),
        { recordIndex: 0 },
      );
    }
  }

  /** Removes an append the WAL refused. */
  private takeBack(entry: TailEntry): void {
    const i = this.tail.indexOf(entry);
    if (i >= 0) {
      this.tail.splice(i, 1);
      this.tailBytes -= entry.batch.length;
    }
    const j = this.pending.indexOf(entry);
    if (j >= 0) this.pending.splice(j, 1);
    // Nothing was assigned after it: hand its offsets out again (else the log keeps a gap).
    if (this.nextOffset === entry.lastOffset + 1n) this.nextOffset = entry.baseOffset;
    this.advanceHighWatermark();
  }

  private advanceHighWatermark(): void {
    let k = 0;
    while (k < this.pending.length && this.pending[k].durable) k++;
    if (k > 0) this.pending.splice(0, k);
    const hw = this.pending.length > 0 ? this.pending[0].baseOffset : this.nextOffset;
    if (hw > this.hw) {
      this.hw = hw;
      this.notify();
    }
  }

  // ---- waiting --------------------------------------------------------------------------------

  waitForData(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const cancel = this.watch(() => {
        signal.removeEventListener('abort', done);
        resolve();
      });
      const done = () => {
        cancel();
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Calls `wake` once, on the next high-watermark or log-start move (at once if closed); the
   * returned function cancels. A fetch waiting on many partitions registers plain callbacks here
   * rather than one AbortSignal listener per partition.
   */
  watch(wake: () => void): () => void {
    if (this.closed) {
      queueMicrotask(wake);
      return () => undefined;
    }
    const w = () => {
      this.waiters.delete(w);
      wake();
    };
    this.waiters.add(w);
    return () => {
      this.waiters.delete(w);
    };
  }

  private notify(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) w();
  }

  // ---- reads ----------------------------------------------------------------------------------

  async read(offset: bigint, opts: ReadOptions): Promise<FetchedData> {
    if (offset < this.logStart || offset > this.nextOffset) {
      throw kafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${this.logStart}, ${this.nextOffset}] of partition ${this.partition}`);
    }
    const limit = opts.isolationLevel === 1 ? this.lastStableOffset() : this.hw;
    const out = (records: Buffer): FetchedData => ({
      records,
      highWatermark: this.hw,
      lastStableOffset: this.lastStableOffset(),
      logStartOffset: this.logStart,
      abortedTransactions:
        opts.isolationLevel === 1 ? (this.deps.producerState?.abortedTransactions?.(this.topicId, this.partition, offset, limit) ?? []) : null,
    });
    if (offset >= limit) return out(EMPTY);
    for (;;) {
      const tailStart = this.tail.length > 0 ? this.tail[0].baseOffset : this.nextOffset;
      const lastSeg = this.segments[this.segments.length - 1];
      const inTail = offset >= tailStart || lastSeg === undefined || offset > lastSeg.lastOffset;
      if (inTail) return out(this.readTail(offset, limit, opts.maxBytes, opts.minOneBatch));
      const seg = this.segmentFor(offset);
      if (!seg) return out(EMPTY);
      try {
        const got = await this.deps.reader.read(seg, offset, limit, opts.maxBytes, opts.minOneBatch);
        if (got.data.length > 0) return out(got.data);
        offset = seg.lastOffset + 1n; // nothing at or after offset in this segment: move on
        if (offset >= limit) return out(EMPTY);
      } catch (err) {
        if (err instanceof ObjectNotFoundError && offset < this.logStart) {
          throw kafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} was deleted by retention; the log now starts at ${this.logStart}`);
        }
        if (err instanceof KafkaError) throw err;
        this.deps.log.warn({ err, key: seg.objectKey }, 'segment read failed');
        throw kafkaError('KAFKA_STORAGE_ERROR', `reading segment ${seg.objectKey} failed: ${(err as Error).message}`);
      }
    }
  }

  private readTail(offset: bigint, limit: bigint, maxBytes: number, minOneBatch: boolean): Buffer {
    // First entry whose lastOffset >= offset.
    let lo = 0;
    let hi = this.tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tail[mid].lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let i = lo; i < this.tail.length; i++) {
      const e = this.tail[i];
      if (e.baseOffset >= limit) break;
      if (bytes + e.batch.length > maxBytes && !(minOneBatch && parts.length === 0)) break;
      parts.push(e.batch);
      bytes += e.batch.length;
    }
    if (parts.length === 0) return EMPTY;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes);
  }

  /** The first committed segment with lastOffset >= offset. */
  private segmentFor(offset: bigint): SegmentRecord | undefined {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid].lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return this.segments[lo];
  }

  // ---- offsets by timestamp and epoch ----------------------------------------------------------

  async offsetForTimestamp(timestamp: bigint, isolationLevel: number): Promise<TimestampAndOffset> {
    const limit = isolationLevel === 1 ? this.lastStableOffset() : this.hw;
    switch (timestamp) {
      case LATEST_TIMESTAMP:
        return { timestamp: -1n, offset: limit, leaderEpoch: this.leaderEpoch };
      case EARLIEST_TIMESTAMP:
      case EARLIEST_LOCAL_TIMESTAMP:
        return { timestamp: -1n, offset: this.logStart, leaderEpoch: this.epochForOffset(this.logStart) };
      case LATEST_TIERED_TIMESTAMP: {
        const last = this.segments[this.segments.length - 1];
        return last ? { timestamp: -1n, offset: last.lastOffset, leaderEpoch: this.epochForOffset(last.lastOffset) } : { timestamp: -1n, offset: -1n, leaderEpoch: -1 };
      }
      case MAX_TIMESTAMP:
        return this.maxTimestampOffset(limit);
    }
    if (timestamp < 0n) throw kafkaError('INVALID_REQUEST', `timestamp ${timestamp} is neither a time nor one of -1..-5`);
    return this.firstOffsetAtOrAfter(timestamp, limit);
  }

  private async firstOffsetAtOrAfter(ts: bigint, limit: bigint): Promise<TimestampAndOffset> {
    for (const seg of this.segments) {
      if (seg.lastOffset < this.logStart || seg.maxTimestamp < ts) continue;
      const index = await this.deps.reader.index(seg);
      for (let i = 0; i < index.entries.length; i++) {
        const e = index.entries[i];
        if (e.maxTimestamp < ts || e.baseOffset >= limit) continue;
        const found = await this.recordAtOrAfter(await this.deps.reader.batchAt(seg, i), ts, limit);
        if (found) return found;
      }
    }
    for (const e of this.tail) {
      if (e.baseOffset >= limit) break;
      if (e.lastOffset < this.logStart || e.maxTimestamp < ts) continue;
      const found = await this.recordAtOrAfter(e.batch, ts, limit);
      if (found) return found;
    }
    return NO_RESULT;
  }

  private async recordAtOrAfter(batch: Buffer, ts: bigint, limit: bigint): Promise<TimestampAndOffset | null> {
    const h = new BatchHeader(batch);
    for (const r of await readBatchRecords(batch, { maxUncompressedBytes: this.deps.maxUncompressedBytes ?? 256 * 1024 * 1024 })) {
      if (r.offset >= limit) return null;
      if (r.offset >= this.logStart && r.timestamp >= ts) return { timestamp: r.timestamp, offset: r.offset, leaderEpoch: h.partitionLeaderEpoch };
    }
    return null;
  }

  /** KIP-734: the offset of the record with the largest timestamp (the first such record). */
  private async maxTimestampOffset(limit: bigint): Promise<TimestampAndOffset> {
    let best: { ts: bigint; load: () => Promise<Buffer> } | null = null;
    for (const seg of this.segments) {
      if (seg.lastOffset < this.logStart) continue;
      if (best === null || seg.maxTimestamp > best.ts) {
        const s = seg;
        best = {
          ts: seg.maxTimestamp,
          load: async () => {
            const index = await this.deps.reader.index(s);
            const i = index.entries.findIndex((e) => e.maxTimestamp === s.maxTimestamp);
            return this.deps.reader.batchAt(s, Math.max(0, i));
          },
        };
      }
    }
    for (const e of this.tail) {
      if (e.baseOffset >= limit) break;
      if (e.lastOffset < this.logStart) continue;
      if (best === null || e.maxTimestamp > best.ts) {
        const b = e.batch;
        best = { ts: e.maxTimestamp, load: async () => b };
      }
    }
    if (best === null) return NO_RESULT;
    const found = await this.recordAtOrAfter(await best.load(), best.ts, limit);
    return found ?? NO_RESULT;
  }

  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint } {
    const latest = this.epochs[this.epochs.length - 1];
    if (latest === undefined || epoch > latest.epoch) return { leaderEpoch: -1, endOffset: -1n };
    if (epoch === latest.epoch) return { leaderEpoch: epoch, endOffset: this.nextOffset };
    for (let i = this.epochs.length - 2; i >= 0; i--) {
      if (this.epochs[i].epoch <= epoch) return { leaderEpoch: this.epochs[i].epoch, endOffset: this.epochs[i + 1].startOffset };
    }
    return { leaderEpoch: -1, endOffset: -1n };
  }

  private noteEpoch(epoch: number, startOffset: bigint): void {
    const last = this.epochs[this.epochs.length - 1];
    if (last === undefined || epoch > last.epoch) this.epochs.push({ epoch, startOffset });
  }

  private epochForOffset(offset: bigint): number {
    let e = -1;
    for (const x of this.epochs) if (x.startOffset <= offset) e = x.epoch;
    return e;
  }

  // ---- segments -------------------------------------------------------------------------------

  /** Why the tail should be uploaded now (segment.bytes or segment.ms reached), or null. */
  rollReason(now: number): 'size' | 'age' | null {
    if (this.closed || this.fenced || this.tail.length === 0 || now < this.nextUploadAttempt) return null;
    if (this.hw <= this.tail[0].baseOffset) return null;
    if (now - this.tail[0].appendedAt >= this.settings.segmentMs) return 'age';
    return this.tailBytes >= this.settings.segmentBytes ? 'size' : null;
  }

  /**
   * Uploads durable tail batches as segments: chunks of up to segment.bytes while the tail is at
   * least that big, and everything durable when `all` (segment.ms, WAL pressure, shutdown).
   * Concurrent calls share one run, except that a call for everything never settles for a
   * size-only run (which stops with up to segment.bytes left): it runs again after it. Otherwise a
   * graceful stop that met a size roll in flight left a glacier tail un-uploaded.
   */
  flush(all = true): Promise<void> {
    if (this.flushing) {
      if (!all || this.flushingAll) return this.flushing;
      return this.flushing.catch(() => undefined).then(() => this.flush(true));
    }
    this.flushingAll = all;
    this.flushing = this.flushLoop(all).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushLoop(all: boolean): Promise<void> {
    let first = true;
    while (!this.fenced) {
      if (!all && !first && this.tailBytes < this.settings.segmentBytes) return;
      first = false;
      const take: TailEntry[] = [];
      let bytes = 0;
      for (const e of this.tail) {
        if (e.lastOffset >= this.hw) break;
        if (take.length > 0 && e.leaderEpoch !== take[0]!.leaderEpoch) break; // one records epoch per segment
        take.push(e);
        bytes += e.batch.length;
        if (bytes >= this.settings.segmentBytes) break;
      }
      if (take.length === 0) return;
      try {
        await this.upload(take);
        this.uploadFailures = 0;
        this.nextUploadAttempt = 0;
      } catch (err) {
        this.deps.metrics?.segmentUpload('error');
        if (err instanceof FencedError) {
          this.fenced = true;
          this.deps.log.error({ err, topicId: this.topicId, partition: this.partition }, 'segment commit fenced: this agent lost the partition');
          throw err;
        }
        this.uploadFailures++;
        const backoff = Math.min(30_000, 250 * 2 ** Math.min(this.uploadFailures, 7));
        this.nextUploadAttempt = Date.now() + backoff;
        this.deps.log.warn({ err, topicId: this.topicId, partition: this.partition, retryInMs: backoff }, 'segment upload failed; the tail stays in memory and the WAL');
        throw err;
      }
    }
  }

  private async upload(take: TailEntry[]): Promise<void> {
    const enc = encodeSegment(take.map((e) => e.batch));
    const key = segmentKey(this.topicId, this.partition, enc.baseOffset, this.leaderEpoch);
    await this.deps.objects.put(key, enc.body);
    const row: NewSegment = {
      topicId: this.topicId,
      partition: this.partition,
      baseOffset: enc.baseOffset,
      lastOffset: enc.lastOffset,
      sizeBytes: enc.body.length,
      maxTimestamp: enc.maxTimestamp,
      objectKey: key,
      leaderEpoch: this.leaderEpoch,
      recordsEpoch: take[0]!.leaderEpoch,
      createdAt: Date.now(),
      // Exactly-once hook: producer state as of this segment's last offset.
      producerStateSnapshot: this.deps.producerState?.segmentSnapshot?.(this.topicId, this.partition, take.map((e) => e.batch)),
      ...(this.deps.agentId !== undefined ? { agentId: this.deps.agentId } : {}),
    };
    // The row is committed after the object exists, so a row never points at a missing object.
    // If the commit's outcome is unknown, the identical commit is retried (a no-op if it landed).
    let attempt = 0;
    for (;;) {
      try {
        await this.deps.store.segments.commitSegment(row);
        break;
      } catch (err) {
        if (err instanceof FencedError || ++attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
    const { producerStateSnapshot: _snapshot, agentId: _agent, ...committed } = row;
    this.segments.push(committed);
    this.segmentBytes += row.sizeBytes;
    this.deps.metrics?.segmentUpload('ok', row.sizeBytes);
    this.deps.reader.seedIndex(key, enc.index);
    if (enc.body.length <= this.deps.cache.maxBytes / 8) this.deps.cache.put(key, enc.body);
    // The uploaded batches are the tail's first ones: nothing else removes from the front.
    this.tail.splice(0, take.length);
    for (const e of take) this.tailBytes -= e.batch.length;
    this.deps.wal?.releaseUpTo(this.topicId, this.partition, enc.lastOffset + 1n);
  }

  // ---- retention and DeleteRecords -------------------------------------------------------------

  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    if (offset > this.hw || offset < 0n) {
      throw kafkaError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: the high watermark is ${this.hw}`);
    }
    if (offset > this.logStart) await this.moveLogStart(offset);
    await this.deleteSegmentsBelow(this.logStart);
    return this.logStart;
  }

  /** retention.ms and retention.bytes: deletes whole segments from the front. */
  async enforceRetention(now: number): Promise<number> {
    const s = this.settings;
    let excess = s.retentionBytes >= 0 ? this.sizeBytes() - s.retentionBytes : -Infinity;
    let k = 0;
    for (const seg of this.segments) {
      const expired = s.retentionMs >= 0 && seg.maxTimestamp < BigInt(now) - BigInt(s.retentionMs);
      const tooBig = excess >= seg.sizeBytes;
      const belowStart = seg.lastOffset < this.logStart;
      if (!expired && !tooBig && !belowStart) break;
      excess -= seg.sizeBytes;
      k++;
    }
    if (k === 0) return 0;
    const newStart = this.segments[k - 1].lastOffset + 1n;
    if (newStart > this.logStart) await this.moveLogStart(newStart);
    return this.deleteSegmentsBelow(this.logStart);
  }

  private async moveLogStart(offset: bigint): Promise<void> {
    const stored = await this.deps.store.partitions.setLogStartOffset(this.topicId, this.partition, offset);
    if (stored > this.logStart) {
      this.logStart = stored;
      this.deps.producerState?.truncateHead?.(this.topicId, this.partition, stored);
      this.notify();
    }
  }

  /** Rows first, then objects: an object without a row is garbage, never the reverse. */
  private async deleteSegmentsBelow(offset: bigint): Promise<number> {
    const doomed = this.segments.filter((s) => s.lastOffset < offset);
    if (doomed.length === 0) return 0;
    const keys = doomed.map((s) => s.objectKey);
    await this.deps.store.segments.deleteSegments(this.topicId, this.partition, keys);
    const gone = new Set(keys);
    this.segments = this.segments.filter((s) => !gone.has(s.objectKey));
    for (const s of doomed) this.segmentBytes -= s.sizeBytes;
    for (const key of keys) this.deps.reader.forget(key);
    try {
      if (this.deps.objects.deleteMany) await this.deps.objects.deleteMany(keys);
      else for (const key of keys) await this.deps.objects.delete(key);
    } catch (err) {
      this.deps.log.warn({ err, keys: keys.length }, 'deleting segment objects failed; the orphan collector will retry');
    }
    this.deps.log.info({ topicId: this.topicId, partition: this.partition, segments: keys.length, logStartOffset: this.logStart }, 'segments deleted');
    return keys.length;
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Stops appends and wakes waiting fetches. */
  close(): void {
    this.closed = true;
    this.notify();
  }

  get isFenced(): boolean {
    return this.fenced;
  }
}

/** Maps a WAL or unexpected failure of an append to the partition error the producer sees. */
function toKafkaError(err: unknown): KafkaError {
  if (err instanceof KafkaError) return err;
  if (err instanceof WalError) return new KafkaError(err.kafkaErrorCode, err.message);
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `append failed: ${(err as Error)?.message ?? String(err)}`);
}
