// The metadata store's interfaces, split by concern so no caller depends on more than it uses.
// Everything is async so the embedded SQLite store and the PostgreSQL store share one contract.
// int64 quantities (offsets, timestamps that Kafka carries as int64, producer ids) are bigint;
// int32 quantities (partition indexes, leader epochs) and wall-clock milliseconds are numbers.

export interface TopicRecord {
  /** Topic id: hyphenated lowercase uuid, stable for the life of the topic (Fetch v13+ uses it). */
  id: string;
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface NewTopic {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface TopicStore {
  /** Creates the topic and its partition rows (leader epoch 0, log start offset 0). Throws TopicExistsError. */
  createTopic(topic: NewTopic): Promise<TopicRecord>;
  getTopicByName(name: string): Promise<TopicRecord | null>;
  getTopicById(id: string): Promise<TopicRecord | null>;
  /** All topics, ordered by name. */
  listTopics(): Promise<TopicRecord[]>;
  /**
   * Removes the topic, its partitions, its segment rows and the group offsets committed for it.
   * Returns the removed segments so the caller can delete their objects. Throws UnknownTopicError.
   */
  deleteTopic(id: string): Promise<SegmentRecord[]>;
  /** Replaces the whole config map. Throws UnknownTopicError. */
  setTopicConfigs(id: string, configs: Record<string, string>): Promise<void>;
  /** Grows the topic to newTotal partitions. Throws InvalidPartitionsError if not larger, UnknownTopicError. */
  addPartitions(id: string, newTotal: number): Promise<void>;
}

export interface PartitionRecord {
  topicId: string;
  partition: number;
  logStartOffset: bigint;
  /** Bumped on every change of leader; segment commits are fenced on it. */
  leaderEpoch: number;
  leaderAgent: string | null;
  /** Wall-clock ms (the database's clock) after which the leadership lease may be taken over. */
  leaseExpiresAt: number | null;
}

export interface PartitionStore {
  getPartition(topicId: string, partition: number): Promise<PartitionRecord | null>;
  /**
   * Moves the log start offset forward (never back) and returns the resulting value.
   * Throws UnknownTopicOrPartitionError.
   */
  setLogStartOffset(topicId: string, partition: number, offset: bigint): Promise<bigint>;
  /** The topic's partitions ordered by index (empty for an unknown topic). */
  listPartitions(topicId: string): Promise<PartitionRecord[]>;
  /** Every partition of every topic, ordered by topic id then index (cluster routing). */
  listAllPartitions(): Promise<PartitionRecord[]>;
}

export interface SegmentRecord {
  topicId: string;
  partition: number;
  baseOffset: bigint;
  /** Inclusive. */
  lastOffset: bigint;
  sizeBytes: number;
  maxTimestamp: bigint;
  objectKey: string;
  /** The committing leader's epoch (the commit is fenced on it). */
  leaderEpoch: number;
  /**
   * The partition leader epoch in the segment's batches (all alike). Lower than leaderEpoch when a
   * new leader uploads its predecessor's recovered tail; absent on rows from before schema 5.
   */
  recordsEpoch?: number;
  /** Wall-clock ms. */
  createdAt: number;
}

export interface NewSegment extends SegmentRecord {
  /** Producer state (idempotence, transactions) as of lastOffset, so a new leader need not rescan. */
  producerStateSnapshot?: Buffer;
  /**
   * Cluster mode: the committing agent. The commit then also requires it to be the partition's
   * lease holder (FencedError otherwise) and records it in the row (`segments.agent_id`).
   */
  agentId?: string;
}

export interface ProducerStateSnapshot {
  /** The snapshot describes the log up to and including this offset. */
  lastOffset: bigint;
  snapshot: Buffer;
}

export interface SegmentStore {
  /**
   * Commits an uploaded segment in one transaction that checks the partition's leader epoch
   * (FencedError if it is not `leaderEpoch`) and that no committed segment overlaps
   * (SegmentOverlapError). Committing the identical segment again (same key and range) is a
   * no-op, so a commit whose outcome was unknown can be retried.
   */
  commitSegment(segment: NewSegment): Promise<void>;
  /** Ordered by baseOffset. */
  listSegments(topicId: string, partition: number): Promise<SegmentRecord[]>;
  /** Returns the number of rows removed. */
  deleteSegments(topicId: string, partition: number, objectKeys: string[]): Promise<number>;
  /** Segments wholly below `offset` (lastOffset < offset), ordered by baseOffset: retention candidates. */
  segmentsBelow(topicId: string, partition: number, offset: bigint): Promise<SegmentRecord[]>;
  /**
   * The offset the next committed segment starts at: lastOffset + 1 of the newest segment, or the
   * log start offset when that is higher (empty log, or records deleted past the end).
   * Throws UnknownTopicOrPartitionError.
   */
  nextOffset(topicId: string, partition: number): Promise<bigint>;
  /** The newest segment's producer-state snapshot, if any segment carries one. */
  latestProducerState(topicId: string, partition: number): Promise<ProducerStateSnapshot | null>;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: bigint;
  /** -1 when the client did not send one. */
  leaderEpoch: number;
  metadata: string | null;
  /** Wall-clock ms. */
  commitTimestamp: number;
  /** Wall-clock ms; absent means the broker's retention applies. */
  expireTimestamp?: number | null;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
  expireTimestamp: number | null;
}

export interface TopicPartitions {
  topic: string;
  /** Absent: every partition of the topic. */
  partitions?: number[];
}

export interface GroupOffsetStore {
  /** Upserts every entry in one transaction (only while `fence` holds, when given). */
  commitOffsets(groupId: string, offsets: OffsetCommit[], fence?: LeaseFence): Promise<void>;
  /** Committed offsets of the group, ordered by topic then partition; `topics` absent means all. */
  fetchOffsets(groupId: string, topics?: TopicPartitions[]): Promise<CommittedOffset[]>;
  /** Returns the number of rows removed. */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<number>;
  /** Returns the number of rows removed. */
  deleteGroupOffsets(groupId: string): Promise<number>;
  /** Group ids that have at least one committed offset, sorted. */
  listGroupsWithOffsets(): Promise<string[]>;
  /** Removes offsets whose expireTimestamp is before nowMs; returns how many. */
  deleteExpiredOffsets(nowMs: number): Promise<number>;
}

export interface ProducerIdStore {
  /**
   * Reserves `count` consecutive producer ids and returns the first. Blocks never overlap, across
   * restarts and across concurrent agents sharing the store.
   */
  allocateProducerIds(count: number): Promise<bigint>;
}

/**
 * A write made under a lease (cluster mode: a coordinator shard): it happens only if the lease is
 * still held by `holder` at `epoch` when the write commits, else LeaseFencedError. Checked in the
 * same database transaction as the write, with the lease row locked, so a takeover is ordered
 * either wholly before the write (which then fails) or wholly after it.
 */
export interface LeaseFence {
  resource: string;
  holder: string;
  epoch: number;
}

export interface KeyValueEntry {
  key: string;
  value: Buffer;
  /** Starts at 1 and increases by one on every put. */
  version: number;
}

export interface KeyValueStore {
  get(namespace: string, key: string): Promise<Buffer | null>;
  getEntry(namespace: string, key: string): Promise<KeyValueEntry | null>;
  /**
   * Writes the value and returns its new version. With expectedVersion it is a compare-and-set:
   * 0 means "only if absent", n means "only if the current version is n"; on a mismatch nothing is
   * written and the result is null.
   */
  put(namespace: string, key: string, value: Buffer, expectedVersion?: number, fence?: LeaseFence): Promise<number | null>;
  /** Returns whether a row was removed; with expectedVersion only if the version matches. */
  delete(namespace: string, key: string, expectedVersion?: number, fence?: LeaseFence): Promise<boolean>;
  /** Ordered by key. */
  list(namespace: string): Promise<KeyValueEntry[]>;
}

export interface Lease {
  resource: string;
  /** null when released (or never taken). */
  holder: string | null;
  /** Increases on every change of holder; writes made under a lease are conditional on it. */
  epoch: number;
  /** Wall-clock ms on the database's clock; null when released. */
  expiresAt: number | null;
}

/**
 * Leases with compare-and-set and a fencing epoch. A resource named by partitionLeaseResource()
 * is the partition's leadership: it lives in the partition row itself, so its epoch IS the leader
 * epoch that commitSegment checks, and taking the lease over fences the old leader's commits.
 * Other resource names (coordinator shards, ...) live in their own table.
 */
export interface LeaseStore {
  /**
   * Takes the lease if it is free, expired, or already held by `holder`. A new holder (or the same
   * holder after expiry or release) gets epoch + 1; a live holder re-acquiring keeps its epoch and
   * extends the expiry. Returns null when another holder's lease is live.
   */
  acquire(resource: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends the lease if `holder` still holds it at `epoch`. */
  renew(resource: string, holder: string, epoch: number, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `holder` still holds it at `epoch`; the epoch is kept so the next holder bumps it. */
  release(resource: string, holder: string, epoch: number): Promise<boolean>;
  get(resource: string): Promise<Lease | null>;
  /** Leases (not partition leaderships; see listPartitions) whose resource starts with prefix. */
  list(prefix: string): Promise<Lease[]>;
  /**
   * Extends every lease `holder` holds (partition leaderships included) in one transaction and
   * returns them with their epochs, so the caller can see which ones it lost.
   */
  renewAll(holder: string, ttlMs: number): Promise<Lease[]>;
}

/** A cluster agent as registered in the `agents` table. */
export interface AgentRecord {
  agentId: string;
  /** The Kafka broker id: allocated once per agent id, unique in the cluster, never reused. */
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** Where the agent's WAL lives, so a successor on the same volume can recover unflushed records. */
  walDir: string | null;
  /** Database clock, ms. */
  heartbeatAt: number;
  startedAt: number;
}

export interface AgentRegistration {
  agentId: string;
  host: string;
  port: number;
  rack: string | null;
  walDir: string | null;
}

/** Agent membership: registration, heartbeats and who is live (judged on the database clock). */
export interface AgentStore {
  /** Inserts or refreshes the agent's row (keeping its node id) and marks it live now. */
  register(agent: AgentRegistration): Promise<AgentRecord>;
  /** Marks the agent live now; false when its row is gone. */
  heartbeat(agentId: string): Promise<boolean>;
  /** Agents whose last heartbeat is younger than maxAgeMs, ordered by node id. */
  listLive(maxAgeMs: number): Promise<AgentRecord[]>;
  /** Every agent ever registered, ordered by node id. */
  listAll(): Promise<AgentRecord[]>;
  /** Graceful leave: the agent stops counting as live at once (its row and node id stay). */
  deregister(agentId: string): Promise<void>;
}

export interface SchemaReferenceRecord {
  name: string;
  subject: string;
  version: number;
}

export interface NewRegistrySchema {
  schemaType: string;
  schema: string;
  references: SchemaReferenceRecord[];
  /** Identity of the schema (type, normalized text, references): equal fingerprints share one id. */
  fingerprint: string;
  /** IMPORT mode only: the id to store it under (a conflicting fingerprint is an error). */
  id?: number;
}

export interface RegistrySchemaRecord {
  id: number;
  schemaType: string;
  schema: string;
  references: SchemaReferenceRecord[];
  fingerprint: string;
}

export interface SubjectVersionRecord {
  subject: string;
  version: number;
  schemaId: number;
  /** Soft-deleted: hidden unless asked for, and still holding its version number. */
  deleted: boolean;
}

export interface RegistryConfigRecord {
  compatibility: string | null;
  mode: string | null;
}

/** Schema registry state: immutable schemas by global id, subject versions, and settings. */
export interface SchemaStore {
  /**
   * Returns the id of the schema with this fingerprint, storing it under a new id (the highest so
   * far + 1, or `schema.id` when given) if it is not known yet.
   */
  putSchema(schema: NewRegistrySchema): Promise<number>;
  getSchema(id: number): Promise<RegistrySchemaRecord | null>;
  /**
   * Adds `schemaId` as the subject's next version (or as `version` when given, IMPORT mode) and
   * returns it. Throws SchemaVersionExistsError when `version` is taken.
   */
  addVersion(subject: string, schemaId: number, version?: number): Promise<SubjectVersionRecord>;
  /** Versions ordered by subject then version, soft-deleted ones included; one subject or all. */
  listVersions(subject?: string): Promise<SubjectVersionRecord[]>;
  /** Every subject version (soft-deleted included) that uses the schema. */
  versionsOfSchema(schemaId: number): Promise<SubjectVersionRecord[]>;
  /** Soft-deletes (deleted = true) or removes for good (permanent) the given versions; returns how many. */
  deleteVersions(subject: string, versions: number[], permanent: boolean): Promise<number>;
  /** Settings of a subject ('' = global); null when none was ever set. */
  getConfig(subject: string): Promise<RegistryConfigRecord | null>;
  /** Replaces the subject's settings; both null removes the row. */
  setConfig(subject: string, config: RegistryConfigRecord): Promise<void>;
}

export interface MetadataStore {
  readonly backend: 'sqlite' | 'postgres';
  readonly topics: TopicStore;
  readonly partitions: PartitionStore;
  readonly segments: SegmentStore;
  readonly offsets: GroupOffsetStore;
  readonly producerIds: ProducerIdStore;
  readonly kv: KeyValueStore;
  readonly leases: LeaseStore;
  readonly schemas: SchemaStore;
  readonly agents: AgentStore;
  /** Kafka-style cluster id (22 characters, base64url of 16 random bytes), fixed on first start. */
  getClusterId(): string;
  /** Resolves when the database answers a trivial query; rejects with MetadataUnavailableError. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
