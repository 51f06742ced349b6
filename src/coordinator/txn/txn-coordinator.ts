// The transaction coordinator, keyed by transactional.id. Every state change is written to the
// metadata store (namespace "txn", compare-and-set on the entry's version) before it takes
// effect, so after a crash a transaction is found in a state it can finish from: Prepare* states
// are completed (markers written again, which is harmless), Ongoing ones time out and abort.
//
// Operations on one transactional id run one at a time; writing markers happens outside that
// lock, during which other requests for the id see PrepareCommit/PrepareAbort and get
// CONCURRENT_TRANSACTIONS, as in Kafka. EndTxn answers after the markers are written (Kafka
// answers once PrepareCommit is logged), so a committed transaction is readable when the
// producer hears back; if a marker cannot be written the prepare stays durable and is retried.
//
// Cluster mode: transactional ids live in the coordinator shards of the group coordinator
// (groupShard of the id), owned by lease. An agent serves only ids of shards it holds (else
// NOT_COORDINATOR), loads a shard's transactions when it gains the lease (finishing prepared
// ones, as after a crash) and forgets them when it loses it. Every store write is fenced on the
// shard's lease epoch, which is also the coordinator epoch written in markers. Offsets staged by
// TxnOffsetCommit wait in the store (staged-offsets.ts) because the group's coordinator may be
// another agent.
//
// Deviations: transaction version 1 only (EndTxn v5's per-transaction epoch bump is not served).
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { LeaseFencedError } from '../../metadata/errors.js';
import type { GroupOffsetStore, KeyValueStore } from '../../metadata/types.js';
import type { ShardPlacement } from '../group/shard.js';
import { groupShard } from '../group/shard.js';
import { sameTransaction, StagedOffsetStore } from './staged-offsets.js';
import type { Logger } from '../../observability/logger.js';
import type { TxnVerifier } from '../producer/producer-state-manager.js';
import type { ProducerIdManager } from './producer-id-manager.js';
import {
  alreadyAdded,
  complete,
  decodeTxnRecord,
  encodeTxnRecord,
  isComplete,
  newTxnRecord,
  prepareAdd,
  prepareEnd,
  prepareFenceAndAbort,
  prepareInitProducerId,
  type ExpectedProducer,
  type PendingOffset,
  type TxnPartition,
  type TxnRecord,
} from './txn-metadata.js';

/** Placement without leases: this agent coordinates every shard, at coordinator epoch 0. */
const EVERY_SHARD: ShardPlacement = { coordinatorNode: () => null, ownsShard: () => true, fence: () => undefined, coordinatorEpoch: () => 0 };

export const TXN_NAMESPACE = 'txn';

/** Writes one commit or abort marker to a partition's log and resolves once it is durable. */
export interface MarkerWriter {
  writeMarker(p: TxnPartition, producerId: bigint, producerEpoch: number, coordinatorEpoch: number, marker: 'commit' | 'abort'): Promise<void>;
}

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortCheckIntervalMs: number;
  coordinatorEpoch: number;
}

export const DEFAULT_TXN_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortCheckIntervalMs: 1_000,
  coordinatorEpoch: 0,
};

export interface TxnCoordinatorDeps {
  kv: KeyValueStore;
  producerIds: ProducerIdManager;
  offsets: GroupOffsetStore;
  markers: MarkerWriter;
  /** Topic id of a topic name, null when the topic does not exist. */
  topicId(name: string): Promise<string | null>;
  log: Logger;
  now?: () => number;
  config?: Partial<TxnCoordinatorConfig>;
  /** Cluster mode: which coordinator shards this agent holds. Default: all of them. */
  placement?: ShardPlacement;
  /** Coordinator shard count (the group coordinator's). */
  shards?: number;
}

export interface InitProducerIdResult {
  error: number;
  producerId: bigint;
  producerEpoch: number;
}

export type PartitionErrors = Map<string, Map<number, number>>;

export class TxnCoordinator implements TxnVerifier {
  private readonly txns = new Map<string, { record: TxnRecord; version: number }>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly finishing = new Map<string, Promise<void>>();
  /** Work started without a waiting request (aborts, marker retries), awaited by settled(). */
  private readonly background = new Set<Promise<unknown>>();
  private readonly now: () => number;
  readonly config: TxnCoordinatorConfig;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  private readonly placement: ShardPlacement;
  /** Shards whose transactions are being read from the store (a lease just taken). */
  private readonly loading = new Set<number>();
  private readonly staged: StagedOffsetStore;

  constructor(private readonly deps: TxnCoordinatorDeps) {
    this.now = deps.now ?? Date.now;
    this.config = { ...DEFAULT_TXN_CONFIG, ...deps.config };
    this.placement = deps.placement ?? EVERY_SHARD;
    this.staged = new StagedOffsetStore(deps.kv);
  }

  shardOf(transactionalId: string): number {
    return groupShard(transactionalId, this.deps.shards);
  }

  /** Loads the transactional ids of the shards held now and finishes what a previous run left half done. */
  async start(): Promise<void> {
    await this.load((id) => this.placement.ownsShard(this.shardOf(id)));
    this.started = true;
    this.timer = setInterval(() => void this.tick(), this.config.abortCheckIntervalMs);
    this.timer.unref();
  }

  /**
   * Cluster mode: this agent took the shard's lease. Its transactions are read from the store;
   * requests for them get COORDINATOR_LOAD_IN_PROGRESS meanwhile. Writes of the previous owner
   * are fenced on the lease, so what is read is final.
   */
  async loadShard(shard: number): Promise<void> {
    if (!this.started) return; // start() loads every shard held by then
    this.loading.add(shard);
    try {
      this.unloadShard(shard); // a stale copy from an earlier tenure
      const n = await this.load((id) => this.shardOf(id) === shard);
      this.deps.log.info({ shard, transactionalIds: n }, 'transaction coordinator shard loaded');
    } finally {
      this.loading.delete(shard);
    }
  }

  /** Cluster mode: the shard's lease was lost or handed over; its next owner loads it. */
  unloadShard(shard: number): void {
    for (const id of [...this.txns.keys()]) if (this.shardOf(id) === shard) this.txns.delete(id);
  }

  private async load(accept: (transactionalId: string) => boolean): Promise<number> {
    let n = 0;
    for (const e of await this.deps.kv.list(TXN_NAMESPACE)) {
      if (!accept(e.key)) continue;
      const record = decodeTxnRecord(e.value);
      this.txns.set(e.key, { record, version: e.version });
      n++;
      if (record.state === 'PrepareCommit' || record.state === 'PrepareAbort') this.spawn(this.finish(e.key));
      if (record.state === 'PrepareEpochFence') this.spawn(this.abortFromCoordinator(e.key));
    }
    return n;
  }

  /** Throws NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS unless this agent serves the id now. */
  private checkCoordinator(transactionalId: string): void {
    const shard = this.shardOf(transactionalId);
    if (!this.placement.ownsShard(shard)) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `this agent does not coordinate transactional id ${transactionalId}; find the coordinator again`);
    }
    if (this.loading.has(shard)) {
      throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, `transactional id ${transactionalId} is being loaded after a coordinator move; retry shortly`);
    }
  }

  /** Whether this agent coordinates the id now (DescribeTransactions). */
  coordinates(transactionalId: string): boolean {
    const shard = this.shardOf(transactionalId);
    return this.placement.ownsShard(shard) && !this.loading.has(shard);
  }

  /** The transaction's state: from memory where this agent coordinates it, else from the store. */
  private async readTxn(transactionalId: string): Promise<TxnRecord | undefined> {
    const local = this.txns.get(transactionalId);
    if (local) return local.record;
    const e = await this.deps.kv.getEntry(TXN_NAMESPACE, transactionalId);
    return e ? decodeTxnRecord(e.value) : undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.settled();
  }

  get(transactionalId: string): TxnRecord | undefined {
    return this.txns.get(transactionalId)?.record;
  }

  list(): TxnRecord[] {
    return [...this.txns.values()].map((t) => t.record);
  }

  // InitProducerId --------------------------------------------------------------------------

  async initProducerId(transactionalId: string | null, timeoutMs: number, expected: ExpectedProducer | null): Promise<InitProducerIdResult> {
    const none = (error: number): InitProducerIdResult => ({ error, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === null) {
      // Idempotent producers always get a fresh id (KIP-360 recovery happens by asking again).
      return { error: ErrorCode.NONE, producerId: await this.deps.producerIds.generateProducerId(), producerEpoch: 0 };
    }
    if (transactionalId === '') return none(ErrorCode.INVALID_REQUEST);
    if (timeoutMs <= 0 || timeoutMs > this.config.maxTimeoutMs) return none(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    this.checkCoordinator(transactionalId);
    return this.withLock(transactionalId, async () => {
      let cur = this.txns.get(transactionalId);
      if (!cur || cur.record.state === 'Dead') {
        const fresh = newTxnRecord(transactionalId, await this.deps.producerIds.generateProducerId(), timeoutMs, this.now());
        cur = { record: fresh, version: cur?.version ?? 0 };
      }
      // The id rotation needs an async allocation; take one only when the epoch is exhausted.
      const spare = cur.record.producerEpoch >= 32766 ? await this.deps.producerIds.generateProducerId() : -1n;
      const t = prepareInitProducerId(cur.record, timeoutMs, expected, this.now(), () => spare);
      if (t.ok === 'fence') {
        await this.persist(transactionalId, { ...cur.record, state: 'PrepareEpochFence', lastUpdateMs: this.now() }, cur.version);
        this.spawn(this.abortFromCoordinator(transactionalId));
        return none(ErrorCode.CONCURRENT_TRANSACTIONS);
      }
      if (!t.ok) return none(t.error);
      await this.persist(transactionalId, t.next, cur.version);
      return { error: ErrorCode.NONE, producerId: t.next.producerId, producerEpoch: t.next.producerEpoch };
    });
  }

  // AddPartitionsToTxn / AddOffsetsToTxn --------------------------------------------------------

  /** Adds partitions; the result maps topic -> partition -> error code. */
  async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topics: { name: string; partitions: number[] }[],
  ): Promise<PartitionErrors> {
    const resolved: TxnPartition[] = [];
    const unknown = new Set<string>();
    for (const t of topics) {
      const id = await this.deps.topicId(t.name);
      if (id === null) unknown.add(t.name);
      else for (const p of t.partitions) resolved.push({ topic: t.name, topicId: id, partition: p });
    }
    const all = (code: (topic: string) => number) => {
      const out: PartitionErrors = new Map();
      for (const t of topics) out.set(t.name, new Map(t.partitions.map((p) => [p, code(t.name)])));
      return out;
    };
    if (unknown.size > 0) {
      return all((name) => (unknown.has(name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
    }
    const error = await this.add(transactionalId, producerId, producerEpoch, { partitions: resolved });
    return all(() => error);
  }

  async addOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    return this.add(transactionalId, producerId, producerEpoch, { groups: [groupId] });
  }

  private async add(transactionalId: string, producerId: bigint, producerEpoch: number, what: { partitions?: TxnPartition[]; groups?: string[] }): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    this.checkCoordinator(transactionalId);
    return this.withLock(transactionalId, async () => {
      const cur = this.txns.get(transactionalId);
      if (!cur) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      const t = prepareAdd(cur.record, producerId, producerEpoch, what, this.now());
      if (!t.ok) return t.error;
      if (alreadyAdded(cur.record, what)) return ErrorCode.NONE;
      await this.persist(transactionalId, t.next, cur.version);
      return ErrorCode.NONE;
    });
  }

  /**
   * AddPartitionsToTxn v4+ verify-only: whether each partition is in the transaction, without
   * adding it. `abortableCode` is TRANSACTION_ABORTABLE for v5, INVALID_TXN_STATE before.
   */
  async verifyPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    topics: { name: string; partitions: number[] }[],
    abortableCode: number,
  ): Promise<PartitionErrors> {
    const out: PartitionErrors = new Map();
    this.checkCoordinator(transactionalId);
    const r = this.get(transactionalId);
    for (const t of topics) {
      const m = new Map<number, number>();
      out.set(t.name, m);
      for (const p of t.partitions) {
        let code: number;
        if (!r || r.producerId !== producerId) code = ErrorCode.INVALID_PRODUCER_ID_MAPPING;
        else if (r.producerEpoch !== producerEpoch) code = ErrorCode.PRODUCER_FENCED;
        else if (r.state === 'PrepareCommit' || r.state === 'PrepareAbort') code = ErrorCode.CONCURRENT_TRANSACTIONS;
        else code = r.state === 'Ongoing' && r.partitions.some((q) => q.topic === t.name && q.partition === p) ? ErrorCode.NONE : abortableCode;
        m.set(p, code);
      }
    }
    return out;
  }

  /**
   * KIP-890 part 1, asked by a partition leader before the first transactional batch of a producer
   * on a partition: the partition must be in the producer's ongoing transaction. Answers from
   * memory where this agent coordinates the id, else from the store (the coordinator writes every
   * change there before answering the client). Throws KafkaError.
   *
   * Deviation (DESIGN.md keeps the store off the produce path but for segment commits): in cluster
   * mode the first batch of a transaction on a partition led away from its coordinator costs one
   * store read, where Kafka sends AddPartitionsToTxn(verifyOnly) to the coordinator. The store is
   * the coordinator's source of truth and stays answerable while the shard moves between agents.
   */
  async verifyTransactionalProduce(transactionalId: string, producerId: bigint, producerEpoch: number, topicId: string, partition: number): Promise<void> {
    const r = await this.readTxn(transactionalId);
    if (!r || r.producerId !== producerId) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `producer id ${producerId} is not the producer of transactional id ${transactionalId}`);
    }
    if (r.producerEpoch !== producerEpoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer epoch ${producerEpoch} of transactional id ${transactionalId} was fenced by epoch ${r.producerEpoch}`);
    }
    if (r.state !== 'Ongoing' || !r.partitions.some((q) => q.topicId === topicId && q.partition === partition)) {
      throw new KafkaError(
        ErrorCode.INVALID_TXN_STATE,
        `transactional produce to a partition not added to transaction ${transactionalId}: call AddPartitionsToTxn first (KIP-890)`,
      );
    }
  }

  // TxnOffsetCommit -----------------------------------------------------------------------------

  /**
   * Stages offsets for the group; they become the group's committed offsets when the transaction
   * commits. Called on the group's coordinator, which need not be the transaction's: the
   * transaction is read from the store then. `checkGroup` validates the member against the group
   * coordinator. Returns one error code for every partition.
   */
  async txnOffsetCommit(
    transactionalId: string,
    groupId: string,
    producerId: bigint,
    producerEpoch: number,
    offsets: PendingOffset[],
    notAddedCode: number,
    checkGroup: () => number = () => ErrorCode.NONE,
  ): Promise<number> {
    return this.withLock(transactionalId, async () => {
      const r = await this.readTxn(transactionalId);
      if (!r || r.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (r.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      if (r.state === 'PrepareCommit' || r.state === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
      if (r.state !== 'Ongoing' || !r.groups.includes(groupId)) return notAddedCode;
      // As in Kafka: the transaction is verified first, then the group membership.
      const groupError = checkGroup();
      if (groupError !== ErrorCode.NONE) return groupError;
      // Groups and transactional ids share the coordinator shards: the group's lease fences this.
      try {
        await this.staged.stage(groupId, transactionalId, r, offsets, this.placement.fence(this.shardOf(groupId)));
      } catch (err) {
        if (err instanceof LeaseFencedError) return ErrorCode.NOT_COORDINATOR;
        throw err;
      }
      return ErrorCode.NONE;
    });
  }

  /**
   * Partitions ("topic\0partition") of the group whose offsets an open transaction has staged
   * (OffsetFetch RequireStable). Entries of transactions that already ended are ignored.
   */
  async pendingOffsetPartitions(groupId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const { transactionalId, staged } of await this.staged.list(groupId)) {
      const r = await this.readTxn(transactionalId);
      if (!r || isComplete(r.state) || !sameTransaction(r, staged)) continue;
      for (const o of staged.offsets) out.add(`${o.topic}\u0000${o.partition}`);
    }
    return out;
  }

  async hasPendingOffsets(groupId: string, topic: string, partition: number): Promise<boolean> {
    return (await this.pendingOffsetPartitions(groupId)).has(`${topic}\u0000${partition}`);
  }

  // EndTxn --------------------------------------------------------------------------------------

  async endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    this.checkCoordinator(transactionalId);
    const error = await this.withLock(transactionalId, async () => {
      const cur = this.txns.get(transactionalId);
      if (!cur) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      const t = prepareEnd(cur.record, producerId, producerEpoch, commit, this.now());
      if (t.ok === 'done') return ErrorCode.NONE;
      if (!t.ok) return t.error;
      await this.persist(transactionalId, t.next, cur.version);
      return -2; // prepared: write the markers below
    });
    if (error !== -2) return error;
    try {
      await this.finish(transactionalId);
    } catch {
      // The prepare is durable; tick() retries the markers and the client sees
      // CONCURRENT_TRANSACTIONS until they are written.
    }
    return ErrorCode.NONE;
  }

  /** Aborts an open transaction from the coordinator's side, fencing its producer epoch. */
  private async abortFromCoordinator(transactionalId: string): Promise<void> {
    const fenced = await this.withLock(transactionalId, async () => {
      const cur = this.txns.get(transactionalId);
      if (!cur || (cur.record.state !== 'Ongoing' && cur.record.state !== 'PrepareEpochFence')) return false;
      await this.persist(transactionalId, prepareFenceAndAbort(cur.record, this.now()), cur.version);
      return true;
    });
    if (fenced) await this.finish(transactionalId).catch(() => {});
  }

  /** Writes the markers of a prepared transaction, applies its offsets, and completes it. */
  private finish(transactionalId: string): Promise<void> {
    let p = this.finishing.get(transactionalId);
    if (p) return p;
    p = (async () => {
      const r = this.get(transactionalId);
      if (!r || (r.state !== 'PrepareCommit' && r.state !== 'PrepareAbort')) return;
      const marker = r.state === 'PrepareCommit' ? 'commit' : 'abort';
      const shard = this.shardOf(transactionalId);
      const coordinatorEpoch = this.deps.placement ? this.placement.coordinatorEpoch(shard) : this.config.coordinatorEpoch;
      await Promise.all(
        r.partitions.map((tp) =>
          this.deps.markers.writeMarker(tp, r.producerId, r.producerEpoch, coordinatorEpoch, marker).catch((err: unknown) => {
            // A deleted topic has no log to mark; anything else must be retried.
            if (err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return;
            this.deps.log.warn({ err, transactionalId, topic: tp.topic, partition: tp.partition }, 'writing a transaction marker failed; will retry');
            throw err;
          }),
        ),
      );
      // Staged offsets: applied on commit (only those of this very transaction), dropped either way.
      const fence = this.placement.fence(shard);
      for (const groupId of r.groups) {
        const staged = marker === 'commit' ? await this.staged.get(groupId, transactionalId) : null;
        if (staged && sameTransaction(staged, r)) {
          const now = this.now();
          await this.deps.offsets.commitOffsets(
            groupId,
            staged.offsets.map((o) => ({ ...o, metadata: o.metadata ?? '', commitTimestamp: now })),
            fence,
          );
        }
        await this.staged.remove(groupId, transactionalId, fence);
      }
      await this.withLock(transactionalId, async () => {
        const cur = this.txns.get(transactionalId);
        if (!cur || cur.record.state !== r.state || cur.record.producerEpoch !== r.producerEpoch) return;
        await this.persist(transactionalId, complete(cur.record, this.now()), cur.version);
      });
    })().finally(() => this.finishing.delete(transactionalId));
    this.finishing.set(transactionalId, p);
    return p;
  }

  /** Periodic: abort timed-out transactions, retry unfinished markers, expire idle ids. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.now();
    for (const [id, { record }] of this.txns) {
      if (record.state === 'Ongoing' && record.txnStartMs >= 0 && now > record.txnStartMs + record.timeoutMs) {
        this.deps.log.info({ transactionalId: id, producerId: String(record.producerId) }, 'aborting a timed-out transaction');
        this.spawn(this.abortFromCoordinator(id));
      } else if ((record.state === 'PrepareCommit' || record.state === 'PrepareAbort') && !this.finishing.has(id)) {
        this.spawn(this.finish(id));
      } else if (record.state === 'PrepareEpochFence' && !this.finishing.has(id)) {
        this.spawn(this.abortFromCoordinator(id));
      } else if (isComplete(record.state) && now - record.lastUpdateMs >= this.config.transactionalIdExpirationMs) {
        this.spawn(this.expire(id));
      }
    }
  }

  private async expire(transactionalId: string): Promise<void> {
    await this.withLock(transactionalId, async () => {
      const cur = this.txns.get(transactionalId);
      if (!cur || !isComplete(cur.record.state)) return;
      if (this.now() - cur.record.lastUpdateMs < this.config.transactionalIdExpirationMs) return;
      const fence = this.placement.fence(this.shardOf(transactionalId));
      if (await this.deps.kv.delete(TXN_NAMESPACE, transactionalId, cur.version, fence).catch(() => false)) this.txns.delete(transactionalId);
    });
  }

  /** Waits for background work (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.background.size > 0 || this.finishing.size > 0) {
      await Promise.allSettled([...this.background, ...this.finishing.values()]);
    }
  }

  private spawn(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.deps.log.debug({ err }, 'transaction background work failed; will retry'));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  // Plumbing ------------------------------------------------------------------------------------

  private async persist(transactionalId: string, record: TxnRecord, expectedVersion: number): Promise<void> {
    let version: number | null;
    try {
      version = await this.deps.kv.put(TXN_NAMESPACE, transactionalId, encodeTxnRecord(record), expectedVersion, this.placement.fence(this.shardOf(transactionalId)));
    } catch (err) {
      if (!(err instanceof LeaseFencedError)) throw err;
      // The shard moved: its new owner loaded the entry; this agent must not act on it any more.
      this.txns.delete(transactionalId);
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `transactional id ${transactionalId} moved to another coordinator; find the coordinator again`);
    }
    if (version === null) {
      // Someone else wrote the entry: another agent owns this transactional id now.
      const fresh = await this.deps.kv.getEntry(TXN_NAMESPACE, transactionalId);
      if (fresh) this.txns.set(transactionalId, { record: decodeTxnRecord(fresh.value), version: fresh.version });
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, `transactional id ${transactionalId} was changed by another coordinator; find the coordinator again`);
    }
    this.txns.set(transactionalId, { record, version });
  }

  private withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }
}
