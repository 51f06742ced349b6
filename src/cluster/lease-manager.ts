// One agent's membership in a cluster: it registers and heartbeats in `agents`, renews every lease
// it holds, and places partitions and group-coordinator shards over the live agents (placement.ts).
// It is also what the rest of the agent asks about the cluster: the ClusterView behind Metadata,
// the PartitionLeadership behind the log layer, and the ShardPlacement behind the group coordinator.
//
// Safety comes from the metadata store, not from this loop being timely: a partition's lease epoch
// is its leader epoch and every segment commit is fenced on it. Liveness comes from the loop: every
// `intervalMs` it renews (one transaction for all leases), reads who is live and who leads what,
// takes free leases of partitions placed here, and hands over (upload tail, then release) those
// placed elsewhere. A lease counts as valid locally until `renew start + 0.9 * ttl` on the monotonic
// clock, which stops earlier than the database's expiry, so a paused agent stops acknowledging
// before anybody may take over.

import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { AgentRecord, Lease, LeaseFence, MetadataStore, PartitionRecord, TopicRecord } from '../metadata/types.js';
import { partitionLeaseResource } from '../metadata/leases.js';
import type { WalRecord } from '../wal/format.js';
import type { PartitionLeadership } from '../log/log-manager.js';
import type { BrokerEndpoint, ClusterView, PartitionLeader } from './cluster-view.js';
import { partitionKey, placeKeys, rank } from './placement.js';
import { readPartitionRecords } from './wal-recovery.js';

export interface LeaseManagerOptions {
  store: MetadataStore;
  agentId: string;
  /** Advertised Kafka endpoint of this agent (the port may be set later, see setAdvertisedPort). */
  host: string;
  port: number;
  rack: string | null;
  /** This agent's WAL directory, recorded so a successor on the same volume can read it. */
  walDir: string;
  leaseTimeoutMs: number;
  /** Renewal and placement cadence. Default leaseTimeoutMs / 3. */
  intervalMs?: number;
  /** Group coordinator shard count (leases "group-coordinator/<shard>"). */
  groupShards: number;
  log: Logger;
  /** At most this many graceful handovers per round, so a join moves partitions gradually. Default 8. */
  maxMovesPerRound?: number;
}

/** What the lease manager drives in the log layer. */
export interface LeadershipTarget {
  /** Opens the partition's log (under the lease just taken), recovering the previous leader's tail. */
  partition(topic: TopicRecord, partition: number): Promise<unknown>;
  /** Stops serving; graceful uploads the tail first. */
  resign(topicId: string, partition: number, graceful: boolean): Promise<void>;
  /** Bytes of the partition's tail not yet in object storage (0 when not open). */
  unflushedBytes(topicId: string, partition: number): number;
}

/** A coordinator's side of shard leases (groups, transactions): load a shard on gain, drop it on loss. */
export interface ShardLeaseListener {
  loadShard(shard: number): Promise<void>;
  unloadShard(shard: number): void;
}

interface Held {
  epoch: number;
  /** performance.now() until which the lease is surely still ours. */
  validUntil: number;
  /** Holder and epoch of the partition row before this agent took it (whose WAL to read). */
  previous: { holder: string | null; epoch: number } | null;
  topicId?: string;
  partition?: number;
}

const SHARD_PREFIX = 'group-coordinator/';
const PARTITION_RESOURCE = /^partition\/([0-9a-f-]+)\/(\d+)$/;

export class LeaseManager implements ClusterView, PartitionLeadership {
  readonly clusterId: string;
  private self: AgentRecord | null = null;
  private live: AgentRecord[] = [];
  private everyAgent = new Map<string, AgentRecord>();
  private partitionRows = new Map<string, PartitionRecord>();
  private shardLeases = new Map<number, Lease>();
  private targets = new Map<string, string>();
  private readonly held = new Map<string, Held>();
  private readonly acquiring = new Map<string, Promise<number | null>>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** performance.now() of the first round that reached the store after rounds that did not. */
  private storeBackAt: number | null = null;
  private lastRoundFailed = false;
  private stopped = false;
  private readonly intervalMs: number;
  logs: LeadershipTarget | null = null;
  /** Topics by id (the agent's catalog), refreshed every round so other agents' topics show up. */
  topics: { refresh(): Promise<void>; getById(id: string): Promise<TopicRecord | undefined> } | null = null;
  /** The coordinators (groups, transactions), told when a coordinator shard lease is gained or lost. */
  shards: ShardLeaseListener[] = [];

  constructor(private readonly opts: LeaseManagerOptions) {
    this.clusterId = opts.store.getClusterId();
    this.intervalMs = opts.intervalMs ?? Math.max(100, Math.floor(opts.leaseTimeoutMs / 3));
  }

  // ---- life cycle -----------------------------------------------------------------------------

  /** Registers this agent (allocating its node id) without taking any lease yet. */
  async register(): Promise<AgentRecord> {
    const o = this.opts;
    this.self = await o.store.agents.register({ agentId: o.agentId, host: o.host, port: o.port, rack: o.rack, walDir: o.walDir });
    return this.self;
  }

  /** The Kafka listener's bound port when 0 was configured: registered again with it. */
  async setAdvertisedPort(port: number): Promise<void> {
    this.opts.port = port;
    await this.register();
  }

  /** Runs the first round (so leases this agent held before a restart are adopted) and starts the loop. */
  async start(): Promise<void> {
    if (!this.self) await this.register();
    await this.runRound();
    this.schedule();
  }

  /**
   * Graceful leave, after the logs uploaded their tails: releases every lease whose data is in
   * object storage (a tail that failed to upload keeps its lease until it expires, so a successor
   * reads it from our WAL) and stops counting as live.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
    const leases = this.opts.store.leases;
    for (const [resource, h] of this.held) {
      if (h.topicId !== undefined && (this.logs?.unflushedBytes(h.topicId, h.partition!) ?? 0) > 0) continue;
      await leases.release(resource, this.opts.agentId, h.epoch).catch((err) => this.opts.log.warn({ err, resource }, 'releasing a lease at shutdown failed; it expires on its own'));
    }
    this.held.clear();
    await this.opts.store.agents.deregister(this.opts.agentId).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runRound().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One renewal and placement round; errors are logged (a store outage only delays the next one). */
  runRound(): Promise<void> {
    if (!this.round) {
      this.round = this.roundOnce()
        .catch((err) => {
          this.lastRoundFailed = true;
          this.opts.log.warn({ err }, 'cluster round failed; leases are renewed at the next one');
        })
        .finally(() => {
          this.round = null;
        });
    }
    return this.round;
  }

  private async roundOnce(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    if (!(await o.store.agents.heartbeat(o.agentId))) await this.register();
    if (this.lastRoundFailed) this.storeBackAt = performance.now();
    this.lastRoundFailed = false;
    this.checkRenewed(await o.store.leases.renewAll(o.agentId, o.leaseTimeoutMs), started);
    await this.refresh();
    await this.place();
  }

  /** Leases missing from the renewal (or at another epoch) were lost; new ones are adopted. */
  private checkRenewed(renewed: Lease[], started: number): void {
    const byResource = new Map(renewed.map((l) => [l.resource, l]));
    for (const [resource, h] of this.held) {
      const l = byResource.get(resource);
      if (!l || l.epoch !== h.epoch) this.lose(resource, 'the lease was taken over while this agent could not renew it');
      else h.validUntil = started + this.opts.leaseTimeoutMs * 0.9;
    }
    for (const l of renewed) {
      if (this.held.has(l.resource)) continue;
      // Held before a restart of this agent id: ours at the same epoch, tail in our own WAL.
      const m = PARTITION_RESOURCE.exec(l.resource);
      this.held.set(l.resource, {
        epoch: l.epoch,
        validUntil: started + this.opts.leaseTimeoutMs * 0.9,
        previous: { holder: this.opts.agentId, epoch: l.epoch },
        ...(m ? { topicId: m[1], partition: Number(m[2]) } : {}),
      });
      this.shardGained(l.resource);
    }
  }

  private async refresh(): Promise<void> {
    const s = this.opts.store;
    this.live = await s.agents.listLive(this.opts.leaseTimeoutMs);
    if (this.self && !this.live.some((a) => a.agentId === this.self!.agentId)) this.live.push(this.self);
    this.everyAgent = new Map((await s.agents.listAll()).map((a) => [a.agentId, a]));
    this.partitionRows = new Map((await s.partitions.listAllPartitions()).map((r) => [partitionKey(r.topicId, r.partition), r]));
    this.shardLeases = new Map((await s.leases.list(SHARD_PREFIX)).map((l) => [Number(l.resource.slice(SHARD_PREFIX.length)), l]));
    await this.topics?.refresh();
    const ids = this.liveIds();
    const shardKeys = Array.from({ length: this.opts.groupShards }, (_, i) => `${SHARD_PREFIX}${i}`);
    // Partitions and shards are balanced separately: each kind spreads evenly on its own.
    this.targets = new Map([...placeKeys([...this.partitionRows.keys()], ids), ...placeKeys(shardKeys, ids)]);
  }

  private liveIds(): string[] {
    return this.live.map((a) => a.agentId);
  }

  private async place(): Promise<void> {
    const me = this.opts.agentId;
    const live = new Set(this.liveIds());
    // Take what is placed here and free (or held by an agent that stopped heartbeating).
    for (const [key, row] of this.partitionRows) {
      if (this.stopped) return;
      if (this.targets.get(key) !== me) continue;
      const resource = partitionLeaseResource(row.topicId, row.partition);
      const h = this.held.get(resource);
      if (h && this.logs) {
        const topic = await this.topics?.getById(row.topicId);
        if (topic) await this.logs.partition(topic, row.partition).catch(() => undefined);
        continue;
      }
      if (row.leaderAgent !== null && row.leaderAgent !== me && (live.has(row.leaderAgent) || this.inOutageGrace())) continue;
      const topic = await this.topics?.getById(row.topicId);
      if (!topic) continue;
      const epoch = await this.acquirePartition(topic, row.partition);
      if (epoch !== null && this.logs) await this.logs.partition(topic, row.partition).catch((err) => this.opts.log.warn({ err, topic: topic.name, partition: row.partition }, 'opening a partition taken over failed'));
    }
    for (let shard = 0; shard < this.opts.groupShards; shard++) {
      const resource = `${SHARD_PREFIX}${shard}`;
      if (this.targets.get(resource) !== me || this.held.has(resource)) continue;
      const cur = this.shardLeases.get(shard);
      if (cur?.holder && cur.holder !== me && (live.has(cur.holder) || this.inOutageGrace())) continue;
      const lease = await this.opts.store.leases.acquire(resource, me, this.opts.leaseTimeoutMs);
      if (lease) {
        this.held.set(resource, { epoch: lease.epoch, validUntil: performance.now() + this.opts.leaseTimeoutMs * 0.9, previous: null });
        this.opts.log.info({ resource, epoch: lease.epoch, previous: cur?.holder ?? null }, 'coordinator shard lease taken');
        this.shardGained(resource);
      }
    }
    // Hand over what is placed elsewhere, a few at a time: upload the tail, then release.
    let moves = this.opts.maxMovesPerRound ?? 8;
    for (const [resource, h] of [...this.held]) {
      if (moves <= 0 || this.stopped) break;
      const key = h.topicId !== undefined ? partitionKey(h.topicId, h.partition!) : resource;
      const target = this.targets.get(key);
      if (target === undefined || target === me) continue;
      moves--;
      try {
        if (h.topicId !== undefined) await this.logs?.resign(h.topicId, h.partition!, true);
        this.held.delete(resource);
        this.shardLost(resource);
        await this.opts.store.leases.release(resource, me, h.epoch);
        this.opts.log.info({ resource, to: target }, 'lease handed over');
      } catch (err) {
        this.opts.log.warn({ err, resource }, 'handover failed; the lease is kept and retried next round');
        if (!this.held.has(resource)) this.held.set(resource, h);
      }
    }
  }

  /**
   * Right after a store outage every agent's heartbeat looks stale, so the first one back would
   * take everybody's leases and hand them back over the next rounds. For one lease timeout after
   * the store is reachable again, leases other agents held are left for them to renew.
   */
  private inOutageGrace(): boolean {
    return this.storeBackAt !== null && performance.now() - this.storeBackAt < this.opts.leaseTimeoutMs;
  }

  private async acquirePartition(topic: TopicRecord, partition: number): Promise<number | null> {
    const resource = partitionLeaseResource(topic.id, partition);
    let p = this.acquiring.get(resource);
    if (!p) {
      p = (async () => {
        const started = performance.now();
        const before = await this.opts.store.partitions.getPartition(topic.id, partition);
        const lease = await this.opts.store.leases.acquire(resource, this.opts.agentId, this.opts.leaseTimeoutMs);
        if (!lease) return null;
        this.held.set(resource, {
          epoch: lease.epoch,
          validUntil: started + this.opts.leaseTimeoutMs * 0.9,
          previous: before ? { holder: before.leaderAgent, epoch: before.leaderEpoch } : null,
          topicId: topic.id,
          partition,
        });
        this.opts.log.info({ topic: topic.name, partition, epoch: lease.epoch, previous: before?.leaderAgent ?? null }, 'partition lease taken');
        return lease.epoch;
      })().finally(() => this.acquiring.delete(resource));
      this.acquiring.set(resource, p);
    }
    return p;
  }

  private lose(resource: string, why: string): void {
    const h = this.held.get(resource);
    if (!h) return;
    this.held.delete(resource);
    this.opts.log.warn({ resource, epoch: h.epoch, why }, 'lease lost; no longer serving it');
    if (h.topicId !== undefined) this.logs?.resign(h.topicId, h.partition!, false).catch(() => undefined);
    this.shardLost(resource);
  }

  private shardGained(resource: string): void {
    if (!resource.startsWith(SHARD_PREFIX)) return;
    const shard = Number(resource.slice(SHARD_PREFIX.length));
    for (const listener of this.shards) {
      listener.loadShard(shard).catch((err) => this.opts.log.warn({ err, shard }, 'loading a coordinator shard failed; it is retried when the lease is taken again'));
    }
  }

  private shardLost(resource: string): void {
    if (!resource.startsWith(SHARD_PREFIX)) return;
    for (const listener of this.shards) listener.unloadShard(Number(resource.slice(SHARD_PREFIX.length)));
  }

  // ---- PartitionLeadership (log layer) ---------------------------------------------------------

  get agentId(): string {
    return this.opts.agentId;
  }

  async leaseFor(topic: TopicRecord, partition: number): Promise<number | null> {
    if (this.stopped || !this.self) return null;
    const resource = partitionLeaseResource(topic.id, partition);
    const h = this.held.get(resource);
    if (h) {
      if (performance.now() < h.validUntil) return h.epoch;
      const started = performance.now();
      let renewed: boolean;
      try {
        renewed = await this.opts.store.leases.renew(resource, this.opts.agentId, h.epoch, this.opts.leaseTimeoutMs);
      } catch {
        // The store is unreachable: the lease may still be ours. Serve nothing now; the next round
        // that reaches the store renews it (same epoch, own WAL intact) or learns it was lost.
        return null;
      }
      if (renewed) {
        h.validUntil = started + this.opts.leaseTimeoutMs * 0.9;
        return h.epoch;
      }
      this.lose(resource, 'renewal refused');
      return null;
    }
    // On demand: a new topic's partitions are taken by their target owner at the first request.
    if (this.targetOwner(topic.id, partition) !== this.opts.agentId) return null;
    const row = this.partitionRows.get(partitionKey(topic.id, partition));
    const live = new Set(this.liveIds());
    if (row?.leaderAgent && row.leaderAgent !== this.opts.agentId && (live.has(row.leaderAgent) || this.inOutageGrace())) return null;
    return this.acquirePartition(topic, partition).catch(() => null);
  }

  isValid(topicId: string, partition: number, epoch: number): boolean {
    const h = this.held.get(partitionLeaseResource(topicId, partition));
    return h !== undefined && h.epoch === epoch && performance.now() < h.validUntil;
  }

  async recoveryRecords(topicId: string, partition: number, epoch: number, committedEnd: bigint): Promise<WalRecord[]> {
    const prev = this.held.get(partitionLeaseResource(topicId, partition))?.previous;
    const out: WalRecord[] = [];
    // A released lease (holder null) was handed over gracefully: its tail is committed.
    // Same epoch: this agent re-took its own lease (restart). epoch - 1: the holder right before us.
    if (prev && prev.holder !== null && (prev.epoch === epoch || prev.epoch === epoch - 1)) {
      const walDir = prev.holder === this.opts.agentId ? this.opts.walDir : this.everyAgent.get(prev.holder)?.walDir;
      if (walDir) out.push(...(await readPartitionRecords(walDir, topicId, partition, prev.epoch, committedEnd)));
      if (out.length > 0) this.opts.log.info({ topicId, partition, from: prev.holder, records: out.length }, "recovering the previous leader's unflushed records from its WAL");
    }
    // This agent's own tail under the current lease: a log of ours closed and opened again at the
    // same epoch (a failed open, a close after an error) left its unflushed records in our WAL.
    if (!(prev?.holder === this.opts.agentId && prev.epoch === epoch)) {
      const from = out.length > 0 ? out[out.length - 1]!.lastOffset + 1n : committedEnd;
      const own = await readPartitionRecords(this.opts.walDir, topicId, partition, epoch, from);
      if (own.length > 0) this.opts.log.info({ topicId, partition, records: own.length }, 'recovering our own unflushed records of this lease from the WAL');
      out.push(...own);
    }
    return out;
  }

  lost(topicId: string, partition: number, epoch: number): void {
    const resource = partitionLeaseResource(topicId, partition);
    if (this.held.get(resource)?.epoch === epoch) this.lose(resource, 'a segment commit was fenced');
  }

  // ---- ClusterView (Metadata, FindCoordinator) -------------------------------------------------

  get localNodeId(): number {
    return this.self?.nodeId ?? -1;
  }

  brokers(): BrokerEndpoint[] {
    const list = this.live.length > 0 ? this.live : this.self ? [this.self] : [];
    return list.map((a) => ({ nodeId: a.nodeId, host: a.host, port: a.port, rack: a.rack }));
  }

  controllerId(): number {
    return Math.min(...this.brokers().map((b) => b.nodeId));
  }

  /** The leader clients should go to: the live holder, else the target owner (which takes it on demand). */
  leader(topicId: string, partition: number): PartitionLeader {
    const h = this.held.get(partitionLeaseResource(topicId, partition));
    if (h && performance.now() < h.validUntil) return { leaderId: this.localNodeId, leaderEpoch: h.epoch };
    const row = this.partitionRows.get(partitionKey(topicId, partition));
    const byId = new Map(this.live.map((a) => [a.agentId, a]));
    const holder = row?.leaderAgent ? byId.get(row.leaderAgent) : undefined;
    if (holder && holder.agentId !== this.opts.agentId) return { leaderId: holder.nodeId, leaderEpoch: row!.leaderEpoch };
    const target = byId.get(this.targetOwner(topicId, partition) ?? '');
    return { leaderId: target?.nodeId ?? this.localNodeId, leaderEpoch: row?.leaderEpoch ?? 0 };
  }

  private targetOwner(topicId: string, partition: number): string | undefined {
    const key = partitionKey(topicId, partition);
    // A partition created since the last round: its favourite agent (the next round may rebalance).
    return this.targets.get(key) ?? rank(key, this.liveIds())[0];
  }

  // ---- ShardPlacement (group coordinator) ------------------------------------------------------

  coordinatorNode(shard: number): number | null {
    const resource = `${SHARD_PREFIX}${shard}`;
    if (this.ownsShard(shard)) return this.localNodeId;
    const byId = new Map(this.live.map((a) => [a.agentId, a]));
    const cur = this.shardLeases.get(shard);
    const holder = cur?.holder ? byId.get(cur.holder) : undefined;
    if (holder && holder.agentId !== this.opts.agentId) return holder.nodeId;
    return byId.get(this.targets.get(resource) ?? '')?.nodeId ?? null;
  }

  ownsShard(shard: number): boolean {
    const h = this.held.get(`${SHARD_PREFIX}${shard}`);
    return h !== undefined && performance.now() < h.validUntil;
  }

  fence(shard: number): LeaseFence {
    const resource = `${SHARD_PREFIX}${shard}`;
    // Not held: epoch -1 matches no lease row, so a write attempted anyway is refused.
    return { resource, holder: this.opts.agentId, epoch: this.held.get(resource)?.epoch ?? -1 };
  }

  coordinatorEpoch(shard: number): number {
    return this.held.get(`${SHARD_PREFIX}${shard}`)?.epoch ?? -1;
  }

  /** Resources this agent holds now, with their epochs (tests, admin). */
  heldLeases(): { resource: string; epoch: number }[] {
    return [...this.held].map(([resource, h]) => ({ resource, epoch: h.epoch }));
  }
}
