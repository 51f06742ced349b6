// The agent's write-ahead log: one log for every partition, so one fsync covers them all.
//
// Appends are queued and written in order by a single flush loop. Everything queued during one
// event-loop turn (and everything queued while the previous write or fsync was in flight) goes to
// disk as one buffer in one write: that is the group commit. In 'always' mode an append resolves
// after the fsync covering it; in 'interval' and 'never' modes once write() returned (the bytes are
// in the page cache and survive kill -9; 'interval' fsyncs every syncIntervalMs).
//
// Files are numbered, rolled at segmentBytes, and deleted once the partition logs report (through
// releaseUpTo) that every record in them is in committed segments. Above maxBytes, appends wait for
// such deletions (onPressure asks the logs to upload early) and fail with WalFullError after
// pressureTimeoutMs. A failed write or fsync cuts the file back to its last good end, so the WAL on
// disk is always a valid prefix.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { uuidToBytes } from '../protocol/primitives.js';
import { CommittedOffsets, FileCoverage, partitionKey } from './coverage.js';
import { WalClosedError, WalFullError, WalRecordTooLargeError, WalStorageError } from './errors.js';
import {
  FILE_HEADER_BYTES,
  encodeFileHeader,
  encodeFrame,
  fileName,
  frameSize,
  scanFrames,
  validateAppend,
} from './format.js';
import type { WalAppend, WalPosition, WalRecord } from './format.js';
import { nodeWalFs } from './fs.js';
import type { WalFile, WalFs } from './fs.js';
import { silentLogger } from './logger.js';
import type { WalLogger } from './logger.js';
import { recoverDirectory } from './recovery.js';
import type { RecoveryReport } from './recovery.js';

export type { WalAppend, WalPosition, WalRecord } from './format.js';
export type { WalFile, WalFs } from './fs.js';
export type { WalLogger } from './logger.js';
export type { RecoveryReport, Truncation } from './recovery.js';
export * from './errors.js';

export type SyncMode = 'always' | 'interval' | 'never';

export interface WalPressure {
  usedBytes: number;
  maxBytes: number;
  /** Appends waiting for space. */
  waiting: number;
}

export interface WalOptions {
  dir: string;
  /** A file is rolled once it would grow past this. Default 64 MiB. */
  segmentBytes?: number;
  /** Bound on the bytes of all WAL files. Default 1 GiB. */
  maxBytes?: number;
  /** Default 'interval'. */
  syncMode?: SyncMode;
  /** fsync period in 'interval' mode. Default 100 ms. */
  syncIntervalMs?: number;
  /** How long an append may wait for space before failing with WalFullError. Default 5000 ms. */
  pressureTimeoutMs?: number;
  /** Largest single write; a batch above it is split. Default 16 MiB. */
  maxWriteBytes?: number;
  logger?: WalLogger;
  /** Called with each fsync's duration, for a histogram. */
  onSync?: (seconds: number) => void;
  /** Called when an append has to wait for space: upload segments early and call releaseUpTo. */
  onPressure?: (pressure: WalPressure) => void;
  fs?: WalFs;
}

interface Pending {
  rec: WalAppend;
  topicId: Buffer;
  size: number;
  deadline: number;
  resolve(pos: WalPosition): void;
  reject(err: unknown): void;
}

interface WalFileState {
  seq: number;
  path: string;
  size: number;
  coverage: FileCoverage;
}

interface DurableWaiter {
  pos: WalPosition;
  resolve(): void;
  reject(err: unknown): void;
}

const MiB = 1024 * 1024;

export class WriteAheadLog {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly syncMode: SyncMode;
  private readonly pressureTimeoutMs: number;
  private readonly maxWriteBytes: number;
  private readonly log: WalLogger;
  private readonly fs: WalFs;
  private readonly onSync: ((seconds: number) => void) | undefined;
  private readonly onPressure: ((p: WalPressure) => void) | undefined;

  /** Kept files in sequence order; the last one is the active file. */
  private files: WalFileState[];
  private handle: WalFile;
  private used: number;
  /** Everything up to (durableFile, durableOffset) has been fsynced. */
  private durableFile: number;
  private durableOffset: number;
  private durableWaiters: DurableWaiter[] = [];

  private queue: Pending[] = [];
  private head = 0;
  private flushScheduled = false;
  private flushing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  /** A write failed and cutting the file back failed too: bytes past the active size may be junk. */
  private dirtyTail = false;

  private pressureSince: number | null = null;
  private pressureTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private trimChain: Promise<unknown> = Promise.resolve();
  private trimScheduled = false;
  private closing: Promise<void> | null = null;

  private readonly committed = new CommittedOffsets();
  private readonly topicIds = new Map<string, Buffer>();
  private readonly recovered: { seq: number; path: string; end: number }[];
  /** What open() found and repaired. */
  readonly recovery: RecoveryReport;

  private constructor(
    opts: Required<Pick<WalOptions, 'dir' | 'segmentBytes' | 'maxBytes' | 'syncMode' | 'pressureTimeoutMs' | 'maxWriteBytes' | 'logger' | 'fs'>> &
      Pick<WalOptions, 'onSync' | 'onPressure'>,
    files: WalFileState[],
    handle: WalFile,
    report: RecoveryReport,
    recovered: { seq: number; path: string; end: number }[],
  ) {
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes;
    this.maxBytes = opts.maxBytes;
    this.syncMode = opts.syncMode;
    this.pressureTimeoutMs = opts.pressureTimeoutMs;
    this.maxWriteBytes = opts.maxWriteBytes;
    this.log = opts.logger;
    this.fs = opts.fs;
    this.onSync = opts.onSync;
    this.onPressure = opts.onPressure;
    this.files = files;
    this.handle = handle;
    this.used = files.reduce((n, f) => n + f.size, 0);
    const active = files[files.length - 1];
    this.durableFile = active.seq;
    this.durableOffset = active.size;
    this.recovery = report;
    this.recovered = recovered;
  }

  /**
   * Opens (creating if needed) the WAL in `dir`, repairing a torn or corrupt tail. Read the
   * surviving records with recover() before appending or releasing.
   */
  static async open(options: WalOptions): Promise<WriteAheadLog> {
    const segmentBytes = options.segmentBytes ?? 64 * MiB;
    const maxBytes = options.maxBytes ?? 1024 * MiB;
    const syncIntervalMs = options.syncIntervalMs ?? 100;
    const opts = {
      dir: options.dir,
      segmentBytes,
      maxBytes,
      syncMode: options.syncMode ?? 'interval',
      pressureTimeoutMs: options.pressureTimeoutMs ?? 5000,
      maxWriteBytes: options.maxWriteBytes ?? 16 * MiB,
      logger: options.logger ?? silentLogger,
      fs: options.fs ?? nodeWalFs,
      onSync: options.onSync,
      onPressure: options.onPressure,
    };
    for (const [name, v, min] of [
      ['segmentBytes', segmentBytes, FILE_HEADER_BYTES + 1],
      ['maxBytes', maxBytes, FILE_HEADER_BYTES + 1],
      ['syncIntervalMs', syncIntervalMs, 1],
      ['pressureTimeoutMs', opts.pressureTimeoutMs, 0],
      ['maxWriteBytes', opts.maxWriteBytes, 1],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`WAL option ${name} must be an integer >= ${min}, got ${v}`);
    }
    if (!['always', 'interval', 'never'].includes(opts.syncMode)) {
      throw new RangeError(`WAL option syncMode must be 'always', 'interval' or 'never', got ${String(opts.syncMode)}`);
    }

    const { files: found, report } = await recoverDirectory(opts.fs, opts.dir, opts.logger);
    const files: WalFileState[] = found.map((f) => ({ seq: f.seq, path: f.path, size: f.size, coverage: f.coverage }));
    const recovered = found.map((f) => ({ seq: f.seq, path: f.path, end: f.size }));

    let handle: WalFile;
    const last = files[files.length - 1];
    if (last !== undefined && last.size < segmentBytes) {
      handle = await storageOp(`open WAL file ${last.path}`, () => opts.fs.open(last.path, 'existing'));
      // Bytes a killed process left in the page cache count as durable only once synced.
      await storageOp(`sync WAL file ${last.path}`, () => handle.sync());
    } else {
      const seq = (last?.seq ?? 0) + 1;
      const path = join(opts.dir, fileName(seq));
      handle = await createFile(opts.fs, opts.dir, path, seq);
      files.push({ seq, path, size: FILE_HEADER_BYTES, coverage: new FileCoverage() });
    }

    const wal = new WriteAheadLog(opts, files, handle, report, recovered);
    if (opts.syncMode === 'interval') {
      wal.syncTimer = setInterval(() => wal.periodicSync(), syncIntervalMs);
      wal.syncTimer.unref();
    }
    opts.logger.info(
      { dir: opts.dir, files: report.files, records: report.records, bytes: report.bytes, truncated: report.truncations.length > 0 },
      'WAL opened',
    );
    return wal;
  }

  /**
   * The records that survived recovery, oldest first, as they were when open() returned. `data` is
   * a view into a buffer holding one whole file; copy it to keep it past the next file's records.
   * Files trimmed meanwhile are skipped (their records are committed).
   */
  async *recover(): AsyncIterable<WalRecord> {
    for (const f of this.recovered) {
      let buf: Buffer;
      try {
        buf = await this.fs.readFile(f.path);
      } catch (err) {
        if (isMissing(err)) continue;
        throw new WalStorageError(`cannot read WAL file ${f.path} during recovery`, err);
      }
      const records: WalRecord[] = [];
      scanFrames(buf.subarray(0, f.end), f.seq, FILE_HEADER_BYTES, (r) => records.push(r));
      yield* records;
    }
  }

  /**
   * Queues one record batch. Resolves with its position once written ('interval', 'never') or once
   * fsynced ('always'); rejects with WalStorageError, WalFullError, WalRecordTooLargeError or
   * WalClosedError, in which case the record is not in the WAL.
   */
  append(rec: WalAppend): Promise<WalPosition> {
    if (this.closing !== null) return Promise.reject(new WalClosedError('WAL is closed; the append was not written'));
    let topicId: Buffer;
    try {
      validateAppend(rec);
      topicId = this.topicIdBytes(rec.topicId);
    } catch (err) {
      return Promise.reject(err);
    }
    const size = frameSize(rec.data.length);
    if (size + FILE_HEADER_BYTES > this.maxBytes || size > 0xffffffff) {
      return Promise.reject(
        new WalRecordTooLargeError(`record batch of ${rec.data.length} bytes cannot fit in a WAL bounded to ${this.maxBytes} bytes; raise the WAL max bytes`),
      );
    }
    return new Promise<WalPosition>((resolve, reject) => {
      this.queue.push({ rec, topicId, size, deadline: Date.now() + this.pressureTimeoutMs, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** fsyncs everything written so far: covers every append that has resolved. */
  sync(): Promise<void> {
    return this.syncActive();
  }

  /**
   * Resolves once `pos` is covered by an fsync. In 'interval' mode this waits for the periodic
   * fsync; in the other modes it triggers one.
   */
  waitDurable(pos: WalPosition): Promise<void> {
    if (this.isDurable(pos)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.durableWaiters.push({ pos, resolve, reject });
      // The periodic fsync must keep the process alive while someone waits for it.
      this.syncTimer?.ref();
      if (this.syncMode !== 'interval' || this.closing !== null) this.syncActive().catch(() => {});
    });
  }

  /**
   * The partition log committed segments covering every offset below `committedEndOffset`. WAL
   * files whose records are all covered are deleted soon after (see trim()).
   */
  releaseUpTo(topicId: string, partition: number, committedEndOffset: bigint): void {
    this.committed.release(partitionKey(topicId, partition), committedEndOffset);
    this.scheduleTrim();
  }

  /**
   * This agent no longer needs the partition's WAL records (topic deleted, leadership moved): treat
   * everything written for it so far as released. Later appends for it are tracked again.
   */
  forget(topicId: string, partition: number): void {
    const key = partitionKey(topicId, partition);
    let end: bigint | undefined;
    for (const f of this.files) {
      const e = f.coverage.ends.get(key);
      if (e !== undefined && (end === undefined || e > end)) end = e;
    }
    if (end !== undefined) this.releaseUpTo(topicId, partition, end);
  }

  /** Deletes every non-active file whose records are all released; returns how many it deleted. */
  trim(): Promise<number> {
    const run = this.trimChain.then(() => this.trimOnce());
    this.trimChain = run.catch(() => undefined);
    return run;
  }

  /** Bytes of all WAL files on disk (as far as the WAL wrote them), headers included. */
  usedBytes(): number {
    return this.used;
  }

  /** Appends not yet written plus appends waiting for an fsync (the metrics' WAL queue depth). */
  pendingAppends(): number {
    return this.queue.length - this.head + this.durableWaiters.length;
  }

  /** Writes what is queued, fsyncs and closes. Appends waiting for space fail with WalClosedError. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- flush loop ---------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing !== null) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushing = this.flushLoop()
        .catch((err) => {
          // A bug, not an I/O error (those are handled per batch): fail what is queued, stay usable.
          this.log.error({ err }, 'WAL flush loop failed');
          this.rejectQueued(err);
        })
        .finally(() => {
          this.flushing = null;
          if (this.head < this.queue.length && this.pressureSince === null) this.scheduleFlush();
        });
    });
  }

  private async flushLoop(): Promise<void> {
    let rolledForPressure = false;
    while (this.head < this.queue.length) {
      if (this.dirtyTail) {
        const cut = await this.cutBack(this.active.size);
        if (cut !== null) {
          this.rejectQueued(new WalStorageError(`WAL file ${this.active.path} could not be cut back after a failed write`, cut));
          return;
        }
      }
      const batch = this.takeBatch();
      if (batch === 'full' && !rolledForPressure && this.active.size > FILE_HEADER_BYTES) {
        // The active file can never be trimmed; roll it so releases can free its space.
        rolledForPressure = true;
        if (await this.rollOrFail()) continue;
        return;
      }
      if (batch === 'full') {
        this.enterPressure();
        return;
      }
      if (batch === 'roll') {
        if (await this.rollOrFail()) continue;
        return;
      }
      this.leavePressure();
      await this.writeBatch(batch);
    }
    this.queue = [];
    this.head = 0;
  }

  /** The next run of queued appends that fits in the active file and in maxBytes. */
  private takeBatch(): Pending[] | 'roll' | 'full' {
    const active = this.active;
    const hasRecords = active.size > FILE_HEADER_BYTES;
    const batch: Pending[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i];
      if (this.used + bytes + p.size > this.maxBytes) {
        if (batch.length === 0) return 'full';
        break;
      }
      // A batch larger than a whole file still goes into a fresh file on its own.
      if (active.size + bytes + p.size > this.segmentBytes && (hasRecords || batch.length > 0)) {
        if (batch.length === 0) return 'roll';
        break;
      }
      if (batch.length > 0 && bytes + p.size > this.maxWriteBytes) break;
      batch.push(p);
      bytes += p.size;
    }
    this.head += batch.length;
    this.compactQueue();
    return batch;
  }

  /** Under steady load the queue never empties; drop taken entries so their buffers can be freed. */
  private compactQueue(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const active = this.active;
    const start = active.size;
    let bytes = 0;
    for (const p of batch) bytes += p.size;
    const buf = Buffer.allocUnsafe(bytes);
    const positions: WalPosition[] = [];
    let at = 0;
    for (const p of batch) {
      const end = encodeFrame(buf, at, p.rec, p.topicId);
      positions.push({ file: active.seq, offset: start + at, end: start + end });
      at = end;
    }

    try {
      let done = 0;
      while (done < bytes) {
        const n = await this.handle.write(buf, done, bytes - done, start + done);
        if (n <= 0) throw new Error(`write returned ${n} bytes`);
        done += n;
      }
    } catch (err) {
      this.log.error({ err, file: active.path, offset: start, bytes }, 'WAL write failed; cutting the file back');
      await this.cutBack(start);
      this.failBatch(batch, new WalStorageError(`write to WAL file ${active.path} failed`, err));
      return;
    }
    active.size += bytes;
    this.used += bytes;

    if (this.syncMode === 'always') {
      try {
        await this.syncActive();
      } catch (err) {
        this.log.error({ err, file: active.path, offset: start, bytes }, 'WAL fsync failed; cutting the file back');
        await this.cutBack(start);
        active.size = start;
        this.used -= bytes;
        if (this.durableFile === active.seq && this.durableOffset > start) this.durableOffset = start;
        this.failBatch(batch, err instanceof WalStorageError ? err : new WalStorageError(`fsync of ${active.path} failed`, err));
        return;
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const { rec } = batch[i];
      active.coverage.add(partitionKey(rec.topicId, rec.partition), rec.lastOffset);
      batch[i].resolve(positions[i]);
    }
  }

  /** Truncates the active file to `length`; returns the error if that failed too. */
  private async cutBack(length: number): Promise<unknown> {
    try {
      await this.handle.truncate(length);
      this.dirtyTail = false;
      return null;
    } catch (err) {
      this.dirtyTail = true;
      this.log.error({ err, file: this.active.path, offset: length }, 'WAL cannot cut back a failed write; appends fail until it can');
      return err;
    }
  }

  private failBatch(batch: Pending[], err: unknown): void {
    for (const p of batch) p.reject(err);
  }

  private rejectQueued(err: unknown): void {
    const waiting = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const p of waiting) p.reject(err);
  }

  private async rollOrFail(): Promise<boolean> {
    try {
      await this.roll();
      return true;
    } catch (err) {
      this.log.error({ err, file: this.active.path }, 'WAL roll failed');
      this.rejectQueued(err instanceof WalStorageError ? err : new WalStorageError('WAL roll failed', err));
      return false;
    }
  }

  /** Seals the active file (fsync) and starts the next one. Leaves everything as it was on failure. */
  private async roll(): Promise<void> {
    const old = this.active;
    const oldHandle = this.handle;
    // Nothing syncs a file after it stops being active.
    await this.syncActive();
    const seq = old.seq + 1;
    const path = join(this.dir, fileName(seq));
    const handle = await createFile(this.fs, this.dir, path, seq);
    this.files.push({ seq, path, size: FILE_HEADER_BYTES, coverage: new FileCoverage() });
    this.used += FILE_HEADER_BYTES;
    this.handle = handle;
    this.advanceDurable(seq, FILE_HEADER_BYTES);
    while (this.syncing !== null) await this.syncing.catch(() => undefined);
    await oldHandle.close().catch((err) => this.log.warn({ err, file: old.path }, 'WAL file close failed'));
    this.log.info({ file: path, previous: old.path, previousBytes: old.size }, 'WAL rolled to a new file');
  }

  // ---- durability ---------------------------------------------------------------------------

  /** fsyncs the active file if it has unsynced bytes; concurrent callers share one fsync. */
  private async syncActive(): Promise<void> {
    while (this.syncing !== null) await this.syncing.catch(() => undefined);
    const active = this.active;
    if (this.durableFile === active.seq && this.durableOffset >= active.size) return;
    const target = active.size;
    const handle = this.handle;
    const run = async (): Promise<void> => {
      const t0 = performance.now();
      try {
        await handle.sync();
      } catch (err) {
        const failure = new WalStorageError(`fsync of WAL file ${active.path} failed`, err);
        this.rejectDurableWaiters(failure);
        throw failure;
      }
      this.onSync?.((performance.now() - t0) / 1000);
      this.advanceDurable(active.seq, target);
    };
    this.syncing = run().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private periodicSync(): void {
    if (this.closing !== null || this.syncing !== null) return;
    this.syncActive().catch((err) => this.log.error({ err }, 'periodic WAL fsync failed'));
  }

  private isDurable(pos: WalPosition): boolean {
    return pos.file < this.durableFile || (pos.file === this.durableFile && pos.end <= this.durableOffset);
  }

  private advanceDurable(file: number, offset: number): void {
    if (file < this.durableFile || (file === this.durableFile && offset <= this.durableOffset)) return;
    this.durableFile = file;
    this.durableOffset = offset;
    if (this.durableWaiters.length === 0) return;
    const still: DurableWaiter[] = [];
    for (const w of this.durableWaiters) {
      if (this.isDurable(w.pos)) w.resolve();
      else still.push(w);
    }
    this.durableWaiters = still;
    if (still.length === 0) this.syncTimer?.unref();
  }

  private rejectDurableWaiters(err: unknown): void {
    const waiters = this.durableWaiters;
    this.durableWaiters = [];
    this.syncTimer?.unref();
    for (const w of waiters) w.reject(err);
  }

  // ---- space ---------------------------------------------------------------------------------

  private enterPressure(): void {
    const waiting = this.queue.length - this.head;
    if (this.pressureSince === null) {
      this.pressureSince = Date.now();
      this.log.warn({ usedBytes: this.used, maxBytes: this.maxBytes, waiting }, 'WAL full: appends wait for segment uploads to free space');
      try {
        this.onPressure?.({ usedBytes: this.used, maxBytes: this.maxBytes, waiting });
      } catch (err) {
        this.log.error({ err }, 'WAL onPressure callback threw');
      }
    }
    if (this.pressureTimer === null && waiting > 0) {
      const delay = Math.max(0, this.queue[this.head].deadline - Date.now());
      this.pressureTimer = setTimeout(() => {
        this.pressureTimer = null;
        this.expireWaiting();
      }, delay);
    }
  }

  private leavePressure(): void {
    if (this.pressureSince === null) return;
    this.log.info({ waitedMs: Date.now() - this.pressureSince, usedBytes: this.used }, 'WAL has space again');
    this.pressureSince = null;
    if (this.pressureTimer !== null) clearTimeout(this.pressureTimer);
    this.pressureTimer = null;
  }

  private expireWaiting(): void {
    const now = Date.now();
    const since = this.pressureSince ?? now;
    let expired = 0;
    while (this.head < this.queue.length && this.queue[this.head].deadline <= now && this.flushing === null) {
      const p = this.queue[this.head++];
      expired++;
      p.reject(
        new WalFullError(
          `WAL full: ${this.used} of ${this.maxBytes} bytes used for ${now - since} ms while waiting for segment uploads; ` +
            'retry, or raise the WAL max bytes / lower segment.bytes so segments upload sooner',
        ),
      );
    }
    this.compactQueue();
    if (expired > 0) this.log.warn({ expired, usedBytes: this.used, maxBytes: this.maxBytes }, 'WAL appends failed: no space in time');
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.leavePressure();
      return;
    }
    // Try again: a smaller record may fit; if not, the timer is re-armed for the new head.
    this.scheduleFlush();
  }

  private scheduleTrim(): void {
    if (this.trimScheduled || this.closing !== null) return;
    this.trimScheduled = true;
    setImmediate(() => {
      this.trimScheduled = false;
      this.trim().catch((err) => this.log.error({ err }, 'WAL trim failed'));
    });
  }

  private async trimOnce(): Promise<number> {
    let removed = 0;
    for (const f of [...this.files]) {
      if (f === this.active || !this.committed.covers(f.coverage)) continue;
      try {
        await this.fs.unlink(f.path);
      } catch (err) {
        if (!isMissing(err)) {
          this.log.warn({ err, file: f.path }, 'WAL file delete failed; will retry at the next release');
          continue;
        }
      }
      this.files = this.files.filter((x) => x !== f);
      this.used -= f.size;
      removed++;
      this.log.info({ file: f.path, bytes: f.size }, 'WAL file deleted: all its records are in committed segments');
    }
    if (removed > 0 && this.pressureSince !== null) this.scheduleFlush();
    return removed;
  }

  // ---- misc ----------------------------------------------------------------------------------

  private get active(): WalFileState {
    return this.files[this.files.length - 1];
  }

  private topicIdBytes(topicId: string): Buffer {
    let b = this.topicIds.get(topicId);
    if (b === undefined) {
      b = uuidToBytes(topicId);
      this.topicIds.set(topicId, b);
    }
    return b;
  }

  private async shutdown(): Promise<void> {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    // Queued appends are still written; ones blocked on space would wait forever.
    for (;;) {
      if (this.flushing !== null) await this.flushing;
      else if (this.flushScheduled) await new Promise((r) => setImmediate(r));
      else break;
    }
    if (this.head < this.queue.length) this.rejectQueued(new WalClosedError('WAL closed while the append waited for space'));
    this.leavePressure();
    try {
      await this.syncActive();
    } catch (err) {
      this.log.error({ err }, 'final WAL fsync failed');
    }
    await this.trimChain;
    this.rejectDurableWaiters(new WalClosedError('WAL closed before the position became durable'));
    await this.handle.close();
    this.log.info({ dir: this.dir, usedBytes: this.used }, 'WAL closed');
  }
}

async function createFile(fs: WalFs, dir: string, path: string, seq: number): Promise<WalFile> {
  const file = await storageOp(`create WAL file ${path}`, () => fs.open(path, 'create'));
  try {
    const header = encodeFileHeader(seq);
    let done = 0;
    while (done < header.length) {
      const n = await file.write(header, done, header.length - done, done);
      if (n <= 0) throw new Error(`write returned ${n} bytes`);
      done += n;
    }
    await file.sync();
    // The file must survive a power loss before anything in it is acknowledged.
    await fs.syncDir(dir);
    return file;
  } catch (err) {
    await file.close().catch(() => undefined);
    await fs.unlink(path).catch(() => undefined);
    throw new WalStorageError(`cannot start WAL file ${path}`, err);
  }
}

async function storageOp<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new WalStorageError(`cannot ${what}`, err);
  }
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}
