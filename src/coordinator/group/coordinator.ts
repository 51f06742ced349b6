// The group coordinator service: owns the groups of the shards this agent coordinates, routes
// each request to the classic or the consumer (KIP-848) protocol, validates offset commits
// against group membership, and expires offsets. The composition root builds one and stops it
// on shutdown; handlers only translate between wire messages and these calls.
import { LeaseFencedError } from '../../metadata/errors.js';
import type { MetadataStore, TopicRecord } from '../../metadata/types.js';
import type { Logger } from '../../observability/logger.js';
import { ErrorCode, KafkaError, kafkaError } from '../../protocol/errors.js';
import { ClassicGroup, EMPTY_BUFFER, type JoinGroupResult, type SyncGroupResult } from './classic-group.js';
import {
  ClassicGroupProtocol,
  type HeartbeatInput,
  type JoinGroupInput,
  type LeaveGroupResult,
  type LeavingMember,
  type SyncGroupInput,
} from './classic-protocol.js';
import { ConsumerGroup } from './consumer-group.js';
import { ConsumerGroupProtocol, type ConsumerHeartbeatInput, type ConsumerHeartbeatResult } from './consumer-protocol.js';
import { decodeSubscription } from './consumer-protocol-data.js';
import type { GroupCoordinatorConfig } from './config.js';
import { GroupRegistry } from './group-registry.js';
import type { Group } from './group-record.js';
import { commitOffsets, everyPartition, fetchOffsets, type FetchedOffset, type OffsetCommitTopicInput, type TopicResult } from './offsets.js';
import { groupShard, LocalShardPlacement, type ShardPlacement } from './shard.js';
import { SystemTimer, type CoordinatorTimer } from './timer.js';
import { DEFAULT_ASSIGNOR } from './assignors.js';
import type { TopicAssignment } from './assignment.js';

/** What the coordinator needs to know about topics (TopicCatalog provides it). */
export interface TopicLookup {
  list(): Promise<TopicRecord[]>;
  get(name: string): Promise<TopicRecord | undefined>;
}

export interface GroupCoordinatorOptions {
  store: MetadataStore;
  topics: TopicLookup;
  config: GroupCoordinatorConfig;
  log: Logger;
  nodeId: number;
  timer?: CoordinatorTimer;
  placement?: ShardPlacement;
}

export interface OffsetCommitInput {
  apiVersion: number;
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  retentionTimeMs: number;
  topics: OffsetCommitTopicInput[];
}

export interface OffsetFetchGroupInput {
  groupId: string;
  memberId: string | null;
  memberEpoch: number;
  topics: { name: string; partitionIndexes: number[] }[] | null;
}

export interface OffsetFetchGroupResult {
  groupId: string;
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface ListedGroupInfo {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: 'classic' | 'consumer';
}

export interface DescribedClassicGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface DescribedConsumerGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: TopicAssignment;
    targetAssignment: TopicAssignment;
  }[];
}

export const GROUP_KEY_TYPE = 0;
export const TRANSACTION_KEY_TYPE = 1;

export class GroupCoordinator {
  readonly registry: GroupRegistry;
  readonly classic: ClassicGroupProtocol;
  readonly consumer: ConsumerGroupProtocol;
  readonly timer: CoordinatorTimer;
  private readonly placement: ShardPlacement;
  private started = false;
  /** Shards whose groups are being read from the store (cluster mode, a lease just taken). */
  private readonly loadingShards = new Set<number>();

  /** The live settings; the protocols read them on every use (tests shorten session timeouts here). */
  get config(): GroupCoordinatorConfig {
    return this.opts.config;
  }

  constructor(private readonly opts: GroupCoordinatorOptions) {
    this.timer = opts.timer ?? new SystemTimer();
    this.placement = opts.placement ?? new LocalShardPlacement(opts.nodeId);
    this.registry = new GroupRegistry(
      opts.store.kv,
      opts.log,
      (id) => this.placement.ownsShard(this.shardOf(id)),
      (id) => this.placement.fence(this.shardOf(id)),
    );
    this.classic = new ClassicGroupProtocol(this, this.timer, opts.config, opts.log);
    this.consumer = new ConsumerGroupProtocol(this, this.timer, opts.config, opts.log);
  }

  // ---- life cycle and placement ---------------------------------------------------------

  /** Loads the owned groups (members keep their generation) and starts offset expiry. */
  async start(): Promise<void> {
    const now = this.timer.now();
    const owned = (id: string) => this.placement.ownsShard(this.shardOf(id));
    for (const g of await this.registry.load(now, owned)) {
      if (g.kind === 'classic') this.classic.resume(g);
      else this.consumer.resume(g);
    }
    // Groups that only ever committed offsets (no membership) exist as Empty classic groups.
    for (const id of await this.opts.store.offsets.listGroupsWithOffsets()) {
      if (owned(id) && !this.registry.get(id)) this.registry.set(new ClassicGroup(id, now));
    }
    this.started = true;
    this.scheduleExpiry();
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const g of this.registry.groups.values()) if (g.kind === 'classic') this.classic.abandon(g, ErrorCode.NOT_COORDINATOR);
    this.timer.cancelAll();
    await this.registry.flush();
  }

  /**
   * Cluster mode: this agent just took the shard's lease. Its groups are read from the store (a
   * previous coordinator's members keep their generation and resume, or rejoin); requests for
   * them get COORDINATOR_LOAD_IN_PROGRESS until that is done. Before start() it does nothing:
   * start() loads every owned shard.
   */
  async loadShard(shard: number): Promise<void> {
    if (!this.started) return;
    this.loadingShards.add(shard);
    try {
      this.dropShard(shard, ErrorCode.NOT_COORDINATOR); // a stale copy from an earlier tenure
      const now = this.timer.now();
      const inShard = (id: string) => this.shardOf(id) === shard;
      for (const loaded of await this.registry.load(now, inShard)) {
        const g = await this.registry.claim(loaded, now);
        if (!g) continue;
        if (g.kind === 'classic') this.classic.resume(g);
        else this.consumer.resume(g);
      }
      for (const id of await this.opts.store.offsets.listGroupsWithOffsets()) {
        if (inShard(id) && !this.registry.get(id)) this.registry.set(new ClassicGroup(id, now));
      }
      this.opts.log.info({ shard }, 'group coordinator shard loaded');
    } finally {
      this.loadingShards.delete(shard);
    }
  }

  /**
   * Cluster mode: the shard's lease was lost or handed over. Parked joins and syncs are answered
   * NOT_COORDINATOR and the groups are forgotten here; their next owner loads them from the store.
   */
  unloadShard(shard: number): void {
    this.dropShard(shard, ErrorCode.NOT_COORDINATOR);
  }

  private dropShard(shard: number, errorCode: number): void {
    for (const g of [...this.registry.groups.values()]) {
      if (this.shardOf(g.groupId) !== shard) continue;
      if (g.kind === 'classic') this.classic.abandon(g, errorCode);
      else for (const id of g.members.keys()) this.consumer.cancelTimers(g, id);
      this.registry.groups.delete(g.groupId);
    }
  }

  shardOf(groupId: string): number {
    return groupShard(groupId, this.opts.config.shards);
  }

  /**
   * FindCoordinator: the node for a group id or a transactional id, or an error code. The single
   * agent coordinates both; transactional ids use the same shard function.
   */
  coordinatorFor(keyType: number, key: string): { nodeId: number } | { errorCode: number; message: string } {
    if (keyType !== GROUP_KEY_TYPE && keyType !== TRANSACTION_KEY_TYPE) {
      return { errorCode: ErrorCode.INVALID_REQUEST, message: `key type ${keyType} is not supported (0 = group, 1 = transaction)` };
    }
    if (keyType === TRANSACTION_KEY_TYPE && key === '') {
      return { errorCode: ErrorCode.INVALID_REQUEST, message: 'the transactional id must not be empty' };
    }
    if (!this.started) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: 'the group coordinator is starting' };
    const node = this.placement.coordinatorNode(this.shardOf(key));
    if (node === null) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `no coordinator holds shard ${this.shardOf(key)} right now` };
    return { nodeId: node };
  }

  /** Throws NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / INVALID_GROUP_ID before any group work. */
  private checkGroupId(groupId: string, allowEmpty = false): void {
    if (!this.started) throw kafkaError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is not running');
    if (!allowEmpty && groupId === '') throw kafkaError('INVALID_GROUP_ID', 'the group id must not be empty');
    const shard = this.shardOf(groupId);
    if (!this.placement.ownsShard(shard)) throw kafkaError('NOT_COORDINATOR', `this agent does not coordinate group ${groupId}`);
    if (this.loadingShards.has(shard)) throw kafkaError('COORDINATOR_LOAD_IN_PROGRESS', `group ${groupId} is being loaded after a coordinator move; retry shortly`);
  }

  private errorOf(err: unknown): number {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }

  // ---- hosts for the two protocols -------------------------------------------------------

  classicGroupForJoin(groupId: string): ClassicGroup {
    const g = this.registry.get(groupId);
    if (g?.kind === 'classic') return g;
    if (g && g.members.size > 0) {
      throw kafkaError('INCONSISTENT_GROUP_PROTOCOL', `group ${groupId} is a consumer group (KIP-848) with members; classic members cannot join it`);
    }
    const created = new ClassicGroup(groupId, this.timer.now());
    if (g) created.kvVersion = g.kvVersion;
    this.registry.set(created);
    return created;
  }

  consumerGroup(groupId: string, create: boolean): ConsumerGroup | undefined {
    const g = this.registry.get(groupId);
    if (g?.kind === 'consumer') return g;
    if (g && (g.members.size > 0 || !create)) {
      if (g.members.size > 0) throw kafkaError('GROUP_ID_NOT_FOUND', `group ${groupId} is not a consumer group: it is a classic group with members`);
      return undefined;
    }
    if (!create) return undefined;
    const created = new ConsumerGroup(groupId, this.timer.now());
    if (g) created.kvVersion = g.kvVersion;
    this.registry.set(created);
    return created;
  }

  // ---- classic protocol ------------------------------------------------------------------

  async joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    try {
      this.checkGroupId(input.groupId);
    } catch (err) {
      return { errorCode: this.errorOf(err), generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: input.memberId, skipAssignment: false, members: [] };
    }
    return this.classic.join(input);
  }

  async syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    try {
      this.checkGroupId(input.groupId);
    } catch (err) {
      return { errorCode: this.errorOf(err), protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
    }
    return this.classic.sync(input);
  }

  heartbeat(input: HeartbeatInput): number {
    try {
      this.checkGroupId(input.groupId);
    } catch (err) {
      return this.errorOf(err);
    }
    return this.classic.heartbeat(input);
  }

  leaveGroup(groupId: string, members: LeavingMember[]): LeaveGroupResult {
    try {
      this.checkGroupId(groupId);
    } catch (err) {
      const code = this.errorOf(err);
      return { errorCode: code, members: members.map((m) => ({ ...m, errorCode: code })) };
    }
    return this.classic.leave(groupId, members);
  }

  // ---- consumer protocol -----------------------------------------------------------------

  async consumerGroupHeartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    try {
      this.checkGroupId(input.groupId, true);
    } catch (err) {
      return { errorCode: this.errorOf(err), errorMessage: (err as Error).message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
    return this.consumer.heartbeat(input, await this.opts.topics.list());
  }

  // ---- offsets ---------------------------------------------------------------------------

  async commitOffsets(input: OffsetCommitInput): Promise<TopicResult[]> {
    let code: number;
    try {
      this.checkGroupId(input.groupId);
      code = this.validateOffsetCommit(input);
    } catch (err) {
      code = this.errorOf(err);
    }
    if (code !== ErrorCode.NONE) return everyPartition(input.topics, code);
    const topics = new Map<string, number | undefined>();
    for (const t of input.topics) topics.set(t.name, (await this.opts.topics.get(t.name))?.partitions);
    try {
      const fence = this.placement.fence(this.shardOf(input.groupId));
      return await commitOffsets(this.opts.store.offsets, this.opts.config, input.groupId, input.topics, (n) => topics.get(n), this.timer.now(), input.retentionTimeMs, fence);
    } catch (err) {
      if (err instanceof LeaseFencedError) return everyPartition(input.topics, ErrorCode.NOT_COORDINATOR);
      this.opts.log.warn({ err, groupId: input.groupId }, 'committing offsets to the metadata store failed');
      return everyPartition(input.topics, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  /**
   * TxnOffsetCommit's membership check (transactional offsets are staged by the transaction
   * coordinator, which asks here first). Kafka's rules for transactional commits: an unknown group
   * with generation -1 becomes a simple group; the member fields are checked only when one is
   * given; no REBALANCE_IN_PROGRESS. Returns a Kafka error code (NONE when the commit may go on).
   */
  validateTxnOffsetCommit(input: { groupId: string; memberId: string; groupInstanceId: string | null; generationId: number }): number {
    try {
      this.checkGroupId(input.groupId);
    } catch (err) {
      return this.errorOf(err);
    }
    const gen = input.generationId;
    let group = this.registry.get(input.groupId);
    if (!group) {
      if (gen >= 0) return ErrorCode.ILLEGAL_GENERATION;
      group = new ClassicGroup(input.groupId, this.timer.now());
      this.registry.set(group);
      return ErrorCode.NONE;
    }
    const memberGiven = gen >= 0 || input.memberId !== '' || input.groupInstanceId !== null;
    if (group.kind === 'consumer') {
      if ((gen < 0 && group.members.size === 0) || !memberGiven) return ErrorCode.NONE;
      const m = group.members.get(input.memberId);
      if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (gen > m.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
      if (gen < m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
      return ErrorCode.NONE;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if ((gen < 0 && group.is('Empty')) || !memberGiven) return ErrorCode.NONE;
    const err = this.classic.validateMember(group, input.memberId, input.groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    return gen === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  }

  private validateOffsetCommit(input: OffsetCommitInput): number {
    const gen = input.generationIdOrMemberEpoch;
    let group = this.registry.get(input.groupId);
    if (!group) {
      if (gen >= 0) return input.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      // A "simple" group: offsets without membership (admin tools, manual assignment).
      group = new ClassicGroup(input.groupId, this.timer.now());
      this.registry.set(group);
      return ErrorCode.NONE;
    }
    if (group.kind === 'consumer') {
      if (gen < 0 && group.members.size === 0) return ErrorCode.NONE;
      const m = group.members.get(input.memberId);
      if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (gen > m.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
      if (gen < m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
      return ErrorCode.NONE;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (gen < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (gen >= 0 || input.memberId !== '' || input.groupInstanceId !== null) {
      const err = this.classic.validateMember(group, input.memberId, input.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (gen !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is('Empty')) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // A member that got the join response but not yet its assignment must not commit.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(input.memberId);
    if (member) this.classic.scheduleHeartbeat(group, member);
    return ErrorCode.NONE;
  }

  async fetchOffsets(input: OffsetFetchGroupInput): Promise<OffsetFetchGroupResult> {
    const fail = (errorCode: number): OffsetFetchGroupResult => ({ groupId: input.groupId, errorCode, topics: [] });
    try {
      this.checkGroupId(input.groupId, true);
    } catch (err) {
      return fail(this.errorOf(err));
    }
    const group = this.registry.get(input.groupId);
    if (group?.kind === 'consumer' && (input.memberId !== null || input.memberEpoch >= 0)) {
      const m = input.memberId !== null ? group.members.get(input.memberId) : undefined;
      if (!m) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      if (input.memberEpoch !== m.memberEpoch) return fail(ErrorCode.STALE_MEMBER_EPOCH);
    }
    try {
      return { groupId: input.groupId, errorCode: ErrorCode.NONE, topics: await fetchOffsets(this.opts.store.offsets, input.groupId, input.topics) };
    } catch (err) {
      this.opts.log.warn({ err, groupId: input.groupId }, 'reading offsets from the metadata store failed');
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  /** OffsetDelete: refused for topics a non-empty group still consumes. */
  async deleteOffsets(groupId: string, topics: { name: string; partitions: number[] }[]): Promise<{ errorCode: number; topics: TopicResult[] }> {
    const asInput = topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null })) }));
    try {
      this.checkGroupId(groupId);
    } catch (err) {
      return { errorCode: this.errorOf(err), topics: [] };
    }
    const group = this.registry.get(groupId);
    if (!group || (group.kind === 'classic' && group.is('Dead'))) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string>;
    if (group.kind === 'classic') {
      if (!group.is('Empty') && group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = group.is('Empty') ? new Set() : classicSubscribedTopics(group);
    } else {
      subscribed = new Set([...group.members.values()].flatMap((m) => m.subscribedTopicNames));
    }
    const results: TopicResult[] = [];
    const doomed: { topic: string; partition: number }[] = [];
    for (const t of asInput) {
      const topic = await this.opts.topics.get(t.name);
      results.push({
        name: t.name,
        partitions: t.partitions.map((p) => {
          let errorCode: number = ErrorCode.NONE;
          if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          else if (subscribed.has(t.name)) errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
          else doomed.push({ topic: t.name, partition: p.partitionIndex });
          return { partitionIndex: p.partitionIndex, errorCode };
        }),
      });
    }
    await this.opts.store.offsets.deleteOffsets(groupId, doomed);
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  // ---- admin -----------------------------------------------------------------------------

  listGroups(statesFilter: string[], typesFilter: string[]): ListedGroupInfo[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroupInfo[] = [];
    for (const g of this.registry.groups.values()) {
      const info: ListedGroupInfo =
        g.kind === 'classic'
          ? { groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' }
          : { groupId: g.groupId, protocolType: 'consumer', groupState: g.state, groupType: 'consumer' };
      if (info.groupState === 'Dead') continue;
      if (states.size > 0 && !states.has(info.groupState.toLowerCase())) continue;
      if (types.size > 0 && !types.has(info.groupType)) continue;
      out.push(info);
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  describeGroup(groupId: string): DescribedClassicGroup {
    const none = (errorCode: number, state = 'Dead'): DescribedClassicGroup => ({ errorCode, groupId, groupState: state, protocolType: '', protocolData: '', members: [] });
    try {
      this.checkGroupId(groupId, true);
    } catch (err) {
      return none(this.errorOf(err), '');
    }
    const g = this.registry.get(groupId);
    if (!g) return none(ErrorCode.NONE);
    if (g.kind === 'consumer') return none(ErrorCode.GROUP_ID_NOT_FOUND, '');
    const stable = g.is('Stable');
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? '',
      protocolData: stable ? (g.protocolName ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? g.metadataFor(m, g.protocolName) : EMPTY_BUFFER,
        memberAssignment: stable ? m.assignment : EMPTY_BUFFER,
      })),
    };
  }

  describeConsumerGroup(groupId: string): DescribedConsumerGroup {
    const none = (errorCode: number, errorMessage: string | null): DescribedConsumerGroup => ({
      errorCode,
      errorMessage,
      groupId,
      groupState: '',
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: '',
      members: [],
    });
    try {
      this.checkGroupId(groupId, true);
    } catch (err) {
      return none(this.errorOf(err), (err as Error).message);
    }
    const g = this.registry.get(groupId);
    if (!g) return none(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
    if (g.kind !== 'consumer') return none(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: g.state,
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: g.preferredAssignor(DEFAULT_ASSIGNOR),
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: m.assigned,
        targetAssignment: g.targetAssignment.get(m.memberId) ?? {},
      })),
    };
  }

  async deleteGroup(groupId: string): Promise<number> {
    try {
      this.checkGroupId(groupId);
    } catch (err) {
      return this.errorOf(err);
    }
    const g = this.registry.get(groupId);
    if (!g || (g.kind === 'classic' && g.is('Dead'))) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g.kind === 'classic' ? !g.is('Empty') : g.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    try {
      await this.opts.store.offsets.deleteGroupOffsets(groupId);
      await this.markDead(g);
    } catch (err) {
      this.opts.log.warn({ err, groupId }, 'deleting the group from the metadata store failed');
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.NONE;
  }

  private async markDead(g: Group): Promise<void> {
    if (g.kind === 'classic') {
      this.classic.abandon(g, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      g.transition('Dead', this.timer.now());
    } else {
      g.dead = true;
    }
    await this.registry.remove(g);
  }

  // ---- offset retention ------------------------------------------------------------------

  private scheduleExpiry(): void {
    this.timer.schedule('offsets-expiry', this.opts.config.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets()
        .catch((err) => this.opts.log.warn({ err }, 'offset expiry failed; retrying at the next interval'))
        .finally(() => {
          if (this.started) this.scheduleExpiry();
        });
    });
  }

  /**
   * offsets.retention.minutes as Kafka 2.1+ applies it (KIP-211): offsets of an empty group expire
   * that long after the group emptied (or after the commit, if later); a consumer group with
   * members keeps the offsets of topics it subscribes to; an explicit v2-4 retention wins.
   * An empty group whose offsets are all gone is deleted. Returns how many offsets expired.
   */
  async expireOffsets(now = this.timer.now()): Promise<number> {
    const retention = this.opts.config.offsetsRetentionMs;
    let expired = 0;
    const ids = new Set([...this.registry.groups.keys(), ...(await this.opts.store.offsets.listGroupsWithOffsets())]);
    for (const id of ids) {
      if (!this.placement.ownsShard(this.shardOf(id))) continue;
      const g = this.registry.get(id);
      const empty = !g || (g.kind === 'classic' ? g.is('Empty') : g.members.size === 0);
      let keep: Set<string> | null = null; // topics never expired while the group consumes them
      if (!empty) {
        if (g!.kind === 'classic') keep = g!.protocolType === 'consumer' ? classicSubscribedTopics(g!) : null;
        else keep = new Set([...g!.members.values()].flatMap((m) => m.subscribedTopicNames));
      }
      const offsets = await this.opts.store.offsets.fetchOffsets(id);
      const doomed = offsets.filter((o) => {
        if (o.expireTimestamp !== null) return now >= o.expireTimestamp;
        if (empty) return now - Math.max(o.commitTimestamp, g?.stateTimestamp ?? 0) >= retention;
        if (keep === null) return false;
        return !keep.has(o.topic) && now - o.commitTimestamp >= retention;
      });
      if (doomed.length > 0) expired += await this.opts.store.offsets.deleteOffsets(id, doomed.map((o) => ({ topic: o.topic, partition: o.partition })));
      if (g && empty && doomed.length === offsets.length) {
        this.opts.log.info({ groupId: id }, 'group is empty and its offsets expired; deleting it');
        await this.markDead(g);
      }
    }
    return expired;
  }
}

/** Topics the members of a classic "consumer" group subscribe to, from their JoinGroup metadata. */
export function classicSubscribedTopics(g: ClassicGroup): Set<string> {
  const out = new Set<string>();
  for (const m of g.members.values()) {
    const sub = decodeSubscription(g.metadataFor(m, g.protocolName ?? m.protocols[0]?.name ?? null));
    for (const t of sub?.topics ?? []) out.add(t);
  }
  return out;
}
