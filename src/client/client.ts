// A small Kafka client for the CLI, over the generated codec: one connection per broker,
// versions negotiated with ApiVersions, partition requests routed to the leader from Metadata,
// group requests to the coordinator from FindCoordinator (or the bootstrap broker when the
// broker does not serve FindCoordinator). It favours clear errors over retries: a CLI user
// wants to know at once that the topic does not exist.
import { BrokerConnection, type ConnectionOptions } from './connection.js';
import { BrokerError, ClientError, ConnectionError, check } from './errors.js';
import { decodeFetchedRecords, type ConsumedRecord } from './records.js';
import { buildBatch, type Codec, type RecordInput } from '../protocol/records/index.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiKey,
  CreateTopicsRequestMessage,
  CreateTopicsResponseMessage,
  DeleteGroupsRequestMessage,
  DeleteGroupsResponseMessage,
  DeleteTopicsRequestMessage,
  DeleteTopicsResponseMessage,
  DescribeConfigsRequestMessage,
  DescribeConfigsResponseMessage,
  DescribeGroupsRequestMessage,
  DescribeGroupsResponseMessage,
  FetchRequestMessage,
  FetchResponseMessage,
  FindCoordinatorRequestMessage,
  FindCoordinatorResponseMessage,
  IncrementalAlterConfigsRequestMessage,
  IncrementalAlterConfigsResponseMessage,
  ListGroupsRequestMessage,
  ListGroupsResponseMessage,
  ListOffsetsRequestMessage,
  ListOffsetsResponseMessage,
  MetadataRequestMessage,
  MetadataResponseMessage,
  OffsetCommitRequestMessage,
  OffsetCommitResponseMessage,
  OffsetFetchRequestMessage,
  OffsetFetchResponseMessage,
  ProduceRequestMessage,
  ProduceResponseMessage,
} from '../protocol/generated/index.js';
import type { DescribedGroup } from '../protocol/generated/DescribeGroupsResponse.js';
import { ZERO_UUID } from '../protocol/primitives.js';

export { ConsumedRecord };

export interface ClientOptions {
  /** "host:port[,host:port...]" */
  bootstrap: string;
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  id: string;
  internal: boolean;
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}

export interface NewTopicSpec {
  name: string;
  partitions?: number; // -1: the broker's num.partitions
  replicationFactor?: number; // -1: the broker's default
  configs?: Record<string, string>;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: number;
  sensitive: boolean;
}

export type ConfigOp = { name: string; op: 'set'; value: string } | { name: string; op: 'delete' };

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
}

/** ListOffsets special timestamps. */
export const LATEST = -1n;
export const EARLIEST = -2n;

export interface ProduceOptions {
  acks?: -1 | 0 | 1;
  timeoutMs?: number;
  compression?: Codec;
}

export interface ProduceResult {
  baseOffset: bigint;
  logAppendTime: bigint;
}

export interface FetchPartitionResult {
  records: ConsumedRecord[];
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  nextOffset: bigint;
}

export interface FetchOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  isolationLevel?: 0 | 1; // read_uncommitted, read_committed
}

/** Resource types of DescribeConfigs / IncrementalAlterConfigs. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

export function parseBootstrap(bootstrap: string): Array<{ host: string; port: number }> {
  const out = bootstrap
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
      if (!m) throw new ClientError(`bootstrap server '${s}' is not host:port (for example localhost:9092)`);
      const port = Number(m[2]);
      if (port < 1 || port > 65535) throw new ClientError(`bootstrap server '${s}': port must be 1-65535`);
      return { host: m[1], port };
    });
  if (out.length === 0) throw new ClientError('no bootstrap server given: pass --bootstrap-server host:port');
  return out;
}

export class KafkaClient {
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private bootstrapConn: BrokerConnection | null = null;
  private brokers = new Map<number, BrokerInfo>();
  private readonly topicCache = new Map<string, TopicInfo>();

  constructor(private readonly opts: ClientOptions) {}

  /** Connects to the first reachable bootstrap server and negotiates API versions. */
  async connect(): Promise<void> {
    if (this.bootstrapConn && !this.bootstrapConn.closed) return;
    const errors: string[] = [];
    for (const { host, port } of parseBootstrap(this.opts.bootstrap)) {
      try {
        this.bootstrapConn = await this.connection(host, port);
        return;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new ConnectionError(errors.join('; '));
  }

  private connection(host: string, port: number): Promise<BrokerConnection> {
    const key = `${host}:${port}`;
    let p = this.connections.get(key);
    if (p) {
      return p.then((c) => {
        if (!c.closed) return c;
        this.connections.delete(key);
        return this.connection(host, port);
      });
    }
    const options: ConnectionOptions = { host, port, clientId: this.opts.clientId, requestTimeoutMs: this.opts.requestTimeoutMs, connectTimeoutMs: this.opts.connectTimeoutMs };
    p = BrokerConnection.connect(options);
    this.connections.set(key, p);
    p.catch(() => this.connections.delete(key));
    return p;
  }

  private async any(): Promise<BrokerConnection> {
    await this.connect();
    return this.bootstrapConn!;
  }

  private async node(nodeId: number): Promise<BrokerConnection> {
    let b = this.brokers.get(nodeId);
    if (!b) {
      await this.metadata([]);
      b = this.brokers.get(nodeId);
    }
    if (!b) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`);
    // A single-node cluster may advertise a name this host cannot resolve; the bootstrap works.
    if (this.brokers.size === 1) return this.any();
    return this.connection(b.host, b.port);
  }

  /** Which APIs the bootstrap broker serves (ApiVersions). */
  async apiVersions(): Promise<ReadonlyMap<number, { min: number; max: number }>> {
    return (await this.any()).apiVersions;
  }

  // --- metadata and topics ----------------------------------------------------------------

  /** Metadata for `topics` (null: every topic). Never auto-creates topics. */
  async metadata(topics: string[] | null): Promise<ClusterMetadata> {
    const conn = await this.any();
    const { response } = await conn.request(MetadataRequestMessage, MetadataResponseMessage, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: false,
    }, { minVersion: 1 });
    this.brokers = new Map(response.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }]));
    const infos: TopicInfo[] = [];
    for (const t of response.topics) {
      if (t.errorCode !== ErrorCode.NONE) {
        if (topics !== null) check(t.errorCode, `topic '${t.name}'`);
        continue;
      }
      const info: TopicInfo = {
        name: t.name ?? '',
        id: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, errorCode: p.errorCode }))
          .sort((a, b) => a.partition - b.partition),
      };
      this.topicCache.set(info.name, info);
      infos.push(info);
    }
    return {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      brokers: [...this.brokers.values()],
      topics: infos.sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** One topic's metadata; throws BrokerError(UNKNOWN_TOPIC_OR_PARTITION) when absent. */
  async topic(name: string, refresh = false): Promise<TopicInfo> {
    const cached = this.topicCache.get(name);
    if (cached && !refresh) return cached;
    const md = await this.metadata([name]);
    const t = md.topics.find((x) => x.name === name);
    if (!t) throw new BrokerError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}'`);
    return t;
  }

  async createTopics(topics: NewTopicSpec[], opts: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<Array<{ name: string; id: string; partitions: number }>> {
    const conn = await this.any();
    const { response } = await conn.request(CreateTopicsRequestMessage, CreateTopicsResponseMessage, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: opts.timeoutMs ?? 30_000,
      validateOnly: opts.validateOnly ?? false,
    });
    for (const r of response.topics) check(r.errorCode, `create topic '${r.name}'`, r.errorMessage);
    return response.topics.map((r) => ({ name: r.name, id: r.topicId, partitions: r.numPartitions }));
  }

  async deleteTopics(names: string[], timeoutMs = 30_000): Promise<void> {
    const conn = await this.any();
    const { response } = await conn.request(DeleteTopicsRequestMessage, DeleteTopicsResponseMessage, {
      topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
      topicNames: names,
      timeoutMs,
    });
    for (const r of response.responses) check(r.errorCode, `delete topic '${r.name}'`, r.errorMessage);
    for (const n of names) this.topicCache.delete(n);
  }

  async describeConfigs(resourceType: number, name: string, keys: string[] | null = null): Promise<ConfigEntry[]> {
    const conn = await this.any();
    const { response } = await conn.request(DescribeConfigsRequestMessage, DescribeConfigsResponseMessage, {
      resources: [{ resourceType, resourceName: name, configurationKeys: keys }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const r = response.results[0];
    if (!r) throw new ClientError(`DescribeConfigs for '${name}' returned no result`);
    check(r.errorCode, `configs of '${name}'`, r.errorMessage);
    return r.configs.map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, isDefault: c.isDefault || c.configSource === 5, source: c.configSource, sensitive: c.isSensitive }));
  }

  async incrementalAlterConfigs(resourceType: number, name: string, ops: ConfigOp[], validateOnly = false): Promise<void> {
    const conn = await this.any();
    const { response } = await conn.request(IncrementalAlterConfigsRequestMessage, IncrementalAlterConfigsResponseMessage, {
      resources: [{
        resourceType,
        resourceName: name,
        configs: ops.map((o) => ({ name: o.name, configOperation: o.op === 'set' ? 0 : 1, value: o.op === 'set' ? o.value : null })),
      }],
      validateOnly,
    });
    for (const r of response.responses) check(r.errorCode, `alter configs of '${r.resourceName}'`, r.errorMessage);
  }

  // --- groups --------------------------------------------------------------------------------

  /** The group's coordinator: FindCoordinator where served, else the bootstrap broker. */
  private async coordinator(groupId: string): Promise<BrokerConnection> {
    const conn = await this.any();
    if (!conn.supports(ApiKey.FindCoordinator)) return conn;
    const { version, response } = await conn.request(FindCoordinatorRequestMessage, FindCoordinatorResponseMessage, {
      key: groupId,
      keyType: 0,
      coordinatorKeys: [groupId],
    });
    const c = version >= 4 ? response.coordinators[0] : response;
    if (!c) throw new ClientError(`FindCoordinator for group '${groupId}' returned no coordinator`);
    check(c.errorCode, `coordinator of group '${groupId}'`, c.errorMessage);
    if (this.brokers.size === 0) await this.metadata([]);
    if (this.brokers.size <= 1) return conn;
    return this.connection(c.host, c.port);
  }

  async listGroups(): Promise<GroupListing[]> {
    await this.metadata([]);
    const out: GroupListing[] = [];
    const seen = new Set<string>();
    for (const b of this.brokers.size > 1 ? [...this.brokers.values()] : [null]) {
      const conn = b ? await this.connection(b.host, b.port) : await this.any();
      const { response } = await conn.request(ListGroupsRequestMessage, ListGroupsResponseMessage, { statesFilter: [], typesFilter: [] });
      check(response.errorCode, 'list groups');
      for (const g of response.groups) {
        if (seen.has(g.groupId)) continue;
        seen.add(g.groupId);
        out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType });
      }
    }
    return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroup(groupId: string): Promise<DescribedGroup> {
    const conn = await this.coordinator(groupId);
    const { response } = await conn.request(DescribeGroupsRequestMessage, DescribeGroupsResponseMessage, { groups: [groupId], includeAuthorizedOperations: false });
    const g = response.groups[0];
    if (!g) throw new ClientError(`DescribeGroups for '${groupId}' returned no group`);
    check(g.errorCode, `group '${groupId}'`);
    return g;
  }

  /** Committed offsets of a group (every partition when `topics` is null). */
  async fetchOffsets(groupId: string, topics: Array<{ topic: string; partitions: number[] }> | null = null): Promise<CommittedOffset[]> {
    const conn = await this.coordinator(groupId);
    const reqTopics = topics === null ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions }));
    const { version, response } = await conn.request(OffsetFetchRequestMessage, OffsetFetchResponseMessage, {
      groupId,
      topics: reqTopics,
      groups: [{ groupId, memberId: null, memberEpoch: -1, topics: reqTopics }],
      requireStable: false,
    }, { minVersion: topics === null ? 2 : 1 });
    const out: CommittedOffset[] = [];
    const groupTopics = version >= 8 ? response.groups[0] : { errorCode: response.errorCode, topics: response.topics };
    if (!groupTopics) throw new ClientError(`OffsetFetch for '${groupId}' returned no group`);
    check(groupTopics.errorCode, `offsets of group '${groupId}'`);
    for (const t of groupTopics.topics) {
      for (const p of t.partitions) {
        check(p.errorCode, `offset of group '${groupId}' on ${t.name}-${p.partitionIndex}`);
        if (p.committedOffset >= 0n) out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /**
   * Commits offsets outside any generation (generation -1, empty member id), which a broker
   * accepts only while the group has no active members: the offset reset of Kafka's tools.
   */
  async commitOffsets(groupId: string, offsets: Array<{ topic: string; partition: number; offset: bigint; metadata?: string | null }>): Promise<void> {
    const conn = await this.coordinator(groupId);
    const byTopic = new Map<string, typeof offsets>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const { response } = await conn.request(OffsetCommitRequestMessage, OffsetCommitResponseMessage, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: p.metadata ?? '' })),
      })),
    });
    for (const t of response.topics) for (const p of t.partitions) check(p.errorCode, `commit for group '${groupId}' on ${t.name}-${p.partitionIndex}`);
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const conn = await this.coordinator(groupId);
      const { response } = await conn.request(DeleteGroupsRequestMessage, DeleteGroupsResponseMessage, { groupsNames: [groupId] });
      for (const r of response.results) check(r.errorCode, `delete group '${r.groupId}'`);
    }
  }

  // --- offsets, produce, fetch --------------------------------------------------------------

  private async leader(topic: string, partition: number): Promise<{ conn: BrokerConnection; info: TopicInfo; p: PartitionInfo }> {
    const info = await this.topic(topic);
    const p = info.partitions.find((x) => x.partition === partition);
    if (!p) throw new BrokerError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `partition ${topic}-${partition} (the topic has ${info.partitions.length})`);
    check(p.errorCode, `partition ${topic}-${partition}`);
    return { conn: await this.node(p.leader), info, p };
  }

  /** Offset for a timestamp, or LATEST / EARLIEST. -1 when no record has a later timestamp. */
  async listOffset(topic: string, partition: number, timestamp: bigint, isolationLevel: 0 | 1 = 0): Promise<bigint> {
    const { conn } = await this.leader(topic, partition);
    const { response } = await conn.request(ListOffsetsRequestMessage, ListOffsetsResponseMessage, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      timeoutMs: 30_000,
    }, { minVersion: 1 });
    const p = response.topics[0]?.partitions[0];
    if (!p) throw new ClientError(`ListOffsets for ${topic}-${partition} returned no partition`);
    check(p.errorCode, `offsets of ${topic}-${partition}`);
    return p.offset;
  }

  /** Sends one batch of records to one partition. With acks=0 the result is null. */
  async produce(topic: string, partition: number, records: RecordInput[], opts: ProduceOptions = {}): Promise<ProduceResult | null> {
    const { conn } = await this.leader(topic, partition);
    const compression = opts.compression ?? 'none';
    // zstd needs Produce v7+ (KIP-110); magic 2 batches need v3+.
    const minVersion = compression === 'zstd' || compression === 4 ? 7 : 3;
    const version = conn.version(ApiKey.Produce, ProduceRequestMessage.validVersions.max, minVersion);
    const batch = await buildBatch({ records, compression });
    const body = {
      transactionalId: null,
      acks: opts.acks ?? -1,
      timeoutMs: opts.timeoutMs ?? 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
    };
    if (opts.acks === 0) {
      conn.sendOnly(ProduceRequestMessage, version, body);
      return null;
    }
    const { response } = await conn.request(ProduceRequestMessage, ProduceResponseMessage, body, { minVersion: version, maxVersion: version });
    const p = response.responses[0]?.partitionResponses[0];
    if (!p) throw new ClientError(`Produce to ${topic}-${partition} returned no partition`);
    check(p.errorCode, `produce to ${topic}-${partition}`, p.errorMessage ?? p.recordErrors[0]?.batchIndexErrorMessage);
    return { baseOffset: p.baseOffset, logAppendTime: p.logAppendTimeMs };
  }

  /** One Fetch of one partition from `offset`. */
  async fetch(topic: string, partition: number, offset: bigint, opts: FetchOptions = {}): Promise<FetchPartitionResult> {
    const { conn, info } = await this.leader(topic, partition);
    const maxWaitMs = opts.maxWaitMs ?? 500;
    const maxBytes = opts.maxBytes ?? 1024 * 1024;
    // Fetch v13+ names topics by id: only use those versions when Metadata gave us one.
    const maxVersion = info.id && info.id !== ZERO_UUID ? FetchRequestMessage.validVersions.max : 12;
    const { response } = await conn.request(FetchRequestMessage, FetchResponseMessage, {
      replicaId: -1,
      maxWaitMs,
      minBytes: opts.minBytes ?? 1,
      maxBytes,
      isolationLevel: opts.isolationLevel ?? 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic,
        topicId: info.id || ZERO_UUID,
        partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: maxBytes, replicaDirectoryId: ZERO_UUID }],
      }],
      forgottenTopicsData: [],
      rackId: '',
    }, { minVersion: 4, maxVersion, extraTimeoutMs: maxWaitMs });
    check(response.errorCode, `fetch ${topic}-${partition}`);
    const t = response.responses[0];
    const p = t?.partitions.find((x) => x.partitionIndex === partition);
    if (!p) throw new ClientError(`Fetch of ${topic}-${partition} returned no partition`);
    check(p.errorCode, `fetch ${topic}-${partition} at offset ${offset}`);
    const decoded = await decodeFetchedRecords(p.records, offset, opts.isolationLevel === 1 ? p.abortedTransactions : null);
    return {
      records: decoded.records,
      highWatermark: p.highWatermark,
      lastStableOffset: p.lastStableOffset,
      logStartOffset: p.logStartOffset,
      nextOffset: decoded.nextOffset ?? offset,
    };
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const p of all) {
      try {
        (await p).close();
      } catch {
        // a connection that never opened has nothing to close
      }
    }
    this.bootstrapConn = null;
  }
}
