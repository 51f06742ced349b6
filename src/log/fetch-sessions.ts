// Incremental fetch sessions (KIP-227): the broker remembers a consumer's partitions and fetch
// positions, so later requests only name what changed and responses only carry partitions with
// news. The cache is bounded: when full, the least recently used session is evicted (its owner gets
// FETCH_SESSION_ID_NOT_FOUND on the next incremental fetch and falls back to a full one); sessions
// idle longer than `idleMs` are dropped whenever the cache is touched.
import { randomInt } from 'node:crypto';

export interface SessionPartition {
  /** Topic name (v7-12) or topic id (v13+). */
  topicKey: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  /** What the last response reported; -2 before the first. */
  sentHighWatermark: bigint;
  sentLastStableOffset: bigint;
  sentLogStartOffset: bigint;
}

export class FetchSession {
  /** The epoch the next incremental request must carry. */
  epoch = 1;
  lastUsed = Date.now();
  readonly partitions = new Map<string, SessionPartition>();

  constructor(
    readonly id: number,
    /** v13+ sessions name topics by id; a request of the other kind is FETCH_SESSION_TOPIC_ID_ERROR. */
    readonly usesTopicIds: boolean,
  ) {}

  static key(topicKey: string, partition: number): string {
    return `${topicKey}\u0000${partition}`;
  }

  upsert(p: Omit<SessionPartition, 'sentHighWatermark' | 'sentLastStableOffset' | 'sentLogStartOffset'>): void {
    const k = FetchSession.key(p.topicKey, p.partition);
    const old = this.partitions.get(k);
    if (old) {
      old.fetchOffset = p.fetchOffset;
      old.partitionMaxBytes = p.partitionMaxBytes;
      old.currentLeaderEpoch = p.currentLeaderEpoch;
    } else {
      this.partitions.set(k, { ...p, sentHighWatermark: -2n, sentLastStableOffset: -2n, sentLogStartOffset: -2n });
    }
  }

  forget(topicKey: string, partition: number): void {
    this.partitions.delete(FetchSession.key(topicKey, partition));
  }
}

export interface FetchSessionCacheOptions {
  maxSessions?: number;
  idleMs?: number;
}

export class FetchSessionCache {
  readonly maxSessions: number;
  private readonly idleMs: number;
  /** Map order is recency: first = least recently used. */
  private readonly sessions = new Map<number, FetchSession>();
  evictions = 0;

  constructor(opts: FetchSessionCacheOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 1000;
    this.idleMs = opts.idleMs ?? 120_000;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session, evicting the least recently used one when the cache is full. */
  create(usesTopicIds: boolean): FetchSession | null {
    if (this.maxSessions <= 0) return null;
    this.expire();
    while (this.sessions.size >= this.maxSessions) {
      this.sessions.delete(this.sessions.keys().next().value!);
      this.evictions++;
    }
    let id: number;
    do id = randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const s = new FetchSession(id, usesTopicIds);
    this.sessions.set(id, s);
    return s;
  }

  get(id: number): FetchSession | undefined {
    this.expire();
    const s = this.sessions.get(id);
    if (s) {
      s.lastUsed = Date.now();
      this.sessions.delete(id);
      this.sessions.set(id, s);
    }
    return s;
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }

  private expire(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, s] of this.sessions) {
      if (s.lastUsed >= cutoff) break;
      this.sessions.delete(id);
    }
  }
}
