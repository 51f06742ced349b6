// The agent's partition logs: opens them (lazily, or at start for partitions the WAL holds records
// of), routes by topic id, and runs the background work: segment roll by size and age, retention,
// early uploads under WAL pressure, the orphaned-object collector, and the final upload on a
// graceful stop.
import type { Logger } from '../observability/logger.js';
import type { MetadataStore, TopicRecord } from '../metadata/types.js';
import type { ObjectStore } from '../s3/index.js';
import { kafkaError } from '../protocol/errors.js';
import { FencedError } from '../metadata/errors.js';
import { WriteAheadLog, type WalOptions, type WalRecord } from '../wal/wal.js';
import { BlockCache } from './block-cache.js';
import type { LogMetrics } from './log-metrics.js';
import { logSettings } from './log-settings.js';
import { collectOrphans, type OrphanReport } from './orphan-collector.js';
import { PartitionLog, type PartitionLogDeps } from './partition-log.js';
import { partitionPrefix } from './segment-format.js';
import { SegmentReader } from './segment-reader.js';
import type { DurabilityProfile } from './topic-config.js';
import type { LogManager, PartitionLogView, ProducerStateChecker } from './types.js';

export interface LogManagerOptions {
  store: MetadataStore;
  objects: ObjectStore;
  /** null runs without a WAL: every topic then behaves as glacier. */
  wal: WriteAheadLog | null;
  brokerProfile: DurabilityProfile;
  log: Logger;
  /** Block cache bound. Default 64 MiB. */
  cacheBytes?: number;
  /** How often partitions are checked for segment.ms / segment.bytes. Default 250 ms. */
  rollCheckMs?: number;
  /** How often retention runs. Default 30 s. */
  retentionCheckMs?: number;
  /** How often the orphan collector runs. Default 10 min; 0 disables it. */
  orphanCheckMs?: number;
  /** Objects without a row younger than this are left alone (an upload may be about to commit). Default 1 h. */
  orphanGraceMs?: number;
  /** Told the leader epoch of each partition opened (Metadata reports it). */
  onLeaderEpoch?: (topicId: string, partition: number, epoch: number) => void;
  producerState?: ProducerStateChecker;
  /** Cluster mode: partitions are served only under a lease this agent holds (src/cluster/). */
  leadership?: PartitionLeadership;
  /** Segment uploads and block cache hits/misses (the agent's Prometheus counters). */
  metrics?: LogMetrics;
}

/**
 * What the log layer asks the cluster layer (src/cluster/lease-manager.ts) in cluster mode. Without
 * it, this agent leads every partition (single-agent mode).
 */
export interface PartitionLeadership {
  /** This agent's id: segment commits are conditional on it holding the lease, and record it. */
  readonly agentId: string;
  /**
   * The epoch of this agent's valid lease on the partition, taking the lease first when this agent
   * is the partition's target owner and the lease is free; null when another agent leads it.
   */
  leaseFor(topic: TopicRecord, partition: number): Promise<number | null>;
  /** Whether the lease at `epoch` is still valid by this agent's clock. */
  isValid(topicId: string, partition: number, epoch: number): boolean;
  /** Records the previous leader left unflushed in its WAL (readable on a shared volume). */
  recoveryRecords(topicId: string, partition: number, epoch: number, committedEnd: bigint): Promise<WalRecord[]>;
  /** The log found itself fenced (a segment commit refused its epoch): the lease is gone. */
  lost(topicId: string, partition: number, epoch: number): void;
}

/** Opens the WAL for a broker profile: fsync per commit for ultra-safe, periodic otherwise. */
export async function openWal(
  dir: string,
  profile: DurabilityProfile,
  log: Logger,
  onPressure?: () => void,
  limits: Pick<WalOptions, 'maxBytes' | 'segmentBytes' | 'pressureTimeoutMs' | 'onSync'> = {},
): Promise<WriteAheadLog> {
  return WriteAheadLog.open({
    dir,
    // One WAL serves every topic: the broker's profile sets its fsync cadence; ultra-safe topics on
    // a balanced broker still wait for an fsync of their own (PartitionLog asks for one).
    syncMode: profile.syncIntervalMs === 0 ? 'always' : 'interval',
    syncIntervalMs: profile.syncIntervalMs > 0 ? profile.syncIntervalMs : 1000,
    logger: log.child({ component: 'wal' }),
    onPressure,
    ...limits,
  });
}

export class PartitionLogManager implements LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly opening = new Map<string, Promise<PartitionLog>>();
  private readonly deps: PartitionLogDeps;
  readonly cache: BlockCache;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly opts: LogManagerOptions) {
    this.cache = new BlockCache(opts.objects, { maxBytes: opts.cacheBytes, metrics: opts.metrics });
    this.deps = {
      store: opts.store,
      objects: opts.objects,
      wal: opts.wal,
      reader: new SegmentReader(this.cache),
      cache: this.cache,
      log: opts.log.child({ component: 'log' }),
      producerState: opts.producerState,
      leaseValid: opts.leadership ? (t, p, e) => opts.leadership!.isValid(t, p, e) : undefined,
      agentId: opts.leadership?.agentId,
      metrics: opts.metrics,
    };
  }

  /** Replays the WAL: every partition with records above its committed segments gets its tail back. */
  async recover(): Promise<void> {
    const wal = this.opts.wal;
    if (wal) {
      const byPartition = new Map<string, WalRecord[]>();
      for await (const rec of wal.recover()) {
        const key = `${rec.topicId}:${rec.partition}`;
        let list = byPartition.get(key);
        if (!list) byPartition.set(key, (list = []));
        // The record's data is a view into the file buffer; the log copies what it keeps.
        list.push(rec);
      }
      // Cluster mode: the records wait on disk until this agent (restarted) or a successor takes
      // the partition's lease and reads them (see PartitionLeadership.recoveryRecords).
      // Partitions that stay elsewhere release their records after a grace period.
      if (this.opts.leadership) {
        const found = [...byPartition.values()].map((r) => ({ topicId: r[0].topicId, partition: r[0].partition }));
        byPartition.clear();
        const t = setTimeout(() => {
          for (const f of found) if (!this.logs.has(`${f.topicId}:${f.partition}`) && !this.closed) wal.forget(f.topicId, f.partition);
        }, 120_000);
        t.unref();
      }
      for (const [key, records] of byPartition) {
        const { topicId, partition } = records[0];
        const topic = await this.opts.store.topics.getTopicById(topicId);
        if (!topic || partition >= topic.partitions) {
          wal.forget(topicId, partition);
          continue;
        }
        const log = await PartitionLog.open(this.deps, topic, partition, logSettings(topic, this.opts.brokerProfile), records);
        this.register(key, log);
      }
    }
    this.startTimers();
  }

  async partition(topic: TopicRecord, partition: number): Promise<PartitionLog> {
    const key = `${topic.id}:${partition}`;
    const leadership = this.opts.leadership;
    const open = this.logs.get(key);
    if (open && !leadership) return open;
    if (open?.leading) return open;
    if (open) {
      // Not renewed in time (a slow store, a pause): still ours if the lease is, at the same epoch.
      const epoch = await leadership!.leaseFor(topic, partition);
      if (epoch === open.leaderEpoch && open.leading) return open;
      // Unknown (the store is unreachable): keep the log, which refuses appends while its lease
      // is not valid. Closing it would drop a tail the store never saw, and with it the producer
      // state of batches already acknowledged; reopened at the same epoch, the log would start at
      // the committed end and answer the next idempotent batch OUT_OF_ORDER_SEQUENCE_NUMBER. A
      // lease that is really lost is resigned by the cluster layer (PartitionLeadership.lost and
      // the renewal round), not here.
      if (epoch === null) {
        throw kafkaError('NOT_LEADER_OR_FOLLOWER', `the lease on partition ${partition} of topic '${topic.name}' could not be confirmed (metadata store unreachable?); retry`);
      }
      await this.resign(topic.id, partition, false);
    }
    if (this.closed) throw kafkaError('NOT_LEADER_OR_FOLLOWER', 'this agent is shutting down; retry against the new leader');
    let p = this.opening.get(key);
    if (!p) {
      p = (leadership ? this.openAsLeader(leadership, topic, partition) : PartitionLog.open(this.deps, topic, partition, logSettings(topic, this.opts.brokerProfile)))
        .then((log) => {
          this.register(key, log);
          return log;
        })
        .finally(() => this.opening.delete(key));
      this.opening.set(key, p);
    }
    return p;
  }

  /**
   * Cluster mode: opens the partition under this agent's lease. The previous leader's unflushed
   * records (its WAL, when readable here) are replayed and uploaded at once, before the log serves,
   * so every leader's uncommitted tail is only ever in its own WAL.
   */
  private async openAsLeader(leadership: PartitionLeadership, topic: TopicRecord, partition: number): Promise<PartitionLog> {
    const epoch = await leadership.leaseFor(topic, partition);
    if (epoch === null) {
      throw kafkaError('NOT_LEADER_OR_FOLLOWER', `this agent does not lead partition ${partition} of topic '${topic.name}'; refresh metadata and retry`);
    }
    const committedEnd = await this.opts.store.segments.nextOffset(topic.id, partition);
    const records = await leadership.recoveryRecords(topic.id, partition, epoch, committedEnd);
    const log = await PartitionLog.open(this.deps, topic, partition, logSettings(topic, this.opts.brokerProfile), records, epoch);
    if (records.length > 0) {
      try {
        await log.flush(true);
      } catch (err) {
        log.close();
        if (err instanceof FencedError) leadership.lost(topic.id, partition, epoch);
        throw kafkaError('NOT_LEADER_OR_FOLLOWER', `taking over partition ${partition} of topic '${topic.name}' failed (${(err as Error).message}); retry`);
      }
    }
    return log;
  }

  /**
   * Stops serving a partition. Graceful (handover, shutdown): the durable tail is uploaded first so
   * the successor finds it committed. Not graceful (the lease was lost): the log stops at once.
   */
  async resign(topicId: string, partition: number, graceful: boolean): Promise<void> {
    const key = `${topicId}:${partition}`;
    const log = this.logs.get(key);
    if (!log) return;
    if (graceful) await log.flush(true);
    log.close();
    if (this.logs.get(key) === log) this.logs.delete(key);
    if (graceful) this.opts.wal?.forget(topicId, partition);
    else {
      // A successor reads these records from our WAL when it takes the lease; let them go later.
      const t = setTimeout(() => {
        if (!this.logs.has(key) && !this.closed) this.opts.wal?.forget(topicId, partition);
      }, 120_000);
      t.unref();
    }
  }

  /** Bytes of the partition's tail not yet in object storage (0 when not open here). */
  unflushedBytes(topicId: string, partition: number): number {
    return this.logs.get(`${topicId}:${partition}`)?.tailSizeBytes() ?? 0;
  }

  /** The log if it is open, without opening it. */
  getOpen(topicId: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topicId}:${partition}`);
  }

  openPartitions(): PartitionLogView[] {
    return [...this.logs.values()];
  }

  /** TopicCatalog.onChange: configs apply to open logs at once; a deleted topic's logs go. */
  onTopicChange(event: 'created' | 'deleted' | 'changed', topic: TopicRecord): void {
    if (event === 'changed') {
      const settings = logSettings(topic, this.opts.brokerProfile);
      for (const log of this.logs.values()) if (log.topicId === topic.id) log.updateSettings(settings);
    } else if (event === 'deleted') {
      // Objects go in dropTopic (DeleteTopics calls it); here the logs just stop at once.
      this.closeTopicLogs(topic.id);
    }
  }

  private closeTopicLogs(topicId: string): void {
    for (const [key, log] of this.logs) {
      if (log.topicId !== topicId) continue;
      log.close();
      this.logs.delete(key);
      this.opts.wal?.forget(topicId, log.partition);
    }
  }

  async dropTopic(topic: TopicRecord): Promise<void> {
    this.closeTopicLogs(topic.id);
    for (let p = 0; p < topic.partitions; p++) {
      const keys: string[] = [];
      for await (const o of this.opts.objects.list(partitionPrefix(topic.id, p))) keys.push(o.key);
      for (const key of keys) {
        this.cache.evictObject(key);
        await this.opts.objects.delete(key).catch((err) => this.deps.log.warn({ err, key }, 'deleting an object of a deleted topic failed; the orphan collector will retry'));
      }
    }
  }

  /** Uploads every partition's durable tail now (WAL pressure, tests, shutdown). */
  async flushAll(): Promise<void> {
    const results = await Promise.allSettled([...this.logs.values()].map((l) => l.flush(true)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
  }

  /** One roll check: by size, full segments upload and the rest keeps filling; by age, everything durable goes. */
  rollDue(now = Date.now()): void {
    for (const log of this.logs.values()) {
      if (log.isFenced) {
        this.opts.leadership?.lost(log.topicId, log.partition, log.leaderEpoch);
        this.resign(log.topicId, log.partition, false).catch(() => undefined);
        continue;
      }
      const reason = log.rollReason(now);
      if (reason) log.flush(reason === 'age').catch(() => undefined);
    }
  }

  /** One retention pass over the open partitions. */
  async runRetention(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.logs.values()) {
      try {
        deleted += await log.enforceRetention(now);
      } catch (err) {
        this.deps.log.warn({ err, topicId: log.topicId, partition: log.partition }, 'retention pass failed');
      }
    }
    return deleted;
  }

  /** Deletes objects under topics/ that no segment row names and that are older than the grace period. */
  collectOrphans(graceMs = this.opts.orphanGraceMs ?? 3_600_000): Promise<OrphanReport> {
    return collectOrphans(this.opts.store, this.opts.objects, graceMs, this.deps.log);
  }

  /** WAL pressure: upload early so WAL files can be released. */
  onWalPressure(): void {
    this.flushAll().catch((err) => this.deps.log.warn({ err }, 'early upload under WAL pressure failed'));
  }

  /** Graceful stop: uploads every tail (a glacier tail exists nowhere else), then closes the logs and the WAL. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.opening.values()]);
    try {
      await this.flushAll();
    } catch (err) {
      this.deps.log.error({ err }, 'uploading tails at shutdown failed; WAL-backed tails recover at the next start');
    }
    for (const log of this.logs.values()) log.close();
    await this.opts.wal?.close();
  }

  private register(key: string, log: PartitionLog): void {
    this.logs.set(key, log);
    this.opts.onLeaderEpoch?.(log.topicId, log.partition, log.leaderEpoch);
  }

  private startTimers(): void {
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(() => {
        try {
          const r = fn();
          if (r instanceof Promise) r.catch((err) => this.deps.log.warn({ err }, 'background log task failed'));
        } catch (err) {
          this.deps.log.warn({ err }, 'background log task failed');
        }
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.rollCheckMs ?? 250, () => this.rollDue());
    every(this.opts.retentionCheckMs ?? 30_000, () => this.runRetention());
    const orphanMs = this.opts.orphanCheckMs ?? 600_000;
    if (orphanMs > 0) every(orphanMs, () => this.collectOrphans());
  }
}
